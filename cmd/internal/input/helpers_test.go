package input

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
)

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

// goRun runs f in a goroutine until stop cancels its context. stop waits
// for f and returns its error (later calls return it again), failing the
// test when f has not returned 5 s after the cancel. The test's cleanup
// stops f when the test did not.
func goRun(t *testing.T, what string, f func(context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal(what + " did not return after cancel")
			}
			stopped = true
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// readEvents reads the jobs with logfmt's reader, as workers do.
func readEvents(t *testing.T, jobs [][]byte) (events int, st logfmt.ReaderStats) {
	t.Helper()
	for _, j := range jobs {
		r := logfmt.NewReader(bytes.NewReader(j), nil)
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			events++
		}
		s := r.Stats()
		st.Mismatches += s.Mismatches
		st.Unparsed += s.Unparsed
	}
	return events, st
}
