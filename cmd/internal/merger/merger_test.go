package merger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	recv "github.com/pulsehq/pulse/cmd/internal/receiver"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/cmd/internal/runtest"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// The tests run mergers with short delays: a second is published
// flush + grace = 200 ms after it ends.
const (
	testFlush = 100 * time.Millisecond
	testGrace = 100 * time.Millisecond
	testDelay = testFlush + testGrace
)

// TestMergerBackfillAndShards publishes the batches of two receivers to
// two shards before the mergers start: each merger's first snapshot holds
// both receivers' events, only for its shard's names and its own
// figures, at T = Settled(flush + grace).
func TestMergerBackfillAndShards(t *testing.T) {
	t.Parallel()
	const shards = 2
	b := newMemory(t)
	now := time.Now()
	a, c := newReceiver(t, "a"), newReceiver(t, "b")
	a.fold(t, now.Add(-3*time.Second), 5)
	c.fold(t, now.Add(-2*time.Second), 7)
	a.publish(t, b, shards, now)
	c.publish(t, b, shards, now)

	for shard := range shards {
		run(t, newMerger(t, b, shard, shards))
	}
	for shard := range shards {
		snaps := waitSnapshots(t, b, shard, 3)
		first := snaps[0]
		names := namesIn(shard, shards)
		require.NotEmpty(t, names, "the test's definitions cover shard %d", shard)
		for _, n := range names {
			assert.Equal(t, 12.0, number(t, first.Snapshot, n), "shard %d: %s in the first snapshot", shard, n)
		}
		own := fmt.Sprintf("pulse.merger.%d.", shard)
		for name := range first.Stats {
			if strings.HasPrefix(name, "pulse.merger.") {
				assert.True(t, strings.HasPrefix(name, own), "shard %d publishes %s", shard, name)
				continue
			}
			assert.Equal(t, shard, fragment.Shard(name, shards), "shard %d publishes %s", shard, name)
		}
		for _, n := range ownNames {
			assert.Contains(t, first.Stats, own+n)
		}
		for i, s := range snaps {
			assert.Equal(t, shard, s.shard)
			assert.True(t, s.Time.Equal(s.Time.Truncate(time.Second)), "T %v is a whole second", s.Time)
			// T is Settled(flush + grace) at the merger's clock, which
			// is at most the time the bus stored the snapshot.
			assert.False(t, s.Time.After(s.stored.Add(-testDelay)), "T %v, stored %v", s.Time, s.stored)
			assert.True(t, s.Time.After(s.stored.Add(-testDelay-2*time.Second)), "T %v, stored %v", s.Time, s.stored)
			if i > 0 {
				assert.True(t, s.Time.After(snaps[i-1].Time), "snapshot %d at %v after %v", i, s.Time, snaps[i-1].Time)
			}
		}
	}
}

// TestMergerDuplicate applies a batch read twice once.
func TestMergerDuplicate(t *testing.T) {
	t.Parallel()
	b := newMemory(t)
	now := time.Now()
	a, c := newReceiver(t, "a"), newReceiver(t, "b")
	a.fold(t, now.Add(-2*time.Second), 5)
	c.fold(t, now.Add(-2*time.Second), 7)
	batch := a.cut(t, 1, now)
	for _, data := range [][]byte{batch[0], c.cut(t, 1, now)[0], batch[0]} {
		require.NoError(t, b.PublishBatch(t.Context(), 0, data))
	}
	m := newMerger(t, b, 0, 1)
	run(t, m)
	snaps := waitSnapshots(t, b, 0, 1)
	for _, n := range namesIn(0, 1) {
		assert.Equal(t, 12.0, number(t, snaps[0].Snapshot, n), "%s", n)
	}
	h, err := m.Health()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), h["merger_batches"])
	assert.Equal(t, uint64(1), h["merger_duplicates"])
	require.Eventually(t, func() bool {
		s := lastSnapshot(t, b, 0)
		v, _ := s.Stats["pulse.merger.0.duplicates"].Number()
		return v > 0
	}, 10*time.Second, 10*time.Millisecond, "pulse.merger.0.duplicates")

	s := lastSnapshot(t, b, 0)
	assert.Equal(t, 0.1, number(t, s.Snapshot, "pulse.merger.0.duplicates"), "one batch over 10 s")
	for _, n := range namesIn(0, 1) {
		assert.Equal(t, 12.0, number(t, s.Snapshot, n), "%s", n)
	}
}

