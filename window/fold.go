package window

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
)

// Names of the self-stats a definitions set keeps about its own pipeline.
// Each is a rate per second over 10 s.
const (
	StatEvents   = "pulse.events"   // events folded
	StatUnparsed = "pulse.unparsed" // input the parser could not read (see Set.Unparsed)
	StatSkipped  = "pulse.skipped"  // observations skipped: the Of value missing or not a number
	StatLate     = "pulse.late"     // observations older than a window's retention
	StatRejected = "pulse.rejected" // observations further in the future than the skew
	StatOverflow = "pulse.overflow" // l2met metrics not created because a definition's cap was reached
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
}

// defWindow is one definition with its window.
type defWindow struct {
	def  *stat.Def
	w    *Window
	rest stat.Where // the terms of def.Where left to check once the index has chosen it
}

// l2metDef is an l2met definition with the windows it has derived, by
// metric key.
type l2metDef struct {
	def     *stat.Def
	metrics map[string][]defWindow
}

// defIndex finds the definitions an event could match without evaluating
// every where filter: each definition with a literal equality term is
// filed under one such term's key and value.
type defIndex struct {
	keys   []indexKey
	always []int // definitions with no literal term
}

type indexKey struct {
	term    stat.Term // its Lookup reads the key (its Op and Glob unused)
	byValue map[string][]int
}

// NewDefSet returns a set with one window per definition, ready to Fold
// events (a receiver, or replay) or Apply deltas (a merger). defs are
// validated (copies are kept). Names must be unique and must not begin with
// "pulse.", which names the self-stats.
func NewDefSet(defs []stat.Def, opts *SetOptions) (*Set, error) {
	var o SetOptions
	if opts != nil {
		o = *opts
	}
	s := &Set{}
	s.wopts = Options{Width: o.Width, Lateness: o.Lateness, Skew: o.Skew}
	seen := map[string]bool{}
	for i := range defs {
		d := defs[i] // a copy the set owns
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		if strings.HasPrefix(d.Name, "pulse.") {
			return nil, fmt.Errorf("window: definition %q: names beginning with \"pulse.\" are reserved: %w", d.Name, stat.ErrDefinition)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("window: definition %q: %w", d.Name, ErrDuplicate)
		}
		seen[d.Name] = true
		dp := &d
		if d.Kind == stat.DefL2met {
			s.l2met = append(s.l2met, &l2metDef{def: dp, metrics: map[string][]defWindow{}})
			continue
		}
		w, err := s.newDefWindow(dp)
		if err != nil {
			return nil, err
		}
		s.defs = append(s.defs, defWindow{def: dp, w: w})
	}
	for _, name := range selfStats {
		d := &stat.Def{Name: name, Kind: stat.DefRate, Per: time.Second, Group: "pulse"}
		if err := d.Validate(); err != nil {
			return nil, err
		}
		w, err := s.newDefWindow(d)
		if err != nil {
			return nil, err
		}
		s.self = append(s.self, defWindow{def: d, w: w})
	}
	s.buildIndex()
	return s, nil
}

func (s *Set) newDefWindow(d *stat.Def) (*Window, error) {
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

// buildIndex files every definition under one literal term, preferring
// keys other than proc and app (which most definitions share).
func (s *Set) buildIndex() {
	keyAt := map[string]int{}
	for i := range s.defs {
		dw := &s.defs[i]
		dw.rest = dw.def.Where
		var best *stat.Term
		bestAt := -1
		for j := range dw.def.Where {
			t := &dw.def.Where[j]
			if _, ok := t.Literal(); !ok {
				continue
			}
			if best == nil || isCommonKey(best.Key) && !isCommonKey(t.Key) {
				best, bestAt = t, j
			}
		}
		if best == nil {
			s.index.always = append(s.index.always, i)
			continue
		}
		// The index checks the chosen term exactly (the same lookup, an
		// equal value), so the definition's filter is the other terms.
		dw.rest = append(slices.Clone(dw.def.Where[:bestAt]), dw.def.Where[bestAt+1:]...)
		k, ok := keyAt[best.Key]
		if !ok {
			k = len(s.index.keys)
			keyAt[best.Key] = k
			// The term's lookup is all the index uses of it.
			s.index.keys = append(s.index.keys, indexKey{term: *best, byValue: map[string][]int{}})
		}
		lit, _ := best.Literal()
		s.index.keys[k].byValue[lit] = append(s.index.keys[k].byValue[lit], i)
	}
}

func isCommonKey(k string) bool {
	switch k {
	case "proc", "app", "syslog.proc", "syslog.app":
		return true
	}
	return false
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
	for _, i := range s.index.always {
		s.foldDef(&s.defs[i], ev, t)
	}
	for k := range s.index.keys {
		ik := &s.index.keys[k]
		v, ok := ik.term.Lookup(ev)
		if !ok {
			continue
		}
		for _, i := range ik.byValue[string(v)] {
			s.foldDef(&s.defs[i], ev, t)
		}
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

func (s *Set) foldDef(dw *defWindow, ev *logfmt.Event, t time.Time) {
	if !dw.rest.Match(ev) {
		return
	}
	s.observe(dw, ev, t)
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
	if !dw.def.Observe(st, ev) {
		s.self[selfSkipped].w.add(t, 1)
	}
}

// foldL2met folds every l2met pair of ev (count#, measure#, sample#,
// unique#) into its derived definitions, creating them up to the cap.
func (s *Set) foldL2met(l *l2metDef, ev *logfmt.Event, t time.Time) {
	for p := range ev.Pairs() {
		if p.Flag || !isL2metKey(p.Key) {
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

// isL2metKey reports whether key looks like count#x, measure#x, sample#x
// or unique#x.
func isL2metKey(key []byte) bool {
	if len(key) < 7 {
		return false
	}
	switch key[0] {
	case 'c', 'm', 's', 'u':
	default:
		return false
	}
	for i, c := range key[:min(len(key), 8)] {
		if c == '#' {
			switch string(key[:i]) {
			case "count", "measure", "sample", "unique":
				return i+1 < len(key)
			}
			return false
		}
	}
	return false
}

// deriveL2met creates the windows of one l2met metric key, or counts an
// overflow when the definition's cap is reached.
func (s *Set) deriveL2met(l *l2metDef, key []byte) ([]defWindow, bool) {
	if len(l.metrics) >= l.def.Max {
		s.self[selfOverflow].w.add(time.Unix(0, s.clock), 1)
		return nil, false
	}
	defs, ok := l.def.L2met(key)
	if !ok {
		return nil, false
	}
	var dws []defWindow
	for i := range defs {
		d := &defs[i]
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
		metric, ok := strings.CutPrefix(name, l.def.Prefix+".")
		if !ok || metric == "" {
			continue
		}
		var key string
		switch k {
		case stat.KindSum:
			key = "count#" + metric
		case stat.KindQuantiles:
			key = "measure#" + metric
		case stat.KindMean:
			m, ok := strings.CutSuffix(metric, ".mean")
			if !ok {
				continue
			}
			key = "measure#" + m
		case stat.KindLastBy:
			key = "sample#" + metric
		case stat.KindDistinct:
			key = "unique#" + metric
		default:
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
