// Package emitter pushes merged snapshots to Graphite, as the original
// Pulse's emitter did for tasseo's dashboards: each value of each
// snapshot becomes a line of Graphite's plaintext protocol on a TCP
// connection to GRAPHITE_URL (tcp://host:2003).
//
// # Lines
//
// A snapshot at time T gives, for each stat in name order,
//
//	pulse.<name> <value> <T in Unix seconds>\n                a number
//	pulse.<name>.p50 <value> <T>\n ...                        quantiles, one line each (p99.9 → p99_9)
//	pulse.<name>.<key> <value> <T>\n ...                      top-k, the first Config.TopK keys
//
// and nothing for null, NaN or ±Inf (counted in Stats.Skipped). The prefix
// is Config.Prefix, "pulse." by default; a self-stat keeps its own name
// (pulse.pulse.events), so no stat can write over another's path.
//
// Paths are sanitised node by node, a node being what lies between dots:
// every character other than ASCII letters, digits, - and _ (a space, a
// control character, a non-ASCII rune, each byte of invalid UTF-8, and
// Graphite's glob and tag characters * ? [ ] { } ( ) , ; = /) becomes _,
// and an empty node becomes _. A top-k key is one node: its dots become _
// too (www.example.com → pulse.router.hosts.top.www_example_com), so a
// key from a log line can never add levels to the tree. Keys that become
// equal keep the first, which has the larger value.
//
// Graphite keeps one file per path, and top-k keys come from logs:
// Config.TopK (10 by default) bounds the paths each top-k stat adds per
// snapshot, but not over time. Set it to -1 to send no top-k keys.
//
// # Delivery
//
// Offer queues a snapshot and never blocks. The queue holds at most
// Config.Buffer snapshots; when it is full the oldest is dropped and
// counted, so after an outage the most recent minute (at the defaults) is
// sent. Run, the writer, takes the oldest queued snapshot, writes its
// lines in one write with a deadline, and takes the next. It connects
// with a timeout, and after a failed dial or write closes the connection,
// puts the snapshot back at the head of the queue (unless Offer has filled
// the queue meanwhile: then it is dropped and counted) and waits before
// connecting again: an exponential backoff from Config.MinBackoff to
// Config.MaxBackoff, half of it fixed and half random (equal jitter), so
// that many emitters do not reconnect in step. A snapshot that fails
// Config.MaxAttempts writes is dropped and counted; one that waits for a
// dial to succeed is not. A goroutine reads from each connection
// (Graphite sends nothing) to learn at once when the server closes it, so
// the next snapshot goes to a new connection instead of into a dead one.
// When ctx ends, Run writes what is queued on the open connection, within
// one Config.WriteTimeout, and returns.
//
// Stats has the counters (offered, dropped, written, lines, reconnects,
// errors) for self-stats, and Health, a web.HealthFunc, shows them on
// /healthz and fails once every dial and write has failed for
// Config.UnhealthyAfter (a minute by default).
//
// Writing a snapshot again is harmless: Graphite keeps one value per path
// and second, the last one written. What a write hands to the kernel may
// still be lost if the server dies before reading it; Stats.Lines counts
// lines written to the connection, not lines stored.
//
// # Concurrency
//
// An Emitter is safe for use by multiple goroutines: Offer and Stats from
// any, Run from one.
package emitter
