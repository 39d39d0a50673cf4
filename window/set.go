package window

import (
	"fmt"
	"iter"
	"slices"
	"time"
)

// Set holds windows by name: a receiver's or a merger's whole state. Cut
// and Apply work over every window, so the receiver's cut and the merger's
// apply are one call each.
//
// The zero Set is empty and ready to use.
// A Set is not safe for concurrent use; callers shard or lock.
type Set struct {
	byName map[string]*Window
	names  []string // sorted

	// A definitions set (NewDefSet) also keeps:
	wopts           Options     // the options of every window it makes, but Span
	defs            []defWindow // one per definition, in definition order
	self            []defWindow // the self-stats, in selfStats order
	l2met           []*l2metDef // l2met definitions and what they derived
	index           defIndex    // which definitions an event could match
	clock           int64       // the start of the clock's bucket, Unix ns
	started         bool        // the clock is set
	pendingUnparsed int64       // unparsed input counted before the clock was set
	dropped         uint64      // events with no time folded before the clock was set
}

// NewSet returns a set holding ws, or an error wrapping ErrDuplicate when
// two share a name.
func NewSet(ws ...*Window) (*Set, error) {
	s := new(Set)
	for _, w := range ws {
		if err := s.Add(w); err != nil {
			return nil, err
		}
	}
	return s, nil
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

// Advance advances every window's clock to now.
func (s *Set) Advance(now time.Time) {
	s.advanceTo(now.UnixNano())
}

// Cut appends the deltas of every window, in name order and then bucket
// order, and returns the extended slice. See Window.Cut.
func (s *Set) Cut(dst []Delta) []Delta {
	for _, n := range s.names {
		dst = s.byName[n].Cut(dst)
	}
	return dst
}

// Apply applies d to the window named d.Name. A name the set does not hold
// is an error wrapping ErrUnknown. See Window.Apply.
func (s *Set) Apply(d Delta) error {
	w := s.byName[d.Name]
	if w == nil {
		w = s.deriveByName(d.Name, d.Kind)
	}
	if w == nil {
		return fmt.Errorf("window: apply %q: %w", d.Name, ErrUnknown)
	}
	return w.Apply(d)
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
