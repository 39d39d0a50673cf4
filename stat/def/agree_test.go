package def

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/stat"
)

func TestAgreeNumbers(t *testing.T) {
	defs := map[Kind]Def{
		KindRate:     {Name: "r", Kind: KindRate},
		KindSum:      {Name: "s", Kind: KindSum, Of: "x"},
		KindMean:     {Name: "m", Kind: KindMean, Of: "x"},
		KindMin:      {Name: "min", Kind: KindMin, Of: "x"},
		KindMax:      {Name: "max", Kind: KindMax, Of: "x"},
		KindLast:     {Name: "l", Kind: KindLast, Of: "x"},
		KindLastSum:  {Name: "ls", Kind: KindLastSum, Of: "x", By: "dyno"},
		KindLastMean: {Name: "lm", Kind: KindLastMean, Of: "x", By: "dyno"},
		KindDistinct: {Name: "d", Kind: KindDistinct, Of: "x"},
	}
	f := func(k Kind, a, b stat.Value, want bool) {
		t.Helper()
		bound, ok := mustCompile(t, defs[k]).Agree(a, b)
		assert.Equal(t, want, ok, "%s: %s and %s: %s", k, a, b, bound)
		assert.NotEmpty(t, bound)
	}
	n := stat.Number
	for _, k := range []Kind{KindRate, KindMin, KindMax, KindLast} {
		f(k, n(12), n(12), true)
		f(k, n(12), n(13), false)
		f(k, n(0.1), n(0.1), true)
		f(k, n(0.1), n(math.Nextafter(0.1, 1)), false) // exact: not one bit off
		f(k, n(0), n(math.Copysign(0, -1)), true)
		f(k, stat.Null(), stat.Null(), true)
		f(k, stat.Null(), n(0), false)
		f(k, n(1), stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 1}}), false)
	}
	f(KindRate, n(6.0/60), n(7.0/60), false) // a count off by one, per minute
	for _, k := range []Kind{KindSum, KindMean, KindLastSum, KindLastMean} {
		f(k, n(1e6), n(1e6), true)
		f(k, n(1e6), n(1e6+1), false)
		f(k, n(0x1p48-2), n(0x1p48-1), false) // off by one below 2⁴⁸
		f(k, n(0.1+0.2), n(0.3), true)        // one ulp: an order of summation
		f(k, n(1e300), n(1e300*(1+0x1p-49)), true)
		f(k, n(1e300), n(1e300*(1+0x1p-46)), false)
		f(k, n(-5.5), n(-5.5), true)
		f(k, stat.Null(), n(0), false)
	}
	// Three standard errors at p = 14: 2.4375 %.
	f(KindDistinct, n(1000), n(1000), true)
	f(KindDistinct, n(1000), n(1024), true)
	f(KindDistinct, n(1024), n(1000), true)
	f(KindDistinct, n(1000), n(1030), false)
	f(KindDistinct, n(10), n(11), false) // below 40 keys, equal
	f(KindDistinct, n(0), n(1), false)

	bound, _ := mustCompile(t, defs[KindRate]).Agree(n(12), n(13))
	assert.Equal(t, "exact: off by 1", bound)
	bound, _ = mustCompile(t, defs[KindDistinct]).Agree(n(1000), n(1030))
	assert.Equal(t, "relative 0.0244 (3 standard errors at p=14): off by 30", bound)
}

// lognormal returns n values rounded to whole numbers (median 20).
func lognormal(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round(20 * math.Exp(1.5*r.NormFloat64()))
	}
	return out
}

// wholeAndMerged returns a Quantiles fed data, and one merged from 16
// shards that each went through its binary encoding, in reverse order.
func wholeAndMerged(t *testing.T, data []float64) (*stat.Quantiles, *stat.Quantiles) {
	t.Helper()
	whole := new(stat.Quantiles)
	shards := make([]*stat.Quantiles, 16)
	for i := range shards {
		shards[i] = new(stat.Quantiles)
	}
	for i, x := range data {
		whole.Observe(x)
		shards[i%16].Observe(x)
	}
	merged := new(stat.Quantiles)
	for i := len(shards) - 1; i >= 0; i-- {
		b, err := shards[i].MarshalBinary()
		require.NoError(t, err)
		var back stat.Quantiles
		require.NoError(t, back.UnmarshalBinary(b))
		require.NoError(t, merged.Merge(&back))
	}
	return whole, merged
}

