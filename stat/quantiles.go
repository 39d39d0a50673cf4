package stat

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/influxdata/tdigest"

	"github.com/pulsehq/pulse/internal/wire"
)

// Compression limits of a Quantiles.
const (
	DefaultQuantilesCompression = 100
	MinQuantilesCompression     = 10
	MaxQuantilesCompression     = 1000
)

const (
	// quantilesSmall is how many values a Quantiles keeps exactly before
	// it builds a digest. The exact values live in the slice that holds
	// the pending values once there is a digest, so the two are equal.
	quantilesSmall = 512
	// quantilesV1Small is how many values version 1 of the encoding holds
	// exactly; an exact state of more is version 3.
	quantilesV1Small = 64
	// quantilesBuffer is how many observations a digest-backed Quantiles
	// buffers before it folds them into its centroids.
	quantilesBuffer = 512
	// maxDecimals is the most decimal places a Quantiles snaps its
	// answers to; noDecimals marks values with more (or none at all).
	maxDecimals = 6
	noDecimals  = 0xff
	// quantilesDecimalVersion is the encoding version of a digest of
	// values with 1 to 6 decimal places; everything else is version 1.
	quantilesDecimalVersion = 2
	// quantilesExactVersion is the encoding version of an exact state of
	// more than quantilesV1Small values.
	quantilesExactVersion = 3
	// maxQuantilesCount is the most values a Quantiles counts, 2⁵³: the
	// digest's weights are float64, exact integers up to there. Values
	// beyond it are ignored and counted.
	maxQuantilesCount = 1 << 53
)

// pow10 holds 10^k for the decimal scales, indexed by k&7.
var pow10 = [8]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// onGrid reports whether v is the float64 nearest to a multiple of 10^-k,
// that is whether v written in shortest decimal has at most k decimal
// places: v·10^k rounded to an integer m and divided back, m/10^k, is v
// again. The division of an integer by an exact power of ten rounds
// correctly, so 12.4 (whose v·10 is 124.00000000000001) passes for k = 1
// and 0.1+0.2 fails for every k ≤ 6.
func onGrid(v float64, k uint8) bool {
	p := pow10[k&7]
	return math.Round(v*p)/p == v
}

// decimals returns the smallest k ≤ maxDecimals for which v is onGrid, or
// noDecimals.
func decimals(v float64) uint8 {
	for k := uint8(0); k <= maxDecimals; k++ {
		if onGrid(v, k) {
			return k
		}
	}
	return noDecimals
}

// QuantilesRankBound returns the rank error bound that Quantiles states for
// n values at the default compression, as a fraction (0.01 is one
// percentage point): 0 up to 512 values (exact), then 0.01 below 10⁴
// values, 0.004 below 10⁵, 0.0015 below 10⁶ and 0.001 from 10⁶. Tests of
// code that reports quantiles can hold answers to it.
func QuantilesRankBound(n uint64) float64 {
	switch {
	case n <= quantilesSmall:
		return 0
	case n < 10000:
		return 0.01
	case n < 100000:
		return 0.004
	case n < 1000000:
		return 0.0015
	}
	return 0.001
}

// snap returns x rounded to the nearest multiple of 10^-k, or x when k is
// noDecimals.
func snap(x float64, k uint8) float64 {
	if k == noDecimals {
		return x
	}
	p := pow10[k&7]
	return math.Round(x*p) / p
}

