package stat

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/influxdata/tdigest"
)

// Compression limits of a Quantiles.
const (
	DefaultQuantilesCompression = 100
	MinQuantilesCompression     = 10
	MaxQuantilesCompression     = 1000
)

const (
	// quantilesSmall is how many values a Quantiles keeps exactly before
	// it builds a digest.
	quantilesSmall = 64
	// quantilesBuffer is how many observations a digest-backed Quantiles
	// buffers before it folds them into its centroids.
	quantilesBuffer = 512
)

// Quantiles estimates quantiles of float64 values: up to 64 values it keeps
// them and answers exactly; past that it keeps a merging t-digest
// (github.com/influxdata/tdigest) of compression c.
//
// Error bound: exact (nearest rank) up to 64 values. Beyond, at the default
// compression 100, the rank error is ≤ 0.1 percentage points at q = 0.5,
// 0.9, 0.95, 0.99 and 0.999; TestQuantilesAccuracy holds it on 10⁶ values
// observed into one Quantiles and on the merge of 16 partial Quantiles that
// each went through MarshalBinary and UnmarshalBinary, for continuous
// lognormal values (median 20, σ 1.5), the same rounded to whole numbers,
// and a bimodal mix with 5 % at exactly 30000. The rank error of an answer x
// for q is its distance from q to the interval [F(x−), F(x)], where F is
// the empirical CDF of the values observed (so an answer that is a value
// holding the q-th rank has error 0, even where many values are equal).
// Min and Max are exact and every answer lies in [Min, Max]. While every
// value observed (and merged) is an integer, answers are rounded to the
// nearest integer, which is what makes whole-millisecond latencies accurate.
//
// Memory: under 1 KiB while it holds at most 64 values (about 100 bytes
// empty); about 250·c bytes (25 KB at c = 100) once it has a digest. The
// encoding takes 40 + 8n bytes for n ≤ 64 values and at most 40 + 18·2c
// bytes with a digest (about 1.2 KB at c = 100 after 10⁶ values).
//
// NaN and ±Inf are ignored and counted (see Ignored).
// The zero value is an empty Quantiles of compression 100, ready to use.
//
// A Quantiles is not safe for concurrent use; callers shard or lock. Reads
// (Quantile, Count, Min, Max, MarshalBinary) never change its state, so
// concurrent reads without a writer are safe.
type Quantiles struct {
	c        float64 // 0: not yet fixed, DefaultQuantilesCompression
	n        uint64  // finite values observed
	ignored  uint64
	min, max float64
	frac     bool      // some value was not an integer
	vals     []float64 // cents == nil: every value; otherwise pending ones
	cents    []tdigest.Centroid
	td       *tdigest.TDigest // scratch for folding, nil while small
}

// NewQuantiles returns an empty Quantiles of the given compression, which
// must be in [MinQuantilesCompression, MaxQuantilesCompression] (10 to
// 1000); otherwise the error wraps ErrLimit. Higher compression keeps more
// centroids (at most 2c) and answers more accurately.
func NewQuantiles(compression float64) (*Quantiles, error) {
	if !(compression >= MinQuantilesCompression && compression <= MaxQuantilesCompression) {
		return nil, fmt.Errorf("stat: quantiles compression %v outside [%d, %d]: %w",
			compression, MinQuantilesCompression, MaxQuantilesCompression, ErrLimit)
	}
	return &Quantiles{c: compression}, nil
}

// Compression returns the digest's compression.
func (q *Quantiles) Compression() float64 {
	if q.c == 0 {
		return DefaultQuantilesCompression
	}
	return q.c
}

// Observe adds v. NaN and ±Inf are ignored and counted.
func (q *Quantiles) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		q.ignored++
		return
	}
	if q.n == 0 {
		q.c = q.Compression()
		q.min, q.max = v, v
	} else if v < q.min {
		q.min = v
	} else if v > q.max {
		q.max = v
	}
	q.n++
	if v != math.Trunc(v) {
		q.frac = true
	}
	q.vals = append(q.vals, v)
	if (q.cents == nil && len(q.vals) > quantilesSmall) || len(q.vals) >= quantilesBuffer {
		q.fold(nil)
	}
}

