package window

import (
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/pulsehq/pulse/stat/def"
)

// Set holds windows by name: a receiver's or a merger's whole state. Cut
// and Apply work over every window, so the receiver's cut and the merger's
// apply are one call each. Its clock (see Clock) moves all its windows
// together.
//
// The zero Set is a definitions set with no definitions that follows event
// time (EventClock), ready to use: Fold counts each event in the
// self-stats, which it adds on first use, and observes nothing else. For
// definitions use NewDefSet, and for hand-built windows moved by Advance,
// NewSet. A Set is not safe for concurrent use; callers shard or lock.
type Set struct {
	byName map[string]*Window
	names  []string

	mode  Clock // what moves the clock
	exact bool  // a NewSet set: the clock is not rounded to buckets

	// A definitions set (NewDefSet) also keeps:
	wopts           Options     // the options of every window it makes, but Span
	defs            []defWindow // one per definition, in definition order
	self            []defWindow // the self-stats, in selfStats order, then SetOptions.SelfStats
	extraSelf       []def.Def   // SetOptions.SelfStats
	l2met           []*l2metDef // l2met definitions and what they derived
	index           defIndex    // which definitions an event could match
	pendingUnparsed int64       // unparsed input counted before the clock was set
	dropped         uint64      // events with no time folded before the clock was set

	// The clock.
	tick           int64 // bucket width in ns for the clock and the leap rule: 1 in a NewSet set
	widthNs        int64 // the bucket width of wopts, in ns
	lateNs, skewNs int64 // Lateness and Skew of wopts, defaults filled, in ns
	clock          int64 // the start of the clock's bucket, Unix ns
	started        bool  // the clock is set
	latest         int64 // EventClock: the latest event time folded, Unix ns
	leap           leap  // EventClock: events that may prove a jump
	keep           bool  // a LogWriter's set: nothing leaves, late or expired
	first          int64 // keep: the start of the earliest bucket folded
}

// NewSet returns a set holding ws, or an error wrapping ErrDuplicate when
// two share a name. Its clock is a ManualClock, set and moved only by
// Advance, to the exact time given: a set of hand-built windows.
func NewSet(ws ...*Window) (*Set, error) {
	s := &Set{mode: ManualClock, exact: true}
	s.setup()
	for _, w := range ws {
		if err := s.Add(w); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// setup fills the clock's parameters from wopts, once.
func (s *Set) setup() {
	if s.tick != 0 {
		return
	}
	o, err := s.wopts.withDefaults()
	if err != nil { // only a NewDefSet with bad options, which fails anyway
		o = Options{Width: DefaultWidth, Lateness: DefaultLateness, Skew: DefaultSkew}
	}
	s.tick, s.widthNs = int64(o.Width), int64(o.Width)
	if s.exact {
		s.tick = 1
	}
	s.lateNs, s.skewNs = int64(o.Lateness), int64(o.Skew)
}

// Add adds w, or returns an error wrapping ErrDuplicate when the set
// already holds a window of that name.
func (s *Set) Add(w *Window) error {
	if _, ok := s.byName[w.name]; ok {
		return fmt.Errorf("window: add %q: %w", w.name, ErrDuplicate)
	}
	if s.byName == nil {
		s.byName = make(map[string]*Window)
	}
	s.byName[w.name] = w
	if s.keep && w.keep == nil {
		w.keep = w.newBucket()
	}
	i, _ := slices.BinarySearch(s.names, w.name)
	s.names = slices.Insert(s.names, i, w.name)
	return nil
}

// Window returns the window named name, or nil.
func (s *Set) Window(name string) *Window { return s.byName[name] }

// Len returns the number of windows.
func (s *Set) Len() int { return len(s.names) }

// All yields the windows in name order.
func (s *Set) All() iter.Seq[*Window] {
	return func(yield func(*Window) bool) {
		for _, n := range s.names {
			if !yield(s.byName[n]) {
				return
			}
		}
	}
}

// Advance moves the clock of a ManualClock set, and of every window in
// it, to now (rounded down to a bucket boundary in a definitions set), and
// drops the buckets that leave retention. A now at or before the clock is
// ignored: the clock never runs backwards. Called on a set that follows
// event time (EventClock), it changes nothing and returns an error
// wrapping ErrClock.
func (s *Set) Advance(now time.Time) error {
	if s.mode != ManualClock {
		return fmt.Errorf("window: advance to %v: the set follows event time (%v): %w", now.UTC().Format(time.RFC3339Nano), s.mode, ErrClock)
	}
	s.setup()
	s.advanceTo(now.UnixNano())
	return nil
}

// Clock returns what moves the set's clock.
func (s *Set) Clock() Clock { return s.mode }

// Now returns the set's clock: the start of the bucket that holds the
// latest time it was advanced to (in a NewSet set, that time exactly), or
// the zero time while the clock is unset.
func (s *Set) Now() time.Time {
	if !s.started {
		return time.Time{}
	}
	return time.Unix(0, s.clock).UTC()
}

// Settled returns the latest bucket boundary (a whole second, at the
// default width) at least delay before the clock: the time a merger
// snapshots at. With delay the receivers' flush interval plus a grace for
// delivery, every receiver's deltas for the buckets before it have
// arrived. It is the zero time while the clock is unset.
func (s *Set) Settled(delay time.Duration) time.Time {
	if !s.started {
		return time.Time{}
	}
	s.setup()
	return time.Unix(0, floorDiv(subSat(s.clock, max(int64(delay), 0)), s.widthNs)*s.widthNs).UTC()
}

// Cut appends the deltas of every window, in name order and then bucket
// order, and returns the extended slice. See Window.Cut.
func (s *Set) Cut(dst []Delta) []Delta {
	for _, n := range s.names {
		dst = s.byName[n].Cut(dst)
	}
	return dst
}

// Apply applies d to the window named d.Name, by the rules of
// Window.Apply. Before the clock is set it is an error wrapping ErrClock,
// and a name the set does not hold is an error wrapping ErrUnknown. In a
// definitions set, a delta dropped as late is also counted in pulse.late,
// and one dropped as too far ahead, or refused as incompatible, in
// pulse.rejected, at the set's clock.
func (s *Set) Apply(d Delta) error {
	if !s.started {
		return fmt.Errorf("window: apply %q before the clock is set: %w", d.Name, ErrClock)
	}
	w := s.byName[d.Name]
	if w == nil {
		w = s.deriveByName(d.Name, d.Kind)
	}
	if w == nil {
		return fmt.Errorf("window: apply %q: %w", d.Name, ErrUnknown)
	}
	late, rejected := w.late, w.rejected
	err := w.Apply(d)
	if s.self != nil {
		if w.late != late {
			s.countAtClock(selfLate, 1)
		} else if w.rejected != rejected {
			s.countAtClock(selfRejected, 1)
		}
	}
	return err
}

// Late returns the sum of the windows' Late counters.
func (s *Set) Late() uint64 {
	var n uint64
	for _, w := range s.byName {
		n += w.late
	}
	return n
}

// Rejected returns the sum of the windows' Rejected counters.
func (s *Set) Rejected() uint64 {
	var n uint64
	for _, w := range s.byName {
		n += w.rejected
	}
	return n
}
