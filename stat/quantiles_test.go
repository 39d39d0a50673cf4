package stat

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases,
		contractCase{
			name: "quantiles",
			zero: func() Stat { return new(Quantiles) },
			observe: func(s Stat, r *rand.Rand, i int) {
				if i%100 == 0 {
					s.(*Quantiles).Observe(math.NaN())
				}
				s.(*Quantiles).Observe(1000 * r.Float64()) // uniform: F(x) = x/1000
			},
			same: func(t *testing.T, want, got Stat) {
				t.Helper()
				assertQuantilesClose(t, want.(*Quantiles), got.(*Quantiles), func(x float64) float64 { return x / 1000 }, 0.01)
			},
			n: 3000,
		},
		contractCase{
			// Up to 512 values a Quantiles is exact, so byte-identical; 60
			// values are version 1.
			name: "quantiles small",
			zero: func() Stat { return new(Quantiles) },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Quantiles).Observe(float64(r.IntN(500)))
			},
			n: 60,
		},
		contractCase{
			// Up to 512 values too, written as version 3 past 64.
			name: "quantiles exact 500 one decimal",
			zero: func() Stat { return new(Quantiles) },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Quantiles).Observe(float64(r.IntN(10000)) / 10)
			},
			n: 500,
		},
		contractCase{
			name: "quantiles whole ms c=50",
			zero: func() Stat { q, _ := NewQuantiles(50); return q },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Quantiles).Observe(float64(r.IntN(1000)))
			},
			same: func(t *testing.T, want, got Stat) {
				t.Helper()
				assertQuantilesClose(t, want.(*Quantiles), got.(*Quantiles), func(x float64) float64 { return (x + 0.5) / 1000 }, 0.02)
			},
			n: 3000,
		},
		contractCase{
			// l2met measure# values such as 12.4ms: a digest with one
			// decimal place, encoded as version 2.
			name: "quantiles one decimal",
			zero: func() Stat { return new(Quantiles) },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Quantiles).Observe(float64(r.IntN(10000)) / 10)
			},
			same: func(t *testing.T, want, got Stat) {
				t.Helper()
				assertQuantilesClose(t, want.(*Quantiles), got.(*Quantiles), func(x float64) float64 { return (x + 0.05) / 1000 }, 0.01)
			},
			n: 3000,
		},
	)
}

// assertQuantilesClose checks that two Quantiles of the same values agree:
// exactly on count, ignored, min, max and the integer flag, and within tol
// in rank (under the values' CDF cdf) at a few quantiles.
func assertQuantilesClose(t *testing.T, want, got *Quantiles, cdf func(float64) float64, tol float64) {
	t.Helper()
	assert.Equal(t, want.Count(), got.Count(), "count")
	assert.Equal(t, want.Ignored(), got.Ignored(), "ignored")
	assert.Equal(t, opt(want.Min()), opt(got.Min()), "min")
	assert.Equal(t, opt(want.Max()), opt(got.Max()), "max")
	assert.Equal(t, want.Integers(), got.Integers(), "integers")
	wk, wok := want.Decimals()
	gk, gok := got.Decimals()
	assert.Equal(t, []any{wk, wok}, []any{gk, gok}, "decimals")
	assert.Equal(t, want.Compression(), got.Compression(), "compression")
	for _, p := range []float64{0.01, 0.25, 0.5, 0.9, 0.99} {
		w, ok1 := want.Quantile(p)
		g, ok2 := got.Quantile(p)
		require.True(t, ok1 && ok2)
		assert.InDelta(t, cdf(w), cdf(g), tol, "q=%v: %v and %v", p, w, g)
	}
}

