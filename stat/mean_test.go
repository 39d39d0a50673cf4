package stat

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases, contractCase{
		name: "mean",
		zero: func() Stat { return new(Mean) },
		observe: func(s Stat, r *rand.Rand, i int) {
			// Whole milliseconds: the sum is exact in any order.
			s.(*Mean).Observe(float64(r.IntN(30000) - 100))
			if i%97 == 0 {
				s.(*Mean).Observe(math.Inf(1))
			}
		},
	})
}

func TestMean(t *testing.T) {
	var m Mean
	_, ok := m.Mean()
	assert.False(t, ok, "empty mean")
	assert.Equal(t, "mean empty", m.String())
	for _, v := range []float64{1, 2, math.NaN(), 3, math.Inf(-1), 4} {
		m.Observe(v)
	}
	got, ok := m.Mean()
	require.True(t, ok)
	assert.Equal(t, 2.5, got)
	assert.Equal(t, uint64(4), m.Count())
	assert.Equal(t, 10.0, m.Sum())
	assert.Equal(t, uint64(2), m.Ignored())
	assert.Equal(t, "mean 2.5 n=4", m.String())

	var o Mean
	o.Observe(10)
	o.Observe(math.NaN())
	require.NoError(t, m.Merge(&o))
	got, _ = m.Mean()
	assert.Equal(t, 4.0, got, "(1+2+3+4+10)/5")
	assert.Equal(t, uint64(3), m.Ignored())

	require.NoError(t, m.Merge(&m), "merging itself doubles count and sum")
	got, _ = m.Mean()
	assert.Equal(t, 4.0, got)
	assert.Equal(t, uint64(10), m.Count())
	assert.Equal(t, 40.0, m.Sum())

	var typedNil *Mean
	require.NoError(t, m.Merge(typedNil))
	assert.Equal(t, uint64(10), m.Count())
}

// TestMeanCompensated shows the Neumaier sum at work: the naive sum of these
// values is off by 2, the Mean's is exact.
func TestMeanCompensated(t *testing.T) {
	var m Mean
	for _, v := range []float64{1, 1e100, 1, -1e100} {
		m.Observe(v)
	}
	assert.Equal(t, 2.0, m.Sum())
	got, _ := m.Mean()
	assert.Equal(t, 0.5, got)
}

// TestMeanOverflow: a value that would take the sum beyond the float64
// range is left out of the sum and the count and counted, so the Mean
// still encodes (the old Mean's sum became +Inf and MarshalBinary failed,
// which failed the whole cut). A merged Mean that would overflow is left
// out with all its values.
func TestMeanOverflow(t *testing.T) {
	var m Mean
	m.Observe(math.MaxFloat64)
	m.Observe(math.MaxFloat64)
	m.Observe(-1)
	assert.Equal(t, uint64(2), m.Count())
	assert.Equal(t, uint64(1), m.Overflow())
	got, _ := m.Mean()
	assert.Equal(t, math.MaxFloat64/2, got)

	var o Mean
	o.Observe(math.MaxFloat64)
	o.Observe(1)
	require.NoError(t, m.Merge(&o))
	assert.Equal(t, uint64(2), m.Count(), "o's sum would overflow: left out")
	assert.Equal(t, uint64(3), m.Overflow(), "its 2 values counted")

	b := mustMarshal(t, &m)
	assert.Equal(t, byte(2), b[1], "version 2 holds the overflow count")
	var back Mean
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, m, back)

	var plain Mean
	plain.Observe(1)
	assert.Equal(t, byte(1), mustMarshal(t, &plain)[1], "version 1 while nothing overflowed")
}

// TestMeanCountDoesNotWrap: the old Mean read a count of 2⁶⁴−1, returned
// it as -1 from Count, and one more Observe wrapped it to 0 with a sum of
// 2: a state that its own decoder rejected. The count now saturates.
func TestMeanCountDoesNotWrap(t *testing.T) {
	in := appendUvarint([]byte{byte(KindMean), 1}, math.MaxUint64)
	in = appendFloat(in, 1)
	in = appendFloat(in, 0)
	in = append(in, 0)
	var m Mean
	require.NoError(t, m.UnmarshalBinary(in))
	assert.Equal(t, uint64(math.MaxUint64), m.Count())
	m.Observe(1)
	require.NoError(t, m.Merge(m.Clone()))
	assert.Equal(t, uint64(math.MaxUint64), m.Count())
	var back Mean
	require.NoError(t, back.UnmarshalBinary(mustMarshal(t, &m)), "what the encoder writes decodes")
	assert.Equal(t, m, back)
}