func TestAgreeQuantiles(t *testing.T) {
	c := mustCompile(t, Def{Name: "q", Kind: KindQuantiles, Of: "x", Q: []float64{0.5, 0.9, 0.95, 0.99, 0.999}})
	read := func(s *stat.Quantiles) stat.Value { return c.Read(s, time.Minute) }
	exact := func(sorted []float64) stat.Value { // the nearest-rank answers
		var qs []stat.Quantile
		for _, q := range c.Def().Q {
			qs = append(qs, stat.Quantile{Q: q, Value: sorted[int(math.Ceil(q*float64(len(sorted))))-1]})
		}
		return stat.QuantilesValue(qs)
	}
	f := func(name string, a, b stat.Value, want bool) {
		t.Helper()
		bound, ok := c.Agree(a, b)
		assert.Equal(t, want, ok, "%s: %s and %s: %s", name, a, b, bound)
		bound, ok = c.Agree(b, a)
		assert.Equal(t, want, ok, "%s, swapped: %s", name, bound)
	}
	for _, n := range []int{200, 2000, 20000, 200000} {
		if testing.Short() && n > 20000 {
			continue
		}
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			for seed := range uint64(5) {
				data := lognormal(seed, n)
				whole, merged := wholeAndMerged(t, data)
				sorted := slices.Sorted(slices.Values(data))
				w, m := read(whole), read(merged)
				f("whole and merged", w, m, true)
				f("whole and the exact answers", w, exact(sorted), true)
				f("merged and the exact answers", m, exact(sorted), true)

				var back stat.Value
				b, _ := json.Marshal(m)
				require.NoError(t, json.Unmarshal(b, &back))
				f("merged and its JSON", m, back, true)
				f("whole and merged's JSON", w, back, true)

				// Off by more than the range: the p50 of the values at
				// rank q + 4ε, and one more.
				eps := stat.QuantilesRankBound(uint64(n))
				qs := slices.Clone(m.Quantiles())
				off := min(int(math.Ceil((0.5+4*eps)*float64(n))), n) - 1
				qs[0] = stat.Quantile{Q: 0.5, Value: sorted[off] + 1}
				f("p50 moved past four rank bounds", w, stat.QuantilesValue(qs), false)
				if eps == 0 {
					qs = slices.Clone(m.Quantiles())
					qs[0].Value = sorted[n/2] // the next rank, while exact
					if qs[0].Value != m.Quantiles()[0].Value {
						f("p50 one rank off while exact", w, stat.QuantilesValue(qs), false)
					}
				}

				// Other values: a third larger (about 12 points of rank
				// at the median).
				other := new(stat.Quantiles)
				for _, x := range data {
					other.Observe(math.Round(x*1.33) + 1)
				}
				f("other values", w, read(other), false)
			}
		})
	}
	q := func(vs ...float64) stat.Value {
		var qs []stat.Quantile
		for i, v := range vs {
			qs = append(qs, stat.Quantile{Q: c.Def().Q[i], Value: v})
		}
		return stat.QuantilesValue(qs)
	}
	f("two decoded values, equal", q(1, 2, 3, 4, 5), q(1, 2, 3, 4, 5), true)
	f("two decoded values, not", q(1, 2, 3, 4, 5), q(1, 2, 3, 4, 6), false)
	f("fewer quantiles", q(1, 2, 3, 4, 5), q(1, 2, 3, 4), false)
	f("a number", q(1, 2, 3, 4, 5), stat.Number(1), false)
	f("null", stat.Null(), stat.Null(), true)

	_, merged := wholeAndMerged(t, lognormal(1, 5000))
	mq := read(merged).Quantiles()
	bound, _ := c.Agree(read(merged), q(mq[0].Value, mq[1].Value, mq[2].Value, mq[3].Value, 1e9))
	assert.Regexp(t, `^rank bound 0.01 of 5000 values and none stated \(the answers alone\): p99.9 \d+ and 1e\+09: ranges \[\d+, \d+\] and \[1e\+09, 1e\+09\] do not overlap$`, bound)
}

