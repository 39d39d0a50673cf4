package stat

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func init() {
	contractCases = append(contractCases, contractCase{
		name: "last",
		zero: func() Stat { return new(Last) },
		observe: func(s Stat, r *rand.Rand, i int) {
			// Few distinct times and values: many ties, including ±0.
			at := t0.Add(time.Duration(r.IntN(50)) * time.Second)
			v := float64(r.IntN(5))
			if v == 0 && r.IntN(2) == 0 {
				v = negZero
			}
			s.(*Last).ObserveAt(at, v)
			if i%31 == 0 {
				s.(*Last).ObserveAt(at, math.NaN())
			}
		},
	})
}

func TestLast(t *testing.T) {
	type obs struct {
		at time.Duration // after t0
		v  float64
	}
	tests := []struct {
		name    string
		in      []obs
		wantAt  time.Duration
		wantV   float64
		ok      bool
		ignored uint64
	}{
		{name: "empty"},
		{name: "latest wins", in: []obs{{1, 10}, {3, 30}, {2, 20}}, wantAt: 3, wantV: 30, ok: true},
		{name: "tie takes larger value", in: []obs{{5, 1}, {5, 7}, {5, 3}}, wantAt: 5, wantV: 7, ok: true},
		{name: "tie +0 over -0", in: []obs{{5, 0}, {5, negZero}}, wantAt: 5, wantV: 0, ok: true},
		{name: "non-finite ignored", in: []obs{{1, 1}, {9, math.NaN()}, {9, math.Inf(1)}}, wantAt: 1, wantV: 1, ok: true, ignored: 2},
		{name: "earlier time, larger value", in: []obs{{2, 1}, {1, 100}}, wantAt: 2, wantV: 1, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fwd, rev Last
			for i := range tt.in {
				fwd.ObserveAt(t0.Add(tt.in[i].at), tt.in[i].v)
				o := tt.in[len(tt.in)-1-i]
				rev.ObserveAt(t0.Add(o.at), o.v)
			}
			for _, l := range []*Last{&fwd, &rev} {
				at, v, ok := l.Last()
				assert.Equal(t, tt.ok, ok)
				if tt.ok {
					assert.Equal(t, t0.Add(tt.wantAt), at)
					assert.Equal(t, time.UTC, at.Location())
				} else {
					assert.True(t, at.IsZero())
				}
				assert.Equal(t, tt.wantV, v)
				assert.Equal(t, math.Signbit(tt.wantV), math.Signbit(v))
				assert.Equal(t, tt.ignored, l.Ignored())
			}
			assert.Equal(t, mustMarshal(t, &fwd), mustMarshal(t, &rev), "observation order")
		})
	}
}

func TestLastTimeRange(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		kept bool
	}{
		{"zero time", time.Time{}, false},
		{"year 1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"first kept second", time.Unix(minObsSec, 0), true},
		{"just before", time.Unix(minObsSec, 0).Add(-time.Nanosecond), false},
		{"last kept nanosecond", time.Unix(maxObsSec, 999999999), true},
		{"just after", time.Unix(maxObsSec+1, 0), false},
		{"epoch", time.Unix(0, 0), true},
		{"local zone", time.Date(2025, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Last
			l.ObserveAt(tt.at, 1)
			at, _, ok := l.Last()
			assert.Equal(t, tt.kept, ok)
			assert.Equal(t, uint64(map[bool]int{true: 0, false: 1}[tt.kept]), l.Ignored())
			if tt.kept {
				assert.True(t, tt.at.Equal(at), "got %v", at)
				var d Last
				require.NoError(t, d.UnmarshalBinary(mustMarshal(t, &l)))
				assert.Equal(t, mustMarshal(t, &l), mustMarshal(t, &d))
			}
		})
	}
}

func TestLastMerge(t *testing.T) {
	var a, b, empty Last
	a.ObserveAt(t0, 1)
	b.ObserveAt(t0.Add(time.Second), 2)
	b.ObserveAt(t0, math.NaN())
	require.NoError(t, a.Merge(&empty))
	require.NoError(t, a.Merge(&b))
	at, v, _ := a.Last()
	assert.Equal(t, t0.Add(time.Second), at)
	assert.Equal(t, 2.0, v)
	assert.Equal(t, uint64(1), a.Ignored())
	require.NoError(t, empty.Merge(&b))
	assert.Equal(t, mustMarshal(t, &b), mustMarshal(t, &empty))
	var typedNil *Last
	require.NoError(t, a.Merge(typedNil))
	require.ErrorIs(t, a.Merge(new(Max)), ErrIncompatible)
	assert.Equal(t, "last 2 at 2025-03-01T12:00:01Z", a.String())
	assert.Equal(t, "last empty", new(Last).String())
}

func TestLastUnmarshalErrors(t *testing.T) {
	enc := func(flag byte, ns int64, v float64) []byte {
		b := []byte{byte(KindLast), 1, flag}
		b = appendVarint(b, ns)
		b = appendFloat(b, v)
		return append(b, 0)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"time below range", enc(1, minObsNs-1, 1), ErrCorrupt},
		{"time above range", enc(1, maxObsNs+1, 1), ErrCorrupt},
		{"NaN value", enc(1, 0, math.NaN()), ErrCorrupt},
		{"flag 3", enc(3, 0, 1), ErrCorrupt},
		{"bad varint", []byte{byte(KindLast), 1, 1, 0x80, 0x80}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Last
			l.ObserveAt(t0, 5)
			require.ErrorIs(t, l.UnmarshalBinary(tt.in), tt.want)
			_, v, _ := l.Last()
			assert.Equal(t, 5.0, v, "receiver unchanged")
		})
	}
	var l Last
	require.NoError(t, l.UnmarshalBinary(enc(1, maxObsNs, -3)))
	at, v, ok := l.Last()
	require.True(t, ok)
	assert.Equal(t, int64(maxObsNs), at.UnixNano())
	assert.Equal(t, -3.0, v)
}

func TestLastAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var l Last
	buf := make([]byte, 0, 64)
	at := t0
	allocs := testing.AllocsPerRun(100, func() {
		at = at.Add(time.Millisecond)
		l.ObserveAt(at, 1)
		buf, _ = l.AppendBinary(buf[:0])
	})
	assert.Zero(t, allocs)
}
