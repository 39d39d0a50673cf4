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

}

// TestSumOverflow: finite values whose sum would overflow float64 are left
// out and counted, and the Sum still encodes. The old Sum became +Inf
// without a signal, and then failed to encode.
func TestSumOverflow(t *testing.T) {
	var s Sum
	s.Observe(math.MaxFloat64)
	s.Observe(math.MaxFloat64)
	s.Observe(-math.MaxFloat64)
	s.Observe(math.MaxFloat64)
	assert.Equal(t, math.MaxFloat64, s.Sum(), "only the second value did not fit")
	assert.Equal(t, uint64(1), s.Overflow())
	assert.Zero(t, s.Ignored())

	o := s
	require.NoError(t, s.Merge(&o))
	assert.Equal(t, math.MaxFloat64, s.Sum(), "a merged sum that would overflow is left out")
	assert.Equal(t, uint64(3), s.Overflow(), "1 + 1 for the merge + o's 1")

	b := mustMarshal(t, &s)
	assert.Equal(t, byte(overflowVersion), b[1])
	var back Sum
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, s, back)
}

func TestSumUnmarshal(t *testing.T) {
	enc := func(version byte, sum, comp float64, counters ...uint64) []byte {
		b := appendFloat(appendFloat([]byte{byte(KindSum), version}, sum), comp)
		for _, c := range counters {
			b = appendUvarint(b, c)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"version 1", enc(1, 3, 0, 2), nil},
		{"version 2", enc(2, 3, 0, 2, 1), nil},
		// The old decoder accepted this and read a sum of +Inf.
		{"parts overflow together", enc(1, math.MaxFloat64, math.MaxFloat64, 0), ErrCorrupt},
		{"NaN", enc(1, math.NaN(), 0, 0), ErrCorrupt},
		{"Inf compensation", enc(1, 1, math.Inf(-1), 0), ErrCorrupt},
		{"version 2 with overflow 0", enc(2, 3, 0, 2, 0), ErrCorrupt},
		{"version 2 without overflow", enc(2, 3, 0, 2), ErrCorrupt},
		{"version 3", enc(3, 3, 0, 2, 1), ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Sum
			s.Observe(7)
			err := s.UnmarshalBinary(tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assertSentinel(t, err)
				assert.Equal(t, 7.0, s.Sum(), "receiver unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, mustMarshal(t, &s))
		})
	}
}
