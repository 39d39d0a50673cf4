// Package pulse is the front page of Pulse: real-time statistics over log
// streams that merge exactly across processes.
//
// Pulse rebuilds Heroku's internal Pulse dashboard as a Go module. Every
// host logs in a machine-parsable format; receivers each parse a share of
// the stream and fold every event into partial roll-ups; a merger combines
// the roll-ups of all receivers into one snapshot a second; web processes
// keep a short history of snapshots and serve them to a page of
// sparklines. Unlike the original, every roll-up is a delta that merges
// exactly (or within a stated bound, for sketches), so the merged numbers
// are the numbers one process fed everything would report.
//
// This package holds documentation only; the code is in the packages below.
//
// # Roles
//
//	logs ─► receiver ─┐                                                     ┌─► web ─► browser
//	logs ─► receiver ─┼─► pulse:received:<shard> ─► merger ─► stats.merged ─┤
//	logs ─► receiver ─┘        (fragment batches)             (snapshots)   └─► web ─► browser
//
// A receiver parses log frames, folds them into windows of stats per
// definition, and every flush cuts the deltas, encodes them as fragment
// batches and publishes them on the shard of each stat's merger. A merger
// applies the batches of every receiver (dropping duplicates) and publishes
// a snapshot each second, of the seconds that every receiver has flushed.
// A web follows the snapshots and serves them. The command pulse runs every
// role in one process on an in-memory bus (`pulse run`), or any of them as
// separate processes over Redis streams (one server, or a Redis Cluster
// across which the shards' streams spread); `pulse replay` is the same path
// without a bus, and reports the same numbers for the same input. The
// roles' code lives under cmd/internal and is not part of the library's
// API; the README documents their configuration and guarantees.
//
// # Data flow
//
// Each stage hands one type to the next, and nothing flows back:
//
//	io.Reader ─ logfmt.NewReader ─► *logfmt.Event
//	  ─ window.Set.Fold (per def.Def: match the where filter, observe) ─► buckets of stat.Stat
//	  ─ fragment.Sender.Cut (window.Set.Cut, Shard, Batch.AppendBinary) ─► bytes per shard
//	  ─ fragment.Applier.Apply (Batch.UnmarshalBinary, Seen, window.Set.Apply) ─► merger's window.Set
//	  ─ window.Set.Snapshot ─► window.Snapshot (JSON) ─► web
//
// See [github.com/pulsehq/pulse/logfmt.Event], [github.com/pulsehq/pulse/stat/def.Def],
// [github.com/pulsehq/pulse/window.Set], [github.com/pulsehq/pulse/window.Delta],
// [github.com/pulsehq/pulse/fragment.Batch] and [github.com/pulsehq/pulse/window.Snapshot].
//
// # Packages
//
//   - To parse Heroku drains (octet-counted RFC 5424), syslog lines, saved
//     `heroku logs` output, the classic Pulse format or bare logfmt, import
//     [github.com/pulsehq/pulse/logfmt].
//   - To count, sum, average, take quantiles, distinct counts or the top k of
//     anything, and merge them across processes or through bytes, import
//     [github.com/pulsehq/pulse/stat]. It knows nothing of log events.
//   - To say which log events a stat takes and how a snapshot reads it
//     (stat definitions, where filters, the definitions file format, the
//     default Heroku set), import [github.com/pulsehq/pulse/stat/def].
//   - To keep event-time windows of stats, fold events through definitions,
//     cut or apply deltas and take snapshots, import
//     [github.com/pulsehq/pulse/window]. Its LogWriter turns a program's own
//     log/slog output into stats, for tests.
//   - To send deltas between processes, import
//     [github.com/pulsehq/pulse/fragment]; its documentation is the wire spec.
//   - For realistic, deterministic Heroku traffic in tests and benchmarks,
//     import [github.com/pulsehq/pulse/logfmt/logfmttest].
//
// # Accuracy
//
// Every number a stat reports has a bound, stated on its type and held by a
// test:
//
//	kind       bound                                               memory
//	Count      exact                                               8 B
//	Sum, Mean  exact on integers below 2⁵³; else ≤ 2⁻⁵⁰·Σ|x|       32–40 B
//	Min, Max   exact                                               ~24 B
//	Last       exact (latest time; equal times: larger value)      ~32 B
//	LastBy     exact to 10 000 partitions, then the latest,        ~110 B a partition
//	           the rest counted (Overflow)
//	Distinct   exact while small; then ≤ 3 % (mean ≤ 1 %) at p=14  16 B empty, ≤ 16 KiB
//	Quantiles  exact to 512 values; then rank error ≤ 1 point      ≤ 4.3 KB to 512 values,
//	           below 10⁴ values, 0.4 below 10⁵, 0.15 below 10⁶,    ~8 KB with a digest
//	           0.1 from 10⁶
//	TopK       exact while keys fit capacity; else over by         ~110 B a counter
//	           at most N ÷ capacity, never under
//
// # Concurrency
//
// Values in these packages are owned by one goroutine and are not safe for
// concurrent use: shard or lock. The exceptions say so on the type
// (fragment.Seen, window.LogWriter).
//
// # Wire formats
//
// Stats encode to canonical, versioned bytes (each kind's UnmarshalBinary
// documents its encoding). Batches of fragments use the format specified in
// [github.com/pulsehq/pulse/fragment], version 1, with a CRC-32C.
package pulse
