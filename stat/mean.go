package stat

import (
	"math"
	"strconv"

	"github.com/pulsehq/pulse/internal/wire"
)

// Mean keeps the count and the compensated (Neumaier) sum of float64
// values, and reads their arithmetic mean.
//
// Error bound: the count is exact (it saturates at 2⁶⁴−1). The sum has
// Sum's bound: exact while every value and every partial sum is an integer
// of magnitude below 2⁵³, in any order of observation and merge, and
// otherwise within 2⁻⁵⁰·Σ|x| of the exact sum. The mean is their quotient,
// with two more roundings (the count to float64, exact below 2⁵³, and the
// division): a relative error ≤ 2⁻⁵².
//
// Overflow: as in Sum, a value whose addition would take the sum beyond
// ±1.8·10³⁰⁸ is left out of the sum and the count and counted (see
// Overflow), and so are all the values of a merged Mean whose sum would;
// the mean is then of the values that fit.
// Memory: 40 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored); neither they nor the
// values Overflow counts count towards Count.
// The zero value is an empty Mean ready to use.
// A Mean is not safe for concurrent use; callers shard or lock.
type Mean struct {
	n         uint64
	sum, comp float64 // Neumaier: the sum is sum + comp
	ignored   uint64
	overflow  uint64
}

// Observe adds v. NaN and ±Inf are ignored and counted; a value that would
// take the sum beyond the float64 range is left out and counted.
func (m *Mean) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		m.ignored = satAdd(m.ignored, 1)
		return
	}
	if sum, comp, ok := addFinite(m.sum, m.comp, v, 0); ok {
		m.n = satAdd(m.n, 1)
		m.sum, m.comp = sum, comp
	} else {
		m.overflow = satAdd(m.overflow, 1)
	}
}

// Mean returns the mean of the values observed, and false when there are
// none.
func (m *Mean) Mean() (float64, bool) {
	if m.n == 0 {
		return 0, false
	}
	return m.Sum() / float64(m.n), true
}

// Count returns how many values were observed, not counting ignored or
// overflowed ones.
func (m *Mean) Count() uint64 { return m.n }

// Sum returns the sum of the values observed, 0 when there are none.
func (m *Mean) Sum() float64 { return m.sum + m.comp }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (m *Mean) Ignored() uint64 { return m.ignored }

// Overflow returns how many finite values were left out because adding
// them would have taken the sum beyond ±1.8·10³⁰⁸, including those of
// merged stats.
func (m *Mean) Overflow() uint64 { return m.overflow }

// Kind returns KindMean.
func (m *Mean) Kind() Kind { return KindMean }

// Merge adds other's count, sum and counters. other must be a *Mean. When
// adding other's sum would overflow, the receiver keeps its count and sum
// and Overflow counts other's values.
func (m *Mean) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Mean)
	if !ok {
		return incompatible(KindMean, other)
	}
	if o == nil {
		return nil
	}
	ov := *o // other may be m itself
	if sum, comp, ok := addFinite(m.sum, m.comp, ov.sum, ov.comp); ok {
		m.n = satAdd(m.n, ov.n)
		m.sum, m.comp = sum, comp
	} else {
		m.overflow = satAdd(m.overflow, ov.n)
	}
	m.ignored = satAdd(m.ignored, ov.ignored)
	m.overflow = satAdd(m.overflow, ov.overflow)
	return nil
}

// Reset empties the mean.
func (m *Mean) Reset() { *m = Mean{} }

// Clone returns a copy.
func (m *Mean) Clone() Stat { cp := *m; return &cp }

// String returns the mean and count, for debugging.
func (m *Mean) String() string {
	v, ok := m.Mean()
	if !ok {
		return "mean empty"
	}
	return "mean " + strconv.FormatFloat(v, 'g', -1, 64) + " n=" + strconv.FormatUint(m.n, 10)
}

// AppendBinary appends the encoding described at UnmarshalBinary. It never
// fails.
func (m *Mean) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendOverflowHeader(dst, KindMean, m.overflow)
	dst = appendUvarint(dst, m.n)
	dst = appendFloat(dst, m.sum)
	dst = appendFloat(dst, m.comp)
	dst = appendUvarint(dst, m.ignored)
	return appendOverflow(dst, m.overflow), nil
}

// MarshalBinary returns AppendBinary(nil).
func (m *Mean) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes a Mean, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 3 (mean)
//	[byte]       version 1
//	[uvarint]    count of values observed
//	[float64 LE] running sum, finite; +0 when the count is 0
//	[float64 LE] compensation term, finite; +0 when the count is 0; the
//	             two add up to a finite sum
//	[uvarint]    ignored NaN/±Inf observations
//
// Version 2, written only when Overflow is not zero, appends
//
//	[uvarint]    overflow, ≥ 1
func (m *Mean) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindMean, overflowVersion)
	var v Mean
	v.n = d.Uvarint("count")
	off := d.Offset()
	v.sum, v.comp = d.compensated()
	if !d.Failed() && v.n == 0 && (math.Float64bits(v.sum) != 0 || math.Float64bits(v.comp) != 0) {
		d.FailAt(off, wire.Corrupt, "count 0 with sum %v + %v", v.sum, v.comp)
	}
	v.ignored = d.counter("ignored")
	v.overflow = d.overflow()
	if err := d.finish(); err != nil {
		return err
	}
	*m = v
	return nil
}
