package emitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/window"
)

// Defaults of Config.
const (
	DefaultPort           = "2003"
	DefaultPrefix         = "pulse."
	DefaultBuffer         = 60
	DefaultTopK           = 10
	DefaultDialTimeout    = 5 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxAttempts    = 3
	DefaultUnhealthyAfter = time.Minute
)

// Limits of Config.
const (
	MaxBuffer = 1 << 16
	MaxTopK   = 1000
)

// ErrConfig is wrapped by every error New returns for a bad Config.
var ErrConfig = errors.New("bad emitter config")

// Config configures an Emitter. Zero fields mean the defaults given on
// each field.
type Config struct {
	// URL is Graphite's plaintext listener, tcp://host[:port]
	// (GRAPHITE_URL); required. The port defaults to 2003. Nothing else
	// may follow the port.
	URL string
	// Prefix begins every path; "" means DefaultPrefix ("pulse."). It is
	// written as given (a hosted Graphite's API key can lead it: "key.pulse.")
	// and must be printable ASCII without spaces.
	Prefix string
	// Buffer is the number of snapshots that may wait for the writer, 1
	// to MaxBuffer; 0 means DefaultBuffer (60: a minute of one merger's).
	// When it is full, Offer drops the oldest.
	Buffer int
	// TopK is the number of keys of each top-k stat sent per snapshot, up
	// to MaxTopK; 0 means DefaultTopK (10), and -1 sends none.
	TopK int
	// DialTimeout bounds each connection attempt; 0 means
	// DefaultDialTimeout (5 s).
	DialTimeout time.Duration
	// WriteTimeout bounds the write of one snapshot's lines; 0 means
	// DefaultWriteTimeout (10 s). A server that stops reading fails the
	// write after it.
	WriteTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before connecting again
	// after a failure; 0 means DefaultMinBackoff (100 ms) and
	// DefaultMaxBackoff (30 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is the number of failed writes after which a snapshot
	// is dropped; 0 means DefaultMaxAttempts (3).
	MaxAttempts int
	// UnhealthyAfter makes Health report an error once every dial and
	// write has failed for this long; 0 means DefaultUnhealthyAfter (1 min).
	UnhealthyAfter time.Duration
}