// fold folds the pending values, and other's state when other is not nil,
// into the centroids.
func (q *Quantiles) fold(o *Quantiles) {
	if q.td == nil {
		q.td = tdigest.NewWithCompression(q.Compression())
	}
	if cap(q.vals) < quantilesBuffer {
		q.vals = append(make([]float64, 0, quantilesBuffer), q.vals...)
	}
	q.td.Reset()
	q.td.AddCentroidList(q.cents)
	if o != nil {
		q.td.AddCentroidList(o.cents)
		q.vals = append(q.vals, o.vals...)
	}
	addValues(q.td, q.vals)
	q.cents = tidy(q.td.Centroids(q.cents[:0]), q.min, q.max)
	q.vals = q.vals[:0]
}

// tidy clamps the centroid means into [lo, hi] and makes them
// non-decreasing, undoing any rounding of the digest's running means, so
// that every encoding passes UnmarshalBinary's checks.
func tidy(cents []tdigest.Centroid, lo, hi float64) []tdigest.Centroid {
	for i := range cents {
		cents[i].Mean = min(max(cents[i].Mean, lo), hi)
		if i > 0 && cents[i].Mean < cents[i-1].Mean {
			cents[i].Mean = cents[i-1].Mean
		}
	}
	return cents
}

// addValues sorts vals and adds them to t, each run of equal values as one
// centroid.
func addValues(t *tdigest.TDigest, vals []float64) {
	slices.Sort(vals)
	for i := 0; i < len(vals); {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		t.Add(vals[i], float64(j-i))
		i = j
	}
}

// view returns a digest holding everything observed, built afresh so that
// the receiver is left alone, or nil while the values are kept exactly.
func (q *Quantiles) view() *tdigest.TDigest {
	if q.cents == nil {
		return nil
	}
	t := tdigest.NewWithCompression(q.Compression())
	t.AddCentroidList(q.cents)
	if len(q.vals) > 0 {
		addValues(t, slices.Clone(q.vals))
	}
	return t
}

// Quantile returns the q-quantile of the values observed, for 0 ≤ q ≤ 1,
// and true; or 0 and false when q is outside [0, 1] or NaN, or nothing was
// observed. Up to 64 values the answer is exact: the smallest value x with
// at least ⌈q·n⌉ values ≤ x (Min for q = 0). See the type's error bound
// beyond that. Quantile does not change the receiver; with a digest it
// costs about 25 KB of garbage and O(c) work.
func (q *Quantiles) Quantile(p float64) (float64, bool) {
	if q.n == 0 || !(p >= 0 && p <= 1) {
		return 0, false
	}
	switch p {
	case 0:
		return q.min, true
	case 1:
		return q.max, true
	}
	t := q.view()
	if t == nil {
		var buf [quantilesSmall]float64
		s := append(buf[:0], q.vals...)
		slices.Sort(s)
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(i, 0)], true
	}
	x := t.Quantile(p)
	if !q.frac {
		x = math.Round(x)
	}
	return min(max(x, q.min), q.max), true
}

// Count returns the number of finite values observed.
func (q *Quantiles) Count() uint64 { return q.n }

// Min returns the smallest value observed, or 0 if none was.
func (q *Quantiles) Min() float64 { return q.min }

// Max returns the largest value observed, or 0 if none was.
func (q *Quantiles) Max() float64 { return q.max }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats.
func (q *Quantiles) Ignored() uint64 { return q.ignored }

// Integers reports whether every value observed (and merged) is an
// integer, in which case quantiles are rounded to integers.
func (q *Quantiles) Integers() bool { return !q.frac }

// Kind returns KindQuantiles.
func (q *Quantiles) Kind() Kind { return KindQuantiles }

