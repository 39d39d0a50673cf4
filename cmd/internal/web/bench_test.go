package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realistic returns a snapshot of n stats shaped like the default Heroku
// set's: mostly numbers (some null), every sixth a quantiles value and
// every tenth a top-k list.
func realistic(n int, t time.Time) window.Snapshot {
	s := window.Snapshot{Time: t, Stats: make(map[string]stat.Value, n)}
	for i := range n {
		name := fmt.Sprintf("router.stat%03d", i)
		switch {
		case i%10 == 9:
			s.Stats[name] = stat.TopValue([]stat.TopValueEntry{
				{Key: "api.example.com", Value: 412.5}, {Key: "www.example.com", Value: 97.25}, {Key: "admin.example.com", Value: 3.5},
			})
		case i%6 == 5:
			s.Stats[name] = stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.95, Value: 97}, {Q: 0.99, Value: 412}})
		case i%13 == 12:
			s.Stats[name] = stat.Null()
		default:
			s.Stats[name] = stat.Number(float64(i) * 12.25)
		}
	}
	return s
}

// full returns a History holding points × 150 stats, one snapshot a
// second.
func full(tb testing.TB, points int) *History {
	tb.Helper()
	h, _ := newHistory(tb, HistoryConfig{})
	for s := range points { // within MaxAhead of the test clock
		h.Add(0, realistic(150, at(s)))
	}
	return h
}

// benchHistory returns a History whose wall clock stands still far
// after any snapshot time a benchmark reaches, so that no snapshot is
// refused as ahead of it and the shards stay live.
func benchHistory(b *testing.B) *History {
	h, err := NewHistory(HistoryConfig{Now: func() time.Time { return t0.AddDate(100, 0, 0) }})
	require.NoError(b, err)
	return h
}

func BenchmarkAdd(b *testing.B) {
	h := benchHistory(b)
	snaps := [2]window.Snapshot{realistic(150, t0), realistic(150, t0)}
	s := 0
	b.ReportAllocs()
	for b.Loop() {
		snap := snaps[s%2]
		snap.Time = at(s)
		h.Add(0, snap)
		s++
	}
	require.Equal(b, uint64(0), h.Stats().Rejected)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/150, "ns/point")
}

func BenchmarkAddSubscribed(b *testing.B) {
	h := benchHistory(b)
	ch, cancel := h.Subscribe(1 << 20)
	defer cancel()
	snap := realistic(150, t0)
	s := 0
	b.ReportAllocs()
	for b.Loop() {
		snap.Time = at(s)
		h.Add(0, snap)
		(<-ch).JSON()
		s++
	}
}

// TestAddAllocs: in steady state, Add with no subscribers allocates
// nothing.
func TestAddAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations differ under -race")
	}
	h, _ := newHistory(t, HistoryConfig{Points: 60})
	snap := realistic(150, t0)
	s := 0
	for ; s < 100; s++ {
		snap.Time = at(s)
		h.Add(0, snap)
	}
	allocs := testing.AllocsPerRun(200, func() {
		snap.Time = at(s)
		h.Add(0, snap)
		s++
	})
	assert.Zero(t, allocs)
	buf := h.appendStats(nil, 0, nil)
	allocs = testing.AllocsPerRun(20, func() { buf = h.appendStats(buf[:0], 0, nil) })
	assert.LessOrEqual(t, allocs, 10.0, "appendStats into a buffer of the right size: a few per distinct quantile, none per point")
}

// discard is a ResponseWriter that counts what is written.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchHandler(b *testing.B, target string) {
	h := full(b, DefaultPoints)
	hd := Handler(h, Config{})
	req := httptest.NewRequest(http.MethodGet, target, nil)
	w := &discard{h: http.Header{}}
	hd.ServeHTTP(w, req)
	require.Positive(b, w.n)
	b.SetBytes(int64(w.n))
	b.ReportMetric(float64(w.n), "B/response")
	b.ReportAllocs()
	for b.Loop() {
		hd.ServeHTTP(w, req)
	}
}

// BenchmarkStats encodes ten minutes of 150 stats.
func BenchmarkStats(b *testing.B) { benchHandler(b, "/stats") }

// BenchmarkStatsSince encodes the newest second, as a page polling with
// since does.
func BenchmarkStatsSince(b *testing.B) {
	benchHandler(b, "/stats?since="+strconv.FormatInt(at(DefaultPoints-2).UnixMilli(), 10))
}

func BenchmarkStatsNames(b *testing.B) {
	benchHandler(b, "/stats?names=router.stat001,router.stat005,router.stat009")
}

func BenchmarkLatest(b *testing.B) { benchHandler(b, "/stats/latest") }