// withDefaults returns c with its zero fields set, or an error wrapping
// ErrConfig, and the address to dial.
func (c Config) withDefaults() (Config, string, error) {
	addr, err := parseURL(c.URL)
	if err != nil {
		return c, "", err
	}
	def := func(d *time.Duration, v time.Duration, name string) error {
		if *d < 0 {
			return fmt.Errorf("emitter: %s %v is negative: %w", name, *d, ErrConfig)
		}
		if *d == 0 {
			*d = v
		}
		return nil
	}
	for _, f := range []struct {
		d    *time.Duration
		v    time.Duration
		name string
	}{
		{&c.DialTimeout, DefaultDialTimeout, "dial timeout"},
		{&c.WriteTimeout, DefaultWriteTimeout, "write timeout"},
		{&c.MinBackoff, DefaultMinBackoff, "min backoff"},
		{&c.MaxBackoff, DefaultMaxBackoff, "max backoff"},
		{&c.UnhealthyAfter, DefaultUnhealthyAfter, "unhealthy after"},
	} {
		if err := def(f.d, f.v, f.name); err != nil {
			return c, "", err
		}
	}
	if c.MaxBackoff < c.MinBackoff {
		return c, "", fmt.Errorf("emitter: max backoff %v is less than min backoff %v: %w", c.MaxBackoff, c.MinBackoff, ErrConfig)
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if !validPrefix(c.Prefix) {
		return c, "", fmt.Errorf("emitter: prefix %q has a space or a character outside printable ASCII: %w", c.Prefix, ErrConfig)
	}
	switch {
	case c.Buffer == 0:
		c.Buffer = DefaultBuffer
	case c.Buffer < 0 || c.Buffer > MaxBuffer:
		return c, "", fmt.Errorf("emitter: buffer %d out of range 1..%d: %w", c.Buffer, MaxBuffer, ErrConfig)
	}
	switch {
	case c.TopK == 0:
		c.TopK = DefaultTopK
	case c.TopK < -1 || c.TopK > MaxTopK:
		return c, "", fmt.Errorf("emitter: top-k %d out of range -1..%d: %w", c.TopK, MaxTopK, ErrConfig)
	}
	switch {
	case c.MaxAttempts == 0:
		c.MaxAttempts = DefaultMaxAttempts
	case c.MaxAttempts < 0:
		return c, "", fmt.Errorf("emitter: max attempts %d is negative: %w", c.MaxAttempts, ErrConfig)
	}
	return c, addr, nil
}

// parseURL checks a GRAPHITE_URL and returns the host:port to dial.
func parseURL(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("emitter: no Graphite URL (want tcp://host:2003): %w", ErrConfig)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("emitter: Graphite URL: %w: %w", err, ErrConfig)
	}
	switch {
	case u.Scheme != "tcp":
		return "", fmt.Errorf("emitter: Graphite URL %q: scheme %q is not tcp (want tcp://host:2003): %w", s, u.Scheme, ErrConfig)
	case u.Opaque != "" || u.Host == "":
		return "", fmt.Errorf("emitter: Graphite URL %q has no host (want tcp://host:2003): %w", s, ErrConfig)
	case u.User != nil:
		return "", fmt.Errorf("emitter: Graphite URL %q: the plaintext protocol has no user or password: %w", s, ErrConfig)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("emitter: Graphite URL %q: nothing may follow the port: %w", s, ErrConfig)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", fmt.Errorf("emitter: Graphite URL %q has no host (want tcp://host:2003): %w", s, ErrConfig)
	}
	if port == "" {
		port = DefaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("emitter: Graphite URL %q: port %q out of range 1..65535: %w", s, port, ErrConfig)
	}
	return net.JoinHostPort(host, port), nil
}

// Stats are an Emitter's counters since New.
type Stats struct {
	Offered    uint64 // snapshots offered
	Dropped    uint64 // snapshots dropped: the queue full, or MaxAttempts writes failed
	Snapshots  uint64 // snapshots written
	Lines      uint64 // lines written to a connection (not necessarily stored)
	Skipped    uint64 // values not sent: NaN or ±Inf
	Connects   uint64 // connections made
	Reconnects uint64 // connections made after the first
	Errors     uint64 // failed dials and writes, and connections the server closed
	Queued     int    // snapshots waiting now
	Connected  bool   // whether a connection is open now
	LastError  string // the latest failure, "" if none yet
}

// An Emitter sends snapshots to Graphite. Make one with New, hand it
// snapshots with Offer, and run its writer with Run.
type Emitter struct {
	cfg  Config
	addr string
	log  *slog.Logger

	mu      sync.Mutex
	queue   []window.Snapshot // ring of cfg.Buffer
	head, n int
	lastErr string
	failing time.Time // when dials and writes began to fail; zero while they succeed

	wake    chan struct{} // a snapshot was queued
	running atomic.Bool

	offered, dropped, snapshots, lines, skipped atomic.Uint64
	connects, errs                              atomic.Uint64
	connected                                   atomic.Bool
}

// New checks cfg and returns an Emitter. It does not connect: Run does.
// Errors wrap ErrConfig. A nil log discards.
func New(cfg Config, log *slog.Logger) (*Emitter, error) {
	cfg, addr, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Emitter{
		cfg: cfg, addr: addr, log: log.With("graphite", addr),
		queue: make([]window.Snapshot, cfg.Buffer),
		wake:  make(chan struct{}, 1),
	}, nil
}

// Offer queues snap for the writer, without blocking. When the queue is
// full it drops the oldest snapshot to make room, counts it in
// Stats.Dropped, and returns false. A snapshot without a time is not
// queued: it is dropped, and Offer returns false.
//
// The Emitter reads snap later, from Run's goroutine: the caller must not
// change snap.Stats after Offer.
func (e *Emitter) Offer(snap window.Snapshot) bool {
	e.offered.Add(1)
	if snap.Time.IsZero() {
		e.dropped.Add(1)
		return false
	}
	e.mu.Lock()
	ok := true
	if e.n == len(e.queue) {
		e.queue[e.head] = window.Snapshot{}
		e.head = (e.head + 1) % len(e.queue)
		e.n--
		e.dropped.Add(1)
		ok = false
	}
	e.queue[(e.head+e.n)%len(e.queue)] = snap
	e.n++
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return ok
}

// pop takes the oldest queued snapshot.
func (e *Emitter) pop() (window.Snapshot, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return window.Snapshot{}, false
	}
	s := e.queue[e.head]
	e.queue[e.head] = window.Snapshot{}
	e.head = (e.head + 1) % len(e.queue)
	e.n--
	return s, true
}

