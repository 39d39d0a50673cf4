package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/runtest"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// TestReceiverPublishesEveryCut runs a receiver of two workers and three
// shards over drain bodies and checks what reaches the bus: every event
// once, in the shard of its stat's name, as one batch per shard per cut
// with consecutive sequence numbers, from one source per worker.
func TestReceiverPublishesEveryCut(t *testing.T) {
	const shards, workers, bodies, frames = 3, 2, 20, 100
	m := newMemory(t)
	r, err := New(Config{Defs: def.Heroku(), Shards: shards, Workers: workers, Flush: 50 * time.Millisecond, Source: "web.1"}, m, nil)
	require.NoError(t, err)

	start := time.Now().Add(-3 * time.Second)
	var all [][]byte
	for i := range bodies {
		b := drainBody(uint64(i+1), start, frames)
		all = append(all, b)
		assert.Equal(t, http.StatusNoContent, post(r, b, strconv.Itoa(frames)), "body %d", i)
	}
	stop := run(t, r)
	require.Eventually(t, func() bool {
		return counts(t, m, shards)[window.StatEvents] == bodies*frames
	}, 10*time.Second, 10*time.Millisecond, "every event published")

	require.Eventually(t, func() bool {
		return len(readBatches(t, m, shards)) >= 3*shards*workers
	}, 10*time.Second, 10*time.Millisecond, "three cuts of every worker")

	require.NoError(t, stop())

	pub := readBatches(t, m, shards)
	sources := r.Sources()
	require.Len(t, sources, workers)
	assert.NotEqual(t, sources[0], sources[1], "each worker has its own source")
	seqs := map[string]map[int][]uint64{} // source → shard → seqs in bus order
	last := map[string]time.Time{}        // source and shard → the previous batch's time
	for _, p := range pub {
		assert.Contains(t, sources, p.Source)
		key := fmt.Sprint(p.Source, "/", p.shard)
		assert.False(t, p.Time.Before(last[key]), "%s: batch %d at %v, before %v", key, p.Seq, p.Time, last[key])
		last[key] = p.Time
		if seqs[p.Source] == nil {
			seqs[p.Source] = map[int][]uint64{}
		}
		seqs[p.Source][p.shard] = append(seqs[p.Source][p.shard], p.Seq)
		for _, f := range p.Fragments {
			assert.Equal(t, p.shard, fragment.Shard(f.Name, shards), "fragment %q in shard %d", f.Name, p.shard)
		}
	}
	for _, src := range sources {
		n := len(seqs[src][0])
		assert.GreaterOrEqual(t, n, 3, "cuts of %s", src)
		for shard := range shards {
			got := seqs[src][shard]
			assert.Len(t, got, n, "%s: every cut sends every shard one batch", src)
			for i, seq := range got {
				assert.Equal(t, uint64(i+1), seq, "%s shard %d: batch %d", src, shard, i)
			}
		}
	}

	// What the bus carries adds up to what one set folding every body
	// holds, stat by stat (the counts: exact kinds).
	want := foldCounts(t, all, false)
	got := counts(t, m, shards)
	for name, n := range want {
		assert.Equal(t, n, got[name], "%s", name)
	}
	assert.Zero(t, got[window.StatUnparsed])
	assert.Zero(t, got[selfstat.MsgCount])
	assert.Zero(t, got[selfstat.Dropped])
}

func TestReceiverSources(t *testing.T) {
	cfg := Config{Defs: def.Heroku(), Workers: 3, Source: "web.1"}
	a, err := New(cfg, newMemory(t), nil)
	require.NoError(t, err)
	b, err := New(cfg, newMemory(t), nil)
	require.NoError(t, err)

	boot := func(src string) string {
		rest, ok := strings.CutPrefix(src, "web.1.")
		require.True(t, ok, "source %q names the receiver", src)
		id, worker, ok := strings.Cut(rest, "/")
		require.True(t, ok, "source %q", src)
		require.NotEmpty(t, id, "source %q carries a boot id", src)
		require.NotEmpty(t, worker, "source %q carries the worker", src)
		return id
	}
	seen := map[string]bool{}
	for _, r := range []*Receiver{a, b} {
		srcs := r.Sources()
		require.Len(t, srcs, 3)
		for _, s := range srcs {
			assert.False(t, seen[s], "source %q used twice", s)
			seen[s] = true
			assert.Equal(t, boot(srcs[0]), boot(s), "one boot id per receiver")
		}
	}
	assert.NotEqual(t, boot(a.Sources()[0]), boot(b.Sources()[0]),
		"two receivers with the same Source (a restart) get different boot ids")
}