// Merge adds other's values. other must be a *Quantiles of the same
// compression; an empty receiver made by its zero value adopts other's
// compression. other is left as it was.
func (q *Quantiles) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*Quantiles)
	if !ok {
		return incompatible(KindQuantiles, other)
	}
	if o == nil || o.n == 0 && o.ignored == 0 {
		return nil
	}
	if q.c == 0 && q.n == 0 {
		q.c = o.Compression()
	}
	if o.n > 0 && q.Compression() != o.Compression() {
		return fmt.Errorf("stat: merge quantiles c=%v with c=%v: %w", q.Compression(), o.Compression(), ErrIncompatible)
	}
	q.ignored += o.ignored
	if o.n == 0 {
		return nil
	}
	if q.n == 0 {
		q.min, q.max = o.min, o.max
	} else {
		q.min, q.max = min(q.min, o.min), max(q.max, o.max)
	}
	q.n += o.n
	q.frac = q.frac || o.frac
	if q.cents == nil && o.cents == nil && len(q.vals)+len(o.vals) <= quantilesSmall {
		q.vals = append(q.vals, o.vals...)
		return nil
	}
	q.fold(o)
	return nil
}

// Reset empties the Quantiles, keeping its compression and its buffers.
func (q *Quantiles) Reset() {
	*q = Quantiles{c: q.c, vals: q.vals[:0], td: q.td}
}

// Clone returns a deep copy. The copy shares nothing with q and gets its
// own scratch digest when it needs one.
func (q *Quantiles) Clone() Stat {
	cp := *q
	cp.vals = slices.Clone(q.vals)
	cp.cents = slices.Clone(q.cents)
	cp.td = nil
	return &cp
}

// String returns the count and a few quantiles, for debugging.
func (q *Quantiles) String() string {
	s := "quantiles c=" + strconv.FormatFloat(q.Compression(), 'g', -1, 64) + " n=" + strconv.FormatUint(q.n, 10)
	for _, p := range []float64{0.5, 0.99} {
		if x, ok := q.Quantile(p); ok {
			s += " p" + strconv.FormatFloat(100*p, 'g', -1, 64) + "=" + strconv.FormatFloat(x, 'g', 6, 64)
		}
	}
	return s
}

// AppendBinary appends the encoding described at UnmarshalBinary. Pending
// observations are folded into the centroids of the encoding (on a copy:
// the receiver is left alone).
func (q *Quantiles) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, KindQuantiles)
	dst = appendFloat(dst, q.Compression())
	dst = appendUvarint(dst, q.n)
	dst = appendUvarint(dst, q.ignored)
	if q.n == 0 {
		return append(dst, 0), nil
	}
	flags := byte(0)
	if q.frac {
		flags = 1
	}
	dst = append(dst, flags)
	dst = appendFloat(dst, q.min)
	dst = appendFloat(dst, q.max)
	if q.cents == nil {
		var buf [quantilesSmall]float64
		s := append(buf[:0], q.vals...)
		slices.Sort(s)
		for _, v := range s {
			dst = appendFloat(dst, v)
		}
		return dst, nil
	}
	cents := q.cents
	if len(q.vals) > 0 {
		cents = tidy(q.view().Centroids(nil), q.min, q.max)
	}
	dst = appendUvarint(dst, uint64(len(cents)))
	for _, c := range cents {
		dst = appendFloat(dst, c.Mean)
		dst = appendUvarint(dst, uint64(c.Weight))
	}
	return dst, nil
}

// MarshalBinary returns AppendBinary(nil).
func (q *Quantiles) MarshalBinary() ([]byte, error) { return q.AppendBinary(nil) }

