// Package receiver is Pulse's receiver role: it takes logs from its inputs
// (the HTTPS drain, OpenTelemetry logs over OTLP/HTTP, syslog over TCP
// and TLS, aorta, a file, the demo generator), parses and folds them in
// event time in one worker per core, and every flush cuts each worker's
// deltas into one batch per merger shard and hands them to the bus.
//
// Nothing on the input side waits for the bus: inputs put jobs on a bounded
// queue (a full queue drops and counts), workers fold, and a bounded
// publisher retries each cut until its publish timeout and then drops and
// counts it. Its own figures (drops, duplicates, queue depth, publish
// errors and latency) travel as pulse.* stats; see package selfstat.
package receiver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/otlp"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// Config configures a Receiver. Zero fields mean the defaults given.
type Config struct {
	// Defs are the stat definitions; every receiver and merger must use
	// the same.
	Defs []def.Def
	// Shards is the number of merger shards (MERGER_COUNT); zero means 1.
	Shards int
	// Flush is how often the workers cut (FLUSH_INTERVAL); zero means 1 s.
	Flush time.Duration
	// Source names this receiver in its batches (DYNO or the host name).
	// A per-boot id and the worker's number are added, so a restarted
	// receiver, whose sequence numbers start again, is never taken for a
	// duplicate of its former self.
	Source string
	// Workers parse and fold; zero means 1.
	Workers int
	// Queue bounds the jobs waiting for a worker.
	Queue input.QueueConfig
	// Arrival stamps every event with its arrival time instead of its own
	// (TIME_SOURCE=arrival), for replaying old files into a live system.
	Arrival bool
	// PublishTimeout is how long a cut may take to reach the bus before it
	// is dropped and counted; zero means 2 s.
	PublishTimeout time.Duration

	// Inputs, any combination. The drain is Handler and OTLP is
	// OTLPHandler, served by the caller.
	Drain     input.DrainConfig
	OTLP      otlp.Config
	Syslog    input.SyslogConfig
	SyslogLn  net.Listener       // syslog over TCP, or nil
	SyslogTLS net.Listener       // syslog over TLS, or nil
	Aorta     []string           // aorta://secret@host:port
	File      string             // a file to read, "-" for stdin, or ""
	Follow    bool               // keep reading File as it grows
	Demo      bool               // run the traffic generator
	DemoRate  float64            // its request lines per second; zero means 500
	DemoSeed  uint64             // its seed
	Window    *window.SetOptions // set options beyond Clock and SelfStats (tests); nil means defaults
}

// Receiver is one receiver process. Create it with New, serve Handler, and
// call Run once.
type Receiver struct {
	cfg   Config
	log   *slog.Logger
	q     *input.Queue
	st    input.Stats
	drain http.Handler
	otlp  http.Handler
	ost   otlp.Stats
	pub   *publisher
	ws    []*worker

	// The shards of the batches that carry pulse.events and the
	// publisher's own figures (selfstat.PublishErrors, PublishDropped,
	// PublishDroppedEvents), for the counts a dropped batch loses.
	eventsShard int
	selfShards  [3]int

	msgCount    atomic.Int64 // bodies whose Logplex-Msg-Count disagreed
	mismatches  atomic.Int64 // octet-count resynchronisations
	events      atomic.Int64 // events folded, for logs and health
	demoDropped atomic.Int64 // demo frames dropped: the queue was full
	lastFlush   atomic.Int64 // unix ns of the latest cut
}