// TestMergerLiveAndRepublished publishes batches while the merger runs:
// one for the current second, merged in time, and one for a second
// already published, merged into its own second and counted as
// republished.
func TestMergerLiveAndRepublished(t *testing.T) {
	t.Parallel()
	b := newMemory(t)
	m := newMerger(t, b, 0, 1)
	run(t, m)
	first := waitSnapshots(t, b, 0, 1)[0]
	names := namesIn(0, 1)

	now := time.Now()
	a := newReceiver(t, "a")
	a.fold(t, now, 4)
	a.publish(t, b, 1, now)
	live := waitSnapshot(t, b, 0, "the live batch", func(s snapshot) bool { return number(t, s.Snapshot, names[0]) == 4 })
	// Its own figures are read a second or two after they are counted.
	settled := waitSnapshot(t, b, 0, "the own figures of the live batch", func(s snapshot) bool {
		return s.Time.After(live.stored.Add(time.Second))
	})
	assert.Equal(t, 0.0, number(t, settled.Snapshot, "pulse.merger.0.republished"), "a batch in time is not republished")

	c := newReceiver(t, "b")
	c.fold(t, first.Time.Add(-2*time.Second), 3)
	c.publish(t, b, 1, time.Now())
	s := waitSnapshot(t, b, 0, "the republished batch counted", func(s snapshot) bool {
		v, _ := s.Stats["pulse.merger.0.republished"].Number()
		return v > 0
	})
	for _, n := range names {
		assert.Equal(t, 7.0, number(t, s.Snapshot, n), "%s: later snapshots hold the republished second", n)
	}
}

// TestMergerReadErrors runs mergers over buses whose reads fail: the
// merger counts, retries and recovers, and never stops on its own.
func TestMergerReadErrors(t *testing.T) {
	t.Parallel()
	t.Run("bus down, then up", func(t *testing.T) {
		t.Parallel()
		mem := newMemory(t)
		b := &downBus{Bus: mem}
		b.down.Store(true)
		m := newMerger(t, b, 0, 1)
		run(t, m)
		now := time.Now()
		a := newReceiver(t, "a")
		a.fold(t, now.Add(-time.Second), 6)
		a.publish(t, mem, 1, now)
		require.Eventually(t, func() bool {
			h, _ := m.Health()
			return h["merger_read_errors"].(uint64) >= 2
		}, 10*time.Second, 10*time.Millisecond, "failed reads in Health")

		b.down.Store(false)
		waitSnapshot(t, mem, 0, "the batch applied once the bus is back", func(s snapshot) bool {
			return number(t, s.Snapshot, namesIn(0, 1)[0]) == 6
		})
		_, err := m.Health()
		assert.NoError(t, err)
	})
	t.Run("bus closed", func(t *testing.T) {
		t.Parallel()
		mem := newMemory(t)
		m := newMerger(t, mem, 0, 1)
		stop := run(t, m)
		require.Eventually(t, func() bool {
			h, _ := m.Health()
			return h["merger_published_age_ms"] != nil
		}, 10*time.Second, 10*time.Millisecond, "a first snapshot")

		require.NoError(t, mem.Close())
		require.Eventually(t, func() bool {
			h, _ := m.Health()
			return h["merger_read_errors"].(uint64) >= 2
		}, 10*time.Second, 10*time.Millisecond, "failed reads in Health")

		// A merger that cannot read publishes nothing: its snapshots would
		// miss every batch since.
		h, _ := m.Health()
		assert.Equal(t, uint64(0), h["merger_publish_errors"], "publishes tried while reads fail")
		require.NoError(t, stop(), "Run returns nil when cancelled, the bus closed or not")
	})
}

