// Package pulse is the front page of Pulse: real-time statistics over log
// streams that merge exactly across processes.
//
// Pulse rebuilds Heroku's internal Pulse dashboard as a Go module. Every
// host logs in a machine-parsable format; receivers parse their share of
// the stream and fold each event into partial roll-ups; a merger combines
// those from all receivers into one snapshot a second; web processes keep a
// short history of snapshots and serve them to a page of sparklines.
//
// # Packages
//
//   - To parse Heroku drains, syslog, `heroku logs` output or bare logfmt,
//     import [github.com/pulsehq/pulse/logfmt].
//   - To count, sum, take quantiles, distinct counts or top-k of anything,
//     and merge them across processes, import [github.com/pulsehq/pulse/stat].
//
// This package holds documentation only.
package pulse
