// Package window keeps event-time buckets of stats.
//
// A [Window] holds one [stat.Stat] per time bucket. Buckets are aligned to
// multiples of a width in Unix time (default 1 s): an observation at event
// time t lands in the bucket [⌊t ÷ width⌋·width, +width). [Window.At]
// returns that bucket's stat for the caller to observe into; [Window.Read]
// merges a span of buckets into a stat of the caller's.
//
// # Clock
//
// Time moves only by an explicit clock, [Window.Advance]; nothing in this
// package calls time.Now. Replay advances the clock to the largest event
// time seen so far, a live receiver or merger to the wall clock at each
// tick. The clock never runs backwards, and it is unset until the first
// Advance: until then every observation and delta is rejected.
//
// # Retention, lateness and skew
//
// Retention is Span (the longest span that will be read, default 1 min)
// plus Lateness (default 5 s). At clock now, the window keeps the buckets
// that end after now − retention and start at or before now + Skew
// (default 5 min). An observation or delta for an older bucket is late: it
// is dropped and counted ([Window.Late]). One for a bucket starting after
// now + Skew is dropped and counted as rejected ([Window.Rejected]).
// Neither is an error. Advance drops buckets as they leave retention.
//
// # The complete-bucket rule
//
// Reading at time T over a span merges the complete buckets in
// [T − span, T): each bucket that starts at or after T − span and ends at
// or before T. The bucket that contains T is still filling and is left
// out, so a read at T gives the same answer however far into T's bucket
// the stream has got. When T is a multiple of the width, the bucket ending
// exactly at T is complete and is in. Reading never mutates a bucket (it
// merges buckets into the caller's stat, and Merge leaves its argument
// as it was).
//
// # Delta and cumulative windows
//
// A window that is never cut is cumulative: each bucket holds everything
// observed or applied to it. Replay folds a file into cumulative windows
// and a merger applies deltas into them.
//
// A window that is cut is a delta window. [Window.Cut] hands out the stat
// of every non-empty bucket and leaves the bucket empty, so each cut holds
// exactly what was observed since the previous one. A receiver cuts its
// windows at every flush and ships the deltas ([Delta]) to a merger, which
// [Window.Apply]s them into its cumulative windows. A receiver cuts before
// it advances, so that nothing observed leaves retention uncut
// ([Window.Expired] counts buckets that did).
//
// Deltas merge exactly: a merger that applies every cut of every receiver
// holds, bucket by bucket, what one process fed every event would hold,
// because every kind's Merge is the same operation as observing the union
// of the two streams, in any order and grouping:
//
//   - Count, Sum and Mean merge by addition, which is associative and
//     commutative (exactly, for Count, and for Sum within its stated
//     bound, exactly on integers).
//   - Min and Max keep the smaller or larger value: order-free and
//     idempotent.
//   - Last and LastBy keep the value with the latest event time, with a
//     deterministic tie-break on equal times, so the winner does not depend
//     on which receiver saw it or in which cut it arrived.
//   - Distinct (HyperLogLog) merges by a register-wise maximum, exactly the
//     sketch of the union. Quantiles (t-digest) and TopK (Space-Saving)
//     merge into a summary of the union within the same error bound as
//     one summary fed the union.
//
// # Memory bound
//
// A window holds a ring of ⌈(Span + Lateness + Skew) ÷ Width⌉ + 1 slots
// ([Window.Slots]), 366 at the defaults. An empty slot costs 16 bytes (a
// nil interface); a non-empty one costs that plus its stat. So a window
// never holds more than Slots × (16 bytes + the stat's own bound), about
// 5.9 KiB plus 366 stats at the defaults, whatever the input: late and
// future input is dropped, never stored. New refuses options that
// need more than [MaxBuckets] slots.
//
// # Sets
//
// A [Set] holds windows by name, with Cut, Apply and Advance over all of
// them. [NewDefSet] makes a definitions set, one window per [def.Def]
// (Span = the definition's Window), which also:
//
//   - folds events ([Set.Fold]): each event goes only to the definitions
//     it could match (each definition is indexed under one literal term of
//     its where filter, such as proc=router or code=H12), then each
//     matching definition observes it into the bucket of its event time.
//     The set's clock follows event time in whole buckets;
//   - derives a window for every l2met metric an l2met definition meets,
//     up to its cap, on a receiver as events arrive and on a merger as
//     deltas arrive;
//   - keeps self-stats of its pipeline (pulse.events, pulse.unparsed,
//     pulse.skipped, pulse.late, pulse.rejected, pulse.overflow), which cut
//     and merge like any other stat;
//   - reads a [Snapshot] at any time T ([Set.Snapshot]): each definition
//     over its complete buckets in [T − window, T), as the definition
//     reports it. The snapshot's JSON form is defined in one place, here.
//
// Replay folds into a definitions set and snapshots it; a receiver folds
// and cuts; a merger applies and snapshots. Applying every cut of a set to
// an empty set rebuilds what was folded, so the three agree.
//
// [LogWriter] adapts a definitions set to an io.Writer of log lines, for a
// program's own log/slog output in its tests.
//
// # Concurrency
//
// Windows and Sets are owned by one goroutine and are not safe for
// concurrent use; shard or lock. A LogWriter is safe for concurrent use.
package window
