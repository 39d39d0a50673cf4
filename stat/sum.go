package stat

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Sum adds up float64 values with compensated (Neumaier) summation.
//
// Error bound: exact while every value and every partial sum is an integer
// of magnitude below 2⁵³ (bytes, whole milliseconds, counts), in any order of
// observation and merge. Otherwise |Sum() − Σx| ≤ 2⁻⁵⁰·Σ|x| for any order
// of observations and merges (TestSumAccuracy checks it against an exact
// big.Float sum).
// A sum beyond ±1.8·10³⁰⁸ overflows to ±Inf and can no longer be encoded
// (AppendBinary returns an error wrapping ErrLimit).
// Memory: 24 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored).
// The zero value is an empty Sum ready to use.
// A Sum is not safe for concurrent use; callers shard or lock.
type Sum struct {
	sum, comp float64 // Neumaier: the value is sum + comp
	ignored   uint64
}

// Observe adds v. NaN and ±Inf are ignored and counted.
func (s *Sum) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.ignored++
		return
	}
	s.sum, s.comp = neumaier(s.sum, s.comp, v)
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

// Sum returns the sum of the values observed.
func (s *Sum) Sum() float64 { return s.sum + s.comp }

// Rate returns the sum per unit per over a span: Sum ÷ (span ÷ per), or 0
// when span or per is not positive.
func (s *Sum) Rate(span, per time.Duration) float64 { return rate(s.Sum(), span, per) }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (s *Sum) Ignored() uint64 { return s.ignored }

// Kind returns KindSum.
func (s *Sum) Kind() Kind { return KindSum }

// Merge adds other's sum. other must be a *Sum.
func (s *Sum) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Sum)
	if !ok {
		return incompatible(KindSum, other)
	}
	if o != nil {
		ov := *o // other may be s itself
		s.sum, s.comp = neumaier(s.sum, s.comp, ov.sum)
		s.comp += ov.comp
		s.ignored += ov.ignored
	}
	return nil
}

// Reset empties the sum.
func (s *Sum) Reset() { *s = Sum{} }

// Clone returns a copy.
func (s *Sum) Clone() Stat { cp := *s; return &cp }

// String returns the sum, for debugging.
func (s *Sum) String() string { return "sum " + strconv.FormatFloat(s.Sum(), 'g', -1, 64) }

// AppendBinary appends the encoding described at UnmarshalBinary. It
// returns an error wrapping ErrLimit when the sum has overflowed float64
// (finite values whose sum exceeds ±1.8·10³⁰⁸), which no encoding holds.
func (s *Sum) AppendBinary(dst []byte) ([]byte, error) {
	if !isFinite(s.sum) || !isFinite(s.comp) {
		return dst, fmt.Errorf("stat: marshal sum: the sum overflowed float64: %w", ErrLimit)
	}
	dst = appendHeader(dst, KindSum)
	dst = appendFloat(dst, s.sum)
	dst = appendFloat(dst, s.comp)
	return appendUvarint(dst, s.ignored), nil
}

// MarshalBinary returns AppendBinary(nil).
func (s *Sum) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// UnmarshalBinary decodes a Sum, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 2 (sum)
//	[byte]       version 1
//	[float64 LE] running sum, finite
//	[float64 LE] compensation term, finite
//	[uvarint]    ignored NaN/±Inf observations
func (s *Sum) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindSum)
	v := Sum{sum: d.float("sum"), comp: d.float("compensation"), ignored: d.uvarint("ignored", math.MaxUint64)}
	if err := d.finish(); err != nil {
		return err
	}
	*s = v
	return nil
}
