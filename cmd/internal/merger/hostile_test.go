package merger

import (
	"bytes"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/stat"
)

// TestHostileBatches puts a good receiver's batches on the bus among
// batches that are broken or forged: a newer format version, a bad
// checksum, a truncated one, random bytes, a replay of a batch already
// applied, one replayed with a sequence number far below its source's
// latest, and well-formed batches whose fragments name an unknown stat,
// hold stat bytes that do not decode, claim another kind for a known
// name, or a bucket an hour ahead. The merger logs each failure, counts
// it (merger_apply_errors and pulse.merger.0.failed, or
// merger_duplicates and pulse.merger.0.duplicates), and its snapshots
// hold exactly the good batches, before and after.
func TestHostileBatches(t *testing.T) {
	t.Parallel()
	b := newMemory(t)
	var logs logbuf.Buffer
	m, err := New(Config{Defs: testDefs(), Flush: testFlush, Grace: testGrace}, b, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	names := namesIn(0, 1)
	now := time.Now()

	good := newReceiver(t, "good")
	good.fold(t, now.Add(-2*time.Second), 5)
	g1 := good.cut(t, 1, now)[0]
	good.fold(t, now.Add(-2*time.Second), 7)
	g2 := good.cut(t, 1, now)[0]

	// A forger with the same definitions, whose batches are taken apart
	// and changed before they are encoded again, with a valid checksum.
	evil := newReceiver(t, "evil")
	evil.fold(t, now.Add(-2*time.Second), 100)
	e := evil.cut(t, 1, now)[0]
	var base fragment.Batch
	require.NoError(t, base.UnmarshalBinary(e))
	require.NotEmpty(t, base.Fragments)
	forge := func(source string, seq uint64, edit func(f *fragment.Fragment)) []byte {
		bt := fragment.Batch{Source: source, Seq: seq, Time: base.Time}
		for _, f := range base.Fragments {
			f.Stat = bytes.Clone(f.Stat)
			if edit != nil {
				edit(&f)
			}
			bt.Fragments = append(bt.Fragments, f)
		}
		data, err := bt.MarshalBinary()
		require.NoError(t, err)
		return data
	}
	var sum stat.Sum
	sum.Observe(1e9)
	sumBytes, err := sum.MarshalBinary()
	require.NoError(t, err)

	junk := make([]byte, 4096)
	rnd := mrand.New(mrand.NewPCG(9, 0))
	for i := range junk {
		junk[i] = byte(rnd.Uint32())
	}

	bad := []struct {
		name    string
		data    []byte
		dup     bool   // counted as a duplicate, not a failure
		wantLog string // in the log line of a failure
	}{
		{"newer format version", with(e, 4, 2), false, "format version 2"},
		{"bad checksum", with(e, len(e)/2, e[len(e)/2]^0xff), false, "crc-32c"},
		{"truncated", e[:len(e)/2], false, "corrupt batch"},
		{"random bytes", junk, false, "bad magic"},
		{"replay of an applied batch", g1, true, ""},
		{"seq far below its source's latest, first the latest", forge("replayer", 10_000, func(f *fragment.Fragment) { f.Name = "nope" }), false, "unknown"},
		{"seq far below its source's latest", forge("replayer", 1, nil), true, ""},
		{"unknown stat name", forge("evil-unknown", 1, func(f *fragment.Fragment) { f.Name = "no.such.stat" }), false, "unknown"},
		{"stat bytes that do not decode", forge("evil-corrupt", 1, func(f *fragment.Fragment) { f.Stat = []byte{byte(f.Kind), 0xff, 0xff, 0xff} }), false, "corrupt"},
		{"another kind for a known name", forge("evil-kind", 1, func(f *fragment.Fragment) { f.Kind, f.Stat = stat.KindSum, sumBytes }), false, "incompatible"},
	}
	// The good batches go first and last, the bad ones between.
	require.NoError(t, b.PublishBatch(t.Context(), 0, g1))
	var wantFailed, wantDup uint64
	for _, x := range bad {
		require.NoError(t, b.PublishBatch(t.Context(), 0, x.data), x.name)
		if x.dup {
			wantDup++
		} else {
			wantFailed++
		}
	}
	require.NoError(t, b.PublishBatch(t.Context(), 0, g2))
	// A bucket an hour ahead is refused by the window (pulse.rejected):
	// counted, not a failure of the batch.
	future := forge("evil-future", 1, func(f *fragment.Fragment) { f.Start = f.Start.Add(time.Hour) })
	require.NoError(t, b.PublishBatch(t.Context(), 0, future))

	run(t, m)
	s := waitSnapshot(t, b, 0, "the good batches merged", func(s snapshot) bool { return number(t, s.Snapshot, names[0]) == 12 })
	for _, n := range names {
		assert.Equal(t, 12.0, number(t, s.Snapshot, n), "%s holds the good batches only", n)
	}
	h, err := m.Health()
	require.NoError(t, err, "the merger stays healthy")
	assert.Equal(t, uint64(len(bad)+3), h["merger_batches"])
	assert.Equal(t, wantFailed, h["merger_apply_errors"])
	assert.Equal(t, wantDup, h["merger_duplicates"])
	for _, x := range bad {
		if x.wantLog != "" {
			assert.Contains(t, logs.String(), x.wantLog, "%s: logged", x.name)
		}
	}
	assert.Equal(t, int(wantFailed), strings.Count(logs.String(), "batch not applied"), "one log line a failed batch")

	// The merger goes on with the good receiver's next batch.
	good.fold(t, time.Now().Add(-time.Second), 4)
	require.NoError(t, b.PublishBatch(t.Context(), 0, good.cut(t, 1, time.Now())[0]))
	s = waitSnapshot(t, b, 0, "the next good batch", func(s snapshot) bool {
		v, _ := s.Stats["pulse.merger.0.failed"].Number()
		d, _ := s.Stats["pulse.merger.0.duplicates"].Number()
		return number(t, s.Snapshot, names[0]) == 16 && v > 0 && d > 0
	})
	for _, n := range names {
		assert.Equal(t, 16.0, number(t, s.Snapshot, n), "%s", n)
	}
	assert.Equal(t, float64(wantFailed)/10, number(t, s.Snapshot, "pulse.merger.0.failed"), "failed batches a second, over 10 s")
	assert.Equal(t, float64(wantDup)/10, number(t, s.Snapshot, "pulse.merger.0.duplicates"))
	assert.Positive(t, number(t, s.Snapshot, "pulse.rejected"), "the bucket an hour ahead")
}

// with returns a copy of b with b[i] = v.
func with(b []byte, i int, v byte) []byte {
	c := bytes.Clone(b)
	c[i] = v
	return c
}

// TestHostileBatchFlood puts 500 junk batches on the bus: every one is
// counted, but only the first logFirst get a log line each (then one
// every logEvery), so a forger cannot flood the merger's log; the
// counters, /healthz and the "caught up" line have them all.
func TestHostileBatchFlood(t *testing.T) {
	t.Parallel()
	b := newMemory(t)
	var logs logbuf.Buffer
	m, err := New(Config{Defs: testDefs(), Flush: testFlush, Grace: testGrace}, b, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	const n = 500
	for i := range n {
		require.NoError(t, b.PublishBatch(t.Context(), 0, []byte(fmt.Sprintf("junk %d", i))))
	}
	run(t, m)
	require.Eventually(t, func() bool {
		h, err := m.Health()
		return err == nil && h["merger_apply_errors"] == uint64(n)
	}, 15*time.Second, 10*time.Millisecond, "every junk batch counted")
	lines := strings.Count(logs.String(), "batch not applied")
	// logFirst lines, and one more for each logEvery the test took.
	assert.GreaterOrEqual(t, lines, logFirst)
	assert.LessOrEqual(t, lines, logFirst+2, "the log is not flooded")
	assert.Contains(t, logs.String(), `msg="merger caught up" shard=0 batches=500 failed=500`, "the line after the backlog says how many failed")
}