func TestNewQuantiles(t *testing.T) {
	tests := []struct {
		name string
		c    float64
		err  bool
	}{
		{"min", 10, false},
		{"default", 100, false},
		{"max", 1000, false},
		{"too small", 9.5, true},
		{"too large", 1001, true},
		{"zero", 0, true},
		{"NaN", math.NaN(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := NewQuantiles(tt.c)
			if tt.err {
				require.ErrorIs(t, err, ErrLimit)
				assertSentinel(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.c, q.Compression())
		})
	}
}

func TestQuantilesSmallExact(t *testing.T) {
	var q Quantiles
	_, ok := q.Quantile(0.5)
	assert.False(t, ok, "empty")
	for _, v := range []float64{5, 1, 4, 2, 3, math.NaN(), math.Inf(1), 10} {
		q.Observe(v)
	}
	tests := []struct {
		q    float64
		want float64
		ok   bool
	}{
		{0, 1, true}, {0.1, 1, true}, {1.0 / 6, 1, true}, {0.2, 2, true}, {0.5, 3, true},
		{0.51, 4, true}, {0.99, 10, true}, {1, 10, true},
		{-0.1, 0, false}, {1.1, 0, false}, {math.NaN(), 0, false},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.q, 'g', -1, 64), func(t *testing.T) {
			got, ok := q.Quantile(tt.q)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, uint64(6), q.Count())
	assert.Equal(t, uint64(2), q.Ignored())
	assert.Equal(t, 1.0, opt(q.Min()))
	assert.Equal(t, 10.0, opt(q.Max()))
	assert.True(t, q.Integers())
	assert.Equal(t, "quantiles c=100 n=6 p50=3 p99=10", q.String())
}

// TestQuantilesExactUpTo512 observes and merges up to 512 values and
// holds every answer to the nearest rank; checks the version each size is
// written in (1 up to 64 values, 3 up to 512, then a digest in 1 or 2);
// and that a round trip gives the same bytes and answers.
func TestQuantilesExactUpTo512(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		parts   int // 0: observed into one; else merged from parts
		gen     func(r *rand.Rand) float64
		version byte
		exact   bool
	}{
		{"64 whole ms", 64, 0, func(r *rand.Rand) float64 { return float64(r.IntN(300)) }, 1, true},
		{"65 whole ms", 65, 0, func(r *rand.Rand) float64 { return float64(r.IntN(300)) }, 3, true},
		{"300 one decimal", 300, 0, func(r *rand.Rand) float64 { return float64(r.IntN(3000)) / 10 }, 3, true},
		{"512 lognormal", 512, 0, func(r *rand.Rand) float64 { return 20 * math.Exp(1.5*r.NormFloat64()) }, 3, true},
		{"512 merged from 7", 512, 7, func(r *rand.Rand) float64 { return float64(r.IntN(300)) }, 3, true},
		{"513 whole ms", 513, 0, func(r *rand.Rand) float64 { return float64(r.IntN(300)) }, 1, false},
		{"513 merged from 2", 513, 2, func(r *rand.Rand) float64 { return float64(r.IntN(3000)) / 10 }, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tt.n)))
			data := make([]float64, tt.n)
			var q Quantiles
			parts := make([]Quantiles, max(tt.parts, 1))
			for i := range data {
				data[i] = tt.gen(r)
				if tt.parts == 0 {
					q.Observe(data[i])
				} else {
					parts[i*tt.parts/tt.n].Observe(data[i])
				}
			}
			for i := range tt.parts {
				require.NoError(t, q.Merge(&parts[i]))
			}
			require.Equal(t, uint64(tt.n), q.Count())
			assert.Equal(t, tt.exact, q.cents == nil, "exact")
			b := mustMarshal(t, &q)
			assert.Equal(t, tt.version, b[1], "version")
			var back Quantiles
			require.NoError(t, back.UnmarshalBinary(b))
			assert.Equal(t, b, mustMarshal(t, &back), "canonical")
			sorted := slices.Sorted(slices.Values(data))
			for _, p := range []float64{0.001, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999} {
				x, ok := q.Quantile(p)
				require.True(t, ok)
				y, _ := back.Quantile(p)
				assert.Equal(t, x, y, "q=%v after a round trip", p)
				if tt.exact {
					want := sorted[max(int(math.Ceil(p*float64(tt.n)))-1, 0)]
					assert.Equal(t, want, x, "q=%v: nearest rank", p)
				}
			}
		})
	}
}

