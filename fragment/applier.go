package fragment

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// Applier is a merger's side of the wire in one call: Apply decodes a
// batch, drops it if it was applied before, and applies every fragment to
// the merger's set. It decodes each stat into a scratch stat of its kind
// that it reuses (a window never keeps a delta's stat), and the batch into
// one Batch, so a steady merger allocates little beyond what the stats'
// decoding and the set's new buckets need.
//
// The set's clock is the merger's own, set by window.Set.Advance with the
// wall clock at each tick: Apply never moves it, and a batch's time is
// reported, not used. An Applier is not safe for concurrent use.
type Applier struct {
	set     *window.Set
	seen    *Seen
	lim     Limits
	batch   Batch
	settled time.Time      // see SetPublished
	scratch [256]stat.Stat // by kind tag
}

// NewApplier returns an Applier into set that drops the batches seen has
// seen (nil: a Seen of its own) and decodes under limits (nil: the
// defaults). A Seen serves one shard: a receiver's cut sends every shard
// a batch with the same source and seq. Pass a merger's Seen when it
// should outlive the Applier, or to read Seen.Stale.
func NewApplier(set *window.Set, seen *Seen, limits *Limits) *Applier {
	a := &Applier{set: set, seen: seen}
	if a.seen == nil {
		a.seen = new(Seen)
	}
	if limits != nil {
		a.lim = *limits
	}
	return a
}

// ApplyResult says what Apply did with one batch. Fragments is the sum of
// Applied, Late, Rejected, Unknown and Corrupt unless Duplicate.
type ApplyResult struct {
	// Source, Seq and Time are the batch's, once it decoded.
	Source string
	Seq    uint64
	Time   time.Time
	// Duplicate is true when the batch had been applied before (or was
	// too old to tell: see Seen); nothing of it was applied.
	Duplicate bool
	// Fragments is the number of fragments in the batch.
	Fragments int
	// Applied is how many were merged into a bucket.
	Applied int
	// Late is how many were dropped because their bucket had left the
	// set's retention (window.Set.Late, and pulse.late).
	Late int
	// Rejected is how many were dropped because their bucket starts more
	// than the skew ahead of the set's clock, or were refused as not
	// fitting their window: another kind, width or parameters
	// (window.Set.Rejected, and pulse.rejected).
	Rejected int
	// Unknown is how many named a stat the set does not hold.
	Unknown int
	// Corrupt is how many held stat bytes that did not decode.
	Corrupt int
	// Republished counts the applied fragments whose bucket ends at or
	// before the time given to SetPublished: data for a second the merger
	// had already published, merged into its own second (so later
	// snapshots are right) but missing from the one already sent.
	Republished int
}

// Apply decodes the batch in b, and unless it is a duplicate, applies
// each of its fragments to the set, counting what happened to each in the
// result. b is not kept.
//
// A batch that does not decode is an error wrapping ErrCorrupt,
// ErrChecksum, ErrVersion or ErrLimit, and a batch that comes while the
// set's clock is unset is an error wrapping ErrApply and window.ErrClock;
// in both cases nothing is applied and the batch is not recorded as seen,
// so a redelivery can still be applied. Otherwise the batch is recorded as
// seen; fragments that are unknown, corrupt or refused are counted and the
// rest applied, and the error, if any, wraps ErrApply and the first such
// fragment's error (window.ErrUnknown, ErrCorrupt, stat.ErrIncompatible).
// Late and rejected fragments are counted, not errors.
func (a *Applier) Apply(b []byte) (ApplyResult, error) {
	var res ApplyResult
	if err := a.batch.UnmarshalLimits(b, a.lim); err != nil {
		return res, err
	}
	res.Source, res.Seq, res.Time = a.batch.Source, a.batch.Seq, a.batch.Time
	res.Fragments = len(a.batch.Fragments)
	if a.set.Now().IsZero() {
		return res, fmt.Errorf("fragment: apply %q seq %d: %w: %w", res.Source, res.Seq, ErrApply,
			fmt.Errorf("window: the set's clock is unset; advance it first: %w", window.ErrClock))
	}
	if !a.seen.Add(res.Source, res.Seq) {
		res.Duplicate = true
		return res, nil
	}
	late, rejected := a.set.Late(), a.set.Rejected()
	var first error
	for i := range a.batch.Fragments {
		f := &a.batch.Fragments[i]
		st, err := a.decode(f)
		if err == nil {
			err = a.set.Apply(window.Delta{Name: f.Name, Kind: f.Kind, Start: f.Start, Width: f.Width, Stat: st})
			switch {
			case err == nil:
				if !a.settled.IsZero() && !f.Start.Add(f.Width).After(a.settled) {
					res.Republished++
				}
			case errors.Is(err, window.ErrUnknown):
				res.Unknown++
			default: // stat.ErrIncompatible: counted by the window as rejected
			}
		} else {
			res.Corrupt++
		}
		if err != nil && first == nil {
			first = err
		}
	}
	res.Late = int(a.set.Late() - late)
	res.Rejected = int(a.set.Rejected() - rejected)
	res.Applied = res.Fragments - res.Late - res.Rejected - res.Unknown - res.Corrupt
	if first != nil {
		return res, fmt.Errorf("fragment: apply %q seq %d: %d of %d fragments not applied: %w: %w",
			res.Source, res.Seq, res.Fragments-res.Applied, res.Fragments, ErrApply, first)
	}
	return res, nil
}

// decode decodes f's stat into the scratch stat of its kind.
// SetPublished tells the Applier the latest time its set was published
// at (the merger's last snapshot time T): fragments for buckets ending at
// or before it are counted in ApplyResult.Republished.
func (a *Applier) SetPublished(t time.Time) { a.settled = t }

func (a *Applier) decode(f *Fragment) (stat.Stat, error) {
	if !f.Kind.Valid() {
		return nil, fmt.Errorf("fragment: %q: kind %d: %w", f.Name, f.Kind, ErrCorrupt)
	}
	st := a.scratch[f.Kind]
	if st == nil {
		var err error
		if st, err = stat.New(f.Kind); err != nil {
			return nil, fmt.Errorf("fragment: %q: %w: %w", f.Name, ErrCorrupt, err)
		}
		a.scratch[f.Kind] = st
	}
	if err := st.UnmarshalBinary(f.Stat); err != nil {
		return nil, fmt.Errorf("fragment: %q: %w: %w", f.Name, ErrCorrupt, err)
	}
	return st, nil
}
