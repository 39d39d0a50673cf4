package stat

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases, contractCase{
		name: "sum",
		zero: func() Stat { return new(Sum) },
		observe: func(s Stat, r *rand.Rand, i int) {
			// Whole milliseconds and byte counts: exact in any order.
			s.(*Sum).Observe(float64(r.IntN(100000) - 1000))
			if i%100 == 0 {
				s.(*Sum).Observe(math.NaN())
			}
		},
	})
}

func TestSumIgnoresNonFinite(t *testing.T) {
	var s Sum
	for _, v := range []float64{1, math.NaN(), 2, math.Inf(1), math.Inf(-1), 3} {
		s.Observe(v)
	}
	assert.Equal(t, 6.0, s.Sum())
	assert.Equal(t, uint64(3), s.Ignored())
	var o Sum
	o.Observe(math.NaN())
	require.NoError(t, s.Merge(&o))
	assert.Equal(t, uint64(4), s.Ignored())
}

// TestSumAccuracy holds the bound in Sum's doc comment: for values of mixed
// sign and magnitude, split into 16 shards and merged in two orders,
// |Sum() − Σx| ≤ 2⁻⁵⁰·Σ|x| against an exact big.Float sum.
func TestSumAccuracy(t *testing.T) {
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 1))
		const n = 100000
		exact := new(big.Float).SetPrec(2048)
		var abs float64
		shards := make([]Sum, 16)
		var whole Sum
		for i := range n {
			v := (r.Float64() - 0.45) * math.Pow(10, float64(r.IntN(12)-3))
			exact.Add(exact, new(big.Float).SetFloat64(v))
			abs += math.Abs(v)
			whole.Observe(v)
			shards[i%16].Observe(v)
		}
		var fwd, rev Sum
		for i := range shards {
			require.NoError(t, fwd.Merge(&shards[i]))
			require.NoError(t, rev.Merge(&shards[len(shards)-1-i]))
		}
		want, _ := exact.Float64()
		bound := abs * math.Ldexp(1, -50)
		for name, s := range map[string]*Sum{"whole": &whole, "forward": &fwd, "reverse": &rev} {
			assert.LessOrEqual(t, math.Abs(s.Sum()-want), bound, "seed %d %s", seed, name)
		}
	}
}

func TestSumSelfMergeAndOverflow(t *testing.T) {
	var s Sum
	s.Observe(0.1)
	s.Observe(0.2)
	want := 2 * s.Sum()
	require.NoError(t, s.Merge(&s))
	assert.InDelta(t, want, s.Sum(), 1e-16, "merging a sum into itself doubles it")

	var big Sum
	big.Observe(math.MaxFloat64)
	big.Observe(math.MaxFloat64)
	_, err := big.MarshalBinary()
	require.ErrorIs(t, err, ErrLimit)
}