// requeue puts snap back at the head of the queue, or drops it if Offer
// has filled the queue since.
func (e *Emitter) requeue(snap window.Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == len(e.queue) {
		e.dropped.Add(1)
		return
	}
	e.head = (e.head - 1 + len(e.queue)) % len(e.queue)
	e.queue[e.head] = snap
	e.n++
}

// Stats returns the counters.
func (e *Emitter) Stats() Stats {
	e.mu.Lock()
	queued, lastErr := e.n, e.lastErr
	e.mu.Unlock()
	connects := e.connects.Load()
	return Stats{
		Offered: e.offered.Load(), Dropped: e.dropped.Load(),
		Snapshots: e.snapshots.Load(), Lines: e.lines.Load(), Skipped: e.skipped.Load(),
		Connects: connects, Reconnects: max(connects, 1) - 1, Errors: e.errs.Load(),
		Queued: queued, Connected: e.connected.Load(), LastError: lastErr,
	}
}

// Health reports the counters for /healthz, and an error once every dial
// and write has failed for Config.UnhealthyAfter. Its signature is
// web.HealthFunc's.
func (e *Emitter) Health(context.Context) (map[string]any, error) {
	s := e.Stats()
	fields := map[string]any{
		"graphite": e.addr, "connected": s.Connected, "queued": s.Queued,
		"offered": s.Offered, "dropped": s.Dropped, "snapshots": s.Snapshots, "lines": s.Lines,
		"skipped": s.Skipped, "reconnects": s.Reconnects, "errors": s.Errors,
	}
	if s.LastError != "" {
		fields["last_error"] = s.LastError
	}
	e.mu.Lock()
	failing := e.failing
	e.mu.Unlock()
	if !failing.IsZero() && time.Since(failing) >= e.cfg.UnhealthyAfter {
		return fields, fmt.Errorf("emitter: no write to %s has succeeded for %v: %s", e.addr, time.Since(failing).Truncate(time.Second), s.LastError)
	}
	return fields, nil
}

// fail records a failure.
func (e *Emitter) fail(err error) {
	e.errs.Add(1)
	e.mu.Lock()
	e.lastErr = err.Error()
	if e.failing.IsZero() {
		e.failing = time.Now()
	}
	e.mu.Unlock()
}

// Run writes the queued snapshots until ctx is done, connecting and
// reconnecting as needed. Then, if connected, it writes what is still
// queued within one WriteTimeout, closes the connection and returns nil.
// It returns an error only when another Run is already running.
func (e *Emitter) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("emitter: Run called twice")
	}
	defer e.running.Store(false)
	w := &writer{e: e}
	defer w.close()
	for {
		snap, ok := e.pop()
		if !ok {
			var gone chan struct{} // nil, which blocks, without a connection
			if w.conn != nil {
				gone = w.conn.gone
			}
			select {
			case <-ctx.Done():
				return nil
			case <-e.wake:
			case <-gone:
				w.lost()
			}
			continue
		}
		if ctx.Err() != nil {
			e.requeue(snap)
			w.drain()
			return nil
		}
		w.send(ctx, snap)
	}
}

// writer is Run's connection and the state of its retries.
type writer struct {
	e        *Emitter
	conn     *conn
	failures int // in a row, for the backoff
	buf      []byte
	names    []string
}

// conn is a connection and the goroutine that watches it for the
// server's close.
type conn struct {
	net.Conn
	gone chan struct{} // closed when a read fails: the server closed, or we did
}

func (c *conn) closed() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

