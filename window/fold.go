package window

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
)

// Names of the self-stats a definitions set keeps about its own pipeline.
// Each is a rate per second over 10 s.
const (
	StatEvents   = "pulse.events"   // events folded
	StatUnparsed = "pulse.unparsed" // input the parser could not read (see Set.Unparsed)
	StatSkipped  = "pulse.skipped"  // observations skipped: the Of value missing, not a number, or overflowing once its unit is applied (def.Outcome)
	StatLate     = "pulse.late"     // observations older than a window's retention
	StatRejected = "pulse.rejected" // observations further in the future than the skew
	StatOverflow = "pulse.overflow" // l2met metrics not created: a definition's cap reached, or a name over def.MaxNameLen bytes or not UTF-8
)

// selfStats are the self-stats in the order of Set.self, which the
// self… constants index.
var selfStats = []string{StatEvents, StatUnparsed, StatSkipped, StatLate, StatRejected, StatOverflow}

const (
	selfEvents = iota
	selfUnparsed
	selfSkipped
	selfLate
	selfRejected
	selfOverflow
)

// SetOptions configures a definitions set. Zero fields mean defaults.
type SetOptions struct {
	// Width is the bucket width of every window (default 1 s).
	Width time.Duration
	// Lateness and Skew are as in Options; each window's Span is its
	// definition's Window.
	Lateness, Skew time.Duration
	// Budget bounds the definitions' total cost (see def.Budget); the zero
	// Budget is def.DefaultMaxStats.
	Budget def.Budget
}

// setDef is a compiled definition with the two facts the set reads most,
// its name and window, as fields.
type setDef struct {
	*def.Compiled
	Name   string
	Window time.Duration
}

func newSetDef(c *def.Compiled) *setDef {
	return &setDef{Compiled: c, Name: c.Name(), Window: c.Window()}
}

// defWindow is one definition with its window.
type defWindow struct {
	def *setDef
	w   *Window
}

// l2metDef is an l2met definition with the windows it has derived, by
// metric key.
type l2metDef struct {
	def        *setDef
	maxMetrics int
	metrics    map[string][]defWindow
}

// defIndex finds the definitions an event matches (see def.Matcher); the
// indices are those of Set.defs.
type defIndex struct {
	matcher *def.Matcher
	matches []int // Fold's scratch
}

// NewDefSet returns a set with one window per definition, ready to Fold
// events (a receiver, or replay) or Apply deltas (a merger). The
// definitions are compiled as def.CompileSet compiles them, against
// opts.Budget: the same checks as def.Parse and `pulse defs --check`
// (each definition valid, names unique and not beginning with "pulse.",
// which names the self-stats, the total cost within the budget). Errors
// wrap def.ErrDefinition, or ErrOptions for options no window accepts.
func NewDefSet(defs []def.Def, opts *SetOptions) (*Set, error) {
	var o SetOptions
	if opts != nil {
		o = *opts
	}
	compiled, err := def.CompileSet(defs, o.Budget)
	if err != nil {
		return nil, err // "def: defs[i]: name: what is wrong"
	}
	s := &Set{}
	s.wopts = Options{Width: o.Width, Lateness: o.Lateness, Skew: o.Skew}
	var folded []*def.Compiled // in s.defs order
	for _, c := range compiled {
		d := newSetDef(c)
		if c.Kind() == def.KindL2met {
			s.l2met = append(s.l2met, &l2metDef{def: d, maxMetrics: c.Def().MaxMetrics, metrics: map[string][]defWindow{}})
			continue
		}
		w, err := s.newDefWindow(d)
		if err != nil {
			return nil, err
		}
		s.defs = append(s.defs, defWindow{def: d, w: w})
		folded = append(folded, c)
	}
	for _, name := range selfStats {
		c, err := def.Compile(def.Def{Name: name, Kind: def.KindRate, Per: time.Second, Group: "pulse"})
		if err != nil {
			return nil, err
		}
		d := newSetDef(c)
		w, err := s.newDefWindow(d)
		if err != nil {
			return nil, err
		}
		s.self = append(s.self, defWindow{def: d, w: w})
	}
	s.index.matcher = def.NewMatcher(folded)
	return s, nil
}

