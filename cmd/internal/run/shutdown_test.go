package run

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// TestShutdownTimeout checks the cap on a shutdown: a receiver whose
// last cut cannot reach a stuck Redis within the shutdown timeout returns
// at the timeout, with an error and a log line that say so, rather than
// when the cut's PUBLISH_TIMEOUT ends (past the platform's SIGKILL).
func TestShutdownTimeout(t *testing.T) {
	s := redistest.Start(t)
	defer func(d time.Duration) { shutdownTimeout = d }(shutdownTimeout)
	shutdownTimeout = time.Second

	cfg, err := parse(t, "all", map[string]string{
		"ROLE": "receiver", "REDIS_URL": s.URL(), "PUBLISH_TIMEOUT": "10s", "FLUSH_INTERVAL": "100ms", "DEMO": "1",
	})
	require.NoError(t, err)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Start(ctx, *cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()

	// Up once its cuts reach Redis.
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	require.Eventually(t, func() bool { return c.XLen(t.Context(), "pulse:received:0").Val() > 0 }, 10*time.Second, 20*time.Millisecond)

	require.NoError(t, s.Pause())
	defer s.Resume()
	start := time.Now()
	cancel()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return at its shutdown timeout")
	}
	took := time.Since(start)
	assert.ErrorContains(t, err, "shutdown took longer than 1s")
	assert.GreaterOrEqual(t, took, time.Second)
	assert.Less(t, took, 5*time.Second)
	assert.Contains(t, logs.String(), `msg="shutdown did not finish in time; exiting without waiting for the rest" timeout=1s`)
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
