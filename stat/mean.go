package stat

import (
	"fmt"
	"math"
	"strconv"
)

// Mean keeps the count and the compensated (Neumaier) sum of float64
// values, and reads their arithmetic mean.
//
// Error bound: the count is exact. The sum has Sum's bound: exact while
// every value and every partial sum is an integer of magnitude below 2⁵³, in
// any order of observation and merge, and otherwise within 2⁻⁵⁰·Σ|x| of
// the exact sum. The mean is their quotient, with one more rounding (a
// relative error ≤ 2⁻⁵³). A sum beyond ±1.8·10³⁰⁸ overflows; MarshalBinary
// then returns an error wrapping ErrLimit.
// Memory: 32 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored); they do not count
// towards Count.
// The zero value is an empty Mean ready to use.
// A Mean is not safe for concurrent use; callers shard or lock.
type Mean struct {
	n         uint64
	sum, comp float64 // Neumaier: the sum is sum + comp
	ignored   uint64
}

// Observe adds v. NaN and ±Inf are ignored and counted.
func (m *Mean) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		m.ignored++
		return
	}
	m.n++
	m.sum, m.comp = neumaier(m.sum, m.comp, v)
}

// Mean returns the mean of the values observed, and false when there are
// none.
func (m *Mean) Mean() (float64, bool) {
	if m.n == 0 {
		return 0, false
	}
	return m.Sum() / float64(m.n), true
}

// Count returns how many values were observed, not counting ignored ones.
func (m *Mean) Count() int64 { return int64(m.n) }

// Sum returns the sum of the values observed.
func (m *Mean) Sum() float64 { return m.sum + m.comp }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (m *Mean) Ignored() uint64 { return m.ignored }

// Kind returns KindMean.
func (m *Mean) Kind() Kind { return KindMean }

// Merge adds other's count and sum. other must be a *Mean.
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
	m.n += ov.n
	m.sum, m.comp = neumaier(m.sum, m.comp, ov.sum)
	m.comp += ov.comp
	m.ignored += ov.ignored
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

// AppendBinary appends the encoding described at UnmarshalBinary. It
// returns an error wrapping ErrLimit when the sum has overflowed.
func (m *Mean) AppendBinary(dst []byte) ([]byte, error) {
	if math.IsNaN(m.sum+m.comp) || math.IsInf(m.sum, 0) || math.IsInf(m.comp, 0) {
		return dst, fmt.Errorf("stat: marshal mean: sum of %d values overflowed float64: %w", m.n, ErrLimit)
	}
	dst = appendHeader(dst, KindMean)
	dst = appendUvarint(dst, m.n)
	dst = appendFloat(dst, m.sum)
	dst = appendFloat(dst, m.comp)
	return appendUvarint(dst, m.ignored), nil
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
//	[float64 LE] compensation term, finite; +0 when the count is 0
//	[uvarint]    ignored NaN/±Inf observations
func (m *Mean) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindMean)
	v := Mean{n: d.uvarint("count", math.MaxUint64)}
	v.sum = d.float("sum")
	v.comp = d.float("compensation")
	if d.err == nil && v.n == 0 && (math.Float64bits(v.sum) != 0 || math.Float64bits(v.comp) != 0) {
		d.fail(ErrCorrupt, "count 0 with sum %v + %v", v.sum, v.comp)
	}
	v.ignored = d.uvarint("ignored", math.MaxUint64)
	if err := d.finish(); err != nil {
		return err
	}
	*m = v
	return nil
}
