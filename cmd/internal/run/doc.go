// Package run composes Pulse's live roles into a process: `pulse run`,
// and the receiver, merger and web commands, which are pulse run with one
// role. It reads the configuration (environment first, flags override),
// picks the bus (Redis when REDIS_URL is set, else in memory), serves the
// drain endpoint, the dashboard and /healthz on one port, and shuts down
// in order on SIGTERM: inputs stop, the receivers flush their last cut,
// the mergers publish, the web drains its clients, all within
// ShutdownTimeout (25 s), under the 30 s Heroku gives a dyno between
// SIGTERM and SIGKILL.
package run
