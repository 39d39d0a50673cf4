// Package bus is the seam between Pulse's live roles: receivers publish
// fragment batches to merger shards, mergers follow their shard and publish
// snapshots, and webs follow the snapshots.
//
// A [Bus] has two implementations. [Memory] is the reference and the
// embedded default of the all-in-one `pulse`; [Redis] carries the same
// streams between processes on Redis Streams, on one server or a Redis
// Cluster. Both pass the contract test in package bustest (Redis on a
// server and on a cluster), so a role written against Bus runs on either.
//
// # Streams and positions
//
// A bus holds one stream of batches per merger shard and one stream of
// snapshots. Each entry has a position: a Redis stream ID, "<ms>-<seq>",
// where ms is the Unix time in milliseconds at which the bus stored the
// entry and seq counts entries stored within that millisecond. Positions
// increase strictly within a stream; the two implementations make them the
// same way (Redis's own rule: the later of the clock and the previous
// entry's ms), so code that keeps positions works on both.
//
// A read returns the entries after a position, oldest first. Follow a
// stream by passing the ID of the last entry read; start with [Start] (the
// oldest entry retained) or [At] (the first entry stored at or after a
// time, for a merger or web that backfills the last minutes). Positions
// are exclusive, so At(t) is the position just before millisecond
// ⌊t⌋: "<ms−1>-18446744073709551615". An entry stored in the same
// millisecond as t, a little before it, is returned too: backfill errs
// towards one entry too many, never one too few. [PositionTime] reads the
// time back out of a position.
//
// # Retention
//
// Streams are capped by age. A batch is kept for Retention (default
// [DefaultRetention], 3 min: the longest span a merger reads, 1 min by
// default, plus its lateness, 5 s, plus a margin for a merger restart and
// for clock skew between hosts), a snapshot for SnapshotRetention (default
// [DefaultSnapshotRetention], 11 min: the web's 10 minutes of history
// plus a minute). A read never returns an entry older than its stream's
// retention, whether or not the storage has dropped it yet: on Redis,
// XADD trims approximately (MINID ~, whole radix-tree nodes), so the read
// applies the exact cut. [Memory] caps each stream by entry count and
// bytes as well, and counts what it evicts early ([Memory.Stats]).
//
// A reader that falls further behind than the retention (or, on a Memory,
// than MaxEntries or MaxBytes) silently skips what was dropped; a read
// does not report the gap. Size the retention for the longest pause a
// reader must survive.
//
// # Ownership
//
// Publishing copies the payload: the caller may reuse its buffer as soon
// as the call returns. The Data of a returned [Message] must not be
// modified: [Memory] hands out its stored bytes, shared by every reader.
//
// # Errors and timeouts
//
// Every method takes a context and returns ctx.Err() (possibly wrapped)
// once it is done. A blocking read returns as soon as an entry arrives,
// when block elapses (no messages, nil error), or promptly on
// cancellation. [Redis] bounds every call by a timeout of its own as
// well. Errors are prefixed with the operation ("bus: redis publish
// batch shard 3: …") and wrap [ErrInvalid], [ErrTooLarge] or [ErrClosed]
// where those apply; a role counts and logs them, since the buses keep no
// error counters.
//
// # Concurrency
//
// Both implementations are safe for use by multiple goroutines.
package bus
