package stat

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var negZero = math.Copysign(0, -1)

// observeExtreme feeds a stream with both zeros, so that a merge order that
// mattered would show in the bytes, and non-finite values.
func observeExtreme(observe func(float64), r *rand.Rand, i int) {
	switch i % 50 {
	case 3:
		observe(negZero)
	case 4:
		observe(0)
	case 5:
		observe(math.NaN())
	default:
		observe(r.NormFloat64() * 100)
	}
}

func init() {
	contractCases = append(contractCases,
		contractCase{
			name:    "min",
			zero:    func() Stat { return new(Min) },
			observe: func(s Stat, r *rand.Rand, i int) { observeExtreme(s.(*Min).Observe, r, i) },
		},
		contractCase{
			name:    "max",
			zero:    func() Stat { return new(Max) },
			observe: func(s Stat, r *rand.Rand, i int) { observeExtreme(s.(*Max).Observe, r, i) },
		},
		// Only zeros, alternating in sign, so that shards start with
		// different zeros: which one is kept must not depend on the order.
		contractCase{
			name: "min of zeros",
			zero: func() Stat { return new(Min) },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Min).Observe(math.Copysign(0, float64(i%2)-0.5))
			},
		},
		contractCase{
			name: "max of zeros",
			zero: func() Stat { return new(Max) },
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*Max).Observe(math.Copysign(0, float64(i%2)-0.5))
			},
		},
	)
}

func TestMinMax(t *testing.T) {
	tests := []struct {
		name             string
		in               []float64
		min, max         float64
		ok               bool
		ignored          uint64
		minNeg, maxNeg   bool // sign bit of the result
		minText, maxText string
	}{
		{name: "empty", minText: "min empty", maxText: "max empty"},
		{name: "only non-finite", in: []float64{math.NaN(), math.Inf(1), math.Inf(-1)}, ignored: 3, minText: "min empty", maxText: "max empty"},
		{name: "mixed", in: []float64{3, -2.5, math.NaN(), 7, 0, math.Inf(1)}, min: -2.5, max: 7, ok: true, ignored: 2, minNeg: true, minText: "min -2.5", maxText: "max 7"},
		{name: "one value", in: []float64{42}, min: 42, max: 42, ok: true, minText: "min 42", maxText: "max 42"},
		{name: "zeros +0 first", in: []float64{0, negZero}, ok: true, minNeg: true, minText: "min -0", maxText: "max 0"},
		{name: "zeros -0 first", in: []float64{negZero, 0}, ok: true, minNeg: true, minText: "min -0", maxText: "max 0"},
		{name: "huge", in: []float64{-math.MaxFloat64, math.MaxFloat64}, min: -math.MaxFloat64, max: math.MaxFloat64, ok: true, minNeg: true, minText: "min -1.7976931348623157e+308", maxText: "max 1.7976931348623157e+308"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mn Min
			var mx Max
			for _, v := range tt.in {
				mn.Observe(v)
				mx.Observe(v)
			}
			gotMin, okMin := mn.Min()
			gotMax, okMax := mx.Max()
			assert.Equal(t, tt.ok, okMin)
			assert.Equal(t, tt.ok, okMax)
			assert.Equal(t, tt.min, gotMin)
			assert.Equal(t, tt.max, gotMax)
			assert.Equal(t, tt.minNeg, math.Signbit(gotMin), "sign of min")
			assert.Equal(t, tt.maxNeg, math.Signbit(gotMax), "sign of max")
			assert.Equal(t, tt.ignored, mn.Ignored())
			assert.Equal(t, tt.ignored, mx.Ignored())
			assert.Equal(t, tt.minText, mn.String())
			assert.Equal(t, tt.maxText, mx.String())
		})
	}
}

func TestMinMaxMerge(t *testing.T) {
	var a, b, empty Min
	a.Observe(5)
	b.Observe(-1)
	b.Observe(math.NaN())
	require.NoError(t, a.Merge(&empty))
	got, _ := a.Min()
	assert.Equal(t, 5.0, got, "an empty other is a no-op")
	require.NoError(t, a.Merge(&b))
	got, _ = a.Min()
	assert.Equal(t, -1.0, got)
	assert.Equal(t, uint64(1), a.Ignored())
	require.NoError(t, empty.Merge(&a))
	got, ok := empty.Min()
	assert.True(t, ok, "an empty receiver takes other's value")
	assert.Equal(t, -1.0, got)
	var typedNil *Min
	require.NoError(t, a.Merge(typedNil))
	require.ErrorIs(t, a.Merge(new(Max)), ErrIncompatible)

	var x, y Max
	x.Observe(1)
	y.Observe(9)
	require.NoError(t, x.Merge(&y))
	gotMax, _ := x.Max()
	assert.Equal(t, 9.0, gotMax)
	var typedNilMax *Max
	require.NoError(t, x.Merge(typedNilMax))
	require.ErrorIs(t, x.Merge(new(Min)), ErrIncompatible)
}

func TestMinMaxEncoding(t *testing.T) {
	var m Min
	b := mustMarshal(t, &m)
	assert.Equal(t, []byte{byte(KindMin), 1, 0, 0}, b, "empty: flag 0, ignored 0")
	m.Observe(1.5)
	m.Observe(math.NaN())
	b = mustMarshal(t, &m)
	want := append([]byte{byte(KindMin), 1, 1}, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f) // 1.5 LE
	assert.Equal(t, append(want, 1), b)

	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"flag 2", []byte{byte(KindMax), 1, 2, 0}, ErrCorrupt},
		{"value missing", []byte{byte(KindMax), 1, 1, 0}, ErrCorrupt},
		{"empty with value", append(append([]byte{byte(KindMax), 1, 0}, appendFloat(nil, 1)...), 0), ErrCorrupt},
		{"infinite value", append(append([]byte{byte(KindMax), 1, 1}, appendFloat(nil, math.Inf(1))...), 0), ErrCorrupt},
		{"min tag", []byte{byte(KindMin), 1, 0, 0}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mx Max
			mx.Observe(3)
			err := mx.UnmarshalBinary(tt.in)
			require.ErrorIs(t, err, tt.want)
			got, ok := mx.Max()
			assert.True(t, ok)
			assert.Equal(t, 3.0, got, "receiver unchanged")
		})
	}
}

func TestMinMaxAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var mn Min
	var mx Max
	buf := make([]byte, 0, 64)
	v := 0.0
	allocs := testing.AllocsPerRun(100, func() {
		v++
		mn.Observe(-v)
		mx.Observe(v)
		buf, _ = mn.AppendBinary(buf[:0])
		buf, _ = mx.AppendBinary(buf[:0])
	})
	assert.Zero(t, allocs)
}