func TestQuantilesIntegersAndClamp(t *testing.T) {
	var ints, mixed Quantiles
	for i := range 1000 {
		ints.Observe(float64(i % 97))
	}
	v, _ := ints.Quantile(0.37)
	assert.Equal(t, math.Round(v), v, "integers give an integer")
	mixed.Observe(0.5)
	require.NoError(t, ints.Merge(&mixed))
	assert.False(t, ints.Integers(), "the flag merges with AND")
	b := mustMarshal(t, &ints)
	var back Quantiles
	require.NoError(t, back.UnmarshalBinary(b))
	assert.False(t, back.Integers(), "the flag travels in the encoding")
	for _, p := range []float64{0, 0.0001, 0.5, 0.9999, 1} {
		x, ok := back.Quantile(p)
		require.True(t, ok)
		assert.GreaterOrEqual(t, x, 0.0)
		assert.LessOrEqual(t, x, 96.0)
	}
	x, _ := back.Quantile(0)
	assert.Equal(t, 0.0, x)
	x, _ = back.Quantile(1)
	assert.Equal(t, 96.0, x)
}

// TestQuantilesDecimals: the decimal places of the values are the
// smallest k ≤ 6 with every value (in shortest decimal) at most k places
// after the point; they merge with max, travel in the encoding, and a
// digest's answers are multiples of 10^-k.
func TestQuantilesDecimals(t *testing.T) {
	tests := []struct {
		name string
		vals []float64
		k    int
		ok   bool
	}{
		{"empty", nil, 0, true},
		{"whole ms", []float64{12, 0, -3, 30000}, 0, true},
		{"negative zero", []float64{math.Copysign(0, -1)}, 0, true},
		{"one decimal", []float64{12.4, 3, 0.1}, 1, true},
		{"load average", []float64{0.42, 1.5}, 2, true},
		{"one decimal times ten is not exact", []float64{12.4, 8.2, 1.1}, 1, true},
		{"microseconds in seconds", []float64{0.000123}, 6, true},
		{"seven places", []float64{0.0000001}, 0, false},
		{"0.1+0.2", []float64{1, math.Nextafter(0.3, 1)}, 0, false},
		{"pi", []float64{math.Pi}, 0, false},
		{"huge integer", []float64{1e300, 2.5}, 1, true},
		{"NaN and Inf ignored", []float64{1.5, math.NaN(), math.Inf(-1)}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Quantiles
			for _, v := range tt.vals {
				q.Observe(v)
			}
			k, ok := q.Decimals()
			assert.Equal(t, tt.k, k)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.ok && tt.k == 0, q.Integers())
			var back Quantiles
			require.NoError(t, back.UnmarshalBinary(mustMarshal(t, &q)))
			k, ok = back.Decimals()
			assert.Equal(t, []any{tt.k, tt.ok}, []any{k, ok}, "after a round trip")
		})
	}

	t.Run("merge takes the most places", func(t *testing.T) {
		var a, b, none Quantiles
		a.Observe(1.5)
		b.Observe(0.25)
		none.Observe(math.Pi)
		require.NoError(t, a.Merge(&b))
		k, ok := a.Decimals()
		assert.Equal(t, []any{2, true}, []any{k, ok})
		require.NoError(t, b.Merge(&none))
		_, ok = b.Decimals()
		assert.False(t, ok, "more than six places absorbs")
		require.NoError(t, none.Merge(&a))
		_, ok = none.Decimals()
		assert.False(t, ok, "more than six places absorbs")
	})

	t.Run("digest answers are on the grid", func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 5))
		for _, k := range []int{0, 1, 2, 3} {
			var q Quantiles
			for range 20000 {
				q.Observe(snap(20*math.Exp(1.5*r.NormFloat64()), uint8(k)))
			}
			got, ok := q.Decimals()
			require.True(t, ok)
			require.Equal(t, k, got)
			b := mustMarshal(t, &q)
			assert.Equal(t, byte(min(k+1, 2)), b[1], "version: 2 only for a digest with 1 to 6 places")
			var back Quantiles
			require.NoError(t, back.UnmarshalBinary(b))
			for _, p := range []float64{0.001, 0.37, 0.5, 0.9, 0.99} {
				x, _ := q.Quantile(p)
				s := strconv.FormatFloat(x, 'f', -1, 64)
				dot := strings.IndexByte(s, '.')
				assert.True(t, dot < 0 || len(s)-dot-1 <= k, "k=%d q=%v: %s", k, p, s)
				y, _ := back.Quantile(p)
				assert.Equal(t, x, y, "the same answer after a round trip")
			}
		}
	})
}

