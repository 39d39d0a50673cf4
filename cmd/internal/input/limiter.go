package input

import (
	"sync/atomic"
	"time"
)

// logEvery is the shortest interval between two log lines about events that
// come in floods (drops, rejected requests); the counters have them all.
const logEvery = 10 * time.Second

// A limiter lets one event through every logEvery. The zero value is
// ready; it is safe for use by multiple goroutines.
type limiter struct {
	next atomic.Int64 // unix nanoseconds before which nothing passes
}

// allow reports whether an event at now may be logged.
func (l *limiter) allow(now time.Time) bool {
	t := now.UnixNano()
	n := l.next.Load()
	return t >= n && l.next.CompareAndSwap(n, t+int64(logEvery))
}
