package window

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newCount(t testing.TB, opts Options) *Window {
	t.Helper()
	w, err := New("requests", stat.KindCount, opts)
	require.NoError(t, err)
	return w
}

func observe(t testing.TB, w *Window, at time.Time, n int64) {
	t.Helper()
	s := w.At(at)
	require.NotNil(t, s, "observation at %v refused", at)
	s.(*stat.Count).Add(uint64(n))
}

// readCount reads [T − span, T) into a fresh Count.
func readCount(t testing.TB, w *Window, T time.Time, span time.Duration) int64 {
	t.Helper()
	var c stat.Count
	require.NoError(t, w.Read(T, span, &c))
	return int64(c.Count())
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		want    Options
		slots   int
		wantErr error
	}{
		{"defaults", Options{}, Options{time.Second, time.Minute, 5 * time.Second, 5 * time.Minute}, 366, nil},
		{"negative lateness and skew mean none", Options{Width: 10 * time.Second, Lateness: -1, Skew: -1},
			Options{10 * time.Second, time.Minute, 0, 0}, 7, nil},
		{"width not dividing span", Options{Width: 7 * time.Second, Span: 20 * time.Second, Lateness: -1, Skew: -1},
			Options{7 * time.Second, 20 * time.Second, 0, 0}, 4, nil},
		{"negative width", Options{Width: -time.Second}, Options{}, 0, ErrOptions},
		{"too many buckets", Options{Width: time.Millisecond, Span: time.Hour}, Options{}, 0, ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New("x", stat.KindCount, tt.opts)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, w.Options())
			assert.Equal(t, tt.slots, w.Slots())
		})
	}
	_, err := New("x", stat.KindInvalid, Options{})
	require.Error(t, err)
	_, err = NewFunc("x", nil, Options{})
	require.ErrorIs(t, err, ErrOptions)
}

func TestBuckets(t *testing.T) {
	tests := []struct {
		name  string
		at    time.Time
		width time.Duration
		start time.Time
	}{
		{"on a boundary", sec(10), time.Second, sec(10)},
		{"just before the next", sec(10.999999999), time.Second, sec(10)},
		{"mid bucket", sec(10.5), time.Second, sec(10)},
		{"wide bucket", sec(17), 10 * time.Second, sec(10)},
		{"aligned in Unix time, not to the clock", sec(3), 7 * time.Second, time.Unix(1_700_000_001, 0).UTC()}, // 7 × 242857143
		{"before 1970 floors down", time.Unix(-1, 500_000_000), time.Second, time.Unix(-1, 0).UTC()},
		{"before 1970 on a boundary", time.Unix(-10, 0), 5 * time.Second, time.Unix(-10, 0).UTC()},
		{"before 1970 mid bucket", time.Unix(-7, 0), 5 * time.Second, time.Unix(-10, 0).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCount(t, Options{Width: tt.width})
			w.Advance(tt.at)
			observe(t, w, tt.at, 1)
			cut := w.Cut(nil)
			require.Len(t, cut, 1)
			assert.True(t, tt.start.Equal(cut[0].Start), "start %v, want %v", cut[0].Start, tt.start)
			assert.Equal(t, tt.width, cut[0].Width)
			assert.Equal(t, "requests", cut[0].Name)
			assert.Equal(t, stat.KindCount, cut[0].Kind)
			assert.Equal(t, uint64(1), cut[0].Stat.(*stat.Count).Count())
		})
	}
}

