package stat

import (
	"strconv"
	"time"
)

// Count counts events.
//
// Error bound: exact (an int64; merging adds).
// Memory: 8 bytes, whatever the number of events.
// The zero value is an empty Count ready to use.
// A Count is not safe for concurrent use; callers shard or lock.
type Count struct {
	n int64
}

// Observe counts one event.
func (c *Count) Observe() { c.n++ }

// Add counts n events.
func (c *Count) Add(n int64) { c.n += n }

// Count returns the number of events counted.
func (c *Count) Count() int64 { return c.n }

// Rate returns the count per unit per over a span: Count ÷ (span ÷ per).
// A span or per ≤ 0 gives 0. The division is the only rounding, so the
// rate has a relative error ≤ 2⁻⁵² of its exact value.
func (c *Count) Rate(span, per time.Duration) float64 {
	return rate(float64(c.n), span, per)
}

// rate returns v ÷ (span ÷ per), or 0 when either duration is not positive.
func rate(v float64, span, per time.Duration) float64 {
	if span <= 0 || per <= 0 {
		return 0
	}
	return v * float64(per) / float64(span)
}

// Kind returns KindCount.
func (c *Count) Kind() Kind { return KindCount }

// Merge adds other's count. other must be a *Count.
func (c *Count) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Count)
	if !ok {
		return incompatible(KindCount, other)
	}
	if o != nil {
		c.n += o.n
	}
	return nil
}

// Reset sets the count to 0.
func (c *Count) Reset() { c.n = 0 }

// Clone returns a copy.
func (c *Count) Clone() Stat { cp := *c; return &cp }

// String returns the count in decimal, for debugging.
func (c *Count) String() string { return "count " + strconv.FormatInt(c.n, 10) }

// AppendBinary appends the encoding described at UnmarshalBinary.
func (c *Count) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, KindCount)
	return appendVarint(dst, c.n), nil
}

// MarshalBinary returns AppendBinary(nil).
func (c *Count) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// UnmarshalBinary decodes a Count, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]   kind tag 1 (count)
//	[byte]   version 1
//	[varint] count, zig-zag
func (c *Count) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindCount)
	n := d.varint("count")
	if err := d.finish(); err != nil {
		return err
	}
	c.n = n
	return nil
}