// Quantiles estimates quantiles of float64 values: up to 512 values it
// keeps them and answers exactly; past that it keeps a merging t-digest
// (github.com/influxdata/tdigest) of compression c.
//
// Error bound: exact (nearest rank) up to 512 values, observed or merged.
// Beyond, at the default compression 100, the rank error at q = 0.5, 0.9,
// 0.95, 0.99 and 0.999 is at most 1 percentage point for n < 10⁴, 0.4 for
// n < 10⁵, 0.15 for n < 10⁶ and 0.1 from 10⁶ values (QuantilesRankBound):
// the compression leaves centroids of several values in the middle of the
// distribution, and an answer inside one is interpolated.
// TestQuantilesAccuracy holds these bounds over fixed seeds (20 per n
// below 10⁴, 1 or 2 above) from 513 to 10⁶ values; the worst it measures
// is 0.53 points for n < 1000, 0.4 for n < 10⁴, 0.13 for n < 10⁵, 0.095
// for n < 10⁶ and 0.076 at 10⁶. Values are observed into one
// Quantiles and merged from 16 partial Quantiles that each went through
// MarshalBinary and UnmarshalBinary, for continuous lognormal values
// (median 20, σ 1.5), the same rounded to whole numbers and to one
// decimal, load averages with two decimals, and bimodal mixes with 5 % at
// exactly 30000. The rank error of an answer x for q is its distance from
// q to the interval [F(x−), F(x)], where F is the empirical CDF of the
// values observed (so an answer that is a value holding the q-th rank has
// error 0, even where many values are equal). Min and Max are exact and
// every answer lies in [Min, Max]; an answer that falls on a single value,
// or on a spike of equal values, is that value.
//
// Decimal places: while every value observed (and merged) has at most k
// decimal places, 0 ≤ k ≤ 6 (integers, 12.4 ms, a load average of 0.42),
// answers are rounded to the nearest multiple of 10^-k (see Decimals).
// Such values have ties, and an answer between two of them would be
// wrong by up to the share of rank the next one holds.
//
// Memory: while exact, the struct (128 bytes empty) and a slice of the
// values that doubles as it fills, from 8 up to 512 values: under 1 KiB up
// to 64 values and at most 4.25 KB (4 KiB of values) up to 512, observed or
// merged; under 12 KB at c = 100 once it has a digest: its centroids (at
// most 2c) and that slice, now a buffer of 512 pending values; the digest
// that compresses them is borrowed from a shared free list
// (TestQuantilesMemory). The encoding takes at most 48 + 8n bytes for
// n ≤ 512 values and 48 + 16·2c with a digest (about 1.25 KB at c = 100
// after 10⁶ values).
//
// NaN and ±Inf are ignored and counted (see Ignored), and so are values
// beyond the 2⁵³th (the digest's float64 weights count exactly to there).
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
	dec      uint8     // decimal places of every value so far, or noDecimals
	vals     []float64 // cents == nil: every value; otherwise pending ones
	cents    []tdigest.Centroid
}

// foldScratch is what fold borrows: a digest that compresses and the radix
// sort's buffer. Keeping them in a free list, not in every Quantiles, is what
// keeps a digest-backed Quantiles at a few KB (a window holds one per
// bucket), where the digest's buffers alone are about 25 KB at c = 100.
type foldScratch struct {
	td   *tdigest.TDigest
	rad  []uint64
	vals []float64 // the receiver's and a merged Quantiles' values together
}

// scratchFree keeps up to maxFreeScratch idle scratches per compression.
// It is a plain free list rather than a sync.Pool: a pool is emptied at
// every garbage collection, and a receiver that allocates buckets collects
// often enough that each fold would build a new 25 KB digest.
var scratchFree struct {
	sync.Mutex
	by map[float64][]*foldScratch
}

const maxFreeScratch = 8

// getScratch borrows a scratch for compression c; putScratch returns it.
func getScratch(c float64) *foldScratch {
	scratchFree.Lock()
	defer scratchFree.Unlock()
	if l := scratchFree.by[c]; len(l) > 0 {
		sc := l[len(l)-1]
		scratchFree.by[c] = l[:len(l)-1]
		return sc
	}
	return &foldScratch{td: tdigest.NewWithCompression(c)}
}

