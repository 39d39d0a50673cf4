package window

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	StatRejected = "pulse.rejected" // observations and deltas a window could not take: no clock yet, or (deltas) incompatible or beyond the skew
	StatOverflow = "pulse.overflow" // what a cap kept out: l2met metrics not created (a definition's cap reached, or a name over def.MaxNameLen bytes or not UTF-8), last-sum/last-mean partitions past their cap, top-k keys over their length limit, sums that would overflow
	StatFuture   = "pulse.future"   // events dropped because they were more than the skew ahead of the clock
)

// selfStats are the self-stats in the order of Set.self, which the
// self… constants index.
var selfStats = []string{StatEvents, StatUnparsed, StatSkipped, StatLate, StatRejected, StatOverflow, StatFuture}

const (
	selfEvents = iota
	selfUnparsed
	selfSkipped
	selfLate
	selfRejected
	selfOverflow
	selfFuture
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
	// Clock says what moves the set's clock. The zero value, EventClock,
	// follows the events folded, for replay; a live receiver or merger
	// uses ManualClock and calls Advance with the wall clock.
	Clock Clock
	// SelfStats are further self-stats, kept like the built-in ones
	// (pulse.events, ...): a program records its own pipeline's figures
	// into them through Set.Window(name).At(set.Now()). Their names must
	// begin with "pulse." and not be a built-in one. A receiver and the
	// mergers it feeds must give the same list, or the mergers refuse the
	// deltas as unknown.
	SelfStats []def.Def
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
// wrap def.ErrDefinition, or ErrOptions for options no window accepts or
// a Clock that is neither EventClock nor ManualClock.
func NewDefSet(defs []def.Def, opts *SetOptions) (*Set, error) {
	var o SetOptions
	if opts != nil {
		o = *opts
	}
	if o.Clock != EventClock && o.Clock != ManualClock {
		return nil, fmt.Errorf("window: %v: %w", o.Clock, ErrOptions)
	}
	compiled, err := def.CompileSet(defs, o.Budget)
	if err != nil {
		return nil, err // "def: defs[i]: name: what is wrong"
	}
	for _, d := range o.SelfStats {
		if !strings.HasPrefix(d.Name, def.ReservedPrefix) || slices.Contains(selfStats, d.Name) {
			return nil, fmt.Errorf("window: self-stat %q: want a name beginning with %q that is not a built-in one: %w", d.Name, def.ReservedPrefix, def.ErrDefinition)
		}
	}
	s := &Set{mode: o.Clock, extraSelf: o.SelfStats}
	s.wopts = Options{Width: o.Width, Lateness: o.Lateness, Skew: o.Skew}
	if _, err := s.wopts.withDefaults(); err != nil {
		return nil, err
	}
	s.setup()
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
	if err := s.addSelf(); err != nil {
		return nil, err
	}
	s.index.matcher = def.NewMatcher(folded)
	return s, nil
}

// addSelf adds the self-stats' windows.
func (s *Set) addSelf() error {
	s.setup()
	self := make([]defWindow, 0, len(selfStats))
	for _, name := range selfStats {
		c, err := def.Compile(def.Def{Name: name, Kind: def.KindRate, Per: time.Second, Group: "pulse"})
		if err != nil {
			return err
		}
		d := newSetDef(c)
		w, err := s.newDefWindow(d)
		if err != nil {
			return err
		}
		self = append(self, defWindow{def: d, w: w})
	}
	for _, sd := range s.extraSelf {
		c, err := def.Compile(sd)
		if err != nil {
			return fmt.Errorf("window: self-stat: %w", err)
		}
		if c.Kind() == def.KindL2met {
			return fmt.Errorf("window: self-stat %q: kind l2met: %w", sd.Name, def.ErrDefinition)
		}
		d := newSetDef(c)
		w, err := s.newDefWindow(d)
		if err != nil {
			return err
		}
		self = append(self, defWindow{def: d, w: w})
	}
	s.self = self
	return nil
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
	if s.keep {
		w.keep = w.newBucket()
	}
	if err := s.Add(w); err != nil {
		return nil, err
	}
	return w, nil
}

// Fold folds one event into every definition it matches, in its event
// time, and counts it in pulse.events. What moves the clock depends on the
// set's Clock (see the package documentation, section Clock): with
// EventClock the event may move it, by the leap rule, or be held or
// dropped as too far ahead (pulse.future); with ManualClock an event more
// than Skew ahead of the clock is dropped (pulse.future). Observations
// outside a window's retention are counted as late or rejected, and those
// lacking their value as skipped.
//
// An event with no header time (a bare logfmt line) takes its time from
// its "time" field (RFC 3339, as log/slog writes it), else from the set's
// clock; before the clock is set it is counted as rejected once the clock
// is set. An event whose header timestamp is there but did not parse (Time
// zero and Timestamp neither empty nor "-", as the parser leaves an event
// whose time it could not read), or whose time lies outside the years
// 1678–2261, is not folded: it is counted in pulse.unparsed, as input the
// parser could not read, rather than guessed into a second it may not
// belong to.
//
// A set without definitions (the zero Set, or one from NewSet) observes
// nothing but the self-stats, whose windows the first Fold adds.
func (s *Set) Fold(ev *logfmt.Event) {
	if s.self == nil {
		_ = s.addSelf() // cannot fail on the fixed self-stat definitions
		if s.self == nil {
			return
		}
	}
	t, ok := s.eventTime(ev)
	if !ok {
		return
	}
	switch {
	case s.keep:
		s.advanceTo(t.UnixNano())
		s.latest = max(s.latest, t.UnixNano())
		s.fold(ev, t)
	case s.mode == ManualClock:
		if s.admitManual(t.UnixNano()) {
			s.fold(ev, t)
		}
	default:
		s.foldEvent(ev, t)
	}
}

// fold folds ev at t into the definitions it matches, the clock's rules
// applied.
func (s *Set) fold(ev *logfmt.Event, t time.Time) {
	if s.keep {
		s.first = min(s.first, floorDiv(t.UnixNano(), s.tick)*s.tick)
	}
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
	// Stats that keep what they could not hold out of their value (a
	// last-sum partition past its cap, a top-k key over its length limit,
	// a sum that would overflow) count it; pulse.overflow shows it.
	capped, isCapped := st.(overflower)
	var before uint64
	if isCapped {
		before = capped.Overflow()
	}
	if dw.def.Observe(st, ev) != def.Observed {
		s.self[selfSkipped].w.add(t, 1)
	}
	if isCapped {
		if n := capped.Overflow() - before; n > 0 {
			s.self[selfOverflow].w.add(t, int64(n))
		}
	}
}

// overflower is a stat that counts what it could not hold: stat.LastBy,
// stat.TopK, stat.Sum and stat.Mean.
type overflower interface{ Overflow() uint64 }

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
	if c, ok := w.At(t).(*stat.Count); ok && n > 0 {
		c.Add(uint64(n))
	}
}

