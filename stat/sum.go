package stat

import (
	"math"
	"strconv"
	"time"

	"github.com/pulsehq/pulse/internal/wire"
)

// Sum adds up float64 values with compensated (Neumaier) summation.
//
// Error bound: exact while every value and every partial sum is an integer
// of magnitude below 2⁵³ (bytes, whole milliseconds, counts), in any order of
// observation and merge. Otherwise |Sum() − Σx| ≤ 2⁻⁵⁰·Σ|x| for any order
// of observations and merges (TestSumAccuracy checks it against an exact
// big.Float sum).
//
// Overflow: the sum never leaves the float64 range. A value whose addition
// would take it beyond ±1.8·10³⁰⁸ is left out and counted (see Overflow),
// and so is a merged Sum whose addition would (counted as one, plus its own
// Overflow). Once Overflow is not zero the sum is of the values that fit,
// which may depend on the order of observations and merges.
// Memory: 32 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored).
// The zero value is an empty Sum ready to use.
// A Sum is not safe for concurrent use; callers shard or lock.
type Sum struct {
	sum, comp float64 // Neumaier: the value is sum + comp
	ignored   uint64
	overflow  uint64
}

// Observe adds v. NaN and ±Inf are ignored and counted; a value that would
// take the sum beyond the float64 range is left out and counted.
func (s *Sum) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.ignored = satAdd(s.ignored, 1)
		return
	}
	if sum, comp, ok := addFinite(s.sum, s.comp, v, 0); ok {
		s.sum, s.comp = sum, comp
	} else {
		s.overflow = satAdd(s.overflow, 1)
	}
}

// neumaier adds v to the compensated sum (sum, comp).
func neumaier(sum, comp, v float64) (float64, float64) {
	t := sum + v
	if math.Abs(sum) >= math.Abs(v) {
		comp += (sum - t) + v
	} else {
		comp += (v - t) + sum
	}
	return t, comp
}

// addFinite adds the compensated sum (v, vcomp) to (sum, comp), and false,
// leaving them, when the result or its parts would not be finite.
func addFinite(sum, comp, v, vcomp float64) (float64, float64, bool) {
	t, c := neumaier(sum, comp, v)
	c += vcomp
	if !isFinite(t) || !isFinite(c) || !isFinite(t+c) {
		return sum, comp, false
	}
	return t, c, true
}

// Sum returns the sum of the values observed (those Overflow counts left
// out), 0 when there are none.
func (s *Sum) Sum() float64 { return s.sum + s.comp }

// Rate returns the sum per unit per over a span: Sum ÷ (span ÷ per), or 0
// when span or per is not positive. It is within Sum's bound plus a
// relative 2⁻⁵¹, or ±Inf when the division overflows.
func (s *Sum) Rate(span, per time.Duration) float64 { return rate(s.Sum(), span, per) }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (s *Sum) Ignored() uint64 { return s.ignored }

// Overflow returns how many finite values were left out because adding
// them would have taken the sum beyond ±1.8·10³⁰⁸ (a merged Sum left out
// counts one), including those of merged stats.
func (s *Sum) Overflow() uint64 { return s.overflow }

// Kind returns KindSum.
func (s *Sum) Kind() Kind { return KindSum }

// Merge adds other's sum and counters. other must be a *Sum. When adding
// other's sum would overflow, the receiver's sum is kept and Overflow
// counts one more.
func (s *Sum) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Sum)
	if !ok {
		return incompatible(KindSum, other)
	}
	if o == nil {
		return nil
	}
	ov := *o // other may be s itself
	if sum, comp, ok := addFinite(s.sum, s.comp, ov.sum, ov.comp); ok {
		s.sum, s.comp = sum, comp
	} else {
		s.overflow = satAdd(s.overflow, 1)
	}
	s.ignored = satAdd(s.ignored, ov.ignored)
	s.overflow = satAdd(s.overflow, ov.overflow)
	return nil
}

// Reset empties the sum.
func (s *Sum) Reset() { *s = Sum{} }

// Clone returns a copy.
func (s *Sum) Clone() Stat { cp := *s; return &cp }

// String returns the sum, for debugging.
func (s *Sum) String() string { return "sum " + strconv.FormatFloat(s.Sum(), 'g', -1, 64) }

// overflowVersion is the encoding version of a Sum or Mean whose Overflow
// is not zero.
const overflowVersion = 2

// AppendBinary appends the encoding described at UnmarshalBinary. It never
// fails.
func (s *Sum) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendOverflowHeader(dst, KindSum, s.overflow)
	dst = appendFloat(dst, s.sum)
	dst = appendFloat(dst, s.comp)
	dst = appendUvarint(dst, s.ignored)
	return appendOverflow(dst, s.overflow), nil
}

// appendOverflowHeader appends the header of a kind whose version 2 adds
// an overflow counter: version 1 while the counter is 0.
func appendOverflowHeader(dst []byte, k Kind, overflow uint64) []byte {
	if overflow == 0 {
		return appendHeader(dst, k)
	}
	return append(dst, byte(k), overflowVersion)
}

// appendOverflow appends the overflow counter of version 2, nothing in
// version 1.
func appendOverflow(dst []byte, overflow uint64) []byte {
	if overflow == 0 {
		return dst
	}
	return appendUvarint(dst, overflow)
}

// overflow reads the overflow counter: none in version 1, at least 1 in
// version 2.
func (d *decoder) overflow() uint64 {
	if d.version != overflowVersion {
		return 0
	}
	off := d.Offset()
	n := d.Uvarint("overflow")
	if !d.Failed() && n == 0 {
		d.FailAt(off, wire.Corrupt, "version 2 with overflow 0, which version 1 holds")
	}
	return n
}

// MarshalBinary returns AppendBinary(nil).
func (s *Sum) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// UnmarshalBinary decodes a Sum, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 2 (sum)
//	[byte]       version 1
//	[float64 LE] running sum, finite
//	[float64 LE] compensation term, finite; the two add up to a finite sum
//	[uvarint]    ignored NaN/±Inf observations
//
// Version 2, written only when Overflow is not zero, appends
//
//	[uvarint]    overflow, ≥ 1
//
// so that every state is written in the oldest version that holds it, and
// a release that reads only version 1 reads every Sum that never
// overflowed.
func (s *Sum) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindSum, overflowVersion)
	var v Sum
	v.sum, v.comp = d.compensated()
	v.ignored = d.counter("ignored")
	v.overflow = d.overflow()
	if err := d.finish(); err != nil {
		return err
	}
	*s = v
	return nil
}

// compensated reads a Neumaier sum and its compensation, both finite and
// adding up to a finite sum.
func (d *decoder) compensated() (sum, comp float64) {
	off := d.Offset()
	sum, comp = d.float("sum"), d.float("compensation")
	if !d.Failed() && !isFinite(sum+comp) {
		d.FailAt(off, wire.Corrupt, "sum %v + compensation %v is not finite", sum, comp)
	}
	return sum, comp
}