// TestQuantilesDecodeVersion1 decodes encodings written by the release
// before decimal places (version 1, whose flags byte has only the integer
// bit): they decode, answer, and re-encode to the same bytes.
func TestQuantilesDecodeVersion1(t *testing.T) {
	seq := func(f func(i int) float64) []float64 {
		v := make([]float64, 70)
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	tests := []struct {
		name string
		hex  string
		vals []float64
		k    int
		ok   bool
	}{
		{
			name: "small with one decimal, flags 1",
			hex:  "09010000000000005940050001000000000000e03f00000000004cdd40000000000000e03fcdcccccccccc0840cdcccccccccc2840cdcccccccccc284000000000004cdd40",
			vals: []float64{12.4, 3.1, 30000, 0.5, 12.4},
			k:    1, ok: true,
		},
		{
			name: "digest of integers, flags 0",
			hex:  "09010000000000005940460000000000000000f03f0000000000002a400c000000000000f03f05000000000000f03f0100000000000000400a00000000000000400100000000000010400a00000000000010400100000000000014400a00000000000014400100000000000024400a00000000000024400100000000000026400a0000000000002a400a",
			vals: seq(func(i int) float64 { return float64(1 + i*i%13) }),
			k:    0, ok: true,
		},
		{
			// Version 1 did not record the places of non-integers, so
			// they are unknown and answers are not rounded.
			name: "digest of tenths and a NaN, flags 1",
			hex:  "090100000000000059404601019a9999999999b93f000000000000f03f0a9a9999999999b93f069a9999999999b93f019a9999999999c93f0b9a9999999999c93f029a9999999999d93f0c000000000000e03f0c000000000000e03f01333333333333e33f0c000000000000f03f0c000000000000f03f01",
			vals: seq(func(i int) float64 { return float64(1+i*i%11) / 10 }),
			k:    0, ok: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			require.NoError(t, err)
			var q Quantiles
			require.NoError(t, q.UnmarshalBinary(b))
			assert.Equal(t, uint64(len(tt.vals)), q.Count())
			k, ok := q.Decimals()
			assert.Equal(t, []any{tt.k, tt.ok}, []any{k, ok}, "decimals")
			sorted := slices.Sorted(slices.Values(tt.vals))
			assert.Equal(t, sorted[0], opt(q.Min()))
			assert.Equal(t, sorted[len(sorted)-1], opt(q.Max()))
			for _, p := range []float64{0.1, 0.5, 0.9} {
				x, _ := q.Quantile(p)
				e := rankError(sorted, x, p)
				t.Logf("q=%v: %v, rank error %.2f points", p, x, 100*e)
				assert.LessOrEqual(t, e, 1/float64(len(sorted)), "q=%v: %v", p, x)
			}
			assert.Equal(t, b, mustMarshal(t, &q), "re-encodes to the same version 1 bytes")
		})
	}
}