// TestMergerRedisRestart runs a merger over a real Redis that crashes and
// comes back empty: the merger keeps what it merged, retries its reads,
// and goes on with the batches published after the restart.
func TestMergerRedisRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: srv.URL(), Prefix: "test:" + t.Name() + ":", Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	m := newMerger(t, b, 0, 1)
	run(t, m)
	name := namesIn(0, 1)[0]

	now := time.Now()
	a := newReceiver(t, "a")
	a.fold(t, now, 5)
	a.publish(t, b, 1, now)
	waitSnapshot(t, b, 0, "the first batch", func(s snapshot) bool { return number(t, s.Snapshot, name) == 5 })

	require.NoError(t, srv.Stop())
	require.Eventually(t, func() bool {
		h, _ := m.Health()
		return h["merger_read_errors"].(uint64) >= 2
	}, 10*time.Second, 10*time.Millisecond, "failed reads")

	require.NoError(t, srv.Restart())

	now = time.Now()
	c := newReceiver(t, "b")
	c.fold(t, now, 3)
	require.Eventually(t, func() bool {
		return c.tryPublish(b, 1, now) == nil
	}, 10*time.Second, 10*time.Millisecond, "Redis to take a batch again")

	waitSnapshot(t, b, 0, "both batches, one from before the restart", func(s snapshot) bool { return number(t, s.Snapshot, name) == 8 })
	require.Eventually(t, func() bool {
		_, err := m.Health()
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "Health to recover")

}