func TestReadCompleteBuckets(t *testing.T) {
	// Bucket t0+i s holds 1<<i events, so a read's count names exactly the
	// buckets it merged.
	w := newCount(t, Options{})
	w.Advance(sec(12))
	for i := range 12 {
		observe(t, w, sec(float64(i)+0.5), 1<<i)
	}
	bits := func(from, to int) int64 { // buckets [from, to)
		var n int64
		for i := from; i < to; i++ {
			n |= 1 << i
		}
		return n
	}
	tests := []struct {
		name string
		T    time.Time
		span time.Duration
		want int64
	}{
		{"aligned T and span", sec(5), 3 * time.Second, bits(2, 5)},
		{"bucket ending at T is in", sec(5), time.Second, bits(4, 5)},
		{"bucket containing T is out", sec(5.5), 1500 * time.Millisecond, bits(4, 5)},
		{"no bucket fits between boundaries", sec(5.5), time.Second, 0},
		{"T just before a boundary", sec(5).Add(-1), 3 * time.Second, bits(2, 4)},
		{"T just after a boundary", sec(5).Add(1), 3 * time.Second, bits(3, 5)},
		{"span reaching mid bucket drops that bucket", sec(5), 2500 * time.Millisecond, bits(3, 5)},
		{"span one ns longer than aligned", sec(5), 3*time.Second + 1, bits(2, 5)},
		{"span one ns short of aligned", sec(5), 3*time.Second - 1, bits(3, 5)},
		{"span shorter than a bucket", sec(5.5), 900 * time.Millisecond, 0},
		{"zero span", sec(5), 0, 0},
		{"negative span", sec(5), -time.Second, 0},
		{"everything", sec(100), time.Hour, bits(0, 12)},
		{"before everything", sec(0), time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, readCount(t, w, tt.T, tt.span))
		})
	}
	t.Run("read never mutates", func(t *testing.T) {
		before := readCount(t, w, sec(100), time.Hour)
		for range 3 {
			readCount(t, w, sec(100), time.Hour)
		}
		assert.Equal(t, before, readCount(t, w, sec(100), time.Hour))
		assert.Equal(t, 12, w.Len())
	})
	t.Run("into of another kind", func(t *testing.T) {
		require.ErrorIs(t, w.Read(sec(5), time.Second, new(stat.Sum)), stat.ErrIncompatible)
		require.ErrorIs(t, w.Read(sec(5), time.Second, nil), stat.ErrIncompatible)
	})
}

func TestLateAndFuture(t *testing.T) {
	// Retention 60 s + 5 s; skew 5 min. Clock at t0+100.5 s: retained
	// buckets end after t0+35.5 s, so the first is [35, 36), and start at or
	// before t0+400.5 s, so the last is [400, 401).
	tests := []struct {
		name     string
		at       time.Time
		late     uint64
		rejected uint64
	}{
		{"now", sec(100.5), 0, 0},
		{"oldest retained bucket", sec(35), 0, 0},
		{"oldest retained bucket end", sec(36).Add(-1), 0, 0},
		{"newest late bucket end", sec(35).Add(-1), 1, 0},
		{"long ago", sec(-1e6), 1, 0},
		{"newest accepted bucket", sec(400.999), 0, 0},
		{"first rejected bucket", sec(401), 0, 1},
		{"far future", sec(1e9), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCount(t, Options{})
			w.Advance(sec(100.5))
			s := w.At(tt.at)
			assert.Equal(t, tt.late, w.Late(), "late")
			assert.Equal(t, tt.rejected, w.Rejected(), "rejected")
			if tt.late+tt.rejected > 0 {
				assert.Nil(t, s)
				assert.Equal(t, 0, w.Len())
			} else {
				assert.NotNil(t, s)
				assert.Equal(t, 1, w.Len())
			}
		})
	}
	t.Run("unset clock rejects", func(t *testing.T) {
		w := newCount(t, Options{})
		assert.Nil(t, w.At(t0))
		assert.Equal(t, uint64(1), w.Rejected())
		assert.True(t, w.Now().IsZero())
	})
}

func TestRetention(t *testing.T) {
	w := newCount(t, Options{Span: 10 * time.Second, Lateness: 2 * time.Second, Skew: 3 * time.Second})
	w.Advance(sec(0))
	for i := range 4 {
		observe(t, w, sec(float64(i)), 1)
	}
	assert.Nil(t, w.At(sec(4)), "starts after now + skew")
	observe(t, w, sec(-11), 1) // oldest retained: ends at −10 > −12
	w.Advance(sec(-100))       // backwards: ignored
	assert.True(t, sec(0).Equal(w.Now()))
	assert.Equal(t, 5, w.Len())

	w.Advance(sec(12.5)) // keeps buckets ending after 0.5 s: [0, 1) on
	assert.Equal(t, 4, w.Len())
	assert.Equal(t, uint64(1), w.Expired())
	assert.Equal(t, int64(4), readCount(t, w, sec(12), 12*time.Second))
	var c stat.Count
	require.ErrorIs(t, w.Read(sec(12), time.Hour, &c), ErrClock, "the hour reaches [−11, −10), dropped holding data")

	w.Advance(sec(15)) // keeps [3, 4) on
	assert.Equal(t, 1, w.Len())
	assert.Equal(t, int64(1), readCount(t, w, sec(12), 9*time.Second))
	require.ErrorIs(t, w.Read(sec(12), 10*time.Second, &c), ErrClock, "[2, 3) was dropped holding data")
	assert.Nil(t, w.At(sec(2.9)))
	assert.Equal(t, uint64(1), w.Late())

	w.Advance(sec(1e6)) // a jump longer than the ring empties it
	assert.Equal(t, 0, w.Len())
	assert.Equal(t, uint64(5), w.Expired())
	observe(t, w, sec(1e6-5), 1)
	assert.Equal(t, int64(1), readCount(t, w, sec(1e6), time.Hour))
}