// TestQuantilesReadsDoNotMutate: reads (and encodings) in the middle of a
// stream change neither the encoding nor what later observations give.
func TestQuantilesReadsDoNotMutate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var quiet, noisy Quantiles
	for i := range 20000 {
		v := math.Exp(3 + 1.5*r.NormFloat64())
		quiet.Observe(v)
		noisy.Observe(v)
		if i%777 == 0 {
			before := mustMarshal(t, &noisy)
			noisy.Quantile(0.99)
			_ = noisy.String()
			require.Equal(t, before, mustMarshal(t, &noisy))
		}
	}
	assert.Equal(t, mustMarshal(t, &quiet), mustMarshal(t, &noisy))
}

// rankError returns the distance from q to [F(x−), F(x)], where F is the
// empirical CDF of sorted.
func rankError(sorted []float64, x, q float64) float64 {
	n := float64(len(sorted))
	lo := float64(sort.SearchFloat64s(sorted, x)) / n
	hi := float64(sort.Search(len(sorted), func(i int) bool { return sorted[i] > x })) / n
	return max(0, lo-q, q-hi)
}

// TestQuantilesAccuracy holds Quantiles' stated rank error bound at
// c = 100 (quantilesRankBound) at q = 0.5 … 0.999, in one Quantiles and
// merged from 16 round-tripped partial ones, from just past the exact 512
// values to 10⁶ values (10⁵ under -race), 20 seeds below 10⁴.
func TestQuantilesAccuracy(t *testing.T) {
	ns := []int{513, 520, 600, 800, 999, 1000, 3000, 10000, 100000, 1000000}
	if raceEnabled {
		ns = ns[:len(ns)-1]
	}
	lognormal := func(r *rand.Rand) float64 { return 20 * math.Exp(1.5*r.NormFloat64()) }
	dists := []struct {
		name string
		gen  func(r *rand.Rand) float64
	}{
		{"lognormal", lognormal},
		{"lognormal whole ms", func(r *rand.Rand) float64 { return math.Round(lognormal(r)) }},
		{"lognormal one decimal", func(r *rand.Rand) float64 { return math.Round(10*lognormal(r)) / 10 }},
		{"load average two decimals", func(r *rand.Rand) float64 { return math.Round(40*math.Exp(0.5*r.NormFloat64())) / 100 }},
		{"bimodal 5% at 30000", func(r *rand.Rand) float64 {
			if r.IntN(20) == 0 {
				return 30000
			}
			return math.Round(lognormal(r))
		}},
		{"bimodal one decimal", func(r *rand.Rand) float64 {
			if r.IntN(20) == 0 {
				return 30000
			}
			return math.Round(10*lognormal(r)) / 10
		}},
	}
	for di, dist := range dists {
		for _, n := range ns {
			seeds := 20
			if n >= 10000 {
				seeds = 2
			}
			if n >= 100000 {
				seeds = 1
			}
			bound := QuantilesRankBound(uint64(n))
			t.Run(dist.name+"/n="+strconv.Itoa(n), func(t *testing.T) {
				worst := 0.0
				for seed := range seeds {
					worst = max(worst, quantilesAccuracy(t, dist.gen, rand.New(rand.NewPCG(uint64(di), uint64(seed))), n, bound))
				}
				t.Logf("worst rank error over %d seeds %.3f points (bound %.2f)", seeds, 100*worst, 100*bound)
			})
		}
	}
}