func putScratch(c float64, sc *foldScratch) {
	scratchFree.Lock()
	defer scratchFree.Unlock()
	if scratchFree.by == nil {
		scratchFree.by = make(map[float64][]*foldScratch)
	}
	if len(scratchFree.by[c]) < maxFreeScratch {
		scratchFree.by[c] = append(scratchFree.by[c], sc)
	}
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

// Observe adds v. NaN and ±Inf, and values past the 2⁵³th, are ignored and
// counted.
func (q *Quantiles) Observe(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || q.n >= maxQuantilesCount {
		q.ignored = satAdd(q.ignored, 1)
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
	if q.dec != noDecimals && !onGrid(v, q.dec) {
		q.dec = max(q.dec, decimals(v))
	}
	if len(q.vals) == cap(q.vals) {
		q.grow()
	}
	q.vals = append(q.vals, v)
	if q.cents != nil && len(q.vals) >= quantilesBuffer {
		q.fold(nil)
	}
}

// grow makes room in q.vals for one more value, which is full: it doubles
// the slice, up to quantilesSmall values (4 KiB, so that an exact
// Quantiles stays under 4.5 KB, where append would grow 300 values to
// 608), and once an exact Quantiles is full it folds the values into a
// digest, leaving a buffer of quantilesBuffer. A digest-backed Quantiles
// gets here only while its buffer is smaller than that (after a decode):
// at quantilesBuffer pending values Observe has folded them.
func (q *Quantiles) grow() {
	if len(q.vals) >= quantilesSmall {
		q.fold(nil)
		return
	}
	q.vals = append(make([]float64, 0, min(max(2*len(q.vals), 8), quantilesSmall)), q.vals...)
}

// fold folds the pending values, and other's state when other is not nil,
// into the centroids. It radix-sorts the values and hands them to the
// digest merged into its sorted centroids, a run of equal values as one
// centroid, so the digest's own sort meets sorted input: that is what makes
// Observe cheaper than the digest's Add.
func (q *Quantiles) fold(o *Quantiles) {
	c := q.Compression()
	sc := getScratch(c)
	defer putScratch(c, sc)
	td := sc.td
	// The values of both sides meet in the scratch, so that the
	// receiver's buffer keeps its size (o's values are not to be sorted
	// in place either).
	vals := q.vals
	if o != nil && len(o.vals) > 0 {
		sc.vals = append(append(sc.vals[:0], q.vals...), o.vals...)
		vals = sc.vals
	}
	sc.rad = sortFloats(vals, sc.rad)
	td.Reset()
	i := 0
	for j := 0; j < len(vals); {
		k := j + 1
		for k < len(vals) && vals[k] == vals[j] {
			k++
		}
		for i < len(q.cents) && q.cents[i].Mean <= vals[j] {
			td.AddCentroid(q.cents[i])
			i++
		}
		td.Add(vals[j], float64(k-j))
		j = k
	}
	td.AddCentroidList(q.cents[i:])
	if o != nil {
		td.AddCentroidList(o.cents)
	}
	q.cents = tidy(td.Centroids(q.cents[:0]), q.min, q.max)
	if cap(q.vals) < quantilesBuffer {
		q.vals = make([]float64, 0, quantilesBuffer)
	}
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

// sortFloats sorts vals, which hold no NaN, with an LSD radix sort on
// order-preserving keys, skipping the bytes where all keys agree (the high
// bytes of values of one magnitude, the low bytes of integers). It returns
// the scratch buffer, grown to len(vals), for reuse.
func sortFloats(vals []float64, scratch []uint64) []uint64 {
	if len(vals) < 2 {
		return scratch
	}
	keys := unsafe.Slice((*uint64)(unsafe.Pointer(&vals[0])), len(vals))
	for i, k := range keys {
		if k>>63 == 1 {
			keys[i] = ^k
		} else {
			keys[i] = k | 1<<63
		}
	}
	if cap(scratch) < len(keys) {
		scratch = make([]uint64, len(keys))
	}
	src, dst := keys, scratch[:len(keys)]
	var counts [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		counts = [256]int{}
		for _, k := range src {
			counts[byte(k>>shift)]++
		}
		if counts[byte(src[0]>>shift)] == len(src) {
			continue
		}
		sum := 0
		for i, c := range counts {
			counts[i] = sum
			sum += c
		}
		for _, k := range src {
			b := byte(k >> shift)
			dst[counts[b]] = k
			counts[b]++
		}
		src, dst = dst, src
	}
	for i, k := range src {
		if k>>63 == 1 {
			keys[i] = k &^ (1 << 63)
		} else {
			keys[i] = ^k
		}
	}
	return scratch
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
// observed. Up to 512 values the answer is exact: the smallest value x with
// at least ⌈q·n⌉ values ≤ x (Min for q = 0). See the type's error bound
// beyond that. Quantile does not change the receiver. With a digest it
// costs O(c) work, and about 25 KB of garbage while observations are
// pending (not yet folded into the centroids), which it folds on a copy;
// it answers the same as a copy that went through MarshalBinary.
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
	if q.cents == nil {
		var buf [quantilesSmall]float64
		s := append(buf[:0], q.vals...)
		slices.Sort(s)
		return q.at(p, s, nil), true
	}
	return q.at(p, nil, q.centroids()), true
}

// at returns the answer for p in [0, 1] of a non-empty Quantiles, from its
// values sorted (while exact) or from cents, its centroids with pending
// observations folded in.
func (q *Quantiles) at(p float64, sorted []float64, cents []tdigest.Centroid) float64 {
	switch {
	case p <= 0:
		return q.min
	case p >= 1:
		return q.max
	case q.cents == nil:
		i := int(math.Ceil(p*float64(len(sorted)))) - 1
		return sorted[max(i, 0)]
	}
	return min(max(snap(q.estimate(p, cents), q.dec), q.min), q.max)
}

// rankBound is the rank error bound of q's answers: QuantilesRankBound of
// its count, and that of 513 values for a digest of fewer (one decoded
// from an older release, which kept digests from 65 values).
func (q *Quantiles) rankBound() float64 {
	if q.cents != nil {
		return QuantilesRankBound(max(q.n, quantilesSmall+1))
	}
	return QuantilesRankBound(q.n)
}

// QuantilesValueOf reads s at the quantiles qs into a quantiles Value: each
// answer, as s.Quantile gives it, with what a comparison of two snapshots
// needs to hold answers to s's stated bound. That is the count of values
// (Value.Count) and, for each answer, a range of values (Value.QuantileRange):
// while s is exact (up to 512 values) the answer alone, and otherwise s's
// answers at q − 2ε − 1/n and q + 2ε + 1/n, where ε is the rank bound
// QuantilesRankBound(n).
//
// Design note: the value of true rank q lies in the range when s keeps
// its bound at the range's ends. The bound is stated, and tested, at q =
// 0.5, 0.9, 0.95, 0.99 and 0.999; between them a digest can err by more
// (1.5ε measured at q = 0.946 on a mix of values with a gap), so the range
// reaches twice the bound, and one rank more for the discrete ranks. Two
// ranges that overlap may hold answers about 4ε apart in rank: a
// comparison by ranges tells answers that cannot both be right, not
// answers that are. The bound is the one stated at the default
// compression, which every definition uses; a Quantiles of lower
// compression is less accurate than its ranges say.
//
// The ranges travel only in memory: the JSON form holds the answers.
// Quantiles q outside (0, 1) are left out; an empty s gives null. It does
// not change s, and folds pending observations once for every answer.
func QuantilesValueOf(s *Quantiles, qs []float64) Value {
	if s == nil || s.n == 0 {
		return Null()
	}
	var sorted []float64
	var cents []tdigest.Centroid
	if s.cents == nil {
		sorted = slices.Sorted(slices.Values(s.vals))
	} else {
		cents = s.centroids()
	}
	eps := s.rankBound()
	if eps > 0 {
		eps = 2*eps + 1/float64(s.n)
	}
	v := Value{form: formQuantiles, n: s.n, quant: make([]Quantile, 0, len(qs)), rng: make([]QuantileRange, 0, len(qs))}
	for _, p := range qs {
		if !(p > 0 && p < 1) {
			continue
		}
		x := s.at(p, sorted, cents)
		r := QuantileRange{Lo: x, Hi: x}
		if eps > 0 {
			r.Lo = min(s.at(p-eps, sorted, cents), x)
			r.Hi = max(s.at(p+eps, sorted, cents), x)
		}
		v.quant = append(v.quant, Quantile{Q: p, Value: x})
		v.rng = append(v.rng, r)
	}
	return v
}

// centroids returns the centroids with the pending observations folded in,
// on a copy when there are some: the centroids the encoding holds.
func (q *Quantiles) centroids() []tdigest.Centroid {
	if len(q.vals) == 0 {
		return q.cents
	}
	return tidy(q.view().Centroids(nil), q.min, q.max)
}

// estimate returns the value of rank j = ⌈p·n⌉ (1-based: the exact
// answer's rank) estimated from cents, centroids in order of their means.
//
// On a line of ranks where the value of rank r occupies (r−1, r], a
// centroid of weight w after C values is anchored at its centre C + w/2,
// Min at 0.5 and Max at n − 0.5, and the answer interpolates linearly
// between the anchors on either side of j − 0.5, the centre of rank j, as
// the digest's own Quantile does at q·n. But a centroid whose values are
// taken to be equal is a point: it is anchored at the centres of its first
// and last ranks, and a rank on it gets its mean. That is a centroid of
// weight 1; one whose mean is Min or Max; and one whose mean equals a
// neighbour's, which (the centroids covering runs of the sorted values,
// so that one's values are at most the next one's) holds only if both are
// runs of that one value: a spike, such as timeouts at exactly 30000 ms,
// split over several centroids. So an answer that falls on a single value
// or on a spike is that value and not a point between it and a neighbour,
// which would cost up to one value's (or a whole centroid's) share of rank.
func (q *Quantiles) estimate(p float64, cents []tdigest.Centroid) float64 {
	n := float64(q.n)
	j := min(max(math.Ceil(p*n), 1), n)
	switch j {
	case 1:
		return q.min
	case n:
		return q.max
	}
	u := j - 0.5
	prevPos, prevVal := 0.5, q.min
	cum := 0.0
	for i, c := range cents {
		m, w := c.Mean, c.Weight
		lo, hi := cum+w/2, cum+w/2
		if w == 1 || m == q.min || m == q.max ||
			i > 0 && cents[i-1].Mean == m || i+1 < len(cents) && cents[i+1].Mean == m {
			lo, hi = cum+0.5, cum+w-0.5
		}
		if lo >= u {
			return interpolate(prevPos, prevVal, lo, m, u)
		}
		if hi >= u {
			return m
		}
		prevPos, prevVal = hi, m
		cum += w
	}
	return interpolate(prevPos, prevVal, n-0.5, q.max, u)
}

// interpolate returns the value at position u on the line through
// (x0, y0) and (x1, y1), for x0 ≤ u ≤ x1.
func interpolate(x0, y0, x1, y1, u float64) float64 {
	if u >= x1 {
		return y1
	}
	if u <= x0 {
		return y0
	}
	t := (u - x0) / (x1 - x0)
	return y0 + t*(y1-y0)
}

// Count returns the number of finite values observed.
func (q *Quantiles) Count() uint64 { return q.n }

// Min returns the smallest value observed (exact), and false when there is
// none.
func (q *Quantiles) Min() (float64, bool) { return q.min, q.n > 0 }

// Max returns the largest value observed (exact), and false when there is
// none.
func (q *Quantiles) Max() (float64, bool) { return q.max, q.n > 0 }

// Ignored returns how many NaN or ±Inf values were observed and ignored,
// including those of merged stats, and how many values were ignored
// because the Quantiles held 2⁵³ already (a merged Quantiles that would
// take it beyond counts all its values).
func (q *Quantiles) Ignored() uint64 { return q.ignored }

// Integers reports whether every value observed (and merged) is an
// integer, in which case quantiles are rounded to integers. It is
// Decimals() == (0, true).
func (q *Quantiles) Integers() bool { return q.dec == 0 }

// Decimals returns the decimal places k, 0 ≤ k ≤ 6, of the values
// observed (and merged), and true: the smallest k such that each of them,
// written in shortest decimal, has at most k digits after the point (so
// 12.4 and 0.42 give 2). Quantiles are then rounded to the nearest multiple
// of 10^-k. It returns 0 and false once some value needs more than six
// places.
func (q *Quantiles) Decimals() (int, bool) {
	if q.dec == noDecimals {
		return 0, false
	}
	return int(q.dec), true
}

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
	q.ignored = satAdd(q.ignored, o.ignored)
	if o.n == 0 {
		return nil
	}
	if o.n > maxQuantilesCount-q.n {
		q.ignored = satAdd(q.ignored, o.n) // beyond 2⁵³ values: see Ignored
		return nil
	}
	if q.n == 0 {
		q.min, q.max = o.min, o.max
	} else {
		q.min, q.max = min(q.min, o.min), max(q.max, o.max)
	}
	q.n += o.n
	q.dec = max(q.dec, o.dec)
	if need := len(q.vals) + len(o.vals); q.cents == nil && o.cents == nil && need <= quantilesSmall {
		if need > cap(q.vals) {
			q.vals = append(make([]float64, 0, min(max(need, 2*cap(q.vals)), quantilesSmall)), q.vals...)
		}
		q.vals = append(q.vals, o.vals...)
		return nil
	}
	q.fold(o)
	return nil
}

// Reset empties the Quantiles, keeping its compression and its buffers.
func (q *Quantiles) Reset() {
	*q = Quantiles{c: q.c, vals: q.vals[:0]}
}

// Clone returns a deep copy. The copy shares nothing with q and gets its
// own scratch digest when it needs one.
func (q *Quantiles) Clone() Stat {
	cp := *q
	cp.vals = slices.Clone(q.vals)
	cp.cents = slices.Clone(q.cents)
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
	flags := byte(0) // versions 1 and 3: bit 0 set if some value is not an integer
	if q.dec != 0 {
		flags = 1
	}
	switch {
	case q.cents != nil && q.dec >= 1 && q.dec <= maxDecimals:
		dst = append(dst, byte(KindQuantiles), quantilesDecimalVersion)
		flags = q.dec
	case q.cents == nil && len(q.vals) > quantilesV1Small:
		dst = append(dst, byte(KindQuantiles), quantilesExactVersion)
	default:
		dst = appendHeader(dst, KindQuantiles)
	}
	dst = appendFloat(dst, q.Compression())
	dst = appendUvarint(dst, q.n)
	dst = appendUvarint(dst, q.ignored)
	if q.n == 0 {
		return append(dst, 0), nil
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
	cents := q.centroids()
	dst = appendUvarint(dst, uint64(len(cents)))
	for _, c := range cents {
		dst = appendFloat(dst, c.Mean)
		dst = appendUvarint(dst, uint64(c.Weight))
	}
	return dst, nil
}

// placesString describes a decimal scale for error messages.
func placesString(k uint8) string {
	if k == noDecimals {
		return "any decimal places"
	}
	return strconv.Itoa(int(k)) + " decimal places"
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
// Version 2 is version 1 with the flags byte replaced by the decimal
// places k, 1 ≤ k ≤ 6, of the values: min and max then have at most k
// places, and n > 64 (a digest). A value x has at most k places when
// round(x·10^k)/10^k, the division rounded as IEEE 754 does, is x again.
//
// Version 3 is version 1 with 64 < n ≤ 512 values kept exactly: the
// flags byte as in version 1, then the n values as for n ≤ 64 (in
// non-decreasing order, the first = min, the last = max; bit 0 set
// exactly if one is not an integer), and no centroids. A count outside
// (64, 512] is ErrCorrupt.
//
// Design note: each state is written in the oldest version that can hold
// it, so an older release reads everything it can and fails on the rest
// with ErrVersion, not with a misleading ErrCorrupt on a flags bit or a
// layout it does not know; and version 1 bytes are the same as the
// releases that wrote only version 1 gave for every state that version
// can hold. The places are what a reader needs to round answers; with
// values kept exactly they are computed from the values, and for integers
// they are 0. So version 1 holds an empty state, up to 64 exact values,
// and a digest of integers or of values with more than 6 places; version
// 2 a digest of values with 1 to 6 places; version 3 65 to 512 exact
// values. A digest is written only for n > 512, except that a digest of
// 65 to 512 values decoded from an older release's version 1 or 2 is kept
// as it is and re-encoded to the same bytes. A version 1 digest with bit 0
// set decodes with its places unknown (answers are not rounded), as that
// version did not record them.
//
// The encoding is canonical: the same state gives the same bytes, and
// decoding then encoding gives back the input.
func (q *Quantiles) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindQuantiles, quantilesExactVersion)
	v := d.quantilesHead()
	if !d.Failed() && v.n > 0 {
		v.min, v.max = d.quantilesRange(v.dec)
		if v.n <= quantilesV1Small || d.version == quantilesExactVersion {
			v.vals, v.dec = d.quantilesValues(v.n, v.min, v.max, v.dec)
		} else {
			v.cents = d.quantilesCentroids(v.n, v.c, v.min, v.max)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*q = v
	return nil
}

// quantilesHead reads the compression, the count, the ignored count and
// the flags (in version 2 the decimal places), checking them against the
// version.
func (d *decoder) quantilesHead() Quantiles {
	off := d.Offset()
	c := d.float("compression")
	if !d.Failed() && !(c >= MinQuantilesCompression && c <= MaxQuantilesCompression) {
		d.FailAt(off, wire.Limit, "compression %v outside [%d, %d]", c, MinQuantilesCompression, MaxQuantilesCompression)
	}
	v := Quantiles{c: c}
	v.n = d.UvarintMax("count", maxQuantilesCount)
	v.ignored = d.counter("ignored")
	off = d.Offset()
	flags := d.Byte("flags")
	switch {
	case d.Failed():
	case d.version == quantilesDecimalVersion && (flags < 1 || flags > maxDecimals || v.n <= quantilesV1Small):
		d.FailAt(off, wire.Corrupt, "version 2 with %d decimal places and count %d", flags, v.n)
	case d.version == quantilesDecimalVersion:
		v.dec = flags
	case d.version == quantilesExactVersion && (v.n <= quantilesV1Small || v.n > quantilesSmall):
		d.FailAt(off, wire.Corrupt, "version 3 with count %d outside [%d, %d]", v.n, quantilesV1Small+1, quantilesSmall)
	case flags > 1 || v.n == 0 && flags != 0:
		d.FailAt(off, wire.Corrupt, "flags %#x with count %d", flags, v.n)
	case flags == 1:
		v.dec = noDecimals
	}
	return v
}

// quantilesRange reads min and max: finite, in order, and on the decimal
// grid dec.
func (d *decoder) quantilesRange(dec uint8) (lo, hi float64) {
	off := d.Offset()
	lo, hi = d.float("min"), d.float("max")
	if !d.Failed() && (lo > hi || dec != noDecimals && !(onGrid(lo, dec) && onGrid(hi, dec))) {
		d.FailAt(off, wire.Corrupt, "min %v and max %v (%s)", lo, hi, placesString(dec))
	}
	return lo, hi
}

// quantilesValues reads the n values of an exact state: in order, from lo
// to hi, and integers exactly if dec is 0. It returns them and their
// decimal places.
func (d *decoder) quantilesValues(n uint64, lo, hi float64, dec uint8) ([]float64, uint8) {
	off := d.Offset()
	if !d.Failed() && uint64(d.Remaining()) < 8*n {
		d.Fail(wire.Corrupt, "%d values need %d bytes, have %d", n, 8*n, d.Remaining())
	}
	if d.Failed() {
		return nil, 0
	}
	vals := make([]float64, 0, n) // n ≤ 512, and 8n bytes remain
	places := uint8(0)
	for i := range n {
		voff := d.Offset()
		x := d.float("value")
		if !d.Failed() && (i > 0 && x < vals[i-1] || i == 0 && x != lo || i == n-1 && x != hi) {
			d.FailAt(voff, wire.Corrupt, "value %d = %v out of order or bounds", i, x)
		}
		if places != noDecimals && !onGrid(x, places) {
			places = max(places, decimals(x))
		}
		vals = append(vals, x)
	}
	if !d.Failed() && (places == 0) != (dec == 0) {
		d.FailAt(off, wire.Corrupt, "integer flag %t disagrees with the values", dec == 0)
	}
	return vals, places
}

// quantilesCentroids reads the centroids of a digest of n values at
// compression c: finite means in [lo, hi] and in order, positive weights
// that add up to n.
func (d *decoder) quantilesCentroids(n uint64, c, lo, hi float64) []tdigest.Centroid {
	off := d.Offset()
	k := d.Len("centroids", 2*uint64(math.Ceil(c)), 9)
	if !d.Failed() && k == 0 {
		d.FailAt(off, wire.Corrupt, "no centroids for %d values", n)
	}
	if d.Failed() {
		return nil
	}
	cents := make([]tdigest.Centroid, 0, k) // 16 bytes for each 9 or more of input
	var sum uint64
	for i := range k {
		coff := d.Offset()
		m := d.float("mean")
		w := d.UvarintMax("weight", n)
		switch {
		case d.Failed():
		case w == 0 || m < lo || m > hi || i > 0 && m < cents[i-1].Mean:
			d.FailAt(coff, wire.Corrupt, "centroid %d (mean %v, weight %d) is not positive, in order and in [min, max]", i, m, w)
		case w > n-sum:
			d.FailAt(coff, wire.Corrupt, "centroid weights exceed the count %d", n)
		}
		sum += w
		cents = append(cents, tdigest.Centroid{Mean: m, Weight: float64(w)})
	}
	if !d.Failed() && sum != n {
		d.Fail(wire.Corrupt, "centroid weights sum to %d, count is %d", sum, n)
	}
	return cents
}
