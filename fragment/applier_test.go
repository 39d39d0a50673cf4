package fragment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplierEqualsReplay is the common path end to end: two receivers
// fold alternate lines of generated traffic and cut every second of event
// time through a Sender into two shards; two mergers apply the batches
// through an Applier. At the same T, each merger's stats equal those of
// one set fed everything: exactly for every kind but Quantiles, which
// merged in another order agree within their bound.
func TestApplierEqualsReplay(t *testing.T) {
	const shards = 2
	start := time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)
	var traffic bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: 3, Rate: 400, Start: start, IncidentEvery: time.Minute})
	_, err := g.WriteFor(&traffic, 90*time.Second)
	require.NoError(t, err)

	defs := def.Heroku()
	single, err := window.NewDefSet(defs, nil)
	require.NoError(t, err)
	type receiver struct {
		set *window.Set
		snd *Sender
	}
	var recv [2]receiver
	for i := range recv {
		s, err := window.NewDefSet(defs, nil) // a replaying receiver: event time
		require.NoError(t, err)
		recv[i] = receiver{s, NewSender(fmt.Sprintf("web.%d/42/1700000000", i+1), shards, nil)}
	}
	var mergers [shards]*window.Set
	var appliers [shards]*Applier
	for i := range mergers {
		m, err := window.NewDefSet(defs, &window.SetOptions{Clock: window.ManualClock})
		require.NoError(t, err)
		mergers[i], appliers[i] = m, NewApplier(m, nil, nil) // each shard its own Seen
	}
	var wire [2][][]byte
	batches, applied := 0, 0
	cut := func(now time.Time) {
		for i := range mergers {
			require.NoError(t, mergers[i].Advance(now)) // each merger's own clock
		}
		for r := range recv {
			wire[r], err = recv[r].snd.Cut(recv[r].set, now, wire[r])
			require.NoError(t, err)
			for sh, b := range wire[r] {
				res, err := appliers[sh].Apply(b)
				require.NoError(t, err)
				require.False(t, res.Duplicate)
				assert.Zero(t, res.Late+res.Rejected+res.Unknown+res.Corrupt, "%+v", res)
				batches++
				applied += res.Applied
			}
		}
	}

	rd := logfmt.NewReader(&traffic, nil)
	var next time.Time
	for i := 0; ; i++ {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if next.IsZero() {
			next = ev.Time.Truncate(time.Second).Add(time.Second)
		}
		for !ev.Time.Before(next) { // a receiver's flush: every second of event time
			cut(next)
			next = next.Add(time.Second)
		}
		single.Fold(ev)
		recv[i%2].set.Fold(ev)
	}
	T := single.End()
	cut(T)
	require.Greater(t, applied, 1000)
	t.Logf("%d batches, %d fragments applied", batches, applied)

	want, err := single.Snapshot(T)
	require.NoError(t, err)
	for name, v := range want.Stats {
		got, err := mergers[Shard(name, shards)].Snapshot(T)
		require.NoError(t, err)
		g := got.Stats[name]
		if qs := v.Quantiles(); qs != nil {
			gq := g.Quantiles()
			require.Len(t, gq, len(qs), name)
			for i := range qs {
				bound := 0.02*qs[i].Value + 1
				assert.InDelta(t, qs[i].Value, gq[i].Value, bound, "%s %s", name, stat.QuantileName(qs[i].Q))
			}
			continue
		}
		assert.Equal(t, v.String(), g.String(), name)
	}
	assert.NotEqual(t, "0", want.Stats["router.requests"].String())
}

// deltaBatch encodes deltas as one batch with the given seq.
func deltaBatch(t *testing.T, seq uint64, ds ...window.Delta) []byte {
	t.Helper()
	b := mustBatch(t, "web.1", seq, t0, ds)
	wire, err := b.MarshalBinary()
	require.NoError(t, err)
	return wire
}

func countDelta(name string, start time.Time, n int) window.Delta {
	c := new(stat.Count)
	for range n {
		c.Observe()
	}
	return window.Delta{Name: name, Kind: stat.KindCount, Start: start, Width: time.Second, Stat: c}
}

