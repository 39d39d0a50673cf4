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
				s.(*Count).Add(int64(r.IntN(5)))
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
	assert.Equal(t, int64(15), c.Count())
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
	assert.Equal(t, int64(15), d.Count())
	assert.Equal(t, "count 15", d.String())
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
