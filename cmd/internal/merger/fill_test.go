package merger

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/window"
)

// TestMergerFill starts a merger over a stream that holds the last 100 s
// of a receiver's cuts, one a second, each stored by Redis at its own
// time (XADD with the ID the live bus would have given it), as when a
// merger restarts after a crash: with a fill it publishes every second
// of the minute before its start whose one-minute windows it read whole,
// oldest first, then goes on live, with no hole between; each snapshot
// holds what the receiver folded in the minute before it. Without a
// fill, its first snapshot is its first live second; with a stream that
// begins later, the fill begins at the stream's first second.
func TestMergerFill(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	tests := []struct {
		name   string
		fill   time.Duration
		stream time.Duration // how far back the stream begins
		fills  bool
	}{
		{"default fill", 0, 100 * time.Second, true},
		{"no fill", -1, 100 * time.Second, false},
		{"a stream shorter than the fill", 0, 70 * time.Second, true},
		{"a young stream", 0, 20 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := "test:" + t.Name() + ":"
			b, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: srv.URL(), Prefix: prefix, Timeout: time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { b.Close() })
			c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { c.Close() })

			// One cut a second: n(s) events at s + 100 ms, cut at
			// s + 500 ms, stored at s + 600 ms.
			now := time.Now()
			first := now.Add(-tt.stream).Truncate(time.Second)
			last := now.Truncate(time.Second).Add(-time.Second)
			n := func(s time.Time) int { return int(s.Unix()%5) + 1 }
			r := newReceiver(t, "a")
			r.set, err = window.NewDefSet(testDefs(), &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
			require.NoError(t, err)
			require.NoError(t, r.set.Advance(first))
			for s := first; !s.After(last); s = s.Add(time.Second) {
				r.fold(t, s.Add(100*time.Millisecond), n(s))
				batch := r.cut(t, 1, s.Add(500*time.Millisecond))[0]
				require.NoError(t, c.XAdd(t.Context(), &redis.XAddArgs{
					Stream: prefix + "received:0",
					ID:     strconv.FormatInt(s.Add(600*time.Millisecond).UnixMilli(), 10) + "-0",
					Values: []any{"b", batch},
				}).Err())
			}

			m, err := New(Config{Defs: testDefs(), Flush: testFlush, Grace: testGrace, Fill: tt.fill}, b, nil)
			require.NoError(t, err)
			run(t, m)
			live := waitSnapshot(t, b, 0, "a live snapshot", func(s snapshot) bool { return s.Time.After(last) })
			snaps := snapshots(t, b, 0)
			name := namesIn(0, 1)[0]
			var filled int
			for i, s := range snaps {
				if i > 0 && !s.Time.Equal(snaps[i-1].Time.Add(time.Second)) {
					t.Errorf("snapshot %d at %v follows %v: a hole or a repeat", i, s.Time.Format(time.TimeOnly), snaps[i-1].Time.Format(time.TimeOnly))
				}
				want := 0
				for x := s.Time.Add(-time.Minute); x.Before(s.Time); x = x.Add(time.Second) {
					if !x.Before(first) && !x.After(last) {
						want += n(x)
					}
				}
				assert.Equal(t, float64(want), number(t, s.Snapshot, name), "%s at %v", name, s.Time.Format(time.TimeOnly))
				if s.Time.Before(live.Time) && s.stored.Before(live.stored) {
					filled++
				}
			}
			h, _ := m.Health()
			if !tt.fills {
				assert.True(t, snaps[0].Time.After(now.Add(-testDelay-2*time.Second)), "the first snapshot, at %v, is live", snaps[0].Time.Format(time.TimeOnly))
				assert.Equal(t, uint64(0), h["merger_filled"])
				return
			}
			// The first second whose longest window the merger read
			// whole, reading back its lateness (5 s), its longest window
			// and the fill from its start, soon after now; but not before
			// the second after the stream's first batch.
			wantFirst := now.Add(-5 * time.Second).Add(-DefaultFill).Truncate(time.Second).Add(time.Second)
			if f := first.Add(time.Second); f.After(wantFirst) {
				wantFirst = f
			}
			assert.WithinDuration(t, wantFirst, snaps[0].Time, time.Second, "the fill's first second")
			assert.InDelta(t, float64(now.Sub(wantFirst)/time.Second), float64(h["merger_filled"].(uint64)), 3, "seconds filled")
			assert.Equal(t, uint64(0), h["merger_missing"], "no batch missing from the source's sequence")
			t.Logf("%d snapshots, %d filled (%v), the first at %v, the stream from %v", len(snaps), h["merger_filled"], filled,
				snaps[0].Time.Format(time.TimeOnly), first.Format(time.TimeOnly))
		})
	}
}