// Unparsed counts n lines that could not be parsed in pulse.unparsed, at
// the set's clock; before the clock is set, they are counted when it is.
func (s *Set) Unparsed(n int64) {
	if s.self == nil {
		_ = s.addSelf()
	}
	if s.started {
		s.countAtClock(selfUnparsed, n)
	} else {
		s.pendingUnparsed += n
	}
}

// advanceTo moves the set's clock forward to the start of the bucket that
// contains ns (exactly to ns in a NewSet set), when that is later than the
// clock, and every window's with it.
func (s *Set) advanceTo(ns int64) {
	s.setup()
	b := floorDiv(ns, s.tick) * s.tick
	if s.started && b <= s.clock {
		return
	}
	if !s.started {
		s.latest = b
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
		s.countAtClock(selfRejected, int64(s.dropped))
		s.dropped = 0
	}
}

// Snapshot reads every definition at T: each over the complete buckets in
// [T − its window, T), as its definition reports it. Self-stats are
// included; in an EventClock set, the events of a run ahead of the clock
// that is still undecided, held or not, read as pulse.future, at the
// clock. Snapshot never changes the set.
//
// It is an error wrapping ErrClock before the clock is set, for a T after
// End (buckets that may still be filling), and for a T whose windows reach
// back to a bucket that left retention holding data (the answer would be
// short). A merger snapshots at Settled(flush + grace), replay at End; to
// read a stream as it stood at a given time, fold it into a ManualClock
// set advanced to that time, as pulse replay --at does.
func (s *Set) Snapshot(T time.Time) (Snapshot, error) {
	if !s.started {
		return Snapshot{}, fmt.Errorf("window: snapshot at %v before the clock is set: %w", T.UTC().Format(time.RFC3339Nano), ErrClock)
	}
	if end := s.End(); T.After(end) {
		return Snapshot{}, fmt.Errorf("window: snapshot at %v after End %v, while buckets may still be filling: %w",
			T.UTC().Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), ErrClock)
	}
	return s.snapshot(T, 0)
}