func TestCut(t *testing.T) {
	w := newCount(t, Options{})
	w.Advance(sec(10))
	observe(t, w, sec(9), 2)
	observe(t, w, sec(7), 3)
	observe(t, w, sec(12), 4) // in the future, within skew
	cut := w.Cut(nil)
	require.Len(t, cut, 3)
	for i, want := range []struct {
		start time.Time
		n     uint64
	}{{sec(7), 3}, {sec(9), 2}, {sec(12), 4}} {
		assert.True(t, want.start.Equal(cut[i].Start), "delta %d start %v", i, cut[i].Start)
		assert.Equal(t, want.n, cut[i].Stat.(*stat.Count).Count(), "delta %d", i)
	}
	assert.Equal(t, 0, w.Len())
	assert.Empty(t, w.Cut(nil), "a second cut has nothing new")

	// The caller owns what was cut: the window never touches it again.
	observe(t, w, sec(9), 1)
	assert.Equal(t, uint64(2), cut[1].Stat.(*stat.Count).Count())
	next := w.Cut(cut[:0])
	require.Len(t, next, 1)
	assert.Equal(t, uint64(1), next[0].Stat.(*stat.Count).Count())
}

func TestApply(t *testing.T) {
	count := func(n int64) stat.Stat { c := new(stat.Count); c.Add(uint64(n)); return c }
	delta := func(start time.Time, n int64) Delta {
		return Delta{Name: "requests", Kind: stat.KindCount, Start: start, Width: time.Second, Stat: count(n)}
	}
	tests := []struct {
		name     string
		d        Delta
		wantErr  error
		late     uint64
		rejected uint64
		read     int64 // count in [t0, t0+100 s)
	}{
		{"applies", delta(sec(90), 3), nil, 0, 0, 3},
		{"nil stat is a no-op", Delta{Name: "requests", Kind: stat.KindCount, Start: sec(90), Width: time.Second}, nil, 0, 0, 0},
		{"late delta counted", delta(sec(34), 3), nil, 1, 0, 0},
		{"future delta counted", delta(sec(401), 3), nil, 0, 1, 0},
		{"other name", Delta{Name: "bytes", Kind: stat.KindCount, Start: sec(90), Width: time.Second, Stat: count(1)}, stat.ErrIncompatible, 0, 1, 0},
		{"other kind", Delta{Name: "requests", Kind: stat.KindSum, Start: sec(90), Width: time.Second, Stat: new(stat.Sum)}, stat.ErrIncompatible, 0, 1, 0},
		{"stat of another kind", Delta{Name: "requests", Kind: stat.KindCount, Start: sec(90), Width: time.Second, Stat: new(stat.Sum)}, stat.ErrIncompatible, 0, 1, 0},
		{"other width", Delta{Name: "requests", Kind: stat.KindCount, Start: sec(90), Width: 2 * time.Second, Stat: count(1)}, stat.ErrIncompatible, 0, 1, 0},
		{"misaligned start", delta(sec(90.5), 3), stat.ErrIncompatible, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCount(t, Options{})
			w.Advance(sec(100.5))
			before, _ := tt.d.Stat.(*stat.Count)
			err := w.Apply(tt.d)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.late, w.Late(), "late")
			assert.Equal(t, tt.rejected, w.Rejected(), "rejected")
			assert.Equal(t, tt.read, readCount(t, w, sec(100), 100*time.Second))
			if before != nil && tt.wantErr == nil {
				require.NoError(t, w.Apply(tt.d)) // d was left as it was: twice is double
				assert.Equal(t, 2*tt.read, readCount(t, w, sec(100), 100*time.Second))
			}
		})
	}
}