func readReq(t *testing.T, set *window.Set) int64 {
	t.Helper()
	var c stat.Count
	require.NoError(t, set.Window("router.requests").Read(t0.Add(time.Second), time.Minute, &c))
	return int64(c.Count())
}

func TestApplierDuplicate(t *testing.T) {
	set := manualSet(t)
	a := NewApplier(set, nil, nil)
	wire := deltaBatch(t, 7, countDelta("router.requests", t0, 5))
	res, err := a.Apply(wire)
	require.NoError(t, err)
	assert.Equal(t, ApplyResult{Source: "web.1", Seq: 7, Time: res.Time, Fragments: 1, Applied: 1}, res)
	res, err = a.Apply(wire) // an at-least-once bus delivers it again
	require.NoError(t, err)
	assert.True(t, res.Duplicate)
	assert.Zero(t, res.Applied)
	assert.Equal(t, int64(5), readReq(t, set), "applied once")
}

// TestApplierClock: a merger that forgets to set its clock is told, and
// the batch is not lost: once the clock is set, it applies.
func TestApplierClock(t *testing.T) {
	req, err := window.New("router.requests", stat.KindCount, window.Options{})
	require.NoError(t, err)
	set, err := window.NewSet(req)
	require.NoError(t, err)
	a := NewApplier(set, nil, nil)
	wire := deltaBatch(t, 1, countDelta("router.requests", t0, 5))
	_, err = a.Apply(wire)
	require.ErrorIs(t, err, ErrApply)
	require.ErrorIs(t, err, window.ErrClock)
	require.NoError(t, set.Advance(t0))
	res, err := a.Apply(wire)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Applied)
	assert.Equal(t, int64(5), readReq(t, set))
}

// TestApplierCounts applies a batch of every outcome.
func TestApplierCounts(t *testing.T) {
	set := manualSet(t)
	a := NewApplier(set, nil, nil)
	b := mustBatch(t, "web.1", 1, t0, []window.Delta{
		countDelta("router.requests", t0, 5),                                                               // applied
		countDelta("router.requests", t0.Add(-time.Hour), 1),                                               // late
		countDelta("router.requests", t0.Add(time.Hour), 1),                                                // too far ahead: rejected
		countDelta("router.unknown", t0, 1),                                                                // unknown
		{Name: "router.bytes", Kind: stat.KindCount, Start: t0, Width: time.Second, Stat: new(stat.Count)}, // wrong kind: rejected
	})
	b.Fragments = append(b.Fragments, Fragment{Name: "router.requests", Kind: stat.KindCount, Start: t0, Width: time.Second,
		Stat: []byte{byte(stat.KindCount), 0xff, 0xff}}) // corrupt
	wire, err := b.MarshalBinary()
	require.NoError(t, err)
	res, err := a.Apply(wire)
	require.ErrorIs(t, err, ErrApply)
	require.ErrorIs(t, err, window.ErrUnknown, "the first refused fragment's error")
	assert.Equal(t, ApplyResult{Source: "web.1", Seq: 1, Time: res.Time, Fragments: 6, Applied: 1, Late: 1, Rejected: 2, Unknown: 1, Corrupt: 1}, res)
	assert.Equal(t, int64(5), readReq(t, set))

	_, err = a.Apply(wire[:len(wire)-1])
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestApplierRepublished counts data for a second already published.
func TestApplierRepublished(t *testing.T) {
	set := manualSet(t)
	a := NewApplier(set, nil, nil)
	a.SetPublished(t0.Add(time.Second)) // [t0, t0+1s) was published
	wire := deltaBatch(t, 1, countDelta("router.requests", t0, 2), countDelta("router.requests", t0.Add(time.Second), 3))
	res, err := a.Apply(wire)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Applied)
	assert.Equal(t, 1, res.Republished, "the bucket ending at the published time only")
	var c stat.Count
	require.NoError(t, set.Advance(t0.Add(2*time.Second)))
	require.NoError(t, set.Window("router.requests").Read(t0.Add(2*time.Second), time.Minute, &c))
	assert.Equal(t, uint64(5), c.Count(), "both are merged into their own seconds")
}