// New returns a receiver that publishes to b. It fails on definitions its
// sets cannot hold.
func New(cfg Config, b batchPublisher, log *slog.Logger) (*Receiver, error) {
	if cfg.Shards < 1 {
		cfg.Shards = 1
	}
	if cfg.Flush <= 0 {
		cfg.Flush = time.Second
	}
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = 2 * time.Second
	}
	if cfg.DemoRate <= 0 {
		cfg.DemoRate = 500
	}
	if cfg.Source == "" {
		cfg.Source = "receiver"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg, log: log, q: input.NewQueue(cfg.Queue)}
	r.drain = input.NewDrainHandler(cfg.Drain, r.q, &r.st, log)
	r.otlp = otlp.NewHandler(cfg.OTLP, r.q, &r.ost, log)
	// Room for a few cuts of every worker and shard: a bus that is down
	// for longer than that loses cuts, counted, rather than memory.
	r.pub = newPublisher(b, 4*cfg.Workers*cfg.Shards+16, cfg.PublishTimeout, log)
	r.eventsShard = fragment.Shard(window.StatEvents, cfg.Shards)
	for i, name := range []string{selfstat.PublishErrors, selfstat.PublishDropped, selfstat.PublishDroppedEvents} {
		r.selfShards[i] = fragment.Shard(name, cfg.Shards)
	}
	boot := bootID()
	for i := range cfg.Workers {
		opts := window.SetOptions{}
		if cfg.Window != nil {
			opts = *cfg.Window
		}
		opts.Clock = window.ManualClock
		opts.SelfStats = selfstat.Defs()
		set, err := window.NewDefSet(cfg.Defs, &opts)
		if err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		source := fmt.Sprintf("%s.%s/%d", cfg.Source, boot, i)
		r.ws = append(r.ws, &worker{
			r: r, id: i, set: set,
			sender: fragment.NewSender(source, cfg.Shards, nil),
			rd:     logfmt.NewReader(nil, nil),
			octet:  logfmt.NewReader(nil, &logfmt.ReaderOptions{Form: logfmt.FormOctet}),
		})
	}
	return r, nil
}

// bootID is a random id for this process incarnation.
func bootID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Handler is the HTTPS log drain: POST /logs.
func (r *Receiver) Handler() http.Handler { return r.drain }

// Sources lists the names the workers' batches carry.
func (r *Receiver) Sources() []string {
	var s []string
	for _, w := range r.ws {
		s = append(s, w.sender.Source())
	}
	return s
}

// Stats returns the inputs' counters.
func (r *Receiver) Stats() input.StatsSnapshot { return r.st.Snapshot() }

// Health reports what the receiver knows of itself, for /healthz: an error
// when no cut has been made for three flush intervals (the workers are
// stuck) or when the last cuts could not be published. Its fields include
// every counter of the inputs under "input" ("drain.too_large",
// "syslog.read_timeouts", ...), the ones no pulse.* stat carries among
// them; the jobs waiting for a worker (receiver_queue); the cuts waiting
// for the bus and the most that may wait (receiver_publish_queue,
// receiver_publish_queue_cap); and the cuts given up with the events
// they counted (receiver_cuts_dropped, receiver_events_dropped).
func (r *Receiver) Health() (map[string]any, error) {
	last := time.Unix(0, r.lastFlush.Load())
	inputs := map[string]int64{}
	for name, v := range r.st.Snapshot().All() {
		inputs[name] = v
	}
	info := map[string]any{
		"input":                      inputs,
		"receiver_queue":             r.q.Len(),
		"receiver_events":            r.events.Load(),
		"receiver_published":         r.pub.published.Load(),
		"receiver_publish_failures":  r.pub.failed.Load(),
		"receiver_cuts_dropped":      r.pub.dropped.Load(),
		"receiver_events_dropped":    r.pub.droppedEvents.Load(),
		"receiver_publish_queue":     len(r.pub.q),
		"receiver_publish_queue_cap": cap(r.pub.q),
	}
	if r.lastFlush.Load() == 0 {
		return info, nil
	}
	age := time.Since(last)
	info["receiver_last_cut_ms"] = age.Milliseconds()
	if age > 3*r.cfg.Flush+time.Second {
		return info, fmt.Errorf("receiver: no cut for %v", age.Round(time.Millisecond))
	}
	if r.pub.failing() {
		return info, fmt.Errorf("receiver: the last cuts were not published (%d dropped, %d failed attempts)",
			r.pub.dropped.Load(), r.pub.failed.Load())
	}
	return info, nil
}

