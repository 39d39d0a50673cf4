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
// # Contract
//
// Every kind implements [Stat]: Merge, Reset, Kind, Clone, AppendBinary,
// MarshalBinary, UnmarshalBinary and String. Observation methods are typed
// per kind. The zero value of every kind is an empty stat with default
// parameters, ready to use; constructors exist only for other parameters.
// NaN and ±Inf observations are ignored and counted, never stored.
//
// # Encoding
//
// Every encoding starts with a kind tag byte and a version byte, then the
// kind's parameters and payload in uvarints and little-endian IEEE 754
// floats. Encodings are canonical: the same state always gives the same
// bytes. UnmarshalBinary validates every length, count, parameter and float
// against the remaining input and the documented limits before it
// allocates, leaves the receiver unchanged on error and never keeps the
// caller's bytes. Errors wrap ErrCorrupt, ErrVersion, ErrLimit or (from
// Merge) ErrIncompatible.
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
