package window

import (
	"fmt"
	"math"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Default option values, used where an Options field is zero.
const (
	DefaultWidth    = time.Second
	DefaultSpan     = time.Minute
	DefaultLateness = 5 * time.Second
	DefaultSkew     = 5 * time.Minute
)

// MaxBuckets is the largest ring New accepts: (Span + Lateness +
// Skew) ÷ Width + 2 may not exceed it. At 16 bytes a slot the ring of the
// largest window costs 1 MiB before any stat is stored.
const MaxBuckets = 1 << 16

// Options configures a Window. The zero value of each field means its
// default.
type Options struct {
	// Width is the bucket width. Buckets are aligned to multiples of Width
	// in Unix time. Zero means DefaultWidth (1 s).
	Width time.Duration
	// Span is the longest span that will be read. Zero means DefaultSpan
	// (1 min).
	Span time.Duration
	// Lateness is how far behind the clock, beyond Span, an observation
	// may still land. Retention is Span + Lateness. Zero means
	// DefaultLateness (5 s); a negative value means no lateness at all.
	Lateness time.Duration
	// Skew is how far ahead of the clock an observation may land. Zero
	// means DefaultSkew (5 min); a negative value means none.
	Skew time.Duration
}

// withDefaults returns o with zero fields replaced by defaults and negative
// Lateness and Skew by 0, or an error wrapping ErrOptions.
func (o Options) withDefaults() (Options, error) {
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Span == 0 {
		o.Span = DefaultSpan
	}
	switch {
	case o.Lateness == 0:
		o.Lateness = DefaultLateness
	case o.Lateness < 0:
		o.Lateness = 0
	}
	switch {
	case o.Skew == 0:
		o.Skew = DefaultSkew
	case o.Skew < 0:
		o.Skew = 0
	}
	if o.Width < 0 || o.Span < 0 {
		return o, fmt.Errorf("window: width %v and span %v must be positive: %w", o.Width, o.Span, ErrOptions)
	}
	total := float64(o.Span) + float64(o.Lateness) + float64(o.Skew)
	if total/float64(o.Width)+2 > MaxBuckets {
		return o, fmt.Errorf("window: span %v + lateness %v + skew %v at width %v needs more than %d buckets: %w",
			o.Span, o.Lateness, o.Skew, o.Width, MaxBuckets, ErrOptions)
	}
	return o, nil
}

// Window keeps one stat per event-time bucket over a retention of
// Span + Lateness behind its clock and Skew ahead of it. See the package
// documentation for the rules and the memory bound.
//
// The zero Window is not usable; build one with New or NewFunc.
// A Window is not safe for concurrent use; callers shard or lock.
type Window struct {
	name    string
	kind    stat.Kind
	newStat func() stat.Stat
	ref     stat.Stat // an empty stat of newStat's: the parameters every bucket has
	opts    Options

	width, retention, skew int64 // nanoseconds

	// slots is the ring: bucket b lives in slots[mod(b, len(slots))]
	// while lo ≤ b ≤ hi. nil is an empty bucket.
	slots   []stat.Stat
	live    int // non-nil slots
	started bool
	now     int64 // the clock, Unix nanoseconds
	lo, hi  int64 // retained bucket numbers, inclusive

	late, rejected, expired uint64

	// dropped is the highest bucket Advance dropped while it held data
	// (math.MinInt64 for none): a read that needs it is an error.
	dropped int64
	// keep, when set (a LogWriter's set), absorbs every bucket that
	// leaves retention and every late observation, so nothing is lost.
	keep stat.Stat
}

// New returns an empty window named name for stats of kind k with default
// parameters (stat.New(k)). The window's clock is unset until the first
// Advance.
func New(name string, k stat.Kind, opts Options) (*Window, error) {
	if _, err := stat.New(k); err != nil {
		return nil, fmt.Errorf("window: %q: %w", name, err)
	}
	return NewFunc(name, func() stat.Stat { s, _ := stat.New(k); return s }, opts)
}

// NewFunc is like New for stats with non-default parameters: newStat
// returns a new empty stat each time it is called, always of the same
// kind.
func NewFunc(name string, newStat func() stat.Stat, opts Options) (*Window, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if newStat == nil {
		return nil, fmt.Errorf("window: %q: nil stat constructor: %w", name, ErrOptions)
	}
	s := newStat()
	if s == nil || !s.Kind().Valid() {
		return nil, fmt.Errorf("window: %q: constructor returned no valid stat: %w", name, ErrOptions)
	}
	w := &Window{
		name:      name,
		kind:      s.Kind(),
		newStat:   newStat,
		ref:       s,
		opts:      o,
		width:     int64(o.Width),
		retention: int64(o.Span + o.Lateness),
		skew:      int64(o.Skew),
		dropped:   math.MinInt64,
	}
	// hi − lo + 1 ≤ ⌈(retention + skew) ÷ width⌉ + 1 at any clock.
	n := (w.retention+w.skew+w.width-1)/w.width + 1
	w.slots = make([]stat.Stat, n)
	return w, nil
}

// newBucket returns an empty stat for a bucket.
func (w *Window) newBucket() stat.Stat { return w.newStat() }

// params describes a stat's parameters, for errors.
func params(s stat.Stat) string {
	switch s := s.(type) {
	case *stat.Distinct:
		return fmt.Sprintf("distinct p=%d", s.Precision())
	case *stat.Quantiles:
		return fmt.Sprintf("quantiles c=%v", s.Compression())
	case *stat.TopK:
		return fmt.Sprintf("topk k=%d capacity=%d", s.K(), s.Capacity())
	case *stat.LastBy:
		return fmt.Sprintf("lastby max keys=%d", s.MaxKeys())
	}
	return s.Kind().String()
}

// sameParams reports whether a and b, of one kind, have the same
// parameters: a zero value's are its defaults. Stats merge only with the
// same parameters, except that an empty zero value adopts the other's,
// which a bucket must not: its parameters are its window's.
func sameParams(a, b stat.Stat) bool {
	switch a := a.(type) {
	case *stat.Distinct:
		b, ok := b.(*stat.Distinct)
		return ok && a.Precision() == b.Precision()
	case *stat.Quantiles:
		b, ok := b.(*stat.Quantiles)
		return ok && a.Compression() == b.Compression()
	case *stat.TopK:
		b, ok := b.(*stat.TopK)
		return ok && a.K() == b.K() && a.Capacity() == b.Capacity()
	case *stat.LastBy:
		b, ok := b.(*stat.LastBy)
		return ok && a.MaxKeys() == b.MaxKeys()
	}
	return true
}

// Name returns the window's name.
func (w *Window) Name() string { return w.name }

// Kind returns the kind of the window's stats.
func (w *Window) Kind() stat.Kind { return w.kind }

// Options returns the window's options with defaults filled in.
func (w *Window) Options() Options { return w.opts }

// Width returns the bucket width.
func (w *Window) Width() time.Duration { return time.Duration(w.width) }

// Now returns the window's clock, or the zero time before the first
// Advance.
func (w *Window) Now() time.Time {
	if !w.started {
		return time.Time{}
	}
	return time.Unix(0, w.now).UTC()
}

// Late returns how many observations (At) and deltas (Apply) were dropped
// because their bucket had already left retention.
func (w *Window) Late() uint64 { return w.late }

// Rejected returns how many observations and deltas were dropped because
// their bucket starts more than Skew ahead of the clock or the clock was
// not yet set, and how many deltas Apply refused as incompatible.
func (w *Window) Rejected() uint64 { return w.rejected }

// Expired returns how many buckets holding a stat Advance has dropped. In
// a cumulative window that is the normal end of a bucket; in a delta window
// each one is data that never reached a Cut (cut before advancing).
func (w *Window) Expired() uint64 { return w.expired }

// Len returns the number of non-empty buckets.
func (w *Window) Len() int { return w.live }

// Slots returns the ring size, the most buckets the window ever holds:
// ⌈(Span + Lateness + Skew) ÷ Width⌉ + 1.
func (w *Window) Slots() int { return len(w.slots) }

// Advance moves the clock to now and drops the buckets that end at or
// before now − (Span + Lateness). A now at or before the clock is ignored:
// the clock never runs backwards. A Set advances its windows by the rules
// of its Clock; a window on its own is advanced by its owner, to the wall
// clock at each tick, or to event time.
func (w *Window) Advance(now time.Time) {
	ns := now.UnixNano()
	if w.started && ns <= w.now {
		return
	}
	lo, hi := w.bounds(ns)
	if w.started && w.live > 0 {
		end := lo
		if end-w.lo > int64(len(w.slots)) {
			end = w.lo + int64(len(w.slots))
		}
		for b := w.lo; b < end && w.live > 0; b++ {
			i := w.slot(b)
			if s := w.slots[i]; s != nil {
				if w.keep != nil {
					_ = w.keep.Merge(s) // same parameters: cannot fail
				} else {
					w.dropped = b
				}
				w.slots[i] = nil
				w.live--
				w.expired++
			}
		}
	}
	w.started, w.now, w.lo, w.hi = true, ns, lo, hi
}

// bounds returns the first and last bucket retained at clock now.
func (w *Window) bounds(now int64) (lo, hi int64) {
	return floorDiv(subSat(now, w.retention), w.width), floorDiv(addSat(now, w.skew), w.width)
}

// bucket returns t's bucket number and counts it when it falls outside
// the retained range.
func (w *Window) bucket(ns int64) (int64, bool) {
	if !w.started {
		w.rejected++
		return 0, false
	}
	b := floorDiv(ns, w.width)
	switch {
	case b < w.lo:
		w.late++
		return 0, false
	case b > w.hi:
		w.rejected++
		return 0, false
	}
	return b, true
}

func (w *Window) slot(b int64) int {
	n := int64(len(w.slots))
	i := b % n
	if i < 0 {
		i += n
	}
	return int(i)
}

// At returns the stat of the bucket that contains t, creating it empty
// when needed, for the caller to observe into. It returns nil, and counts
// the observation, when the bucket ends at or before now − (Span +
// Lateness) (Late) or starts after now + Skew (Rejected), or when the clock
// is unset. The stat stays owned by the window.
func (w *Window) At(t time.Time) stat.Stat {
	ns := t.UnixNano()
	if w.keep != nil && w.started && floorDiv(ns, w.width) < w.lo {
		return w.keep // late, but kept
	}
	b, ok := w.bucket(ns)
	if !ok {
		return nil
	}
	i := w.slot(b)
	s := w.slots[i]
	if s == nil {
		s = w.newBucket()
		w.slots[i] = s
		w.live++
	}
	return s
}

// Cut appends to dst, in bucket order, the stat of every non-empty bucket
// and leaves those buckets empty, and returns the extended slice. The
// caller owns the stats handed out. Because a cut empties what it hands
// out, every bucket it finds was touched since the previous cut: the
// deltas. A window that is cut is a delta window.
func (w *Window) Cut(dst []Delta) []Delta {
	for b := w.lo; b <= w.hi && w.live > 0; b++ {
		i := w.slot(b)
		if s := w.slots[i]; s != nil {
			dst = append(dst, Delta{Name: w.name, Kind: w.kind, Start: w.start(b), Width: time.Duration(w.width), Stat: s})
			w.slots[i] = nil
			w.live--
		}
	}
	return dst
}

func (w *Window) start(b int64) time.Time { return time.Unix(0, b*w.width).UTC() }

// Apply merges a delta into its bucket, under the rules of At: a late or
// future delta is counted (Late, Rejected) and dropped without error.
// Before the clock is set it is an error wrapping ErrClock. A delta for
// another name, kind or width, a start not aligned to the width, or a
// stat the bucket cannot merge is an error wrapping stat.ErrIncompatible,
// counted as rejected, and the window is otherwise unchanged. A bucket takes its parameters from the window's stat
// constructor, never from a delta: a delta applied to an empty bucket is
// merged into a new stat of the window's, so one delta of other
// parameters (a Distinct of another precision, say) is refused, not
// adopted. A nil d.Stat is a no-op. d is left as it was: the window never
// keeps d.Stat.
func (w *Window) Apply(d Delta) error {
	if d.Name != w.name || d.Kind != w.kind || int64(d.Width) != w.width {
		w.rejected++
		return fmt.Errorf("window: apply %s %q width %v into %s %q width %v: %w",
			d.Kind, d.Name, d.Width, w.kind, w.name, time.Duration(w.width), stat.ErrIncompatible)
	}
	if d.Stat == nil {
		return nil
	}
	if !w.started {
		return fmt.Errorf("window: apply %q before the clock is set: %w", d.Name, ErrClock)
	}
	if d.Stat.Kind() != w.kind {
		w.rejected++
		return fmt.Errorf("window: apply %q: delta of kind %s holds a %s: %w", d.Name, d.Kind, d.Stat.Kind(), stat.ErrIncompatible)
	}
	if !sameParams(d.Stat, w.ref) {
		w.rejected++
		return fmt.Errorf("window: apply %q: %s delta into %s buckets: %w", d.Name, params(d.Stat), params(w.ref), stat.ErrIncompatible)
	}
	ns := d.Start.UnixNano()
	if ns%w.width != 0 {
		w.rejected++
		return fmt.Errorf("window: apply %q: start %d ns is not a multiple of width %d ns: %w", d.Name, ns, w.width, stat.ErrIncompatible)
	}
	b, ok := w.bucket(ns)
	if !ok {
		return nil
	}
	i := w.slot(b)
	if s := w.slots[i]; s != nil {
		if err := s.Merge(d.Stat); err != nil {
			w.rejected++
			return fmt.Errorf("window: apply %q: %w", d.Name, err)
		}
		return nil
	}
	s := w.newBucket()
	if err := s.Merge(d.Stat); err != nil {
		w.rejected++
		return fmt.Errorf("window: apply %q: %w", d.Name, err)
	}
	w.slots[i] = s
	w.live++
	return nil
}

// Read merges into into the stats of the complete buckets in [T − span,
// T): every bucket that starts at or after T − span and ends at or before
// T. The bucket that contains T is still filling and is left out (when T
// is a bucket boundary, the bucket ending at T is in). Buckets that never
// held data read as empty; a span that reaches a bucket Advance dropped
// while it held data is an error wrapping ErrClock, since its answer
// would be short. Read never changes the window. An into of another kind,
// or a merge error, is an error; into may then hold part of the buckets.
func (w *Window) Read(T time.Time, span time.Duration, into stat.Stat) error {
	if into == nil || into.Kind() != w.kind {
		return fmt.Errorf("window: read %q (%s) into %v: %w", w.name, w.kind, into, stat.ErrIncompatible)
	}
	if !w.started || span <= 0 {
		return nil
	}
	t := T.UnixNano()
	first := ceilDiv(subSat(t, int64(span)), w.width)
	last := floorDiv(t, w.width) - 1
	if first <= w.dropped && first <= last {
		return fmt.Errorf("window: read %q at %v over %v: bucket %v left retention holding data: %w",
			w.name, T.UTC().Format(time.RFC3339Nano), span, w.start(min(w.dropped, last)).Format(time.RFC3339Nano), ErrClock)
	}
	if w.live == 0 {
		return nil
	}
	first, last = max(first, w.lo), min(last, w.hi)
	for b := first; b <= last; b++ {
		if s := w.slots[w.slot(b)]; s != nil {
			if err := into.Merge(s); err != nil {
				return fmt.Errorf("window: read %q: %w", w.name, err)
			}
		}
	}
	return nil
}

// floorDiv returns ⌊a ÷ b⌋ for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv returns ⌈a ÷ b⌉ for b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// addSat returns a + b for b ≥ 0, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// subSat returns a − b for b ≥ 0, saturating at math.MinInt64.
func subSat(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
