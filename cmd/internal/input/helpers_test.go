package input

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// takeAll empties q and returns its jobs' data, in order, releasing them.
func takeAll(q *Queue) (data [][]byte) {
	for {
		j, ok := q.TryGet()
		if !ok {
			return data
		}
		data = append(data, bytes.Clone(j.Data))
		j.Release()
	}
}

// concat joins byte slices.
func concat(parts [][]byte) []byte { return bytes.Join(parts, nil) }

// nopLogger discards everything.
var nopLogger = slog.New(slog.DiscardHandler)
