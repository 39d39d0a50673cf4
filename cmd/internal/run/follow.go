package run

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/emitter"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// liveLag is the largest lag a snapshot may have to count as live rather
// than read back from the bus after a restart.
const liveLag = 30 * time.Second

// follow reads the mergers' snapshots from the bus into h: first back over
// the history (a restarted web shows its graphs at once), then as they
// come. Each live snapshot gets pulse.lag, the time from the end of its
// second to its arrival here, in milliseconds: the freshness of the
// numbers on the page, the largest over the shards. A snapshot no newer
// than one its shard published before (a restarted merger publishes its
// last minute again) gets none, so the lag already shown for its second
// stays.
// The emitter, when there is one, gets each live snapshot as well.
func follow(ctx context.Context, b bus.Bus, h *web.History, e *emitter.Emitter, history time.Duration, log *slog.Logger) error {
	back := history
	if h == nil {
		back = 0 // an emitter alone sends what is new
	}
	pos := bus.At(time.Now().Add(-back))
	lags := map[int]time.Duration{}
	newest := map[int]time.Time{} // by shard: bounded by bus.MaxShards
	backoff := 100 * time.Millisecond
	var bad uint64
	for ctx.Err() == nil {
		msgs, err := b.ReadSnapshots(ctx, pos, 256, time.Second)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("reading snapshots failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		now := time.Now()
		for _, m := range msgs {
			pos = m.ID
			var snap window.Snapshot
			if err := snap.UnmarshalJSON(m.Data); err != nil {
				bad++
				log.Warn("snapshot not read", "shard", m.Shard, "id", m.ID, "err", err, "unreadable", bad)
				continue
			}
			again := !snap.Time.After(newest[m.Shard])
			if !again {
				newest[m.Shard] = snap.Time
			}
			if lag := now.Sub(snap.Time); !again && lag >= 0 && lag < liveLag {
				lags[m.Shard] = lag
				var worst time.Duration
				for _, l := range lags {
					worst = max(worst, l)
				}
				snap.Stats[selfstat.Lag] = stat.Number(float64(worst.Milliseconds()))
			}
			if h != nil {
				h.Add(m.Shard, snap)
			}
			if e != nil && now.Sub(snap.Time) < liveLag {
				e.Offer(snap) // a full buffer drops the oldest, counted
			}
		}
	}
	return nil
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
