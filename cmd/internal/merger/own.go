package merger

import (
	"fmt"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// The merger's own figures. Each shard's are its own, so they are
// published under names that carry the shard ("pulse.merger.0.late"),
// as rates per second over 10 s, beside the shard's stats; and
// pulse.merger.<shard>.sources, the receivers' sources (one per receiver
// worker) it got a batch from in the last 10 s.
const (
	ownLate        = iota // fragments dropped: older than the windows' retention
	ownRepublished        // fragments for a second already published, merged late
	ownDuplicates         // batches dropped as already applied
	ownFailed             // batches not (wholly) applied: corrupt, unknown names, incompatible
	ownMissing            // batches missing from a source's sequence: dropped by their receiver or lost on the bus (see sources)
	ownCount
)

var ownNames = [ownCount]string{"late", "republished", "duplicates", "failed", "missing"}

// ownSources names the count of live sources.
const ownSources = "sources"

const ownSpan = 10 * time.Second

// ownStats keeps the merger's own counts in one-second buckets.
type ownStats struct {
	w [ownCount]*window.Window
}

// newOwnStats returns the figures of a merger whose snapshots are lateness
// behind its clock (its set's Lateness, at least flush + grace), so that
// they keep every second a snapshot reads.
func newOwnStats(lateness time.Duration) (*ownStats, error) {
	o := &ownStats{}
	for i := range o.w {
		w, err := window.New(ownNames[i], stat.KindCount, window.Options{Span: ownSpan, Lateness: lateness})
		if err != nil {
			return nil, err
		}
		o.w[i] = w
	}
	return o, nil
}

func (o *ownStats) advance(now time.Time) {
	for _, w := range o.w {
		w.Advance(now)
	}
}

func (o *ownStats) add(i int, now time.Time, n uint64) {
	if n == 0 {
		return
	}
	if c, ok := o.w[i].At(now).(*stat.Count); ok {
		c.Add(n)
	}
}

// read puts every figure at T into stats as pulse.merger.<shard>.<name>,
// and live, the sources heard from lately, as pulse.merger.<shard>.sources.
func (o *ownStats) read(T time.Time, shard, live int, stats map[string]stat.Value) {
	for i, w := range o.w {
		var c stat.Count
		if err := w.Read(T, ownSpan, &c); err != nil {
			continue
		}
		stats[fmt.Sprintf("pulse.merger.%d.%s", shard, ownNames[i])] = stat.Number(c.Rate(ownSpan, time.Second))
	}
	stats[fmt.Sprintf("pulse.merger.%d.%s", shard, ownSources)] = stat.Number(float64(live))
}