// Run runs the inputs, the workers and the publisher until ctx is done,
// then shuts down in order: the inputs stop and hand over what they read,
// the workers fold what is queued and make their last cut, and the
// publisher sends it (each cut within its publish timeout). Stop serving
// Handler before cancelling ctx, so that no drain body is accepted after
// the workers' last cut.
func (r *Receiver) Run(ctx context.Context) error {
	// The inputs stop when ctx is done, or when one of them fails: the
	// others must not keep the shutdown waiting.
	ictx, stopInputs := context.WithCancel(ctx)
	defer stopInputs()
	var inputs sync.WaitGroup
	errc := make(chan error, 1)
	start := func(name string, f func(ctx context.Context) error) {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			if err := f(ictx); err != nil && !errors.Is(err, context.Canceled) {
				r.log.Error("input stopped", "input", name, "err", err)
				select {
				case errc <- fmt.Errorf("receiver: %s: %w", name, err):
				default: // another input's error stops the receiver already
				}
			}
		}()
	}
	if r.cfg.SyslogLn != nil {
		start("syslog", func(ctx context.Context) error {
			return input.ServeSyslog(ctx, r.cfg.SyslogLn, r.cfg.Syslog, r.q, &r.st, r.log)
		})
	}
	if r.cfg.SyslogTLS != nil {
		start("syslog-tls", func(ctx context.Context) error {
			return input.ServeSyslog(ctx, r.cfg.SyslogTLS, r.cfg.Syslog, r.q, &r.st, r.log)
		})
	}
	for _, u := range r.cfg.Aorta {
		start("aorta", func(ctx context.Context) error { return input.Aorta(ctx, u, input.AortaConfig{}, r.q, &r.st, r.log) })
	}
	if r.cfg.File != "" {
		start("file", func(ctx context.Context) error { return input.File(ctx, r.cfg.File, r.cfg.Follow, r.q, &r.st, r.log) })
	}
	if r.cfg.Demo {
		start("demo", r.demo)
	}

	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		r.pub.run(ctx)
	}()
	// Worker 0 records the receiver's own figures at each cut, so it
	// stops last: its last cut counts what the others counted in theirs.
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	w0ctx, stopWorker0 := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker0()
	var workers, worker0 sync.WaitGroup
	for _, w := range r.ws {
		wg, c := &workers, wctx
		if w.id == 0 {
			wg, c = &worker0, w0ctx
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(c)
		}()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stopInputs()
	inputs.Wait()
	stopWorkers() // each drains the queue and cuts once more
	workers.Wait()
	stopWorker0()
	worker0.Wait()
	close(r.pub.q)
	<-pubDone
	r.log.Info("receiver stopped", "events", r.events.Load(), "published", r.pub.published.Load(), "cuts_dropped", r.pub.dropped.Load())
	return err
}

// demo feeds the generator's traffic to the queue, as drain bodies would
// arrive. A full queue drops and counts, as for a drain.
func (r *Receiver) demo(ctx context.Context) error {
	return runDemo(ctx, r.cfg.DemoRate, r.cfg.DemoSeed, r.queueDemo)
}

// queueDemo queues one step of the generator's frames, or drops them
// when the queue is full and counts every frame (each ends in a newline)
// in pulse.dropped, which counts events.
func (r *Receiver) queueDemo(data []byte, arrival time.Time) {
	j := input.NewJob("demo", data)
	j.Arrival = arrival
	if !r.q.TryPut(j) {
		j.Release()
		r.demoDropped.Add(int64(bytes.Count(data, []byte{'\n'})))
	}
}

