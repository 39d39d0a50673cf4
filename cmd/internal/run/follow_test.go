package run

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// TestFollowLag follows a shard's snapshots, then the same seconds
// published again, late, as a restarted merger publishes its last
// minute: the lag of each second is the one it had the first time.
func TestFollowLag(t *testing.T) {
	b, err := bus.NewMemory(bus.MemoryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	h, err := web.NewHistory(web.HistoryConfig{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- follow(ctx, b, h, nil, time.Minute, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })

	T := time.Now().Truncate(time.Second).Add(-5 * time.Second)
	publish := func(at time.Time) {
		t.Helper()
		snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{"x": stat.Number(1)}}
		require.NoError(t, b.PublishSnapshot(t.Context(), 0, snap.AppendJSON(nil)))
	}
	lags := func() map[time.Time]float64 {
		out := map[time.Time]float64{}
		for _, p := range historyPoints(t, h, selfstat.Lag) {
			out[p.at] = p.v
		}
		return out
	}
	publish(T)
	publish(T.Add(time.Second))
	require.Eventually(t, func() bool { return len(lags()) == 2 }, 5*time.Second, 10*time.Millisecond)
	first := lags()
	time.Sleep(20 * time.Millisecond) // a later arrival: a larger lag
	publish(T)
	publish(T.Add(time.Second))
	publish(T.Add(2 * time.Second))
	require.Eventually(t, func() bool { return len(lags()) == 3 }, 5*time.Second, 10*time.Millisecond)
	again := lags()
	assert.Equal(t, first[T], again[T], "the lag of a second published again")
	assert.Equal(t, first[T.Add(time.Second)], again[T.Add(time.Second)])
	assert.Contains(t, again, T.Add(2*time.Second), "a new second has its lag")
}

type point struct {
	at time.Time
	v  float64
}

// historyPoints returns the points of name that the web serves from h
// (GET /stats?names=name).
func historyPoints(t *testing.T, h *web.History, name string) []point {
	t.Helper()
	w := httptest.NewRecorder()
	web.Handler(h, web.Config{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/stats?names="+name, nil))
	require.Equal(t, http.StatusOK, w.Code)
	var got map[string][][2]float64
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	var out []point
	for _, p := range got[name] {
		out = append(out, point{time.UnixMilli(int64(p[0])), p[1]})
	}
	return out
}
