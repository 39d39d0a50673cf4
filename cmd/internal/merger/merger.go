// Package merger is Pulse's merger role: one shard of the stat names. It
// follows its shard's stream of receiver batches, drops batches it has
// already applied (by source and sequence number), merges their deltas into
// its windows, and every second publishes a snapshot of its shard's stats
// at T, the latest whole second at least FLUSH_INTERVAL + GRACE in the past.
//
// That delay is the price of exact numbers: by T + flush + grace every
// receiver has cut, and published, its deltas for the seconds before T. A
// delta that arrives for a second already published is still merged into
// its own second, so later snapshots are right, and it is counted
// (pulse.merger.<shard>.republished); one older than the windows'
// retention is dropped and counted (pulse.merger.<shard>.late).
//
// On start the merger reads its stream back over the longest window plus
// its lateness, so a restarted merger publishes whole windows at once, and
// a minute further (Config.Fill): it replays that stretch in the order the
// bus stored it, its clock following the stream, and publishes every second
// of it whose windows the stream holds whole, oldest first, as it would
// have published them live. A merger restarted after a crash so fills
// the seconds it was down with the numbers it would have published, and
// the webs' history has no hole; seconds it had published are published
// again with the same numbers (the webs replace a point at the same time).
//
// A second is published only after a read of the stream, begun once the
// second had settled, that reached the stream's end: a merger that fell
// behind (a pause, a starved CPU, a slow bus) applies what came meanwhile
// first, then publishes every second it missed, back as far as its
// lateness less its delay (3 s at the defaults; an older one's windows
// may have lost a bucket). While its reads fail it publishes nothing.
//
// A merger's work for a second is applying its receivers' batches:
// fragment's BenchmarkApplySecond measures it for 16 receivers of the
// default set (go test -run '^$' -bench ApplySecond ./fragment).
package merger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"golang.org/x/time/rate"
)

// Config configures a Merger. Zero fields mean the defaults given.
type Config struct {
	// Defs are the stat definitions; every receiver and merger must use
	// the same.
	Defs []def.Def
	// Shard is this merger's shard, of Shards (MERGER_COUNT; zero means 1).
	Shard, Shards int
	// Flush is the receivers' flush interval and Grace how long past it
	// the merger waits; a second is published Flush + Grace after it ends.
	// Zero means 1 s each.
	Flush, Grace time.Duration
	// Window holds set options beyond Clock and SelfStats; nil means the
	// defaults. Its Lateness must be at least Flush + Grace.
	Window *window.SetOptions
	// Fill is how far before its start the merger publishes the seconds
	// its shard may have missed: it reads its stream back that much
	// further than its longest window and lateness. Zero means
	// DefaultFill; a negative value, none. Only seconds the stream still
	// holds whole windows for are published, so a fill beyond the bus's
	// retention publishes less, never short numbers.
	Fill time.Duration
}

// DefaultFill is Config.Fill's default: a minute, which the streams'
// retention in package run (the longest window, 5 s and a minute) holds.
const DefaultFill = time.Minute

// A merger logs the first logFirst failures of a kind (batches not
// applied, snapshots not published), then at most one every logEvery.
const (
	logFirst = 8
	logEvery = 10 * time.Second
)

// Merger is one merger process's shard. Create it with New and call Run
// once.
type Merger struct {
	cfg     Config
	bus     bus.Bus
	log     *slog.Logger
	set     *window.Set
	apply   *fragment.Applier
	back    time.Duration // how far back to read on start
	longest time.Duration // the longest window a snapshot reads
	width   time.Duration // the buckets' width: a snapshot every width
	// catchUp is how far back from the latest settled second the merger
	// publishes the seconds it missed: its lateness less its delay, past
	// which a window may have lost a bucket.
	catchUp time.Duration

	own       *ownStats // the merger's own figures, published under its shard's name
	srcs      *sources  // the receivers' sources, for the missing and live figures
	committed time.Time // when srcs last counted its gaps

	// applyLog and publishLog keep a flood of failures (a forger writing
	// junk to the stream, Redis down) from flooding the log: the first
	// logFirst failures get a line each, then one every logEvery; the
	// counters have them all.
	applyLog, publishLog rate.Sometimes

	batches, duplicates, failed atomic.Uint64
	publishErrors, readErrors   atomic.Uint64
	missing, filled             atomic.Uint64 // batches missing from their sources' sequences; seconds published by the fill
	liveSources                 atomic.Int64  // sources heard from in the last 10 s, at the latest snapshot
	started                     atomic.Int64  // unix ns when Run began; 0 before
	lastRead                    atomic.Int64  // unix ns of the latest read of the bus that did not fail
	lastPublish                 atomic.Int64  // unix ns of the latest snapshot time published
}