func (s *Set) newDefWindow(d *setDef) (*Window, error) {
	o := s.wopts
	o.Span = d.Window
	w, err := NewFunc(d.Name, d.NewStat, o)
	if err != nil {
		return nil, fmt.Errorf("window: definition %q: %w", d.Name, err)
	}
	if s.started {
		w.Advance(time.Unix(0, s.clock))
	}
	if err := s.Add(w); err != nil {
		return nil, err
	}
	return w, nil
}

// Fold folds one event into every definition it matches, in its event
// time. The set's clock follows event time: it advances, in whole buckets,
// to the latest event time folded or to the time given to Advance.
// Observations outside a window's retention are counted as late or
// rejected, and those lacking their value as skipped.
//
// An event with no header time (a bare logfmt line) takes its time from its
// "time" field (RFC 3339, as log/slog writes it), else from the set's
// clock; before the clock is set it is counted as rejected.
func (s *Set) Fold(ev *logfmt.Event) {
	t := ev.Time
	if t.IsZero() {
		t, _ = fieldTime(ev)
	}
	if t.IsZero() {
		if !s.started {
			s.dropped++
			return
		}
		t = time.Unix(0, s.clock)
	}
	ns := t.UnixNano()
	s.advanceTo(ns)
	s.self[selfEvents].w.add(t, 1)
	s.index.matches = s.index.matcher.AppendMatches(s.index.matches[:0], ev)
	for _, i := range s.index.matches {
		s.observe(&s.defs[i], ev, t)
	}
	// Every pair's key is a run of the message: one without '#' holds
	// no l2met key, and most events are skipped with one vectorised scan.
	if len(s.l2met) > 0 && bytes.IndexByte(ev.Msg, '#') >= 0 {
		for _, l := range s.l2met {
			if l.def.Match(ev) {
				s.foldL2met(l, ev, t)
			}
		}
	}
}

// observe folds ev into dw's bucket at t, counting what is dropped.
func (s *Set) observe(dw *defWindow, ev *logfmt.Event, t time.Time) {
	late, rejected := dw.w.late, dw.w.rejected
	st := dw.w.At(t)
	if st == nil {
		now := time.Unix(0, s.clock)
		if dw.w.late != late {
			s.self[selfLate].w.add(now, 1)
		} else if dw.w.rejected != rejected {
			s.self[selfRejected].w.add(now, 1)
		}
		return
	}
	if dw.def.Observe(st, ev) != def.Observed {
		s.self[selfSkipped].w.add(t, 1)
	}
}

// foldL2met folds every l2met pair of ev (count#, measure#, sample#,
// unique#) into its derived definitions, creating them up to the cap.
func (s *Set) foldL2met(l *l2metDef, ev *logfmt.Event, t time.Time) {
	for p := range ev.Pairs() {
		if p.Flag || !def.IsL2metKey(p.Key) {
			continue
		}
		dws, ok := l.metrics[string(p.Key)]
		if !ok {
			dws, ok = s.deriveL2met(l, p.Key)
			if !ok {
				continue
			}
		}
		for i := range dws {
			s.observe(&dws[i], ev, t)
		}
	}
}

// deriveL2met creates the windows of one l2met metric key, or counts an
// overflow when the definition's cap is reached or the metric's name is
// not one a definition may have (longer than def.MaxNameLen, not UTF-8).
func (s *Set) deriveL2met(l *l2metDef, key []byte) ([]defWindow, bool) {
	if len(l.metrics) >= l.maxMetrics {
		s.self[selfOverflow].w.add(time.Unix(0, s.clock), 1)
		return nil, false
	}
	derived, err := l.def.DeriveL2met(key)
	if err != nil {
		s.self[selfOverflow].w.add(time.Unix(0, s.clock), 1)
		return nil, false
	}
	var dws []defWindow
	for _, c := range derived {
		d := newSetDef(c)
		if s.byName[d.Name] != nil {
			// The same name from another type (count#x after measure#x) or
			// another definition: the first keeps it.
			s.self[selfOverflow].w.add(time.Unix(0, s.clock), 1)
			continue
		}
		w, err := s.newDefWindow(d)
		if err != nil {
			continue
		}
		dws = append(dws, defWindow{def: d, w: w})
	}
	l.metrics[string(key)] = dws
	return dws, true
}