// TestReceiverSelfStats checks the figures a receiver counts about its
// inputs arrive on the bus as pulse.* stats.
func TestReceiverSelfStats(t *testing.T) {
	t.Run("msg-count mismatch", func(t *testing.T) {
		m := newMemory(t)
		r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond}, m, nil)
		require.NoError(t, err)
		start := time.Now().Add(-2 * time.Second)
		assert.Equal(t, http.StatusNoContent, post(r, drainBody(1, start, 10), "12"))
		assert.Equal(t, http.StatusNoContent, post(r, drainBody(2, start, 10), "10"))
		assert.Equal(t, http.StatusNoContent, post(r, drainBody(3, start, 10), "")) // none to check
		stop := run(t, r)
		require.Eventually(t, func() bool {
			c := counts(t, m, 1)
			return c[window.StatEvents] == 30 && c[selfstat.MsgCount] >= 1
		}, 10*time.Second, 10*time.Millisecond, "the events and the mismatch published")

		require.NoError(t, stop())
		assert.Equal(t, uint64(1), counts(t, m, 1)[selfstat.MsgCount])
	})
	t.Run("queue full", func(t *testing.T) {
		m := newMemory(t)
		r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond, Queue: input.QueueConfig{Jobs: 1}}, m, nil)
		require.NoError(t, err)
		start := time.Now().Add(-2 * time.Second)
		assert.Equal(t, http.StatusNoContent, post(r, drainBody(1, start, 10), "10"))
		assert.Equal(t, http.StatusServiceUnavailable, post(r, drainBody(2, start, 10), "10"))
		assert.Equal(t, http.StatusServiceUnavailable, post(r, drainBody(3, start, 7), "7"))
		require.Equal(t, int64(17), r.Stats().DrainDroppedFrames)
		stop := run(t, r)
		require.Eventually(t, func() bool {
			return counts(t, m, 1)[selfstat.Dropped] == 17
		}, 10*time.Second, 10*time.Millisecond, "the drops published")

		require.NoError(t, stop())
		c := counts(t, m, 1)
		assert.Equal(t, uint64(10), c[window.StatEvents], "only the queued body is folded")
		assert.Equal(t, uint64(17), c[selfstat.Dropped])
	})
	t.Run("queue full, demo", func(t *testing.T) {
		m := newMemory(t)
		r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond, Queue: input.QueueConfig{Jobs: 1}}, m, nil)
		require.NoError(t, err)
		start := time.Now().Add(-2 * time.Second)
		r.queueDemo(drainBody(1, start, 10), time.Now())
		r.queueDemo(drainBody(2, start, 13), time.Now())
		stop := run(t, r)
		require.Eventually(t, func() bool {
			return counts(t, m, 1)[selfstat.Dropped] == 13
		}, 10*time.Second, 10*time.Millisecond, "the drops published")

		require.NoError(t, stop())
		c := counts(t, m, 1)
		assert.Equal(t, uint64(10), c[window.StatEvents])
		assert.Equal(t, uint64(13), c[selfstat.Dropped], "pulse.dropped counts the frames of a dropped step, not the step")
	})
}

