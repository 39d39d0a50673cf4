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
// Time moves only by an explicit clock; nothing in this package calls
// time.Now (except LogWriter, for a line with no time at all). A [Window]
// is moved by [Window.Advance]. A [Set] moves all its windows together, by
// one of two rules, its [Clock], chosen in [SetOptions]:
//
//   - [EventClock], the zero value, for replay and tests: the clock
//     follows the events folded. The first event sets it. An event at
//     most Lateness (and at least one bucket) past the end of the clock's
//     bucket is ordinary and moves the clock to its own bucket. An event
//     further ahead proves nothing alone: one line from a dyno with a bad
//     clock must not expire everyone's buckets. It starts, or extends, a
//     run. Within Skew of the clock a bucket takes it at once and the
//     clock stays; beyond Skew the set holds a copy of it (at most
//     [LeapEvents] events and [LeapBytes] bytes; an event that does not
//     fit is dropped). The next ordinary event ends the run: the held
//     events a bucket can now take are folded, and the others are dropped
//     and counted in pulse.future. A run that covers [LeapBuckets] (3)
//     distinct buckets, or holds LeapEvents (1024) events, proves a real
//     jump (a file replayed across a gap, a receiver that was down), and
//     the clock leaps: the held events are folded in the order they came,
//     each moving the clock as an ordinary event would, so the events that
//     proved the jump are not lost, and those that did not fit are counted
//     in pulse.future. [Set.Advance] is an error.
//   - [ManualClock], for a live receiver or merger: only Set.Advance moves
//     the clock, with the wall clock at each tick. Events never move it:
//     one more than Skew ahead of it is dropped and counted in
//     pulse.future, and one older than retention is late. Events folded
//     before the first Advance are counted as rejected when it comes.
//
// The clock never runs backwards. Its consequences for each verb:
//
//   - Cut works at any time. A receiver cuts before it advances, so
//     nothing observed leaves retention uncut; fragment.Sender.Cut does
//     both, in that order.
//   - Apply before the clock is set is an error wrapping [ErrClock]: a
//     merger that forgot to Advance learns it from the first delta. A
//     merger's clock is its own wall clock; the time in a batch is not
//     used.
//   - Snapshot at T is an error wrapping ErrClock before the clock is
//     set, for a T after [Set.End] (buckets that may still be filling),
//     and for a T whose windows reach back to a bucket that Advance
//     dropped while it held data (the answer would be short). It never
//     changes the set.
//   - Which T: replay snapshots at End, the end of the bucket that holds
//     the latest event (leaving out a run that proved nothing, unless it
//     came last). A merger snapshots at [Set.Settled](flush + grace): the
//     latest whole second at least one flush interval of its receivers
//     plus a grace for delivery (1 s each by default, so 2 s) before its
//     clock, by when every receiver's deltas for the seconds before T have
//     arrived. That delay is the price of exact numbers. Lateness must be
//     at least flush + grace, or deltas for buckets a snapshot reads would
//     arrive late.
//
// An event's time is its header timestamp; a bare logfmt line has none,
// and takes its "time" field (RFC 3339, as log/slog writes it), else the
// clock's. An event whose header timestamp is there but did not parse
// (Time zero and Timestamp neither empty nor "-", as package logfmt
// leaves an event it returns with an error wrapping its ErrTime), or
// whose time is outside the years 1678–2261, is not folded: it is counted
// in pulse.unparsed, like input the parser could not read, rather than
// stamped with the clock and counted in a second it may not belong to.
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
// need more than [MaxBuckets] slots. An EventClock set also holds at most
// LeapBytes (4 MiB) of copied events while a run ahead of its clock is
// undecided.
//
// # Sets
//
// A [Set] holds windows by name, with Cut, Apply and Advance over all of
// them, and one clock. [NewDefSet] makes a definitions set, one window per
// [def.Def] (Span = the definition's Window), which also:
//
//   - folds events ([Set.Fold]): each event goes only to the definitions
//     it could match (each definition is indexed under one literal term of
//     its where filter, such as proc=router or code=H12), then each
//     matching definition observes it into the bucket of its event time;
//   - derives a window for every l2met metric an l2met definition meets,
//     up to its cap, on a receiver as events arrive and on a merger as
//     deltas arrive;
//   - keeps self-stats of its pipeline (pulse.events, pulse.unparsed,
//     pulse.skipped, pulse.late, pulse.rejected, pulse.overflow,
//     pulse.future), which cut and merge like any other stat; a merger's
//     set also counts the deltas it drops as late or rejected;
//   - gives each bucket the parameters of its definition: a delta of
//     other parameters (a Distinct of another precision) is refused with
//     an error wrapping stat.ErrIncompatible and counted as rejected,
//     never adopted by an empty bucket;
//   - reads a [Snapshot] at a time T the clock allows ([Set.Snapshot]):
//     each definition over its complete buckets in [T − window, T), as the
//     definition reports it. The snapshot's JSON form is defined in one
//     place, here (see Snapshots);
//   - compares two snapshots within each definition's stated bound
//     ([Set.Diff]).
//
// The zero Set is a definitions set with no definitions and an EventClock:
// it folds events into its self-stats only. [NewSet] makes a ManualClock
// set of hand-built windows.
//
// Replay folds into a definitions set and snapshots it; a receiver folds
// and cuts; a merger applies and snapshots. Applying every cut of a set to
// an empty set rebuilds what was folded, so the three agree.
//
// [LogWriter] adapts a definitions set to an io.Writer of log lines, for a
// program's own log/slog output (text or JSON) in its tests. It counts
// every line it is given: its snapshot reads each definition over
// everything, however long ago, as if it were one window.
//
// # Snapshots
//
// A [Snapshot] is a time and each stat's [stat.Value] by name. Its JSON
// form, what pulse replay prints and a merger publishes, is
//
//	{"time":"2026-11-24T10:00:01Z","stats":{
//	  "router.requests":412.5,                   a number
//	  "router.service.max":null,                 no value (an empty window)
//	  "router.service":{"p50":18,"p99.9":412},   quantiles
//	  "router.hosts.top":[["a.example.com",4.5],["b.example.com",1]],
//	  "app.paths.top":{"top":[["/orders",31.2],["/cart",9.5]],"bound":0.8}}}
//
// A top-k stat is the bare list [["key",value],...] while its values are
// exact (its keys fit the TopK's capacity), and the object {"top":[...],
// "bound":x} once they are estimates: each value may be over its key's
// true value by up to bound (the TopK's MaxError, at most N ÷ capacity,
// in the values' unit), never under, and a value not above bound may be
// all error. So a reader that knows only the list form keeps working
// while the counts are exact, and never takes an estimate for a count.
// [Snapshot.UnmarshalJSON]
// reads what [Snapshot.MarshalJSON] writes, up to [MaxSnapshotJSON]
// bytes.
//
// Read one stat with [Snapshot.Number], [Snapshot.Quantile],
// [Snapshot.TopKey] or [Snapshot.Value]. Compare two snapshots with
// [Set.Diff]: exact kinds (rate, min, max, last) must be equal, float sums
// (sum, mean, last-sum, last-mean) equal within stat.Sum's bound,
// distinct counts within three standard errors, quantiles within ranges
// their rank bound gives, and top-k values within their bounds. A
// quantiles value read by a set carries its count and ranges in memory;
// the JSON form holds the answers only, so quantiles decoded from JSON
// compare exactly with each other.
//
// # Concurrency
//
// Windows and Sets are owned by one goroutine and are not safe for
// concurrent use; shard or lock. A LogWriter is safe for concurrent use.
package window