// quantilesAccuracy feeds n values of gen into one Quantiles and into 16
// partial ones merged after a round trip each, asserts their rank errors
// are at most bound, and returns the largest.
func quantilesAccuracy(t *testing.T, gen func(*rand.Rand) float64, r *rand.Rand, n int, bound float64) float64 {
	t.Helper()
	data := make([]float64, n)
	var whole Quantiles
	parts := make([]Quantiles, 16)
	for i := range data {
		data[i] = gen(r)
		whole.Observe(data[i])
		parts[i%16].Observe(data[i])
	}
	var merged Quantiles
	for i := range parts {
		var back Quantiles
		require.NoError(t, back.UnmarshalBinary(mustMarshal(t, &parts[i])))
		require.NoError(t, merged.Merge(&back))
	}
	slices.Sort(data)
	worst := 0.0
	for name, q := range map[string]*Quantiles{"whole": &whole, "merged": &merged} {
		assert.Equal(t, uint64(n), q.Count())
		assert.Equal(t, data[0], opt(q.Min()))
		assert.Equal(t, data[n-1], opt(q.Max()))
		for _, p := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
			x, ok := q.Quantile(p)
			require.True(t, ok)
			e := rankError(data, x, p)
			worst = max(worst, e)
			assert.LessOrEqual(t, e, bound+1e-12, "%s q=%v: %v", name, p, x)
		}
	}
	return worst
}