// TestReceiverTime checks TIME_SOURCE: in event time, the events of an old
// file are too late for any window; with Config.Arrival they land in the
// current seconds. A damaged timestamp is unparsed in event time and takes
// the arrival time with Arrival.
func TestReceiverTime(t *testing.T) {
	old := time.Date(2020, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		arrival      bool
		body         func(now time.Time) []byte
		frames       int
		wantEvents   uint64
		wantUnparsed uint64
		current      bool // the non-self fragments are in the current seconds
	}{
		{"old file, event time", false, func(time.Time) []byte { return drainBody(1, old, 50) }, 50, 0, 0, false},
		{"old file, arrival", true, func(time.Time) []byte { return drainBody(1, old, 50) }, 50, 50, 0, true},
		{"damaged timestamp, event time", false, func(now time.Time) []byte { return mixedBody(now, 6, 4) }, 10, 6, 4, true},
		{"damaged timestamp, arrival", true, func(now time.Time) []byte { return mixedBody(now, 6, 4) }, 10, 10, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t)
			r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond, Arrival: tt.arrival}, m, nil)
			require.NoError(t, err)
			before := time.Now()
			body := tt.body(before.Add(-time.Second))
			j := input.NewJob(input.InputDrain, body)
			j.MsgCount = tt.frames
			require.True(t, r.q.TryPut(j))
			stop := run(t, r)
			require.Eventually(t, func() bool {
				return r.q.Len() == 0 && len(readBatches(t, m, 1)) >= 2
			}, 10*time.Second, 10*time.Millisecond, "the job folded and cut")

			require.NoError(t, stop())
			after := time.Now()

			c := counts(t, m, 1)
			assert.Equal(t, tt.wantEvents, c[window.StatEvents], "events")
			assert.Equal(t, tt.wantUnparsed, c[window.StatUnparsed], "unparsed")
			assert.Zero(t, c[selfstat.MsgCount], "every frame is counted against Logplex-Msg-Count")
			var stats int
			for _, p := range readBatches(t, m, 1) {
				for _, f := range p.Fragments {
					if strings.HasPrefix(f.Name, "pulse.") {
						continue
					}
					stats++
					assert.False(t, f.Start.Before(before.Add(-2*time.Second)), "%s at %v, before %v", f.Name, f.Start, before)
					assert.False(t, f.Start.After(after), "%s at %v, after %v", f.Name, f.Start, after)
				}
			}
			if tt.current {
				assert.NotZero(t, stats, "stats in the current seconds")
			} else {
				assert.Zero(t, stats, "events older than every window")
			}
		})
	}
}

// TestReceiverShutdown queues jobs and cancels at once: Run folds every
// queued job and publishes the last cut before it returns, with the
// figures every worker counted (each job's Logplex-Msg-Count is wrong).
func TestReceiverShutdown(t *testing.T) {
	const shards, workers, jobs, frames = 2, 2, 200, 50
	m := newMemory(t)
	r, err := New(Config{Defs: def.Heroku(), Shards: shards, Workers: workers, Flush: time.Hour}, m, nil)
	require.NoError(t, err)
	start := time.Now().Add(-2 * time.Second)
	var all [][]byte
	for i := range jobs {
		b := drainBody(uint64(i+1), start, frames)
		all = append(all, b)
		j := input.NewJob(input.InputDrain, b)
		j.MsgCount = frames + 1
		require.True(t, r.q.TryPut(j))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, r.Run(ctx))

	assert.Zero(t, r.q.Len())
	pub := readBatches(t, m, shards)
	assert.Len(t, pub, shards*workers, "one cut per worker, the last, to every shard")
	got := counts(t, m, shards)
	assert.Equal(t, uint64(jobs*frames), got[window.StatEvents])
	assert.Equal(t, uint64(jobs), got[selfstat.MsgCount], "the figures of every worker's last jobs")
	for name, n := range foldCounts(t, all, false) {
		assert.Equal(t, n, got[name], "%s", name)
	}

	h, err := r.Health()
	require.NoError(t, err, "a cut just now")
	assert.Equal(t, int64(jobs*frames), h["receiver_events"])
	assert.Equal(t, uint64(shards*workers), h["receiver_published"])
	assert.Equal(t, uint64(0), h["receiver_cuts_dropped"])
	// No more cuts: three flush intervals later Health says so. With an
	// hour's flush, that is for another test; here the figures stand.
}

// TestReceiverInputError checks that an input that fails stops the
// receiver with its error, the other inputs too.
func TestReceiverInputError(t *testing.T) {
	r, err := New(Config{Defs: def.Heroku(), File: t.TempDir() + "/missing.log", Demo: true, DemoRate: 10}, newMemory(t), nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "file")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its file input failed")
	}
}