func TestAgreeTopK(t *testing.T) {
	c := mustCompile(t, Def{Name: "top", Kind: KindTopK, Of: "host", K: 3})
	f := func(name string, a, b stat.Value, want bool) {
		t.Helper()
		bound, ok := c.Agree(a, b)
		assert.Equal(t, want, ok, "%s: %s and %s: %s", name, a, b, bound)
		bound, ok = c.Agree(b, a)
		assert.Equal(t, want, ok, "%s, swapped: %s", name, bound)
	}
	e := func(k string, v float64) stat.TopValueEntry { return stat.TopValueEntry{Key: k, Value: v} }
	type es = []stat.TopValueEntry
	top := stat.TopValue
	bounded := stat.TopValueBound

	exact := top(es{e("a", 10), e("b", 5), e("c", 2)})
	f("exact, equal", exact, top(es{e("a", 10), e("b", 5), e("c", 2)}), true)
	f("exact, one off by one", exact, top(es{e("a", 10), e("b", 6), e("c", 2)}), false)
	f("exact, a key missing", exact, top(es{e("a", 10), e("b", 5)}), false)
	f("exact, another key", exact, top(es{e("a", 10), e("b", 5), e("d", 2)}), false)
	f("exact, fewer than K, equal", top(es{e("a", 1)}), top(es{e("a", 1)}), true)
	f("empty", top(nil), top(nil), true)
	f("a number", exact, stat.Number(1), false)

	a := bounded(es{e("a", 100), e("b", 80), e("c", 60)}, 5)
	f("within the larger bound", a, bounded(es{e("a", 104), e("b", 80), e("c", 60)}, 4), true)
	f("beyond the larger bound", a, bounded(es{e("a", 106), e("b", 80), e("c", 60)}, 4), false)
	f("bounded and exact, within", a, top(es{e("a", 96), e("b", 80), e("c", 60)}), true)
	f("a key left out by the other, below its smallest", a, bounded(es{e("a", 100), e("b", 80), e("d", 62)}, 5), true)
	f("a key left out by the other, above its smallest", a, bounded(es{e("a", 100), e("b", 80), e("d", 70)}, 5), false)

	// A stream of more keys than the capacity, whole and merged from
	// shards in another order: the bounds carry it.
	r := rand.New(rand.NewPCG(3, 4))
	whole := c.NewStat().(*stat.TopK)
	shards := []*stat.TopK{c.NewStat().(*stat.TopK), c.NewStat().(*stat.TopK), c.NewStat().(*stat.TopK), c.NewStat().(*stat.TopK)}
	for i := range 20000 {
		k := []byte("host-" + strconv.Itoa(int(math.Floor(math.Exp(r.Float64()*8)))))
		whole.ObserveKey(k)
		shards[i%4].ObserveKey(k)
	}
	merged := c.NewStat().(*stat.TopK)
	for _, i := range []int{2, 0, 3, 1} {
		require.NoError(t, merged.Merge(shards[i]))
	}
	w, m := c.Read(whole, 10*time.Second), c.Read(merged, 10*time.Second)
	bw, _ := w.TopBound()
	require.Positive(t, bw, "%d keys through capacity %d", whole.Len(), whole.Capacity())
	f("whole and merged", w, m, true)
	bound, ok := c.Agree(w, m)
	assert.True(t, ok)
	assert.Contains(t, bound, "MaxError ≤ N ÷ capacity")
}

// Read gives a top-k value the TopK's MaxError as a rate in the unit of
// its entries: 0 while the keys fit the capacity.
func TestReadTopBound(t *testing.T) {
	c := mustCompile(t, Def{Name: "top", Kind: KindTopK, Of: "host", K: 2, Per: time.Second})
	s := c.NewStat().(*stat.TopK)
	for i := range 50 {
		s.ObserveKey([]byte(strconv.Itoa(i)))
	}
	v := c.Read(s, 10*time.Second)
	b, ok := v.TopBound()
	assert.True(t, ok)
	assert.Zero(t, b)
	assert.Equal(t, `[["0",0.1],["1",0.1]]`, v.String())

	for i := range 1000 {
		s.ObserveKey([]byte(strconv.Itoa(i)))
	}
	v = c.Read(s, 10*time.Second)
	b, _ = v.TopBound()
	assert.Equal(t, float64(s.MaxError())/10, b, "per second over 10 s")
	assert.Positive(t, b)
	assert.Regexp(t, `^\{"top":\[\["\d+",[0-9.]+\],\["\d+",[0-9.]+\]\],"bound":`+strconv.FormatFloat(b, 'g', -1, 64)+`\}$`, v.String())
}