// UnmarshalBinary decodes a Quantiles, replacing the receiver's state and
// compression. The receiver is unchanged on error; b is not kept. The
// encoding, version 1:
//
//	[byte]       kind tag 9 (quantiles)
//	[byte]       version 1
//	[float64 LE] compression c, 10 ≤ c ≤ 1000 (else ErrLimit)
//	[uvarint]    n, the finite values observed, ≤ 2⁵³ (else ErrLimit)
//	[uvarint]    ignored NaN/±Inf observations
//	[byte]       flags: bit 0 set if some value was not an integer; other
//	             bits 0; 0 when n = 0, and nothing follows then
//	[float64 LE] min, finite; an integer if bit 0 is clear
//	[float64 LE] max, finite, ≥ min; an integer if bit 0 is clear
//	n ≤ 64:
//	n × [float64 LE] the values in non-decreasing order, the first = min,
//	             the last = max; bit 0 is set exactly if one is not an
//	             integer
//	n > 64:
//	[uvarint]    k centroids, 1 ≤ k ≤ 2⌈c⌉
//	k × ([float64 LE] mean, [uvarint] weight): means finite, in [min, max]
//	             and non-decreasing; weights ≥ 1, summing to n
//
// The encoding is canonical: the same state gives the same bytes, and
// decoding then encoding gives back the input.
func (q *Quantiles) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindQuantiles)
	c := d.float("compression")
	if d.err == nil && !(c >= MinQuantilesCompression && c <= MaxQuantilesCompression) {
		d.fail(ErrLimit, "compression %v outside [%d, %d]", c, MinQuantilesCompression, MaxQuantilesCompression)
	}
	v := Quantiles{c: c}
	v.n = d.uvarint("count", 1<<53)
	v.ignored = d.uvarint("ignored", math.MaxUint64)
	flags := d.byte1("flags")
	if d.err == nil && (flags > 1 || v.n == 0 && flags != 0) {
		d.fail(ErrCorrupt, "flags %#x with count %d", flags, v.n)
	}
	v.frac = flags == 1
	if d.err != nil || v.n == 0 {
		if err := d.finish(); err != nil {
			return err
		}
		*q = v
		return nil
	}
	v.min, v.max = d.float("min"), d.float("max")
	if d.err == nil && (v.min > v.max || !v.frac && (v.min != math.Trunc(v.min) || v.max != math.Trunc(v.max))) {
		d.fail(ErrCorrupt, "min %v and max %v (integers %t)", v.min, v.max, !v.frac)
	}
	if v.n <= quantilesSmall {
		if d.err == nil && uint64(d.remaining()) < 8*v.n {
			d.fail(ErrCorrupt, "%d values need %d bytes, have %d", v.n, 8*v.n, d.remaining())
		}
		if d.err != nil {
			return d.err
		}
		v.vals = make([]float64, 0, v.n)
		frac := false
		for i := range v.n {
			x := d.float("value")
			if d.err == nil && (i > 0 && x < v.vals[i-1] || i == 0 && x != v.min || i == v.n-1 && x != v.max) {
				d.fail(ErrCorrupt, "value %d = %v out of order or bounds", i, x)
			}
			frac = frac || x != math.Trunc(x)
			v.vals = append(v.vals, x)
		}
		if d.err == nil && frac != v.frac {
			d.fail(ErrCorrupt, "integer flag %t disagrees with the values", !v.frac)
		}
	} else {
		k := d.count("centroids", 2*uint64(math.Ceil(c)), 9)
		if d.err == nil && k == 0 {
			d.fail(ErrCorrupt, "no centroids for %d values", v.n)
		}
		if d.err != nil {
			return d.err
		}
		v.cents = make([]tdigest.Centroid, 0, k)
		var sum uint64
		for i := range k {
			m := d.float("mean")
			w := d.uvarint("weight", v.n)
			if d.err == nil && (w == 0 || m < v.min || m > v.max || i > 0 && m < v.cents[i-1].Mean) {
				d.fail(ErrCorrupt, "centroid %d (mean %v, weight %d) is not positive, in order and in [min, max]", i, m, w)
			}
			if d.err == nil && w > v.n-sum {
				d.fail(ErrCorrupt, "centroid weights exceed the count %d", v.n)
			}
			sum += w
			v.cents = append(v.cents, tdigest.Centroid{Mean: m, Weight: float64(w)})
		}
		if d.err == nil && sum != v.n {
			d.fail(ErrCorrupt, "centroid weights sum to %d, count is %d", sum, v.n)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*q = v
	return nil
}
