// Package stat holds mergeable statistics: values that a receiver folds
// events into, that merge exactly (or within a stated bound) with another of
// the same kind and parameters, and that round-trip through bytes.
//
// # Kinds
//
// Count, Sum, Mean, Min, Max, Last and LastBy are exact. Distinct
// (HyperLogLog), Quantiles (t-digest) and TopK (Space-Saving) are sketches:
// each type's doc comment states its error bound with its number and the
// test that holds it, and its memory bound.
//
// # Accuracy
//
// Every number a stat reports states its bound on the method or type that
// reports it, and a test holds it:
//
//	Count       exact, saturating at 2⁶⁴−1
//	Sum, Mean   exact on integers below 2⁵³; else within 2⁻⁵⁰·Σ|x|; the
//	            mean one more relative 2⁻⁵²
//	Min, Max    exact
//	Last        exact (the latest time; at equal times the larger value)
//	LastBy      exact for each partition held; Sum within 2⁻⁵⁰·Σ|x|
//	Distinct    exact while sparse and below 8192 keys, unless two keys
//	            share a 25-bit hash (probability about n²/2²⁶); then
//	            relative standard error 1.04/√2^p, 0.81 % at p = 14
//	            (tested: ≤ 3 % per seed, mean ≤ 1 %, 10² to 10⁶ keys)
//	Quantiles   exact to 512 values; then rank error ≤ 1 point below 10⁴
//	            values, 0.4 below 10⁵, 0.15 below 10⁶, 0.1 from 10⁶
//	            (QuantilesRankBound); Min and Max exact
//	TopK        exact while the keys fit Capacity; then every count over
//	            by at most MaxError ≤ N ÷ Capacity, never under
//
// Merging keeps these bounds: Count, Sum and Mean on integers, Min, Max,
// Last, LastBy's partitions, Distinct's registers and TopK within its
// capacity merge exactly, in any order; Quantiles beyond 512 values and
// TopK beyond its capacity merge within the bounds above; Sum and Mean of
// values that are not integers agree across orders within their bound.
//
// # Reads
//
// A count a stat reports (Count.Count, Mean.Count, Quantiles.Count,
// LastBy.Count, TopK.N, Distinct.Estimate, every Ignored and Overflow) is a
// uint64; sizes and parameters (Len, K, Capacity, MaxKeys) are ints, as
// len is. A read that has no answer when the stat is empty (a mean, a
// minimum, a latest value, a quantile) returns (v, ok) with ok false then;
// a read whose empty answer is a number (a count or a sum, 0) returns the
// number. A [Value], what a definition reports at a snapshot, reads the
// same way: [Value.Number], [Value.Quantile], [Value.TopKey]. A top-k
// Value carries its error bound ([Value.TopBound], the TopK's MaxError),
// and a quantiles Value read by [QuantilesValueOf] the range of values its
// rank bound allows around each answer ([Value.QuantileRange]), so that
// two snapshots can be compared within their bounds.
//
// # Input that is not counted
//
// Nothing is dropped without a count. Ignored counts observations that
// are not values: NaN and ±Inf, and times that UnixNano cannot hold (and,
// never reached in practice, values a Quantiles would count past 2⁵³).
// Overflow counts observations a documented cap kept out, so that a reader
// can tell a partial answer from a complete one: a Sum or Mean value whose
// addition would overflow float64, a LastBy partition dropped beyond
// MaxKeys, a LastBy or TopK key longer than its length limit. Both are
// merged by addition and travel in the encoding. Counts saturate at 2⁶⁴−1
// rather than wrap.
//
// # Contract
//
// Every kind implements [Stat]: Merge, Reset, Kind, Clone, AppendBinary,
// MarshalBinary, UnmarshalBinary and String. Observation methods are typed
// per kind. The zero value of every kind is an empty stat with default
// parameters, ready to use; constructors exist only for other parameters.
//
// # Encoding
//
// Every encoding starts with a kind tag byte and a version byte, then the
// kind's parameters and payload in uvarints and little-endian IEEE 754
// floats. Encodings are canonical: the same state always gives the same
// bytes, and each state is written in the oldest version that holds it, so
// a release that reads only version 1 reads every state that version can
// hold. UnmarshalBinary validates every length, count, parameter and float
// against the remaining input and the documented limits before it
// allocates, and allocates in proportion to the input (at most 10 bytes per
// input byte and a few KiB), never to what a length field claims. It
// rejects the states it can tell no observations and merges reach (a
// negative count, a sum that is not finite, a TopK error that is all of
// its count, a sparse key that no hash gives), so that what it decodes the
// encoder writes back, and what any later observation or merge leaves
// encodes and decodes again (FuzzUnmarshal checks both).
// It leaves the receiver unchanged on error and never keeps the caller's
// bytes. Errors wrap ErrCorrupt, ErrVersion or ErrLimit, or (from Merge)
// ErrIncompatible.
//
// # Definitions
//
// This package knows nothing of log events. Which events a stat takes,
// what it observes and how a snapshot reads it (a rate per unit, p95, the
// top k) are stat definitions, in package
// [github.com/pulsehq/pulse/stat/def].
//
// # Concurrency
//
// Values are owned by one goroutine and are not safe for concurrent use;
// shard or lock. No read changes what a value holds or its encoding (the
// wrappers hide the dependencies' mutating reads), and concurrent reads
// without writers are safe for every kind except Distinct: its Estimate
// compacts the sketch's internal state, so concurrent reads of a Distinct
// need a lock too (its MarshalBinary and String do not compact).
package stat