// worker parses and folds jobs into its own set, and cuts it every flush.
type worker struct {
	r      *Receiver
	id     int
	set    *window.Set
	sender *fragment.Sender
	rd     *logfmt.Reader // detects the form of each record: syslog, aorta, files
	octet  *logfmt.Reader // octet-counted frames only: drain bodies (application/logplex-1)
	br     bytes.Reader
	otlp   otlp.Mapper

	last                                   input.StatsSnapshot // worker 0: the inputs' counters at the previous cut
	lastMsgCount, lastMismatches, lastDemo int64
	lastPub                                selfReport // worker 0: the publisher's counters at the previous cut
	report                                 selfReport // worker 0: what this cut reports of them
	lastOTLP                               otlp.StatsSnapshot
}

func (w *worker) run(ctx context.Context) {
	now := time.Now()
	_ = w.set.Advance(now) // a ManualClock set: cannot fail
	t := time.NewTicker(w.r.cfg.Flush)
	defer t.Stop()
	for {
		j, ok := w.r.q.GetUntil(ctx, t.C)
		if ok {
			w.fold(j)
			// Let the process's other goroutines run between jobs. While
			// the queue holds jobs, a worker never blocks, and with as many
			// workers as Ps the HTTP handlers (the drain's answers, /healthz)
			// would wait for the scheduler to preempt one, every 10 ms. A
			// yield costs well under a microsecond against a job's hundred
			// or more. Under overload it halved /healthz's latency and let
			// the receiver take more of a fixed offered rate
			// (RELIABILITY.md, "Load").
			runtime.Gosched()
			continue
		}
		if ctx.Err() != nil {
			for {
				j, ok := w.r.q.TryGet()
				if !ok {
					break
				}
				w.fold(j)
			}
			w.cut(time.Now())
			return
		}
		w.cut(time.Now())
	}
}

// fold parses one job and folds its events.
func (w *worker) fold(j input.Job) {
	if b, ok := j.Batch.(*otlp.Batch); ok {
		w.foldOTLP(b, j)
		return
	}
	defer j.Release()
	w.br.Reset(j.Data)
	rd := w.rd
	if j.Input == input.InputDrain {
		// A Logplex body is octet-counted frames and nothing else: what
		// is not one (binary junk, a stray line) is unparsed, not read
		// as a logfmt line.
		rd = w.octet
	}
	rd.Reset(&w.br)
	before := rd.Stats()
	var events int64
	for {
		ev, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if ev != nil && errors.Is(err, logfmt.ErrTime) && w.r.cfg.Arrival {
				err = nil // a damaged timestamp: arrival time stands in
			} else if ev != nil && errors.Is(err, logfmt.ErrTime) {
				w.set.Fold(ev) // counted as unparsed by the set
				continue
			} else {
				w.set.Unparsed(1)
				continue
			}
		}
		if w.r.cfg.Arrival {
			ev.Time = j.Arrival
		}
		w.set.Fold(ev)
		events++
	}
	after := rd.Stats()
	w.r.events.Add(events)
	if n := after.Mismatches - before.Mismatches; n > 0 {
		w.r.mismatches.Add(n)
	}
	if j.MsgCount >= 0 {
		frames := (after.Events + after.Unparsed) - (before.Events + before.Unparsed)
		if frames != int64(j.MsgCount) {
			w.r.msgCount.Add(1)
		}
	}
	w.observe(selfstat.Queue, float64(w.r.q.Len()))
}

// uncutEvents returns what pulse.events holds since the previous cut: the
// events the next cut counts, every bucket the window keeps read at once.
func (w *worker) uncutEvents() uint64 {
	win := w.set.Window(window.StatEvents)
	if win == nil || win.Now().IsZero() {
		return 0
	}
	o := win.Options()
	var c stat.Count
	if err := win.Read(win.Now().Add(o.Skew+2*o.Width), o.Span+o.Lateness+o.Skew+4*o.Width, &c); err != nil {
		return 0 // a bucket left retention uncut: cannot happen, Cut cuts before it advances
	}
	return c.Count()
}