// New returns a merger for cfg over b.
func New(cfg Config, b bus.Bus, log *slog.Logger) (*Merger, error) {
	if cfg.Shards < 1 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("merger: shard %d out of range 0..%d", cfg.Shard, cfg.Shards-1)
	}
	if cfg.Flush <= 0 {
		cfg.Flush = time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := window.SetOptions{}
	if cfg.Window != nil {
		opts = *cfg.Window
	}
	opts.Clock = window.ManualClock
	opts.SelfStats = selfstat.Defs()
	if opts.Lateness == 0 {
		opts.Lateness = window.DefaultLateness
	}
	if opts.Lateness < cfg.Flush+cfg.Grace {
		opts.Lateness = cfg.Flush + cfg.Grace + time.Second
	}
	set, err := window.NewDefSet(cfg.Defs, &opts)
	if err != nil {
		return nil, fmt.Errorf("merger: %w", err)
	}
	longest := max(window.DefaultSpan, def.LongestWindow(cfg.Defs))
	own, err := newOwnStats(opts.Lateness)
	if err != nil {
		return nil, fmt.Errorf("merger: own figures: %w", err)
	}
	width := opts.Width
	if width <= 0 {
		width = window.DefaultWidth
	}
	switch {
	case cfg.Fill == 0:
		cfg.Fill = DefaultFill
	case cfg.Fill < 0:
		cfg.Fill = 0
	}
	m := &Merger{cfg: cfg, bus: b, log: log, set: set, back: longest + opts.Lateness + cfg.Fill, longest: longest, width: width,
		catchUp: max(opts.Lateness-cfg.Flush-cfg.Grace, 0), own: own, srcs: newSources(cfg.Flush + cfg.Grace),
		applyLog:   rate.Sometimes{First: logFirst, Interval: logEvery},
		publishLog: rate.Sometimes{First: logFirst, Interval: logEvery}}
	m.apply = fragment.NewApplier(set, fragment.NewSeen(fragment.DefaultSeenSources), nil)
	return m, nil
}

// Health reports the merger's freshness for /healthz: an error when it
// has not published for five seconds past its delay (counting from the
// start of Run while it has published nothing), or when its reads of the
// bus have failed for as long, in which case it would go on publishing
// snapshots that miss every batch since.
func (m *Merger) Health() (map[string]any, error) {
	info := map[string]any{
		"merger_shard":          m.cfg.Shard,
		"merger_batches":        m.batches.Load(),
		"merger_duplicates":     m.duplicates.Load(),
		"merger_apply_errors":   m.failed.Load(),
		"merger_publish_errors": m.publishErrors.Load(),
		"merger_read_errors":    m.readErrors.Load(),
		"merger_missing":        m.missing.Load(),
		"merger_sources":        m.liveSources.Load(),
		"merger_filled":         m.filled.Load(),
	}
	started := m.started.Load()
	if started == 0 {
		return info, nil
	}
	now := time.Now()
	limit := m.cfg.Flush + m.cfg.Grace + 5*time.Second
	if read := now.Sub(time.Unix(0, max(m.lastRead.Load(), started))); read > limit {
		return info, fmt.Errorf("merger: shard %d: no batches read for %v (%d failed reads)",
			m.cfg.Shard, read.Round(time.Millisecond), m.readErrors.Load())
	}
	last := m.lastPublish.Load()
	if last == 0 {
		if up := now.Sub(time.Unix(0, started)); up > limit {
			return info, fmt.Errorf("merger: shard %d: nothing published in the %v since it started (%d failed publishes)",
				m.cfg.Shard, up.Round(time.Millisecond), m.publishErrors.Load())
		}
		return info, nil
	}
	age := now.Sub(time.Unix(0, last))
	info["merger_published_age_ms"] = age.Milliseconds()
	if age > limit {
		return info, fmt.Errorf("merger: shard %d last published %v ago", m.cfg.Shard, age.Round(time.Millisecond))
	}
	return info, nil
}

