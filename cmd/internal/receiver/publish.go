package receiver

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// batchPublisher is the part of the bus a receiver uses.
type batchPublisher interface {
	PublishBatch(ctx context.Context, shard int, b []byte) error
}

// outgoing is one encoded batch waiting for the bus.
type outgoing struct {
	shard  int
	data   []byte
	cut    time.Time  // when it was cut; it is dropped once cut + ttl has passed
	events uint64     // the events it counts in pulse.events (its shard's share of the cut)
	self   selfReport // the publisher's own counts it reports
}

// selfReport is what one batch reports of the publisher's own counters:
// the counts worker 0 recorded into pulse.publish.errors,
// pulse.publish.dropped and pulse.publish.dropped.events since its
// previous cut, each in the batch of its name's shard. Those counts grow
// while the bus is down, when batches are dropped: a dropped batch hands
// the counts it carried back to the publisher, and the next cut reports
// them again, so that they reach the mergers once the bus is back.
type selfReport struct{ errors, dropped, events uint64 }

func (a *selfReport) add(b selfReport) {
	a.errors += b.errors
	a.dropped += b.dropped
	a.events += b.events
}

// publisher hands encoded batches to the bus from a bounded queue, so that
// a slow or absent bus never blocks parsing and folding. A batch that cannot
// be published within ttl of its cut, after retries with backoff, is dropped
// and counted: the merger would count it late by then anyway.
type publisher struct {
	bus batchPublisher
	q   chan outgoing
	ttl time.Duration
	log *slog.Logger

	published     atomic.Uint64 // batches the bus took
	failed        atomic.Uint64 // publish attempts that failed
	dropped       atomic.Uint64 // batches given up: queue full or ttl passed
	droppedEvents atomic.Uint64 // the events those batches counted in pulse.events
	latency       atomic.Int64  // nanoseconds of the latest successful publish
	maxLat        atomic.Int64  // the largest latency since the last take
	lastOK        atomic.Int64  // unix ns of the cut of the latest batch published
	lastDrop      atomic.Int64  // unix ns of the cut of the latest batch dropped

	mu         sync.Mutex
	unreported selfReport // counts carried by dropped batches, for the next cut
}

// drop gives o up, counting it and the events it counted, and keeps the
// counts it reported for the next cut.
func (p *publisher) drop(o outgoing) {
	p.dropped.Add(1)
	p.droppedEvents.Add(o.events)
	storeMax(&p.lastDrop, o.cut.UnixNano())
	p.mu.Lock()
	p.unreported.add(o.self)
	p.mu.Unlock()
}

// takeUnreported returns the counts that dropped batches carried, and
// forgets them: the caller reports them again.
func (p *publisher) takeUnreported() selfReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.unreported
	p.unreported = selfReport{}
	return r
}

// failing reports whether the latest cut the publisher has given up on is
// later than the latest it published: the last cuts are not reaching the
// bus.
func (p *publisher) failing() bool { return p.lastDrop.Load() > p.lastOK.Load() }

// storeMax sets v to x when x is larger.
func storeMax(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

func newPublisher(b batchPublisher, capacity int, ttl time.Duration, log *slog.Logger) *publisher {
	return &publisher{bus: b, q: make(chan outgoing, capacity), ttl: ttl, log: log}
}

// offer queues o without blocking; false means the queue was full and o
// was dropped (counted).
func (p *publisher) offer(o outgoing) bool {
	select {
	case p.q <- o:
		return true
	default:
		p.drop(o)
		return false
	}
}

// run publishes until ctx is done and the queue is closed and drained.
// Close the queue (close(p.q)) after the last offer; run then publishes
// what is left, each batch still bounded by its ttl, and returns.
func (p *publisher) run(ctx context.Context) {
	for o := range p.q {
		p.publish(ctx, o)
	}
}

// publish tries o until it is taken or its ttl has passed. It keeps trying
// after ctx is done, within the ttl, so the last cut of a shutdown is
// flushed.
func (p *publisher) publish(ctx context.Context, o outgoing) {
	deadline := o.cut.Add(p.ttl)
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		left := time.Until(deadline)
		if left <= 0 {
			p.drop(o)
			p.log.Warn("batch dropped: not published in time", "shard", o.shard, "bytes", len(o.data), "attempts", attempt, "timeout", p.ttl)
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), left)
		start := time.Now()
		err := p.bus.PublishBatch(actx, o.shard, o.data)
		cancel()
		if err == nil {
			lat := int64(time.Since(start))
			p.published.Add(1)
			p.latency.Store(lat)
			storeMax(&p.maxLat, lat)
			storeMax(&p.lastOK, o.cut.UnixNano())
			return
		}
		p.failed.Add(1)
		if attempt == 0 {
			p.log.Warn("publish failed; retrying", "shard", o.shard, "err", err)
		}
		t := time.NewTimer(min(backoff, max(time.Until(deadline), 0)))
		<-t.C
		backoff = min(backoff*2, time.Second)
	}
}
