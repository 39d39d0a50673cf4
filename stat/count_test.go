package stat

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases, contractCase{
		name: "count",
		zero: func() Stat { return new(Count) },
		observe: func(s Stat, r *rand.Rand, i int) {
			if i%7 == 0 {
				s.(*Count).Add(uint64(r.IntN(5)))
				return
			}
			s.(*Count).Observe()
		},
	})
}

func TestCount(t *testing.T) {
	var c Count
	for range 10 {
		c.Observe()
	}
	c.Add(5)
	assert.Equal(t, uint64(15), c.Count())
	tests := []struct {
		name      string
		span, per time.Duration
		want      float64
	}{
		{"per second over 10s", 10 * time.Second, time.Second, 1.5},
		{"per minute over 10s", 10 * time.Second, time.Minute, 90},
		{"per span", time.Minute, time.Minute, 15},
		{"zero span", 0, time.Second, 0},
		{"negative per", time.Second, -time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, c.Rate(tt.span, tt.per))
		})
	}
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, []byte{byte(KindCount), 1, 30}, b, "zig-zag 15")
	var d Count
	require.NoError(t, d.UnmarshalBinary(b))
	assert.Equal(t, uint64(15), d.Count())
	assert.Equal(t, "count 15", d.String())
}

// TestCountUnmarshal: a count is never negative, and counts beyond 2⁶³−1
// (which version 1's signed varint cannot hold) are version 2.
func TestCountUnmarshal(t *testing.T) {
	v1 := func(n int64) []byte { return appendVarint([]byte{byte(KindCount), 1}, n) }
	v2 := func(n uint64) []byte { return appendUvarint([]byte{byte(KindCount), 2}, n) }
	tests := []struct {
		name string
		in   []byte
		want uint64
		err  error
	}{
		{"zero", v1(0), 0, nil},
		{"largest version 1", v1(math.MaxInt64), math.MaxInt64, nil},
		{"negative", v1(-1), 0, ErrCorrupt}, // the old decoder read -1
		{"most negative", v1(math.MinInt64), 0, ErrCorrupt},
		{"version 2", v2(math.MaxInt64 + 1), math.MaxInt64 + 1, nil},
		{"version 2 saturated", v2(math.MaxUint64), math.MaxUint64, nil},
		{"version 2 holding a version 1 count", v2(5), 0, ErrCorrupt},
		{"version 3", []byte{byte(KindCount), 3, 0}, 0, ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Count
			c.Add(7)
			err := c.UnmarshalBinary(tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assertSentinel(t, err)
				assert.Equal(t, uint64(7), c.Count(), "receiver unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Count())
			assert.Equal(t, tt.in, mustMarshal(t, &c), "canonical")
		})
	}
}

// TestCountSaturates: a count never wraps, by Add or by Merge.
func TestCountSaturates(t *testing.T) {
	var c Count
	c.Add(math.MaxUint64 - 1)
	c.Observe()
	c.Observe()
	assert.Equal(t, uint64(math.MaxUint64), c.Count())
	require.NoError(t, c.Merge(&c))
	assert.Equal(t, uint64(math.MaxUint64), c.Count())
	var back Count
	require.NoError(t, back.UnmarshalBinary(mustMarshal(t, &c)))
	assert.Equal(t, c, back)
}

func TestCountAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var c Count
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		c.Observe()
		buf, _ = c.AppendBinary(buf[:0])
	})
	assert.Zero(t, allocs)
	_ = math.Pi
}