// Run reads the shard's stream back over the longest window, its lateness
// and Config.Fill, publishing the seconds of the fill, then follows the
// stream and publishes a snapshot every second until ctx is done. Bus
// errors are logged and retried with backoff; they never stop the merger.
func (m *Merger) Run(ctx context.Context) error {
	start := time.Now()
	from := start.Add(-m.back)
	if err := m.set.Advance(from); err != nil {
		return fmt.Errorf("merger: %w", err)
	}
	m.own.advance(from)
	m.started.Store(start.UnixNano())
	pos := bus.At(from)
	m.log.Info("merger started", "shard", m.cfg.Shard, "shards", m.cfg.Shards, "backfill", m.back, "fill", m.cfg.Fill, "delay", m.cfg.Flush+m.cfg.Grace)

	const perRead = 256
	var published time.Time
	// While backfilling, the clock follows the stream: each batch's
	// position is the time the bus stored it, and every batch stored
	// before it has been read. fill is the first second whose windows
	// the stream holds whole, once its first batch is read.
	backfill := true
	var fill time.Time
	caughtUp := false
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		now := time.Now()
		if !backfill {
			m.advance(now)
		}
		block := m.cfg.Flush / 4
		if !caughtUp {
			block = time.Millisecond
		}
		msgs, err := m.bus.ReadBatches(ctx, m.cfg.Shard, pos, perRead, block)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			m.readErrors.Add(1)
			m.log.Warn("reading batches failed; retrying", "shard", m.cfg.Shard, "err", err, "backoff", backoff)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		m.lastRead.Store(time.Now().UnixNano())
		for _, msg := range msgs {
			clock := now
			if backfill {
				clock = m.streamTime(msg.ID)
				if fill.IsZero() && m.cfg.Fill > 0 {
					fill = m.fillFrom(from, clock)
				}
				m.advance(clock)
				published = m.publishFill(ctx, published, fill)
			}
			pos = msg.ID
			m.applyOne(msg.Data, clock)
		}
		// A read begun after now that reached the end of the stream has
		// applied every batch published before now: the seconds settled
		// at now are whole. After a pause (a stopped process, a slow bus)
		// the batches of the pause are read first, not skipped.
		caughtUp = len(msgs) < perRead
		if !caughtUp {
			continue
		}
		if backfill {
			backfill = false
			m.log.Info("merger caught up", "shard", m.cfg.Shard, "batches", m.batches.Load(), "failed", m.failed.Load(), "filled", m.filled.Load(), "took", time.Since(start).Round(time.Millisecond))
		}
		if len(msgs) == 0 {
			// Nothing came for block from the read's start: whole until
			// then. (Not until the reply was read: a process paused
			// meanwhile reads it much later.)
			if now = now.Add(block); now.After(time.Now()) {
				now = time.Now()
			}
		}
		m.advance(now)
		T := m.set.Settled(m.cfg.Flush + m.cfg.Grace)
		if !T.After(published) {
			continue
		}
		// Every second since the last one published, so that a merger
		// that fell behind leaves no hole in the web's history; but none
		// whose windows reach back past retention (their snapshot would be
		// short: an error), nor any before the first, after a start.
		at := T
		if !published.IsZero() {
			at = published.Add(m.width)
			if earliest := T.Add(-m.catchUp); at.Before(earliest) {
				at = earliest
			}
		}
		for ; !at.After(T); at = at.Add(m.width) {
			if err := m.publish(ctx, at); err != nil {
				if at.Before(T) && errors.Is(err, window.ErrClock) {
					continue // a window no longer whole at a missed second: leave it out
				}
				m.publishFailed(at, err)
				continue
			}
			m.lastPublish.Store(at.UnixNano())
		}
		// A second that could not be published is not retried: the next
		// one covers it, and the web's history shows the gap.
		published = T
	}
	m.log.Info("merger stopped", "shard", m.cfg.Shard, "batches", m.batches.Load(), "duplicates", m.duplicates.Load(), "failed", m.failed.Load(), "publish_errors", m.publishErrors.Load())
	return nil
}