// TestReceiverBusDown publishes to a bus that fails for a while: cuts are
// retried, then dropped and counted, Health reports it, and once the bus
// is back the figures are published as pulse.publish.*.
func TestReceiverBusDown(t *testing.T) {
	m := newMemory(t)
	b := &downBus{Bus: m}
	b.down.Store(true)
	r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond, PublishTimeout: 150 * time.Millisecond}, b, nil)
	require.NoError(t, err)
	stop := run(t, r)
	defer stop()

	require.Eventually(t, func() bool {
		h, err := r.Health()
		return err != nil && h["receiver_cuts_dropped"].(uint64) >= 2 && h["receiver_publish_failures"].(uint64) >= 2
	}, 10*time.Second, 10*time.Millisecond, "Health to report the dropped cuts")

	_, err = r.Health()
	assert.ErrorContains(t, err, "not published")
	assert.Empty(t, readBatches(t, m, 1))

	// Events folded while the bus is down, and the bus down for many
	// publish timeouts: the batches that report the first drops are
	// dropped too.
	require.True(t, r.q.TryPut(input.NewJob(input.InputDrain, drainBody(3, time.Now().Add(-time.Second), 40))))
	require.Eventually(t, func() bool {
		h, _ := r.Health()
		return h["receiver_events"] == int64(40) && h["receiver_events_dropped"].(uint64) == 40 && h["receiver_cuts_dropped"].(uint64) >= 20
	}, 10*time.Second, 10*time.Millisecond, "cuts dropped over several publish timeouts")

	b.down.Store(false)
	require.Eventually(t, func() bool {
		c := counts(t, m, 1)
		return c[selfstat.PublishDropped] > 0 && c[selfstat.PublishErrors] > 0
	}, 10*time.Second, 10*time.Millisecond, "the publish figures to reach the bus")

	require.Eventually(t, func() bool {
		_, err := r.Health()
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "Health to recover")

	require.NoError(t, stop())

	// Every count reached the bus, those first carried by dropped
	// batches included; and pulse.events on the bus plus the events of
	// the dropped cuts is every event folded.
	h, _ := r.Health()
	c := counts(t, m, 1)
	assert.Equal(t, h["receiver_cuts_dropped"], c[selfstat.PublishDropped], "pulse.publish.dropped")
	assert.Equal(t, h["receiver_publish_failures"], c[selfstat.PublishErrors], "pulse.publish.errors")
	assert.Equal(t, uint64(40), c[selfstat.PublishDroppedEvents], "pulse.publish.dropped.events")
	assert.Zero(t, c[window.StatEvents], "pulse.events: every event was in a dropped cut")
	t.Logf("%v cuts dropped, %v failed attempts, all on the bus", h["receiver_cuts_dropped"], h["receiver_publish_failures"])
}

// TestReceiverDroppedEvents drops some of a receiver's cuts, with two
// shards and two workers: pulse.events on the bus plus
// pulse.publish.dropped.events is every event folded, and the figures
// in Health agree.
func TestReceiverDroppedEvents(t *testing.T) {
	m := newMemory(t)
	b := &downBus{Bus: m}
	r, err := New(Config{Defs: def.Heroku(), Shards: 2, Workers: 2, Flush: 50 * time.Millisecond, PublishTimeout: 100 * time.Millisecond}, b, nil)
	require.NoError(t, err)
	stop := run(t, r)
	defer stop()
	put := func(seed uint64, n int) {
		t.Helper()
		require.True(t, r.q.TryPut(input.NewJob(input.InputDrain, drainBody(seed, time.Now().Add(-time.Second), n))))
	}
	folded := func(n int64) func() bool {
		return func() bool { h, _ := r.Health(); return h["receiver_events"] == n }
	}
	put(1, 30)
	require.Eventually(t, func() bool { return counts(t, m, 2)[window.StatEvents] == 30 }, 10*time.Second, 10*time.Millisecond, "the first events published")
	b.down.Store(true)
	put(2, 20)
	put(3, 25)
	require.Eventually(t, func() bool {
		h, _ := r.Health()
		return h["receiver_events"] == int64(75) && h["receiver_events_dropped"] == uint64(45)
	}, 10*time.Second, 10*time.Millisecond, "the events of the outage dropped")

	b.down.Store(false)
	put(4, 10)
	require.Eventually(t, folded(85), 10*time.Second, 10*time.Millisecond, "the last events folded")
	// The cuts of the outage still queued are dropped after the bus is
	// back; a later cut reports them.
	require.Eventually(t, func() bool {
		h, err := r.Health()
		return err == nil && h["receiver_publish_queue"] == 0 && h["receiver_cuts_dropped"] == counts(t, m, 2)[selfstat.PublishDropped]
	}, 10*time.Second, 10*time.Millisecond, "every dropped cut reported on the bus")

	require.NoError(t, stop())
	c := counts(t, m, 2)
	assert.Equal(t, uint64(40), c[window.StatEvents], "pulse.events merged: the events before and after the outage")
	assert.Equal(t, uint64(45), c[selfstat.PublishDroppedEvents], "pulse.publish.dropped.events")
	h, _ := r.Health()
	assert.Equal(t, h["receiver_cuts_dropped"], c[selfstat.PublishDropped])
}

