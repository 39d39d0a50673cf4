package receiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
)

func TestDemoWritesFramesInRealTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	var all bytes.Buffer
	start := time.Now()
	err := runDemo(ctx, 500, 1, func(data []byte, arrival time.Time) {
		mu.Lock()
		all.Write(data) // put's data is borrowed: copy it
		mu.Unlock()
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	r := logfmt.NewReader(bytes.NewReader(all.Bytes()), nil)
	var n int
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		n++
		// Event times follow the wall clock: none is in the future.
		assert.False(t, ev.Time.After(time.Now()), "event at %v", ev.Time)
		assert.False(t, ev.Time.Before(start.Add(-time.Second)), "event at %v", ev.Time)
	}
	// About a second at 500 lines/s (plus metrics lines): a broad band,
	// since the test measures a count, not a time.
	assert.Greater(t, n, 100)
	assert.Less(t, n, 2000)
}