// fillFrom returns the first second the fill publishes, for a read of the
// stream from from whose first batch was stored at first: the first whose
// longest window starts after from's second, so that every batch of it
// was read (a batch stored before from holds buckets up to from's second
// at most); and none before the stream's first batch, which would read
// a time the stream knows nothing of (a young deployment, or a Redis that
// came back empty: its first minute is short by what it lost, as a
// merger's first live snapshot is).
func (m *Merger) fillFrom(from, first time.Time) time.Time {
	return later(from.Truncate(m.width).Add(m.width+m.longest), first.Truncate(m.width).Add(m.width))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// streamTime returns the time the bus stored the batch at position id,
// no later than the wall clock (the bus's clock may run ahead of ours).
func (m *Merger) streamTime(id string) time.Time {
	now := time.Now()
	t, err := bus.PositionTime(id)
	if err != nil || t.After(now) {
		return now
	}
	return t
}

// advance moves the merger's clock to now, and counts the gaps in the
// sources' sequences that stayed open for the merger's delay (every tenth
// of a second at most: it looks at every source).
func (m *Merger) advance(now time.Time) {
	_ = m.set.Advance(now) // a ManualClock set: cannot fail
	m.own.advance(now)
	if now.Sub(m.committed) < 100*time.Millisecond {
		return
	}
	m.committed = now
	if n := m.srcs.commit(now); n > 0 {
		m.missing.Add(n)
		m.own.add(ownMissing, now, n)
	}
}

// publishFill publishes, while backfilling, every second from the one
// after published (or from fill, the first whose windows are whole) up to
// the latest settled at the set's clock, and returns the latest it
// published. With no fill it publishes nothing.
func (m *Merger) publishFill(ctx context.Context, published, fill time.Time) time.Time {
	if fill.IsZero() {
		return published
	}
	T := m.set.Settled(m.cfg.Flush + m.cfg.Grace)
	at := published.Add(m.width)
	if published.IsZero() || at.Before(fill) {
		at = fill
	}
	for ; !at.After(T); at = at.Add(m.width) {
		if err := m.publish(ctx, at); err != nil {
			if !errors.Is(err, window.ErrClock) {
				m.publishFailed(at, err)
			}
			continue
		}
		m.filled.Add(1)
		published = at
	}
	return published
}

// applyOne applies one batch at the merger's clock now, counting what
// happened.
func (m *Merger) applyOne(b []byte, now time.Time) {
	res, err := m.apply.Apply(b)
	m.batches.Add(1)
	if !res.Duplicate && res.Source != "" && (err == nil || errors.Is(err, fragment.ErrApply)) {
		// Recorded as seen: a batch of its source's sequence.
		if n := m.srcs.add(res.Source, res.Seq, now); n > 0 {
			m.missing.Add(n)
			m.own.add(ownMissing, now, n)
		}
	}
	switch {
	case res.Duplicate:
		m.duplicates.Add(1)
		m.own.add(ownDuplicates, now, 1)
	case err != nil:
		m.failed.Add(1)
		m.own.add(ownFailed, now, 1)
		m.applyLog.Do(func() {
			m.log.Warn("batch not applied", "shard", m.cfg.Shard, "source", res.Source, "seq", res.Seq, "err", err, "failed_total", m.failed.Load())
		})
	}
	m.own.add(ownRepublished, now, uint64(res.Republished))
	m.own.add(ownLate, now, uint64(res.Late))
}

// publishFailed counts a snapshot at that was not published, and logs it
// unless such lines are flooding.
func (m *Merger) publishFailed(at time.Time, err error) {
	n := m.publishErrors.Add(1)
	m.publishLog.Do(func() {
		m.log.Warn("snapshot not published", "shard", m.cfg.Shard, "at", at, "err", err, "failed_total", n)
	})
}

// publish snapshots the set at T and publishes the stats of this shard.
func (m *Merger) publish(ctx context.Context, T time.Time) error {
	snap, err := m.set.Snapshot(T)
	if err != nil {
		return err
	}
	for name := range snap.Stats {
		if fragment.Shard(name, m.cfg.Shards) != m.cfg.Shard {
			delete(snap.Stats, name)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	live := m.srcs.live(m.set.Now())
	m.liveSources.Store(int64(live))
	m.own.read(T, m.cfg.Shard, live, snap.Stats)
	if err := m.bus.PublishSnapshot(pctx, m.cfg.Shard, snap.AppendJSON(nil)); err != nil {
		return err
	}
	// Only a second the webs saw counts as published, for the
	// republished figure.
	m.apply.SetPublished(T)
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