func TestQuantilesUnmarshalErrors(t *testing.T) {
	var big Quantiles
	for i := range 5000 {
		big.Observe(float64(i) + 0.5)
	}
	good := mustMarshal(t, &big)
	// Header of a Quantiles with n values: kind, version, c, n, ignored,
	// flags, min, max.
	head := func(c float64, n uint64, flags byte, lo, hi float64) []byte {
		b := appendHeader(nil, KindQuantiles)
		b = appendFloat(b, c)
		b = appendUvarint(b, n)
		b = appendUvarint(b, 0)
		b = append(b, flags)
		if n > 0 {
			b = appendFloat(appendFloat(b, lo), hi)
		}
		return b
	}
	// v2 turns a version 1 header into a version 2 one (the flags byte is
	// then the decimal places).
	v2 := func(b []byte) []byte { b[1] = 2; return b }
	// v3 marks an exact encoding of more than 64 values; floats appends
	// k values f(0) … f(k−1).
	v3 := func(b []byte) []byte { b[1] = 3; return b }
	floats := func(b []byte, k int, f func(int) float64) []byte {
		for i := range k {
			b = appendFloat(b, f(i))
		}
		return b
	}
	cent := func(b []byte, mean float64, w uint64) []byte { return appendUvarint(appendFloat(b, mean), w) }
	huge := appendUvarint(head(100, 200, 1, 0, 10), 1e8)
	huge = append(huge, make([]byte, 100)...)
	tests := []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{"compression 0", head(0, 0, 0, 0, 0), ErrLimit, "compression 0"},
		{"compression 1e6", head(1e6, 0, 0, 0, 0), ErrLimit, "compression 1e+06"},
		{"compression NaN", head(math.NaN(), 0, 0, 0, 0), ErrCorrupt, "not finite"},
		{"count beyond 2^53", head(100, 1<<54, 0, 0, 0), ErrLimit, "count"},
		{"flags when empty", head(100, 0, 1, 0, 0), ErrCorrupt, "flags"},
		{"unknown flag", head(100, 3, 2, 0, 0), ErrCorrupt, "flags"},
		{"min above max", head(100, 1, 1, 2, 1), ErrCorrupt, "min 2"},
		{"fractional min with integer flag", head(100, 1, 0, 0.5, 1), ErrCorrupt, "min 0.5"},
		{"small values unsorted", appendFloat(appendFloat(appendFloat(head(100, 3, 0, 1, 3), 1), 3), 2), ErrCorrupt, "out of order"},
		{"small value not min", appendFloat(head(100, 1, 0, 1, 1), 2), ErrCorrupt, "out of order"},
		{"small integer flag wrong", appendFloat(head(100, 1, 1, 1, 1), 1), ErrCorrupt, "disagrees"},
		{"small truncated", appendFloat(head(100, 2, 0, 1, 2), 1), ErrCorrupt, "need 16 bytes"},
		{"10^8 centroids", huge, ErrLimit, "centroids 100000000 exceeds 200"},
		{"no centroids", appendUvarint(head(100, 100, 1, 0, 10), 0), ErrCorrupt, "no centroids"},
		{"centroids beyond input", appendUvarint(head(100, 100, 1, 0, 10), 150), ErrCorrupt, "cannot fit"},
		{"non-finite mean", cent(appendUvarint(head(100, 100, 1, 0, 10), 1), math.Inf(1), 100), ErrCorrupt, "not finite"},
		{"mean out of range", cent(appendUvarint(head(100, 100, 1, 0, 10), 1), 11, 100), ErrCorrupt, "mean 11"},
		{"unsorted means", cent(cent(appendUvarint(head(100, 100, 1, 0, 10), 2), 5, 50), 4, 50), ErrCorrupt, "in order"},
		{"zero weight", cent(cent(appendUvarint(head(100, 100, 1, 0, 10), 2), 5, 0), 6, 100), ErrCorrupt, "weight 0"},
		{"weights short of count", cent(appendUvarint(head(100, 100, 1, 0, 10), 1), 5, 99), ErrCorrupt, "sum to 99"},
		{"weights beyond count", cent(cent(appendUvarint(head(100, 100, 1, 0, 10), 2), 5, 90), 6, 90), ErrCorrupt, "exceed"},
		{"trailing byte", append(bytes.Clone(good), 0), ErrCorrupt, "trailing"},
		{"version 4", append([]byte{byte(KindQuantiles), 4}, head(100, 100, 1, 0, 10)[2:]...), ErrVersion, "version 4"},
		{"version 3 of 64 values", v3(head(100, 64, 0, 0, 10)), ErrCorrupt, "version 3 with count 64 outside [65, 512]"},
		{"version 3 of 513 values", v3(head(100, 513, 0, 0, 10)), ErrCorrupt, "version 3 with count 513"},
		{"version 3 when empty", v3(head(100, 0, 0, 0, 0)), ErrCorrupt, "count 0"},
		{"version 3 with places", v3(head(100, 100, 2, 0, 10)), ErrCorrupt, "flags 0x2"},
		{"version 3 truncated", v3(floats(head(100, 100, 0, 0, 99), 99, func(i int) float64 { return float64(i) })), ErrCorrupt, "100 values need 800 bytes, have 792"},
		{"version 3 unsorted", v3(floats(head(100, 100, 0, 0, 99), 100, func(i int) float64 { return float64(i % 99) })), ErrCorrupt, "value 99 = 0 out of order"},
		{"version 3 integer flag wrong", v3(floats(head(100, 100, 1, 0, 99), 100, func(i int) float64 { return float64(i) })), ErrCorrupt, "disagrees"},
		{"version 3 last value not max", v3(floats(head(100, 100, 0, 0, 100), 100, func(i int) float64 { return float64(i) })), ErrCorrupt, "value 99 = 99"},
		{"version 2 with 0 places", v2(head(100, 100, 0, 0, 10)), ErrCorrupt, "version 2 with 0 decimal places"},
		{"version 2 with 7 places", v2(head(100, 100, 7, 0, 10)), ErrCorrupt, "version 2 with 7 decimal places"},
		{"version 2 of a few values", v2(head(100, 3, 1, 0, 10)), ErrCorrupt, "count 3"},
		{"version 2 when empty", v2(head(100, 0, 1, 0, 0)), ErrCorrupt, "count 0"},
		{"min with two places for one", v2(head(100, 100, 1, 0.25, 10)), ErrCorrupt, "min 0.25"},
		{"max with two places for one", v2(head(100, 100, 1, 0, 9.99)), ErrCorrupt, "max 9.99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := big.Clone()
			err := recv.UnmarshalBinary(tt.in)
			require.ErrorIs(t, err, tt.err)
			assertSentinel(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, good, mustMarshal(t, recv))
		})
	}
}

