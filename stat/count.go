package stat

import (
	"math"
	"strconv"
	"time"

	"github.com/pulsehq/pulse/internal/wire"
)

// Count counts events.
//
// Error bound: exact (a uint64; merging adds). The count saturates at
// 2⁶⁴−1 instead of wrapping.
// Memory: 8 bytes, whatever the number of events.
// The zero value is an empty Count ready to use.
// A Count is not safe for concurrent use; callers shard or lock.
type Count struct {
	n uint64
}

// Observe counts one event.
func (c *Count) Observe() { c.n = satAdd(c.n, 1) }

// Add counts n events. A count only grows, so n is unsigned; the count
// saturates at 2⁶⁴−1.
func (c *Count) Add(n uint64) { c.n = satAdd(c.n, n) }

// Count returns the number of events counted.
func (c *Count) Count() uint64 { return c.n }

// Rate returns the count per unit per over a span: Count ÷ (span ÷ per).
// A span or per ≤ 0 gives 0. Converting the count to float64 (exact below
// 2⁵³) and the division round, so the rate has a relative error ≤ 2⁻⁵¹ of
// its exact value.
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
		c.n = satAdd(c.n, o.n)
	}
	return nil
}

// Reset sets the count to 0.
func (c *Count) Reset() { c.n = 0 }

// Clone returns a copy.
func (c *Count) Clone() Stat { cp := *c; return &cp }

// String returns the count in decimal, for debugging.
func (c *Count) String() string { return "count " + strconv.FormatUint(c.n, 10) }

// countUvarintVersion is the encoding version of a count above 2⁶³−1,
// which version 1's signed varint cannot hold.
const countUvarintVersion = 2

// AppendBinary appends the encoding described at UnmarshalBinary.
func (c *Count) AppendBinary(dst []byte) ([]byte, error) {
	if c.n > math.MaxInt64 {
		dst = append(dst, byte(KindCount), countUvarintVersion)
		return appendUvarint(dst, c.n), nil
	}
	dst = appendHeader(dst, KindCount)
	return appendVarint(dst, int64(c.n)), nil
}

// MarshalBinary returns AppendBinary(nil).
func (c *Count) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// UnmarshalBinary decodes a Count, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]   kind tag 1 (count)
//	[byte]   version 1
//	[varint] count, zig-zag, 0 ≤ count ≤ 2⁶³−1 (a negative count is
//	         ErrCorrupt)
//
// Version 2 holds a count above 2⁶³−1 as a [uvarint] in place of the
// varint; a count that version 1 can hold is ErrCorrupt in version 2, so
// that the encoding stays canonical (each count is written in the oldest
// version that holds it).
func (c *Count) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindCount, countUvarintVersion)
	off := d.Offset()
	var n uint64
	if d.version == countUvarintVersion {
		n = d.Uvarint("count")
		if !d.Failed() && n <= math.MaxInt64 {
			d.FailAt(off, wire.Corrupt, "version 2 holds count %d, which version 1 holds", n)
		}
	} else {
		v := d.Varint("count")
		if !d.Failed() && v < 0 {
			d.FailAt(off, wire.Corrupt, "count %d is negative", v)
		}
		n = uint64(v)
	}
	if err := d.finish(); err != nil {
		return err
	}
	c.n = n
	return nil
}