// send writes snap, retrying on a new connection after a backoff until it
// is written, MaxAttempts writes have failed, or ctx is done.
func (w *writer) send(ctx context.Context, snap window.Snapshot) {
	e := w.e
	var lines, skipped int
	w.buf, w.names, lines, skipped = appendSnapshot(w.buf[:0], w.names, e.cfg.Prefix, e.cfg.TopK, snap)
	for attempts := 0; ; {
		if w.conn != nil && w.conn.closed() {
			w.lost()
		}
		if w.conn == nil {
			if err := w.dial(ctx); err != nil {
				if !w.backoff(ctx) {
					e.requeue(snap)
					return
				}
				continue
			}
		}
		_ = w.conn.SetWriteDeadline(time.Now().Add(e.cfg.WriteTimeout))
		if _, err := w.conn.Write(w.buf); err != nil {
			attempts++
			e.fail(err)
			w.close()
			if attempts >= e.cfg.MaxAttempts {
				e.dropped.Add(1)
				e.log.Warn("graphite write failed; snapshot dropped", "err", err, "attempts", attempts, "time", snap.Time)
				w.backoff(ctx)
				return
			}
			e.log.Warn("graphite write failed; reconnecting", "err", err, "attempts", attempts)
			if !w.backoff(ctx) {
				e.requeue(snap)
				return
			}
			continue
		}
		e.snapshots.Add(1)
		e.lines.Add(uint64(lines))
		e.skipped.Add(uint64(skipped))
		w.failures = 0
		e.mu.Lock()
		e.failing = time.Time{}
		e.mu.Unlock()
		return
	}
}

// dial connects, and starts the goroutine that watches the connection.
func (w *writer) dial(ctx context.Context) error {
	e := w.e
	d := net.Dialer{Timeout: e.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		if ctx.Err() != nil {
			return err // shutting down, not a failure
		}
		e.fail(err)
		e.log.Warn("graphite dial failed", "err", err)
		return err
	}
	w.conn = &conn{Conn: c, gone: make(chan struct{})}
	go func(c *conn) {
		defer close(c.gone)
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}(w.conn)
	if n := e.connects.Add(1); n > 1 {
		e.log.Info("graphite reconnected", "connects", n)
	} else {
		e.log.Info("graphite connected")
	}
	e.connected.Store(true)
	return nil
}

// lost records that the server closed the connection, and closes it.
// The next snapshot goes to a new one.
func (w *writer) lost() {
	w.e.fail(errors.New("connection closed by the server"))
	w.e.log.Warn("graphite closed the connection")
	w.close()
}

// close closes the connection, if any, and waits for its watcher.
func (w *writer) close() {
	if w.conn == nil {
		return
	}
	_ = w.conn.Close()
	<-w.conn.gone
	w.conn = nil
	w.e.connected.Store(false)
}

// backoff waits before the next dial: MinBackoff·2^failures up to
// MaxBackoff, half fixed and half random. It reports false if ctx ended
// first.
func (w *writer) backoff(ctx context.Context) bool {
	e := w.e
	d := e.cfg.MaxBackoff
	if w.failures < 62 && e.cfg.MinBackoff<<w.failures < e.cfg.MaxBackoff && e.cfg.MinBackoff<<w.failures > 0 {
		d = e.cfg.MinBackoff << w.failures
	}
	w.failures++
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// drain writes what is queued on the open connection, if any, within one
// WriteTimeout, at shutdown. What does not fit stays queued.
func (w *writer) drain() {
	e := w.e
	if w.conn == nil || w.conn.closed() {
		return
	}
	deadline := time.Now().Add(e.cfg.WriteTimeout)
	_ = w.conn.SetWriteDeadline(deadline)
	for time.Now().Before(deadline) {
		snap, ok := e.pop()
		if !ok {
			return
		}
		var lines, skipped int
		w.buf, w.names, lines, skipped = appendSnapshot(w.buf[:0], w.names, e.cfg.Prefix, e.cfg.TopK, snap)
		if _, err := w.conn.Write(w.buf); err != nil {
			e.fail(err)
			e.requeue(snap)
			return
		}
		e.snapshots.Add(1)
		e.lines.Add(uint64(lines))
		e.skipped.Add(uint64(skipped))
	}
}