// TestMergerFromReceivers runs a receiver of two workers and two merger
// shards over one memory bus: the shards' snapshots hold what one set
// folding the same traffic holds (the exact kinds equal), and no batch
// fails to apply (the receivers' pulse.* figures are known to the mergers).
func TestMergerFromReceivers(t *testing.T) {
	t.Parallel()
	const shards = 2
	b := newMemory(t)
	heroku := def.Heroku()
	r, err := recv.New(recv.Config{Defs: heroku, Shards: shards, Workers: 2, Flush: testFlush, Source: "web.1"}, b, nil)
	require.NoError(t, err)
	var ms []*Merger
	for shard := range shards {
		m, err := New(Config{Defs: heroku, Shard: shard, Shards: shards, Flush: testFlush, Grace: testGrace}, b, nil)
		require.NoError(t, err)
		ms = append(ms, m)
		run(t, m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	start := time.Now().Add(-3 * time.Second).Truncate(time.Second)
	g := logfmttest.New(logfmttest.Options{Seed: 7, Start: start, IncidentEvery: -1})
	var traffic bytes.Buffer
	_, err = g.WriteFor(&traffic, 2*time.Second)
	require.NoError(t, err)
	h := r.Handler()
	for body := range drainBodies(traffic.Bytes(), 100) {
		req := httptest.NewRequest(http.MethodPost, "/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/logplex-1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Equal(t, http.StatusNoContent, w.Code)
	}
	// Every event folded and cut by both workers; then every batch on the
	// bus applied; then a snapshot of each shard after that, and after the
	// traffic's last second.
	events := int64(bytes.Count(traffic.Bytes(), []byte{'\n'}))
	require.Eventually(t, func() bool {
		h, _ := r.Health()
		return h["receiver_events"] == events
	}, 10*time.Second, 10*time.Millisecond, "the receiver to fold every event")

	// A cut on the bus now, or waiting for the publisher, may have been
	// made before the last fold; the one after it was not.
	before := seqs(t, b)
	require.Eventually(t, func() bool {
		now := seqs(t, b)
		for _, src := range r.Sources() {
			if now[src] < before[src]+2 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "the receiver to publish two more cuts of every worker")

	for shard, m := range ms {
		msgs, err := b.ReadBatches(t.Context(), shard, bus.Start, 100_000, 0)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			h, _ := m.Health()
			return h["merger_batches"].(uint64) >= uint64(len(msgs))
		}, 10*time.Second, 10*time.Millisecond, "the merger to apply the batches")

	}
	applied := time.Now()
	end := start.Add(2 * time.Second)
	got := map[int]snapshot{}
	for shard := range shards {
		got[shard] = waitSnapshot(t, b, shard, "a snapshot after the traffic", func(s snapshot) bool {
			return !s.Time.Before(end) && s.stored.After(applied)
		})
	}

	kinds := map[string]def.Kind{}
	for _, d := range heroku {
		kinds[d.Name] = d.Kind
	}
	for shard, s := range got {
		ref := replay(t, heroku, traffic.Bytes(), s.Time)
		for name, want := range ref.Stats {
			if strings.HasPrefix(name, "pulse.") || fragment.Shard(name, shards) != shard {
				continue
			}
			v, ok := s.Stats[name]
			if !assert.True(t, ok, "shard %d: %s missing", shard, name) {
				continue
			}
			switch kinds[name] {
			case def.KindQuantiles, def.KindTopK, def.KindL2met, "": // sketches, and l2met's derived stats
				assert.Equal(t, want.IsNull(), v.IsNull(), "shard %d: %s: %v, want %v", shard, name, v, want)
			default:
				wn, _ := want.Number()
				gn, _ := v.Number()
				assert.InDelta(t, wn, gn, 1e-9*max(1, wn), "shard %d: %s", shard, name)
			}
		}
		for name := range s.Stats {
			if !strings.HasPrefix(name, "pulse.") {
				assert.Contains(t, ref.Stats, name, "shard %d", shard)
			}
		}
	}
	for _, m := range ms {
		h, err := m.Health()
		assert.NoError(t, err)
		assert.Equal(t, uint64(0), h["merger_apply_errors"], "shard %v", h["merger_shard"])
	}
}

// seqs returns the latest sequence number of every source on shard 0 of b.
func seqs(t *testing.T, b bus.Bus) map[string]uint64 {
	t.Helper()
	msgs, err := b.ReadBatches(t.Context(), 0, bus.Start, 100_000, 0)
	require.NoError(t, err)
	out := map[string]uint64{}
	for _, msg := range msgs {
		var bt fragment.Batch
		require.NoError(t, bt.UnmarshalBinary(msg.Data))
		out[bt.Source] = max(out[bt.Source], bt.Seq)
	}
	return out
}

// replay folds traffic into one set and snapshots it at T.
func replay(t *testing.T, defs []def.Def, traffic []byte, T time.Time) window.Snapshot {
	t.Helper()
	set, err := window.NewDefSet(defs, &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
	require.NoError(t, err)
	require.NoError(t, set.Advance(time.Now()))
	rd := logfmt.NewReader(bytes.NewReader(traffic), nil)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		set.Fold(ev)
	}
	snap, err := set.Snapshot(T)
	require.NoError(t, err)
	return snap
}

// drainBodies cuts octet-counted traffic into bodies of n frames.
func drainBodies(traffic []byte, n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(traffic) > 0 {
			end := 0
			for range n {
				if end == len(traffic) {
					break
				}
				sp := bytes.IndexByte(traffic[end:], ' ')
				size, err := strconv.Atoi(string(traffic[end : end+sp]))
				if err != nil {
					panic(err)
				}
				end += sp + 1 + size
			}
			if !yield(traffic[:end]) {
				return
			}
			traffic = traffic[end:]
		}
	}
}

// TestMergerHealth checks the freshness rules of Health, with the
// merger's clocks set by hand.
func TestMergerHealth(t *testing.T) {
	m := newMerger(t, newMemory(t), 1, 2)
	now := time.Now()
	limit := testDelay + 5*time.Second
	tests := []struct {
		name                     string
		started, read, published time.Time
		wantErr                  string
	}{
		{"not running", time.Time{}, time.Time{}, time.Time{}, ""},
		{"just started", now, time.Time{}, time.Time{}, ""},
		{"reading and publishing", now.Add(-time.Minute), now, now.Add(-testDelay), ""},
		{"never published", now.Add(-limit - time.Second), now, time.Time{}, "nothing published"},
		{"published long ago", now.Add(-time.Minute), now, now.Add(-limit - time.Second), "last published"},
		{"reads failing", now.Add(-time.Minute), now.Add(-limit - time.Second), now.Add(-testDelay), "no batches read"},
		{"never read", now.Add(-limit - time.Second), time.Time{}, now.Add(-testDelay), "no batches read"},
	}
	ns := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixNano()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.started.Store(ns(tt.started))
			m.lastRead.Store(ns(tt.read))
			m.lastPublish.Store(ns(tt.published))
			h, err := m.Health()
			for _, k := range []string{"merger_shard", "merger_batches", "merger_duplicates", "merger_apply_errors", "merger_publish_errors", "merger_read_errors"} {
				assert.Contains(t, h, k)
			}
			assert.Equal(t, 1, h["merger_shard"])
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// ---- helpers

// testDefs are eight rates of every event over a minute: their value is
// the number of events in the minute before T. Their names spread over
// the shards of the tests.
func testDefs() []def.Def {
	var ds []def.Def
	for i := range 8 {
		ds = append(ds, def.Def{Name: "hits." + strconv.Itoa(i), Kind: def.KindRate, Per: time.Minute, Window: time.Minute})
	}
	return ds
}

// namesIn returns the names of testDefs in shard of shards.
func namesIn(shard, shards int) []string {
	var ns []string
	for _, d := range testDefs() {
		if fragment.Shard(d.Name, shards) == shard {
			ns = append(ns, d.Name)
		}
	}
	return ns
}

func newMemory(t *testing.T) *bus.Memory {
	t.Helper()
	m, err := bus.NewMemory(bus.MemoryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func newMerger(t *testing.T, b bus.Bus, shard, shards int) *Merger {
	t.Helper()
	m, err := New(Config{Defs: testDefs(), Shard: shard, Shards: shards, Flush: testFlush, Grace: testGrace}, b, nil)
	require.NoError(t, err)
	return m
}

// run runs m until the returned stop is called, which cancels Run and
// returns its error. Cleanup stops it too.
func run(t *testing.T, m *Merger) (stop func() error) {
	t.Helper()
	return runtest.Start(t, m.Run)
}

// receiver is a receiver's set and sender, folding events by hand.
type receiver struct {
	set     *window.Set
	sender  *fragment.Sender
	source  string
	pending [][]byte // tryPublish's batches not yet published
}

func newReceiver(t *testing.T, source string) *receiver {
	t.Helper()
	set, err := window.NewDefSet(testDefs(), &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
	require.NoError(t, err)
	require.NoError(t, set.Advance(time.Now()))
	return &receiver{set: set, source: source}
}

// fold folds n router lines at at.
func (r *receiver) fold(t *testing.T, at time.Time, n int) {
	t.Helper()
	var b []byte
	for range n {
		msg := "<158>1 " + at.UTC().Format(time.RFC3339Nano) + " host heroku router - at=info method=GET path=/ host=a.example.com status=200 service=12ms"
		b = append(b, strconv.Itoa(len(msg))...)
		b = append(b, ' ')
		b = append(b, msg...)
	}
	rd := logfmt.NewReader(bytes.NewReader(b), nil)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		r.set.Fold(ev)
	}
}

// cut cuts the set at now into one batch per shard.
func (r *receiver) cut(t *testing.T, shards int, now time.Time) [][]byte {
	t.Helper()
	if r.sender == nil {
		r.sender = fragment.NewSender(r.source, shards, nil)
	}
	out, err := r.sender.Cut(r.set, now, nil)
	require.NoError(t, err)
	return out
}

// publish cuts the set and publishes the batches to b.
func (r *receiver) publish(t *testing.T, b bus.Bus, shards int, now time.Time) {
	t.Helper()
	for shard, data := range r.cut(t, shards, now) {
		require.NoError(t, b.PublishBatch(t.Context(), shard, data))
	}
}

// tryPublish cuts once, and publishes what its earlier calls could not,
// for a bus that may be away.
func (r *receiver) tryPublish(b bus.Bus, shards int, now time.Time) error {
	if r.pending == nil {
		r.sender = fragment.NewSender(r.source, shards, nil)
		out, err := r.sender.Cut(r.set, now, nil)
		if err != nil {
			return err
		}
		r.pending = out
	}
	for len(r.pending) > 0 {
		shard := len(r.pending) - 1
		if err := b.PublishBatch(context.Background(), shard, r.pending[shard]); err != nil {
			return err
		}
		r.pending = r.pending[:shard]
	}
	return nil
}

// snapshot is a snapshot as read back from the bus.
type snapshot struct {
	window.Snapshot
	shard  int
	stored time.Time // the time of its position on the bus
}

// snapshots reads every snapshot of shard on b.
func snapshots(t *testing.T, b bus.Bus, shard int) []snapshot {
	t.Helper()
	var out []snapshot
	after := bus.Start
	for {
		msgs, err := b.ReadSnapshots(t.Context(), after, 1000, 0)
		if err != nil {
			return out // a bus that is away: none for now
		}
		if len(msgs) == 0 {
			return out
		}
		for _, msg := range msgs {
			after = msg.ID
			if msg.Shard != shard {
				continue
			}
			var s snapshot
			require.NoError(t, s.UnmarshalJSON(msg.Data))
			s.shard = msg.Shard
			var err error
			s.stored, err = bus.PositionTime(msg.ID)
			require.NoError(t, err)
			out = append(out, s)
		}
	}
}

func lastSnapshot(t *testing.T, b bus.Bus, shard int) snapshot {
	t.Helper()
	s := snapshots(t, b, shard)
	require.NotEmpty(t, s)
	return s[len(s)-1]
}

// waitSnapshots waits for n snapshots of shard and returns them all.
func waitSnapshots(t *testing.T, b bus.Bus, shard, n int) []snapshot {
	t.Helper()
	var s []snapshot
	require.Eventually(t, func() bool {
		s = snapshots(t, b, shard)
		return len(s) >= n
	}, 15*time.Second, 10*time.Millisecond, fmt.Sprintf("%d snapshots of shard %d", n, shard))

	return s
}

// waitSnapshot waits for a snapshot of shard for which cond holds.
func waitSnapshot(t *testing.T, b bus.Bus, shard int, what string, cond func(snapshot) bool) snapshot {
	t.Helper()
	var got snapshot
	require.Eventually(t, func() bool {
		for _, s := range snapshots(t, b, shard) {
			if cond(s) {
				got = s
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond, what)

	return got
}

// number returns the number of name in s, failing t when there is none.
func number(t *testing.T, s window.Snapshot, name string) float64 {
	t.Helper()
	v, ok := s.Stats[name]
	require.True(t, ok, "%s in the snapshot at %v", name, s.Time)
	if v.IsNull() {
		return 0
	}
	n, ok := v.Number()
	require.True(t, ok, "%s is %v, not a number", name, v)
	return n
}

// downBus fails every read of batches while down is set.
type downBus struct {
	bus.Bus
	down atomic.Bool
}

func (b *downBus) ReadBatches(ctx context.Context, shard int, after string, max int, block time.Duration) ([]bus.Message, error) {
	if b.down.Load() {
		return nil, fmt.Errorf("test bus: down")
	}
	return b.Bus.ReadBatches(ctx, shard, after, max, block)
}