// add counts n events at t into a Count window, ignoring drops.
func (w *Window) add(t time.Time, n int64) {
	if c, ok := w.At(t).(*stat.Count); ok {
		c.Add(n)
	}
}

// Unparsed counts n lines that could not be parsed, at the set's clock.
func (s *Set) Unparsed(n int64) {
	if s.started {
		s.self[selfUnparsed].w.add(time.Unix(0, s.clock), n)
	} else {
		s.pendingUnparsed += n
	}
}

// advanceTo moves the set's clock forward to the start of the bucket that
// contains ns, when that is later than the clock.
func (s *Set) advanceTo(ns int64) {
	width := int64(1) // a set of hand-built windows follows the clock exactly
	if s.self != nil {
		width = int64(s.width())
	}
	b := floorDiv(ns, width) * width
	if s.started && b <= s.clock {
		return
	}
	s.clock, s.started = b, true
	now := time.Unix(0, b)
	for _, w := range s.byName {
		w.Advance(now)
	}
	if s.pendingUnparsed > 0 {
		n := s.pendingUnparsed
		s.pendingUnparsed = 0
		s.Unparsed(n)
	}
	if s.dropped > 0 {
		s.self[selfRejected].w.add(now, int64(s.dropped))
		s.dropped = 0
	}
}

func (s *Set) width() time.Duration {
	if s.wopts.Width > 0 {
		return s.wopts.Width
	}
	return DefaultWidth
}

// Snapshot reads every definition at T: each over the complete buckets in
// [T − its window, T), as its definition reports it. Self-stats are
// included. Snapshot never changes the set.
func (s *Set) Snapshot(T time.Time) Snapshot {
	snap := Snapshot{Time: T.UTC(), Stats: make(map[string]stat.Value, len(s.byName))}
	read := func(dw defWindow) {
		into := dw.def.NewStat()
		if into == nil || dw.w.Read(T, dw.def.Window, into) != nil {
			snap.Stats[dw.def.Name] = stat.Null()
			return
		}
		snap.Stats[dw.def.Name] = dw.def.Read(into, dw.def.Window)
	}
	for _, dw := range s.defs {
		read(dw)
	}
	for _, l := range s.l2met {
		for _, dws := range l.metrics {
			for _, dw := range dws {
				read(dw)
			}
		}
	}
	for _, dw := range s.self {
		read(dw)
	}
	return snap
}

// deriveByName creates, on a merger, the windows of the l2met metric that
// a delta's name and kind come from, and returns the one named name, or
// nil when no l2met definition derives it.
func (s *Set) deriveByName(name string, k stat.Kind) *Window {
	for _, l := range s.l2met {
		key, ok := l.def.L2metKey(name, k)
		if !ok {
			continue
		}
		if _, done := l.metrics[key]; !done {
			s.deriveL2met(l, []byte(key))
		}
		if w := s.byName[name]; w != nil {
			return w
		}
	}
	return nil
}

// End returns the end of the bucket that holds the set's clock: a snapshot
// at End counts every event folded so far. It is the zero time while the
// clock is unset.
func (s *Set) End() time.Time {
	if !s.started {
		return time.Time{}
	}
	return time.Unix(0, s.clock).Add(s.width()).UTC()
}

// fieldTime reads an event's "time" field as RFC 3339.
func fieldTime(ev *logfmt.Event) (time.Time, bool) {
	v, ok := ev.Lookup("time")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	return t, err == nil
}