func TestMeanUnmarshalErrors(t *testing.T) {
	one := appendFloat(nil, 1)
	zero := appendFloat(nil, 0)
	negZero := appendFloat(nil, math.Copysign(0, -1))
	nan := appendFloat(nil, math.NaN())
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	hdr := []byte{byte(KindMean), 1}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"count 0 with a sum", cat(hdr, []byte{0}, one, zero, []byte{0}), ErrCorrupt},
		{"count 0 with -0 compensation", cat(hdr, []byte{0}, zero, negZero, []byte{0}), ErrCorrupt},
		{"NaN sum", cat(hdr, []byte{1}, nan, zero, []byte{0}), ErrCorrupt},
		{"truncated float", cat(hdr, []byte{1}, one, zero[:3]), ErrCorrupt},
		{"missing ignored", cat(hdr, []byte{1}, one, zero), ErrCorrupt},
		{"sum kind tag", cat([]byte{byte(KindSum), 1}, []byte{1}, one, zero, []byte{0}), ErrCorrupt},
		{"version 2 without overflow", cat([]byte{byte(KindMean), 2}, []byte{1}, one, zero, []byte{0}), ErrCorrupt},
		{"version 2 with overflow 0", cat([]byte{byte(KindMean), 2}, []byte{1}, one, zero, []byte{0, 0}), ErrCorrupt},
		{"version 3", cat([]byte{byte(KindMean), 3}, []byte{1}, one, zero, []byte{0}), ErrVersion},
		{"sum and compensation overflow together", cat(hdr, []byte{2}, appendFloat(nil, math.MaxFloat64), appendFloat(nil, math.MaxFloat64), []byte{0}), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Mean
			m.Observe(7)
			require.ErrorIs(t, m.UnmarshalBinary(tt.in), tt.want)
			got, _ := m.Mean()
			assert.Equal(t, 7.0, got, "receiver unchanged")
		})
	}
	var m Mean
	require.NoError(t, m.UnmarshalBinary(cat(hdr, []byte{2}, one, zero, []byte{5})))
	got, _ := m.Mean()
	assert.Equal(t, 0.5, got)
	assert.Equal(t, uint64(5), m.Ignored())
}

func TestMeanAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var m Mean
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		m.Observe(3)
		buf, _ = m.AppendBinary(buf[:0])
	})
	assert.Zero(t, allocs)
}

// TestExactUnmarshalAllocs: decoding the fixed-size exact kinds does not
// allocate (the decoder stays on the stack).
func TestExactUnmarshalAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var mean Mean
	var mn Min
	var mx Max
	var last Last
	mean.Observe(1.5)
	mn.Observe(2)
	mx.Observe(3)
	last.ObserveAt(t0, 4)
	for _, s := range []Stat{&mean, &mn, &mx, &last} {
		t.Run(s.Kind().String(), func(t *testing.T) {
			b := mustMarshal(t, s)
			allocs := testing.AllocsPerRun(100, func() {
				if err := s.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}

// TestMeanSumBound: Mean's sum runs the same compensated steps as Sum's, in
// observation and in merge, so Sum's bound (TestSumAccuracy) is Mean's.
func TestMeanSumBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var means [16]Mean
	var sums [16]Sum
	for i := range 10000 {
		v := (r.Float64() - 0.45) * math.Pow(10, float64(r.IntN(12)-3))
		means[i%16].Observe(v)
		sums[i%16].Observe(v)
	}
	var m Mean
	var s Sum
	for i := range means {
		require.NoError(t, m.Merge(&means[i]))
		require.NoError(t, s.Merge(&sums[i]))
	}
	assert.Equal(t, s.Sum(), m.Sum())
	got, _ := m.Mean()
	assert.Equal(t, s.Sum()/10000, got)
}
