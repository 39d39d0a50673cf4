package logfmttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Format is the framing of the generated lines.
type Format int

const (
	// Drain is the body of Logplex HTTPS drain requests: RFC 6587
	// octet-counted frames, `N <PRI>1 TS host APP PROC - msg\n`, where N
	// counts the message and its trailing LF. It is the zero Format.
	Drain Format = iota
	// Lines is the same RFC 5424 messages without the count, one per line.
	Lines
	// HerokuLogs is the form `heroku logs` prints: `TS app[web.1]: msg`.
	HerokuLogs
)

var formatNames = [...]string{"drain", "lines", "heroku-logs"}

// String returns the format's name as ParseFormat reads it.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrFormat is returned by ParseFormat for an unknown name.
var ErrFormat = errors.New("unknown format")

// ParseFormat returns the Format named drain, lines or heroku-logs.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("logfmttest: format %q (want drain, lines or heroku-logs): %w", s, ErrFormat)
}

// DefaultStart is the event time the traffic starts at when Options.Start
// is zero: 2026-03-14T17:00:00Z.
var DefaultStart = time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)

// Defaults and limits of Options.
const (
	// DefaultRate is the Rate of a zero Options, in lines per second.
	DefaultRate = 1000
	// DefaultApps is the number of apps of a zero Options.
	DefaultApps = 20
	// MaxApps is the largest number of apps; New clamps Apps to it.
	MaxApps = 10000
	// MaxRate is the largest Rate; New clamps Rate to it.
	MaxRate = 1e9

	incidentsDef = 10 * time.Minute
)

// Options configure a Generator. The zero value is ready: zero fields mean
// the defaults given on each field.
type Options struct {
	// Seed selects the traffic: the platform (app names, dynos, add-ons),
	// the incident timeline and every line. The same Options give
	// byte-identical output with the same version of this package and Go.
	Seed uint64
	// Start is where event time begins, truncated to the microsecond: the
	// first line falls at or just after it. Zero means DefaultStart.
	Start time.Time
	// Rate is the mean number of request-driven lines (router and app
	// lines) per second of event time. Zero, negative or NaN means
	// DefaultRate (1000); values above MaxRate are clamped. Periodic
	// metrics and incident lines come on top.
	Rate float64
	// Apps is the number of apps on the platform. Zero or less means
	// DefaultApps (20); values above MaxApps are clamped.
	Apps int
	// Format is the framing of each line. The zero value, and any value
	// that is not a defined Format, is Drain.
	Format Format
	// IncidentEvery is the length of one episode of the incident timeline.
	// Zero means 10 minutes; a negative value turns incidents off; values
	// under a minute are raised to a minute.
	IncidentEvery time.Duration
	// SyslogDrain, when set, writes the messages of the Drain and Lines
	// formats as a syslog drain delivers them: the app's drain token
	// (d.<uuid>) in HOSTNAME instead of `host`, and the STRUCTURED-DATA
	// NILVALUE kept after MSGID (`<158>1 TS d.<uuid> heroku router - - msg`).
	// HTTPS drains, the default, have neither.
	SyslogDrain bool
}

// A Generator writes Heroku log lines in event-time order. Create one with
// New. A Generator is not safe for concurrent use.
type Generator struct {
	opts     Options
	format   Format
	gap      float64 // mean ns between request-driven lines
	now      int64   // ns of the last line
	nextReq  int64   // ns of the next request-driven line
	r        *rng    // traffic
	incEvery int64
	epoch    uint64 // episodes scheduled so far
	end      int64  // ns where the last WriteFor stopped

	apps     []app
	appTable aliasTable
	dynos    []dyno
	addons   []addon
	events   eventHeap
	seq      uint64

	msg      []byte // the message being built
	line     []byte // WriteFor's buffer
	tsSec    int64  // second cached in tsPrefix
	tsPrefix []byte // "2006-01-02T15:04:05"
	tsSec2   int64  // second cached in tsLong, for free-text timestamps
	tsLong   []byte // "2006-01-02 15:04:05"
}

