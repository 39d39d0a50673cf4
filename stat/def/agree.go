package def

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pulsehq/pulse/stat"
)

// SumTolerance is the relative difference within which Agree holds two
// sum, mean, last-sum or last-mean values equal: 2⁻⁴⁸ of the larger
// magnitude. stat.Sum states |sum − Σx| ≤ 2⁻⁵⁰·Σ|x| (Mean and LastBy add
// with the same summation), so two sums of the same values in different
// orders differ by at most 2⁻⁴⁹·Σ|x|, and reading them as a rate or a
// mean adds a rounding or two. A value does not carry Σ|x|; Agree takes
// the larger |value| for it, which it is, within those roundings, when
// the values summed have one sign (bytes, durations, memory).
const SumTolerance = 0x1p-48

// DistinctTolerance is how many standard errors (stat.DistinctStandardError
// of the definition's precision) two distinct values may differ by, as a
// fraction of the larger: 3, which is 2.4 % at the default precision 14.
const DistinctTolerance = 3

// Agree reports whether a and b, two values of this definition (read by
// Read, decoded from a snapshot's JSON, or written by a test), agree
// within the error bound that the definition's kind states, and describes
// the bound, with how they break it when they do not. Two nulls agree; a
// null and a value, or values of different forms, do not. By kind:
//
//   - rate, min, max, last: equal (+0 equals −0). A rate is an exact count
//     read by one computation, so equal counts give equal rates, and a
//     count off by one is reported.
//   - sum, mean, last-sum, last-mean: within SumTolerance (2⁻⁴⁸) of the
//     larger magnitude: stat.Sum's stated bound, on both sides, taking
//     the larger |value| for Σ|x|. Below 2⁴⁸ two values one or more apart
//     never agree, so sums of integers (exact in any order) must be
//     equal. Sums of values of both signs that cancel may differ by more
//     than this between summation orders, and are reported.
//   - distinct: within DistinctTolerance (3) standard errors of the
//     definition's precision, relative to the larger estimate (2.4 % at
//     precision 14). Below about 40 keys that is less than one: equal.
//   - quantiles: the same quantiles, and for each the ranges of values
//     around the answers (stat.Value.QuantileRange) overlap. A range
//     reaches twice the rank bound ε = stat.QuantilesRankBound(n) either
//     side of q (see stat.QuantilesValueOf) and holds the value of true
//     rank q while the sketch keeps its bound, so answers for the same
//     values whose ranges do not overlap cannot both be within it. Up to
//     512 values the range is the exact answer alone, so answers must be
//     equal. Beyond, the check is loose by design (answers about 4ε apart
//     in rank may pass): it finds answers that cannot be right, and does
//     not prove them right. A value without ranges (from JSON or
//     stat.QuantilesValue) is its answer alone, so two such values must be
//     equal, and one is held to the other's range.
//   - topk: with bounds Ba and Bb (stat.Value.TopBound: each TopK's
//     MaxError, at most N ÷ Capacity, in the values' unit), a key shown
//     in both has values within max(Ba, Bb) of each other, since each is
//     over the true value by at most its bound and never under; a key
//     shown in a only has a value at most Ba above what b could have left
//     out: the smallest value b shows when b shows K keys, else nothing
//     (0), and anything up to Bb. With both bounds 0 (keys within
//     capacity, so exact) the lists must be equal: the same keys, in the
//     same order, with equal values.
//
// Comparisons allow a relative 2⁻⁴⁸ for the roundings of the reading
// (rates per Per) in the quantiles and top-k rules too.
func (c *Compiled) Agree(a, b stat.Value) (bound string, ok bool) {
	if a.IsNull() || b.IsNull() {
		if a.IsNull() && b.IsNull() {
			return "null", true
		}
		return "null and a value", false
	}
	switch c.def.Kind {
	case KindRate, KindMin, KindMax, KindLast:
		return agreeNumbers(a, b, "exact", func(x, y float64) bool { return x == y })
	case KindSum, KindMean, KindLastSum, KindLastMean:
		return agreeNumbers(a, b, "relative 2⁻⁴⁸ (stat.Sum's bound)", func(x, y float64) bool { return near(x, y, SumTolerance) })
	case KindDistinct:
		p := uint8(stat.DefaultDistinctPrecision)
		if d, isDistinct := c.NewStat().(*stat.Distinct); isDistinct {
			p = d.Precision()
		}
		rel := DistinctTolerance * stat.DistinctStandardError(p)
		return agreeNumbers(a, b, fmt.Sprintf("relative %.3g (%d standard errors at p=%d)", rel, DistinctTolerance, p),
			func(x, y float64) bool { return near(x, y, rel) })
	case KindQuantiles:
		return agreeQuantiles(a, b)
	case KindTopK:
		return agreeTop(a, b, c.def.K)
	}
	if a.String() == b.String() {
		return "exact", true
	}
	return "exact", false
}

// near reports whether x and y are within rel of the larger magnitude.
func near(x, y, rel float64) bool {
	return x == y || math.Abs(x-y) <= rel*max(math.Abs(x), math.Abs(y))
}

