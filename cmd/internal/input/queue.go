package input

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Default capacities of a Queue.
const (
	// DefaultQueueJobs is QueueConfig.Jobs when zero. Logplex bodies are
	// a few KiB, so 4096 of them take about a third of the default byte
	// budget; stream jobs are larger, and the byte budget binds first.
	DefaultQueueJobs = 4096
	// DefaultQueueBytes is QueueConfig.Bytes when zero: 32 MiB, about
	// 100 k router lines: a tenth of a second of a receiver folding its
	// fastest (1 M events/s), and many seconds of a usual one.
	DefaultQueueBytes = 32 << 20
)

// QueueConfig sets the capacity of a Queue. Zero fields mean the defaults.
type QueueConfig struct {
	// Jobs is the largest number of jobs the queue holds; zero means
	// DefaultQueueJobs.
	Jobs int
	// Bytes is the byte budget: the queue refuses a job when the Data of
	// the jobs it holds (or the Size of those that carry a Batch) would
	// pass this many bytes. One job larger than the
	// budget is still taken when the queue is otherwise empty, so that no
	// job is refused forever. Zero means DefaultQueueBytes.
	Bytes int64
}

// A Queue is a bounded queue of jobs between the inputs and the parse
// workers, bounded both in jobs and in bytes of Data. Its buffers come in
// power-of-two size classes, so the memory it holds is at most about twice
// its byte budget.
//
// The drain handler never waits on it: TryPut refuses a job at once when
// the queue is full, and the handler counts a drop and answers 503. Syslog
// and aorta connections wait a moment (QueueWait) with Put and then drop.
// The file input, which must lose nothing, waits with Put as long as it
// takes.
//
// A Queue is safe for use by multiple goroutines.
type Queue struct {
	jobs     chan Job
	maxBytes int64
	bytes    atomic.Int64

	// Put's waiters sleep on freed, which Get closes and replaces when
	// there are any.
	waiters atomic.Int32
	mu      sync.Mutex
	freed   chan struct{}
}

// NewQueue returns an empty queue with the capacity cfg sets.
func NewQueue(cfg QueueConfig) *Queue {
	if cfg.Jobs <= 0 {
		cfg.Jobs = DefaultQueueJobs
	}
	if cfg.Bytes <= 0 {
		cfg.Bytes = DefaultQueueBytes
	}
	return &Queue{
		jobs:     make(chan Job, cfg.Jobs),
		maxBytes: cfg.Bytes,
		freed:    make(chan struct{}),
	}
}

// TryPut adds j to the queue and reports true, or reports false at once
// when the queue is full in jobs or in bytes. On false the caller still
// owns j and must Release it (after counting the drop).
func (q *Queue) TryPut(j Job) bool {
	n := j.size()
	for {
		cur := q.bytes.Load()
		if cur > 0 && cur+n > q.maxBytes {
			return false
		}
		if q.bytes.CompareAndSwap(cur, cur+n) {
			break
		}
	}
	select {
	case q.jobs <- j:
		return true
	default:
		q.bytes.Add(-n)
		return false
	}
}

// Put adds j to the queue, waiting for room as long as ctx allows. It
// returns nil once j is queued, or ctx's error, in which case the caller
// still owns j.
func (q *Queue) Put(ctx context.Context, j Job) error {
	if q.TryPut(j) {
		return nil
	}
	q.waiters.Add(1)
	defer q.waiters.Add(-1)
	for {
		// Take the channel before trying, so that a Get between the try
		// and the wait still wakes us.
		q.mu.Lock()
		freed := q.freed
		q.mu.Unlock()
		if q.TryPut(j) {
			return nil
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Get removes and returns the oldest job, waiting for one as long as ctx
// allows; ok is false when ctx is done first. The caller owns the job and
// must Release it.
func (q *Queue) Get(ctx context.Context) (j Job, ok bool) {
	select {
	case j = <-q.jobs:
		q.took(j)
		return j, true
	case <-ctx.Done():
		return Job{}, false
	}
}

// TryGet removes and returns the oldest job if there is one, without
// waiting: workers use it to drain the queue at shutdown.
func (q *Queue) TryGet() (j Job, ok bool) {
	select {
	case j = <-q.jobs:
		q.took(j)
		return j, true
	default:
		return Job{}, false
	}
}

// took accounts for a job leaving the queue and wakes any waiting Put.
func (q *Queue) took(j Job) {
	q.bytes.Add(-j.size())
	if q.waiters.Load() > 0 {
		q.mu.Lock()
		close(q.freed)
		q.freed = make(chan struct{})
		q.mu.Unlock()
	}
}

// Len returns the number of jobs in the queue.
func (q *Queue) Len() int { return len(q.jobs) }

// Bytes returns the number of bytes of Data in the queue.
func (q *Queue) Bytes() int64 { return q.bytes.Load() }

// GetUntil waits for a job, for tick, or for ctx, whichever comes first.
// It returns the job and true, or false when tick fired or ctx ended
// (check ctx.Err() to tell which). A worker that also flushes on a
// ticker waits here.
func (q *Queue) GetUntil(ctx context.Context, tick <-chan time.Time) (j Job, ok bool) {
	select {
	case j = <-q.jobs:
		q.took(j)
		return j, true
	case <-tick:
		return Job{}, false
	case <-ctx.Done():
		return Job{}, false
	}
}