// New returns a Generator for opts. Out-of-range options are replaced by
// their defaults or clamped, as each field of Options says.
func New(opts Options) *Generator {
	if !(opts.Rate > 0) {
		opts.Rate = DefaultRate
	}
	opts.Rate = math.Min(opts.Rate, MaxRate)
	if opts.Apps <= 0 {
		opts.Apps = DefaultApps
	}
	opts.Apps = min(opts.Apps, MaxApps)
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	opts.Start = opts.Start.Truncate(time.Microsecond)
	if opts.Format < 0 || int(opts.Format) >= len(formatNames) {
		opts.Format = Drain
	}
	if opts.IncidentEvery == 0 {
		opts.IncidentEvery = incidentsDef
	} else if opts.IncidentEvery > 0 {
		opts.IncidentEvery = max(opts.IncidentEvery, time.Minute)
	}
	g := &Generator{
		opts:     opts,
		format:   opts.Format,
		gap:      1e9 / opts.Rate,
		now:      opts.Start.UnixNano(),
		r:        newRNG(opts.Seed, 1),
		incEvery: int64(opts.IncidentEvery),
		tsSec:    math.MinInt64,
		tsSec2:   math.MinInt64,
		msg:      make([]byte, 0, 1024),
	}
	g.build(newRNG(opts.Seed, 0), opts.Apps)
	g.nextReq = g.now + g.interval()
	// Periodic samples, each at its own phase within the 20 s cycle.
	for i := range g.dynos {
		g.push(event{at: g.now + int64(g.r.intn(20e6))*1000, kind: evLoad, dyno: int32(i)})
	}
	for i := range g.addons {
		g.push(event{at: g.now + int64(g.r.intn(20))*1e9, kind: evAddon, n: int32(i)})
	}
	if g.incEvery > 0 {
		g.push(event{at: g.now, kind: evEpoch})
	}
	return g
}

// Options returns the options in effect, with defaults filled in.
func (g *Generator) Options() Options { return g.opts }

// interval draws the gap to the next request-driven line.
func (g *Generator) interval() int64 {
	return int64(g.gap*g.r.r.ExpFloat64()) + 1
}

// Peek returns the event time of the line the next call to Next returns.
func (g *Generator) Peek() time.Time {
	return time.Unix(0, g.peek()).UTC()
}

func (g *Generator) peek() int64 {
	for {
		if len(g.events) == 0 || g.nextReq <= g.events[0].at {
			return g.nextReq
		}
		// Events that produce no line are applied now so that they do not
		// count as the next line.
		if !g.silent(&g.events[0]) {
			return g.events[0].at
		}
		e := g.pop()
		g.apply(&e)
	}
}

// Next appends the next line, framed in the Generator's Format, to dst and
// returns the extended slice and the line's event time. Lines come in
// event-time order. Next does not allocate once dst has room for the line
// (a few hundred bytes; never more than 2 KiB), except for a few small
// allocations when a new episode of incidents is scheduled.
func (g *Generator) Next(dst []byte) ([]byte, time.Time) {
	if g.peek() == g.nextReq && (len(g.events) == 0 || g.nextReq <= g.events[0].at) {
		g.now = g.nextReq
		g.nextReq += g.interval()
		return g.request(dst), time.Unix(0, g.now).UTC()
	}
	// peek left a line event on top.
	e := g.pop()
	g.now = e.at
	return g.emit(dst, &e), time.Unix(0, g.now).UTC()
}

// WriteFor writes the lines whose event time falls in the next d of event
// time to w: the first call writes [Start, Start+d), the next one continues
// from there, so WriteFor(w, time.Second) called 60 times writes the same
// bytes as WriteFor(w, time.Minute). Unless w is a *bufio.Writer, WriteFor
// buffers its writes; either way it flushes before it returns. It returns
// the number of bytes written and the first write error.
func (g *Generator) WriteFor(w io.Writer, d time.Duration) (int64, error) {
	end := g.opts.Start.UnixNano()
	if g.end != 0 {
		end = g.end
	}
	end += int64(d)
	g.end = end
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	var n int64
	for g.peek() < end {
		g.line, _ = g.Next(g.line[:0])
		m, err := bw.Write(g.line)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}