// snapshot reads every definition at T over its window; or, when all is
// positive (a LogWriter's set), it merges the buckets of the span all
// before T and what left retention, and reads that as one window.
func (s *Set) snapshot(T time.Time, all time.Duration) (Snapshot, error) {
	snap := Snapshot{Time: T.UTC(), Stats: make(map[string]stat.Value, len(s.byName))}
	var rerr error
	read := func(dw defWindow, extra int64) {
		span := dw.def.Window
		if all > 0 {
			span = all
		}
		into := dw.def.NewStat()
		if into == nil {
			snap.Stats[dw.def.Name] = stat.Null()
			return
		}
		if all > 0 && dw.w.keep != nil {
			_ = into.Merge(dw.w.keep)
		}
		if err := dw.w.Read(T, span, into); err != nil {
			if rerr == nil && errors.Is(err, ErrClock) {
				rerr = err
			}
			snap.Stats[dw.def.Name] = stat.Null()
			return
		}
		if c, ok := into.(*stat.Count); ok {
			for range extra { // at most LeapEvents
				c.Observe()
			}
		}
		snap.Stats[dw.def.Name] = dw.def.Read(into, dw.def.Window)
	}
	for _, dw := range s.defs {
		read(dw, 0)
	}
	for _, l := range s.l2met {
		for _, dws := range l.metrics {
			for _, dw := range dws {
				read(dw, 0)
			}
		}
	}
	for i, dw := range s.self {
		var extra int64
		if pending := int64(len(s.leap.held)) + s.leap.lost; i == selfFuture && pending > 0 &&
			s.clock+s.tick <= T.UnixNano() && s.clock >= T.Add(-dw.def.Window).UnixNano() {
			extra = pending
		}
		read(dw, extra)
	}
	if rerr != nil {
		return Snapshot{}, rerr
	}
	return snap, nil
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

// End returns the latest time a snapshot may be taken at. In a
// ManualClock set it is the end of the bucket that holds the clock. In an
// EventClock set it is the end of the bucket that holds the latest event
// folded, leaving out the events of a run ahead of the clock that proved
// nothing (an outlier within Skew, folded into its own bucket): a snapshot
// at End counts every event folded so far, as replay wants, and a lone
// outlier does not move it, unless it came last. It is the zero time while
// the clock is unset.
func (s *Set) End() time.Time {
	if !s.started {
		return time.Time{}
	}
	last := s.clock
	if s.mode == EventClock || s.keep {
		last = max(last, s.latest)
		if s.leap.n > 0 {
			last = max(last, s.leap.folded)
		}
		last = floorDiv(last, s.tick) * s.tick
	}
	return time.Unix(0, addSat(last, s.tick)).UTC()
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