// TestDeltas checks the delta property: three receivers, each fed a third
// of a stream and cut at random points, and a merger applying every cut,
// end with exactly what one window fed the whole stream holds, bucket by
// bucket, for Count and for Sum of integers.
func TestDeltas(t *testing.T) {
	kinds := []struct {
		kind    stat.Kind
		observe func(s stat.Stat, v int64)
	}{
		{stat.KindCount, func(s stat.Stat, v int64) { s.(*stat.Count).Add(uint64(v)) }},
		{stat.KindSum, func(s stat.Stat, v int64) { s.(*stat.Sum).Observe(float64(v)) }},
	}
	for _, k := range kinds {
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("%s/seed=%d", k.kind, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 7))
				opts := Options{Span: 20 * time.Second, Lateness: 3 * time.Second, Skew: 10 * time.Second}
				mk := func() *Window { w, err := New("x", k.kind, opts); require.NoError(t, err); return w }
				whole, merger := mk(), mk()
				recv := []*Window{mk(), mk(), mk()}
				all := append([]*Window{whole, merger}, recv...)
				cutOne := func(rw *Window) {
					for _, d := range rw.Cut(nil) {
						require.NoError(t, merger.Apply(d))
					}
				}
				now := t0
				for _, w := range all {
					w.Advance(now)
				}
				for i := range 3000 {
					// Event times wander forward with jitter that is
					// sometimes late and sometimes ahead of the clock.
					at := now.Add(time.Duration(r.IntN(40_000)-30_000) * time.Millisecond)
					v := int64(r.IntN(1000) - 100)
					if s := whole.At(at); s != nil {
						k.observe(s, v)
					}
					if s := recv[i%3].At(at); s != nil {
						k.observe(s, v)
					}
					if r.IntN(50) == 0 { // a random receiver flushes
						cutOne(recv[r.IntN(3)])
					}
					if r.IntN(20) == 0 { // a tick: cut everything, then advance
						now = now.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
						for _, rw := range recv {
							cutOne(rw)
						}
						for _, w := range all {
							w.Advance(now)
						}
					}
				}
				for _, rw := range recv {
					cutOne(rw)
				}
				var late, rejected uint64
				for _, rw := range recv {
					late += rw.Late()
					rejected += rw.Rejected()
					assert.Zero(t, rw.Expired(), "a receiver lost a bucket to retention")
				}
				assert.Equal(t, whole.Late(), late)
				assert.Equal(t, whole.Rejected(), rejected)
				assert.NotZero(t, late+rejected, "the stream should exercise late and future events")
				assert.Equal(t, whole.Len(), merger.Len())
				for b := whole.lo; b <= whole.hi; b++ {
					end := time.Unix(0, (b+1)*whole.width)
					want, got := whole.newStat(), merger.newStat()
					require.NoError(t, whole.Read(end, whole.Width(), want))
					require.NoError(t, merger.Read(end, merger.Width(), got))
					wb, err := want.MarshalBinary()
					require.NoError(t, err)
					gb, err := got.MarshalBinary()
					require.NoError(t, err)
					assert.Equal(t, wb, gb, "bucket %v: want %v, got %v", end, want, got)
				}
			})
		}
	}
}

// TestMemoryBound runs a long, hostile stream through a window and checks
// that it never holds more than Slots buckets.
func TestMemoryBound(t *testing.T) {
	w := newCount(t, Options{Span: 30 * time.Second})
	want := (30+5+300)/1 + 1
	require.Equal(t, want, w.Slots())
	r := rand.New(rand.NewPCG(1, 2))
	now := t0
	w.Advance(now)
	maxLen := 0
	for range 200_000 {
		var at time.Time
		switch r.IntN(4) {
		case 0: // far future
			at = now.Add(time.Duration(r.Int64N(1<<50)) + 6*time.Minute)
		case 1: // long ago
			at = now.Add(-time.Duration(r.Int64N(1<<50)) - time.Minute)
		default: // anywhere the window accepts
			at = now.Add(time.Duration(r.Int64N(int64(340*time.Second))) - 35*time.Second)
		}
		if s := w.At(at); s != nil {
			s.(*stat.Count).Observe()
		}
		maxLen = max(maxLen, w.Len())
		if r.IntN(100) == 0 {
			now = now.Add(time.Duration(r.Int64N(int64(3 * time.Second))))
			w.Advance(now)
		}
	}
	assert.LessOrEqual(t, maxLen, w.Slots())
	assert.Greater(t, maxLen, w.Slots()*9/10, "the stream should nearly fill the ring")
	assert.NotZero(t, w.Late())
	assert.NotZero(t, w.Rejected())
}

func TestAtAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	w := newCount(t, Options{})
	w.Advance(t0)
	w.At(t0)
	allocs := testing.AllocsPerRun(1000, func() {
		w.At(t0).(*stat.Count).Observe()
		w.At(sec(1e9))  // rejected
		w.At(sec(-1e9)) // late
	})
	assert.Zero(t, allocs)
}
