package stat

import (
	"math"
	"strconv"
)

// Min keeps the smallest value observed.
//
// Error bound: exact. Among equal values −0 is smaller than +0, so the
// result never depends on the order of observations and merges.
// Memory: 24 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored).
// The zero value is an empty Min ready to use.
// A Min is not safe for concurrent use; callers shard or lock.
type Min struct {
	v       float64
	ok      bool
	ignored uint64
}

// Observe keeps v if it is the smallest so far. NaN and ±Inf are ignored
// and counted.
func (m *Min) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		m.ignored = satAdd(m.ignored, 1)
		return
	}
	if !m.ok || floatBefore(v, m.v) {
		m.v, m.ok = v, true
	}
}

// Min returns the smallest value observed, and false when there is none.
func (m *Min) Min() (float64, bool) { return m.v, m.ok }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (m *Min) Ignored() uint64 { return m.ignored }

// Kind returns KindMin.
func (m *Min) Kind() Kind { return KindMin }

// Merge keeps the smaller of the two minimums. other must be a *Min.
func (m *Min) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Min)
	if !ok {
		return incompatible(KindMin, other)
	}
	if o == nil {
		return nil
	}
	if o.ok && (!m.ok || floatBefore(o.v, m.v)) {
		m.v, m.ok = o.v, true
	}
	m.ignored = satAdd(m.ignored, o.ignored)
	return nil
}

// Reset empties the Min.
func (m *Min) Reset() { *m = Min{} }

// Clone returns a copy.
func (m *Min) Clone() Stat { cp := *m; return &cp }

// String returns the minimum, for debugging.
func (m *Min) String() string { return extremeString("min", m.v, m.ok) }

// AppendBinary appends the encoding described at UnmarshalBinary.
func (m *Min) AppendBinary(dst []byte) ([]byte, error) {
	return appendExtreme(dst, KindMin, m.v, m.ok, m.ignored), nil
}

// MarshalBinary returns AppendBinary(nil).
func (m *Min) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes a Min, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 4 (min)
//	[byte]       version 1
//	[byte]       1 when a value was observed, 0 when empty
//	[float64 LE] the minimum, finite; present only after a 1
//	[uvarint]    ignored NaN/±Inf observations
func (m *Min) UnmarshalBinary(b []byte) error {
	v, ok, ignored, err := decodeExtreme(b, KindMin)
	if err != nil {
		return err
	}
	*m = Min{v: v, ok: ok, ignored: ignored}
	return nil
}

// Max keeps the largest value observed.
//
// Error bound: exact. Among equal values +0 is larger than −0, so the
// result never depends on the order of observations and merges.
// Memory: 24 bytes, whatever the number of values.
// NaN and ±Inf are ignored and counted (see Ignored).
// The zero value is an empty Max ready to use.
// A Max is not safe for concurrent use; callers shard or lock.
type Max struct {
	v       float64
	ok      bool
	ignored uint64
}

// Observe keeps v if it is the largest so far. NaN and ±Inf are ignored
// and counted.
func (m *Max) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		m.ignored = satAdd(m.ignored, 1)
		return
	}
	if !m.ok || floatBefore(m.v, v) {
		m.v, m.ok = v, true
	}
}

// Max returns the largest value observed, and false when there is none.
func (m *Max) Max() (float64, bool) { return m.v, m.ok }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (m *Max) Ignored() uint64 { return m.ignored }

// Kind returns KindMax.
func (m *Max) Kind() Kind { return KindMax }

// Merge keeps the larger of the two maximums. other must be a *Max.
func (m *Max) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Max)
	if !ok {
		return incompatible(KindMax, other)
	}
	if o == nil {
		return nil
	}
	if o.ok && (!m.ok || floatBefore(m.v, o.v)) {
		m.v, m.ok = o.v, true
	}
	m.ignored = satAdd(m.ignored, o.ignored)
	return nil
}

// Reset empties the Max.
func (m *Max) Reset() { *m = Max{} }

// Clone returns a copy.
func (m *Max) Clone() Stat { cp := *m; return &cp }

// String returns the maximum, for debugging.
func (m *Max) String() string { return extremeString("max", m.v, m.ok) }

// AppendBinary appends the encoding described at UnmarshalBinary.
func (m *Max) AppendBinary(dst []byte) ([]byte, error) {
	return appendExtreme(dst, KindMax, m.v, m.ok, m.ignored), nil
}

// MarshalBinary returns AppendBinary(nil).
func (m *Max) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes a Max, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 5 (max)
//	[byte]       version 1
//	[byte]       1 when a value was observed, 0 when empty
//	[float64 LE] the maximum, finite; present only after a 1
//	[uvarint]    ignored NaN/±Inf observations
func (m *Max) UnmarshalBinary(b []byte) error {
	v, ok, ignored, err := decodeExtreme(b, KindMax)
	if err != nil {
		return err
	}
	*m = Max{v: v, ok: ok, ignored: ignored}
	return nil
}

// floatBefore reports whether a comes before b in the total order of
// finite floats that puts −0 before +0. It is a < b for every other pair.
func floatBefore(a, b float64) bool {
	return a < b || (a == b && math.Signbit(a) && !math.Signbit(b))
}

// extremeString formats a Min or Max for String.
func extremeString(name string, v float64, ok bool) string {
	if !ok {
		return name + " empty"
	}
	return name + " " + strconv.FormatFloat(v, 'g', -1, 64)
}

// appendExtreme appends the shared Min/Max encoding.
func appendExtreme(dst []byte, k Kind, v float64, ok bool, ignored uint64) []byte {
	dst = appendHeader(dst, k)
	if ok {
		dst = append(dst, 1)
		dst = appendFloat(dst, v)
	} else {
		dst = append(dst, 0)
	}
	return appendUvarint(dst, ignored)
}

// decodeExtreme decodes the shared Min/Max encoding.
func decodeExtreme(b []byte, k Kind) (v float64, ok bool, ignored uint64, err error) {
	d := newDecoder(b, k, encVersion)
	if ok = d.flag("presence flag"); ok {
		v = d.float("value")
	}
	ignored = d.counter("ignored")
	if err := d.finish(); err != nil {
		return 0, false, 0, err
	}
	return v, ok, ignored, nil
}