// observe records v into the self-stat name at the set's clock.
func (w *worker) observe(name string, v float64) {
	win := w.set.Window(name)
	if win == nil {
		return
	}
	switch s := win.At(w.set.Now()).(type) {
	case *stat.Max:
		s.Observe(v)
	case *stat.Count:
		if v > 0 {
			s.Add(uint64(v))
		}
	}
}

// cut records the receiver's figures (worker 0 only, so they count once),
// cuts the set and offers its batches to the publisher.
func (w *worker) cut(now time.Time) {
	if w.id == 0 {
		w.recordSelf()
	}
	events := w.uncutEvents()
	out, err := w.sender.Cut(w.set, now, nil)
	if err != nil {
		w.r.log.Error("cut lost", "worker", w.id, "err", err)
		return
	}
	r := w.r
	for shard, b := range out {
		o := outgoing{shard: shard, data: b, cut: now}
		if shard == r.eventsShard {
			o.events = events
		}
		if w.id == 0 {
			if shard == r.selfShards[0] {
				o.self.errors = w.report.errors
			}
			if shard == r.selfShards[1] {
				o.self.dropped = w.report.dropped
			}
			if shard == r.selfShards[2] {
				o.self.events = w.report.events
			}
		}
		r.pub.offer(o)
	}
	w.r.lastFlush.Store(now.UnixNano())
}

// recordSelf adds what the inputs and the publisher counted since the
// previous cut to the self-stats.
func (w *worker) recordSelf() {
	r := w.r
	s := r.st.Snapshot()
	d := func(cur, prev int64) float64 { return float64(cur - prev) }
	p := w.last
	demo := r.demoDropped.Load()
	w.observe(selfstat.Dropped, d(s.DrainDroppedFrames+s.SyslogDroppedLines+s.AortaDroppedLines+demo,
		p.DrainDroppedFrames+p.SyslogDroppedLines+p.AortaDroppedLines+w.lastDemo))
	w.lastDemo = demo
	w.observe(selfstat.Duplicates, d(s.DrainDuplicates, p.DrainDuplicates))
	w.observe(selfstat.InputRejected, d(s.DrainUnauthorized+s.DrainBadContentType+s.DrainTooLarge+s.DrainBadMethod+s.SyslogConnsRejected,
		p.DrainUnauthorized+p.DrainBadContentType+p.DrainTooLarge+p.DrainBadMethod+p.SyslogConnsRejected))
	w.observe(selfstat.ShuttleLost, d(s.LogshuttleDrops+s.LogshuttleLost, p.LogshuttleDrops+p.LogshuttleLost))
	w.last = s
	w.recordOTLP()

	mc, mm := r.msgCount.Load(), r.mismatches.Load()
	w.observe(selfstat.MsgCount, d(mc, w.lastMsgCount))
	w.observe(selfstat.Mismatches, d(mm, w.lastMismatches))
	w.lastMsgCount, w.lastMismatches = mc, mm

	// What the publisher counted since the previous cut, and what
	// dropped batches carried of it before.
	cur := selfReport{errors: r.pub.failed.Load(), dropped: r.pub.dropped.Load(), events: r.pub.droppedEvents.Load()}
	rep := r.pub.takeUnreported()
	rep.add(selfReport{errors: cur.errors - w.lastPub.errors, dropped: cur.dropped - w.lastPub.dropped, events: cur.events - w.lastPub.events})
	w.lastPub, w.report = cur, rep
	w.observe(selfstat.PublishErrors, float64(rep.errors))
	w.observe(selfstat.PublishDropped, float64(rep.dropped))
	w.observe(selfstat.PublishDroppedEvents, float64(rep.events))
	if lat := r.pub.maxLat.Swap(0); lat > 0 {
		w.observe(selfstat.PublishLatency, float64(lat)/1e6)
	}
}