// TestQuantilesMemory measures the heap of Quantiles holding 64, 300 and
// 512 values (exact: their values and the struct, ≤ 4.5 KB at 512, also
// when merged) and 10⁴ values (a digest). An empty one is its struct
// alone.
func TestQuantilesMemory(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Quantiles{}), uintptr(128))
	tests := []struct {
		name  string
		n     int
		parts int // merged from parts of n/parts values when > 0
		max   float64
	}{
		{"64 values", 64, 0, 1024},
		{"300 values", 300, 0, 4500},
		{"512 values", 512, 0, 4500},
		{"512 values merged from 3", 512, 3, 4500},
		{"digest", 10000, 0, 12 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const count = 1000
			keep := make([]*Quantiles, count)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range keep {
				q := new(Quantiles)
				if tt.parts == 0 {
					for j := range tt.n {
						q.Observe(float64(j))
					}
				}
				for k := range tt.parts {
					var part Quantiles
					for j := k * tt.n / tt.parts; j < (k+1)*tt.n/tt.parts; j++ {
						part.Observe(float64(j))
					}
					require.NoError(t, q.Merge(&part))
				}
				require.Equal(t, uint64(tt.n), q.Count())
				keep[i] = q
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / count
			t.Logf("%s: %.0f bytes each", tt.name, per)
			assert.LessOrEqual(t, per, tt.max)
			runtime.KeepAlive(keep)
		})
	}
}

func TestQuantilesObserveAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var q Quantiles
	r := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		q.Observe(r.ExpFloat64())
	}
	allocs := testing.AllocsPerRun(10000, func() { q.Observe(r.ExpFloat64()) })
	assert.Zero(t, allocs)
}

// opt turns a (value, ok) read into one value to compare: the value, or
// "none" when ok is false.
func opt(v float64, ok bool) any {
	if !ok {
		return "none"
	}
	return v
}

// TestQuantilesCountLimit: a Quantiles counts at most 2⁵³ values, which the
// decoder enforces (a float64 weight is exact up to there). A forged digest
// of 2⁵³ values decodes; the old Quantiles then took one more observation
// or merge to 2⁵³ + n, which its encoder wrote and its decoder rejected.
// Values past the limit are ignored and counted instead.
func TestQuantilesCountLimit(t *testing.T) {
	in := []byte{byte(KindQuantiles), 1}
	in = appendFloat(in, 100)
	in = appendUvarint(in, maxQuantilesCount)
	in = append(in, 0, 0) // ignored, flags: integers
	in = appendFloat(in, 1)
	in = appendFloat(in, 1)
	in = appendUvarint(in, 1)
	in = appendFloat(in, 1)
	in = appendUvarint(in, maxQuantilesCount)
	var q Quantiles
	require.NoError(t, q.UnmarshalBinary(in))
	require.Equal(t, uint64(maxQuantilesCount), q.Count())

	q.Observe(2)
	var small Quantiles
	small.Observe(3)
	small.Observe(4)
	require.NoError(t, q.Merge(&small))
	assert.Equal(t, uint64(maxQuantilesCount), q.Count())
	assert.Equal(t, uint64(3), q.Ignored(), "one observation and a merge of two")
	hi, _ := q.Max()
	assert.Equal(t, 1.0, hi, "the values left out do not move Max")
	var back Quantiles
	require.NoError(t, back.UnmarshalBinary(mustMarshal(t, &q)), "what the encoder writes decodes")
	assert.Equal(t, mustMarshal(t, &q), mustMarshal(t, &back))
}

// TestQuantilesEmptyReads: every read that has no answer for an empty
// Quantiles says so, like Min.Min and Mean.Mean.
func TestQuantilesEmptyReads(t *testing.T) {
	var q Quantiles
	_, ok := q.Min()
	assert.False(t, ok)
	_, ok = q.Max()
	assert.False(t, ok)
	_, ok = q.Quantile(0.5)
	assert.False(t, ok)
	q.Observe(0)
	v, ok := q.Min()
	assert.True(t, ok, "a minimum of 0 is an answer")
	assert.Zero(t, v)
}