func TestReceiverHealth(t *testing.T) {
	m := newMemory(t)
	r, err := New(Config{Defs: def.Heroku(), Flush: 50 * time.Millisecond}, m, nil)
	require.NoError(t, err)
	h, err := r.Health()
	require.NoError(t, err, "healthy before the first cut")
	assert.NotContains(t, h, "receiver_last_cut_ms")

	require.True(t, r.q.TryPut(input.NewJob(input.InputDrain, drainBody(1, time.Now().Add(-time.Second), 10))))
	stop := run(t, r)
	require.Eventually(t, func() bool {
		h, err := r.Health()
		return err == nil && h["receiver_events"] == int64(10) && h["receiver_published"].(uint64) >= 2
	}, 10*time.Second, 10*time.Millisecond, "the events folded and published")

	h, _ = r.Health()
	for _, k := range []string{"receiver_queue", "receiver_events", "receiver_published", "receiver_publish_failures", "receiver_cuts_dropped", "receiver_last_cut_ms"} {
		assert.Contains(t, h, k)
	}
	assert.Equal(t, 0, h["receiver_queue"])
	assert.Equal(t, uint64(0), h["receiver_cuts_dropped"])
	require.NoError(t, stop())

	// Stopped: no cut for three flush intervals (and a second) is an error.
	require.Eventually(t, func() bool {
		_, err := r.Health()
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "Health to report the missing cuts")

	_, err = r.Health()
	assert.ErrorContains(t, err, "no cut")
}

// ---- helpers

func newMemory(t *testing.T) *bus.Memory {
	t.Helper()
	m, err := bus.NewMemory(bus.MemoryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// run runs r until the returned stop is called, which cancels Run and
// returns its error. Cleanup stops it too.
func run(t *testing.T, r *Receiver) (stop func() error) {
	t.Helper()
	return runtest.Start(t, r.Run)
}

// drainBody returns n generated drain frames starting at start.
func drainBody(seed uint64, start time.Time, n int) []byte {
	g := logfmttest.New(logfmttest.Options{Seed: seed, Start: start, Format: logfmttest.Drain, IncidentEvery: -1})
	var b []byte
	for range n {
		b, _ = g.Next(b)
	}
	return b
}

// mixedBody returns good router frames at t and bad ones whose timestamp
// is logplex's documented, non-RFC 3339 form.
func mixedBody(t time.Time, good, bad int) []byte {
	var b []byte
	frame := func(ts string) {
		msg := "<158>1 " + ts + " host heroku router - at=info method=GET path=/ host=a.example.com fwd=\"1.2.3.4\" dyno=web.1 connect=1ms service=12ms status=200 bytes=512"
		b = append(b, strconv.Itoa(len(msg))...)
		b = append(b, ' ')
		b = append(b, msg...)
	}
	for range good {
		frame(t.UTC().Format(time.RFC3339Nano))
	}
	for range bad {
		frame("2012-12-10T04:05:25Z+00:00")
	}
	return b
}

// post sends body to r's drain handler with msgCount as
// Logplex-Msg-Count (none when empty) and returns the status.
func post(r *Receiver, body []byte, msgCount string) int {
	req := httptest.NewRequest(http.MethodPost, "/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/logplex-1")
	if msgCount != "" {
		req.Header.Set("Logplex-Msg-Count", msgCount)
	}
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	return w.Code
}

// published is a batch as read back from the bus.
type published struct {
	shard int
	fragment.Batch
}

// readBatches reads every batch of shards 0 … shards-1 from m.
func readBatches(t *testing.T, m *bus.Memory, shards int) []published {
	t.Helper()
	var out []published
	for shard := range shards {
		msgs, err := m.ReadBatches(context.Background(), shard, bus.Start, 100_000, 0)
		require.NoError(t, err)
		for _, msg := range msgs {
			var b fragment.Batch
			require.NoError(t, b.UnmarshalBinary(msg.Data))
			out = append(out, published{shard: shard, Batch: b})
		}
	}
	return out
}

// counts sums the Count fragments of every batch on m by name.
func counts(t *testing.T, m *bus.Memory, shards int) map[string]uint64 {
	t.Helper()
	c := map[string]uint64{}
	for _, p := range readBatches(t, m, shards) {
		for _, f := range p.Fragments {
			if f.Kind != stat.KindCount {
				continue
			}
			d, err := f.Delta()
			require.NoError(t, err)
			c[f.Name] += d.Stat.(*stat.Count).Count()
		}
	}
	return c
}

// foldCounts folds bodies into one set of the receiver's definitions,
// at the wall clock, and sums its Count deltas by name, leaving out the
// receiver's own pulse.* figures.
func foldCounts(t *testing.T, bodies [][]byte, arrival bool) map[string]uint64 {
	t.Helper()
	set, err := window.NewDefSet(def.Heroku(), &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, set.Advance(now))
	for _, b := range bodies {
		rd := logfmt.NewReader(bytes.NewReader(b), nil)
		for {
			ev, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				continue
			}
			if arrival {
				ev.Time = now
			}
			set.Fold(ev)
		}
	}
	c := map[string]uint64{}
	for _, d := range set.Cut(nil) {
		if cnt, ok := d.Stat.(*stat.Count); ok && !isReceiverSelf(d.Name) {
			c[d.Name] += cnt.Count()
		}
	}
	return c
}

func isReceiverSelf(name string) bool {
	for _, d := range selfstat.Defs() {
		if d.Name == name {
			return true
		}
	}
	return false
}

// downBus fails every publish while down is set.
type downBus struct {
	bus.Bus
	down atomic.Bool
}

func (b *downBus) PublishBatch(ctx context.Context, shard int, data []byte) error {
	if b.down.Load() {
		return fmt.Errorf("test bus: down")
	}
	return b.Bus.PublishBatch(ctx, shard, data)
}

// TestWorkerYields: a worker with jobs waiting lets the process's other
// goroutines run after each job, rather than only when the scheduler
// preempts it (every 10 ms): with one P, a goroutine waiting for its turn
// runs after the worker's first job, not after the queue is empty.
func TestWorkerYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const jobs = 200
	r, err := New(Config{Defs: def.Heroku(), Workers: 1, Flush: time.Hour}, newMemory(t), nil)
	require.NoError(t, err)
	start := time.Now().Add(-time.Second)
	for i := range jobs {
		require.Equal(t, http.StatusNoContent, post(r, drainBody(uint64(i+1), start, 1), "1"))
	}
	seen := make(chan int64, 1)
	go func() {
		// Wait for the worker to start; each Gosched puts this goroutine
		// behind the others that can run.
		for r.events.Load() == 0 {
			runtime.Gosched()
		}
		seen <- r.events.Load()
	}()
	stop := run(t, r)
	var got int64
	select {
	case got = <-seen:
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting goroutine never ran")
	}
	require.NoError(t, stop())
	assert.LessOrEqual(t, got, int64(3), "events folded when another goroutine got its turn (of %d jobs of one event)", jobs)
}