func agreeNumbers(a, b stat.Value, bound string, eq func(x, y float64) bool) (string, bool) {
	x, okA := a.Number()
	y, okB := b.Number()
	switch {
	case !okA || !okB:
		return bound + ": not both numbers", false
	case !eq(x, y):
		return fmt.Sprintf("%s: off by %s", bound, num(math.Abs(x-y))), false
	}
	return bound, true
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// agreeQuantiles holds each quantile's ranges to overlap.
func agreeQuantiles(a, b stat.Value) (string, bool) {
	qa, qb := a.Quantiles(), b.Quantiles()
	bound := "rank bound " + rankBound(a) + " and " + rankBound(b)
	if qa == nil || qb == nil {
		return bound + ": not both quantiles", false
	}
	if len(qa) != len(qb) {
		return fmt.Sprintf("%s: %d and %d quantiles", bound, len(qa), len(qb)), false
	}
	var misses []string
	for i := range qa {
		q := qa[i].Q
		if qb[i].Q != q {
			return fmt.Sprintf("%s: %s and %s", bound, stat.QuantileName(q), stat.QuantileName(qb[i].Q)), false
		}
		loA, hiA, _ := a.QuantileRange(q)
		loB, hiB, _ := b.QuantileRange(q)
		if !le(loA, hiB) || !le(loB, hiA) {
			misses = append(misses, fmt.Sprintf("%s %s and %s: ranges [%s, %s] and [%s, %s] do not overlap",
				stat.QuantileName(q), num(qa[i].Value), num(qb[i].Value), num(loA), num(hiA), num(loB), num(hiB)))
		}
	}
	if misses != nil {
		return bound + ": " + strings.Join(misses, "; "), false
	}
	return bound, true
}

// rankBound describes the rank bound a quantiles value carries.
func rankBound(v stat.Value) string {
	n, ok := v.Count()
	if !ok {
		return "none stated (the answers alone)"
	}
	return fmt.Sprintf("%v of %d values", stat.QuantilesRankBound(n), n)
}

// le reports x ≤ y, allowing a relative 2⁻⁴⁸ for roundings.
func le(x, y float64) bool { return x <= y || near(x, y, SumTolerance) }

// agreeTop holds two top-k lists to their bounds (see Agree).
func agreeTop(a, b stat.Value, k int) (string, bool) {
	ba, okA := a.TopBound()
	bb, okB := b.TopBound()
	bound := "top-k bound " + num(ba) + " and " + num(bb) + " (MaxError ≤ N ÷ capacity)"
	if !okA || !okB {
		return bound + ": not both top-k lists", false
	}
	ta, tb := a.Top(), b.Top()
	if ba == 0 && bb == 0 {
		for i := range max(len(ta), len(tb)) {
			if i >= len(ta) || i >= len(tb) || ta[i] != tb[i] {
				return fmt.Sprintf("%s: exact lists differ at entry %d: %s and %s", bound, i+1, entry(ta, i), entry(tb, i)), false
			}
		}
		return bound, true
	}
	var misses []string
	misses = topMisses(misses, ta, tb, ba, bb, k, "a", "b", true)
	misses = topMisses(misses, tb, ta, bb, ba, k, "b", "a", false)
	if misses != nil {
		return bound + ": " + strings.Join(misses, "; "), false
	}
	return bound, true
}

// topMisses appends what in list x (bound bx) list y (bound by) cannot
// agree with: a key of x alone more than bx above what y can leave out,
// and, with common, a key of both whose values are further apart than the
// larger bound.
func topMisses(misses []string, x, y []stat.TopValueEntry, bx, by float64, k int, nx, ny string, common bool) []string {
	var yMin float64 // what y leaves out is at most its smallest value shown when it shows k keys
	if len(y) >= k && len(y) > 0 {
		yMin = y[0].Value
		for _, e := range y {
			yMin = min(yMin, e.Value)
		}
	}
	for _, e := range x {
		other, shown := lookupTop(y, e.Key)
		switch {
		case shown && common:
			if !le(math.Abs(e.Value-other), max(bx, by)) {
				misses = append(misses, fmt.Sprintf("%q: %s and %s differ by more than %s", e.Key, num(e.Value), num(other), num(max(bx, by))))
			}
		case !shown:
			if !le(e.Value-bx, max(yMin, by)) {
				misses = append(misses, fmt.Sprintf("%q: %s in %s only, more than %s above what %s leaves out (at most %s)",
					e.Key, num(e.Value), nx, num(bx), ny, num(max(yMin, by))))
			}
		}
	}
	return misses
}

// entry describes top[i], or "none".
func entry(top []stat.TopValueEntry, i int) string {
	if i >= len(top) {
		return "none"
	}
	return strconv.Quote(top[i].Key) + " " + num(top[i].Value)
}

func lookupTop(top []stat.TopValueEntry, key string) (float64, bool) {
	for _, e := range top {
		if e.Key == key {
			return e.Value, true
		}
	}
	return 0, false
}
