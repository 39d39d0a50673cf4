// Package runtest runs a role's Run in the background of a test: the
// receiver's and the merger's tests start their role with it and stop it
// when they are done, or at cleanup.
package runtest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Start runs run in a goroutine until the returned stop is called, which
// cancels run's context and returns its error (or an error when run has
// not returned 10 s later). Calling stop again returns the same result;
// t's cleanup calls it too.
func Start(t testing.TB, run func(context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var stopped atomic.Bool
	var result error
	stop = func() error {
		if stopped.Swap(true) {
			return result
		}
		cancel()
		select {
		case result = <-done:
		case <-time.After(10 * time.Second):
			result = errors.New("runtest: Run did not return within 10 s of cancel")
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return stop
}
