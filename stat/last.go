package stat

import (
	"math"
	"strconv"
	"time"

	"github.com/pulsehq/pulse/internal/wire"
)

// The range of event times that Last and LastBy keep: whole seconds whose
// every nanosecond fits UnixNano's int64, from 1677-09-21 00:12:44 UTC to
// 2262-04-11 23:47:15.999999999 UTC. Times outside are ignored and counted.
const (
	minObsSec = -9223372036
	maxObsSec = 9223372035
	minObsNs  = minObsSec * 1e9
	maxObsNs  = maxObsSec*1e9 + 999999999
)

// obsNano returns t as nanoseconds since the Unix epoch, and false when t
// is outside the range Last and LastBy keep.
func obsNano(t time.Time) (int64, bool) {
	s := t.Unix()
	if s < minObsSec || s > maxObsSec {
		return 0, false
	}
	return s*1e9 + int64(t.Nanosecond()), true
}

// sinceNano returns t as nanoseconds since the Unix epoch, clamped into
// the int64 range (the zero time.Time gives math.MinInt64).
func sinceNano(t time.Time) int64 {
	switch s := t.Unix(); {
	case s < minObsSec:
		return math.MinInt64
	case s > maxObsSec:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// later reports whether the observation (t1, v1) wins over (t2, v2): a
// later time, or the same time and a larger value (+0 is larger than −0).
func later(t1 int64, v1 float64, t2 int64, v2 float64) bool {
	return t1 > t2 || (t1 == t2 && floatBefore(v2, v1))
}

// Last keeps the value with the latest event time.
//
// Error bound: exact. An observation replaces the kept one when its time is
// later; at an equal time the larger value wins (+0 over −0), so the result
// never depends on the order of observations and merges.
// Memory: 32 bytes, whatever the number of values.
// NaN and ±Inf values, and times outside 1677-09-21 … 2262-04-11 (which
// UnixNano cannot hold), are ignored and counted (see Ignored).
// Times are kept to the nanosecond, without location or monotonic reading.
// The zero value is an empty Last ready to use.
// A Last is not safe for concurrent use; callers shard or lock.
type Last struct {
	t       int64 // Unix nanoseconds
	v       float64
	ok      bool
	ignored uint64
}

// ObserveAt offers the value v observed at event time t. It is kept when
// it is the latest so far (see Last's doc for ties). NaN, ±Inf and times
// out of range are ignored and counted.
func (l *Last) ObserveAt(t time.Time, v float64) {
	ns, ok := obsNano(t)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		l.ignored = satAdd(l.ignored, 1)
		return
	}
	if !l.ok || later(ns, v, l.t, l.v) {
		l.t, l.v, l.ok = ns, v, true
	}
}

// Last returns the latest value with its event time in UTC, and ok false
// when nothing was observed.
func (l *Last) Last() (t time.Time, v float64, ok bool) {
	if !l.ok {
		return time.Time{}, 0, false
	}
	return time.Unix(0, l.t).UTC(), l.v, true
}

// Ignored returns how many observations were ignored (NaN or ±Inf values,
// times out of range), including those of merged stats.
func (l *Last) Ignored() uint64 { return l.ignored }

// Kind returns KindLast.
func (l *Last) Kind() Kind { return KindLast }

// Merge keeps the later of the two observations (at equal times, the
// larger value). other must be a *Last.
func (l *Last) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Last)
	if !ok {
		return incompatible(KindLast, other)
	}
	if o == nil {
		return nil
	}
	if o.ok && (!l.ok || later(o.t, o.v, l.t, l.v)) {
		l.t, l.v, l.ok = o.t, o.v, true
	}
	l.ignored = satAdd(l.ignored, o.ignored)
	return nil
}

// Reset empties the Last.
func (l *Last) Reset() { *l = Last{} }

// Clone returns a copy.
func (l *Last) Clone() Stat { cp := *l; return &cp }

// String returns the value and its time, for debugging.
func (l *Last) String() string {
	t, v, ok := l.Last()
	if !ok {
		return "last empty"
	}
	return "last " + strconv.FormatFloat(v, 'g', -1, 64) + " at " + t.Format(time.RFC3339Nano)
}

// AppendBinary appends the encoding described at UnmarshalBinary.
func (l *Last) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, KindLast)
	if l.ok {
		dst = append(dst, 1)
		dst = appendVarint(dst, l.t)
		dst = appendFloat(dst, l.v)
	} else {
		dst = append(dst, 0)
	}
	return appendUvarint(dst, l.ignored), nil
}

// MarshalBinary returns AppendBinary(nil).
func (l *Last) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// UnmarshalBinary decodes a Last, replacing the receiver's state. The
// receiver is unchanged on error. The encoding, version 1:
//
//	[byte]       kind tag 6 (last)
//	[byte]       version 1
//	[byte]       1 when a value was observed, 0 when empty
//	[varint]     event time in Unix nanoseconds, zig-zag, within
//	             −9223372036·10⁹ … 9223372035999999999; only after a 1
//	[float64 LE] the value, finite; only after a 1
//	[uvarint]    ignored observations
func (l *Last) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindLast, encVersion)
	var v Last
	if v.ok = d.flag("presence flag"); v.ok {
		v.t = d.obsTime("time")
		v.v = d.float("value")
	}
	v.ignored = d.counter("ignored")
	if err := d.finish(); err != nil {
		return err
	}
	*l = v
	return nil
}

// obsTime reads a zig-zag varint event time and checks that it lies in the
// range Last and LastBy keep.
func (d *decoder) obsTime(what string) int64 {
	off := d.Offset()
	t := d.Varint(what)
	if !d.Failed() && (t < minObsNs || t > maxObsNs) {
		d.FailAt(off, wire.Corrupt, "%s %d ns is outside %d … %d", what, t, int64(minObsNs), int64(maxObsNs))
	}
	return t
}
