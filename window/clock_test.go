package window

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at17 is the stream: 17:00:00 on the day of ft0.
var at17 = time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)

// routerLine returns a router line at t.
func routerLine(t time.Time) string {
	return fmt.Sprintf("<158>1 %s host heroku router - at=info method=GET path=/ host=a.example.com dyno=web.1 connect=1ms service=20ms status=200 bytes=100",
		t.Format(time.RFC3339Nano))
}

const clockDefs = `
name=req kind=rate where="proc=router"
name=svc kind=quantiles of=service q=0.5
`

func num(t testing.TB, snap Snapshot, name string) float64 {
	t.Helper()
	v, ok := snap.Stats[name]
	require.True(t, ok, "no stat %q", name)
	n, ok := v.Number()
	require.True(t, ok, "%s = %v is not a number", name, v)
	return n
}

// TestEventClockOutlier is the stream: 50 router lines at
// 17:00:10–59 and one at 18:00:00. The last line must not move the clock,
// so the 50 are all there at 17:01:00, and it is counted as future.
func TestEventClockOutlier(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, routerLine(at17.Add(time.Duration(10+i)*time.Second)))
	}
	t.Run("last", func(t *testing.T) {
		s := mustDefSet(t, clockDefs)
		foldLines(t, s, append(slices.Clone(lines), routerLine(at17.Add(time.Hour)))...)
		assert.Equal(t, at17.Add(59*time.Second), s.Now(), "the outlier did not move the clock")
		assert.Equal(t, at17.Add(time.Minute), s.End())
		snap := mustSnap(t, s, at17.Add(time.Minute))
		assert.Equal(t, 50.0, num(t, snap, "req"))
		assert.Equal(t, 0.0, num(t, snap, StatLate))
		assert.Equal(t, 0.1, num(t, snap, StatFuture), "one event over the 10 s window: the undecided outlier")
		assert.Equal(t, 1.0, num(t, snap, StatEvents), "10 events in the last 10 s, per second")
	})
	t.Run("middle", func(t *testing.T) {
		// The outlier between two ordinary lines: the run of one ends and
		// it is dropped, counted at the clock of its arrival.
		s := mustDefSet(t, clockDefs)
		foldLines(t, s, append(slices.Clone(lines[:25]), routerLine(at17.Add(time.Hour)), lines[25])...)
		snap := mustSnap(t, s, s.End())
		assert.Equal(t, 0.1, num(t, snap, StatFuture), "counted at 17:00:35, the clock when the run ended")
		foldLines(t, s, lines[26:]...)
		snap = mustSnap(t, s, at17.Add(time.Minute))
		assert.Equal(t, 50.0, num(t, snap, "req"))
		assert.Equal(t, 0.0, num(t, snap, StatFuture))
	})
	t.Run("within skew", func(t *testing.T) {
		// Two minutes ahead, within the 5-minute skew: a bucket takes it,
		// but it moves neither the clock nor End, so nothing expires.
		s := mustDefSet(t, clockDefs)
		mid := append(slices.Clone(lines[:25]), routerLine(at17.Add(3*time.Minute)))
		foldLines(t, s, append(mid, lines[25:]...)...)
		assert.Equal(t, at17.Add(time.Minute), s.End())
		snap := mustSnap(t, s, at17.Add(time.Minute))
		assert.Equal(t, 50.0, num(t, snap, "req"))
		assert.Equal(t, 0.0, num(t, snap, StatFuture))
		// When the stream gets there, the event is in its second.
		foldLines(t, s, routerLine(at17.Add(3*time.Minute+10*time.Second)), routerLine(at17.Add(3*time.Minute+20*time.Second)),
			routerLine(at17.Add(3*time.Minute+30*time.Second)))
		snap = mustSnap(t, s, s.End())
		assert.Equal(t, 4.0, num(t, snap, "req"), "the early event and the three that proved the jump")
	})
	t.Run("first", func(t *testing.T) {
		// A leap of a few lines that then stop is still only a run: with
		// LeapBuckets−1 distinct seconds it proves nothing.
		s := mustDefSet(t, clockDefs)
		foldLines(t, s, append(slices.Clone(lines), routerLine(at17.Add(time.Hour)), routerLine(at17.Add(time.Hour+time.Second)))...)
		snap := mustSnap(t, s, at17.Add(time.Minute))
		assert.Equal(t, 50.0, num(t, snap, "req"))
		assert.Equal(t, 0.2, num(t, snap, StatFuture))
	})
}

// generate returns d of generated drain traffic from start.
func generate(t testing.TB, seed uint64, start time.Time, d time.Duration, rate float64) []byte {
	t.Helper()
	var buf bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: seed, Rate: rate, Start: start, IncidentEvery: time.Minute})
	_, err := g.WriteFor(&buf, d)
	require.NoError(t, err)
	return buf.Bytes()
}

func foldStream(t testing.TB, s *Set, data []byte) {
	t.Helper()
	r := logfmt.NewReader(bytes.NewReader(data), nil)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if errors.Is(err, logfmt.ErrSyntax) {
			s.Unparsed(1)
			continue
		}
		require.NoError(t, err)
		s.Fold(ev)
	}
}

// assertSameSnapshots compares every stat of want with got's; got may hold
// more (l2met metrics derived from earlier traffic), which must read empty.
func assertSameSnapshots(t *testing.T, want, got Snapshot) {
	t.Helper()
	require.Equal(t, want.Time, got.Time)
	for name, v := range want.Stats {
		assert.Equal(t, v.String(), got.Stats[name].String(), name)
	}
	for name, v := range got.Stats {
		if _, ok := want.Stats[name]; !ok {
			assert.Contains(t, []string{"0", "null", "[]"}, v.String(), "%s only in got", name)
		}
	}
}

// TestEventClockGap replays a stream with a one-hour gap: the clock leaps
// the gap without losing the events that proved it, so the snapshot after
// the gap is exactly that of the second part alone.
func TestEventClockGap(t *testing.T) {
	before := generate(t, 1, at17, 2*time.Minute, 300)
	after := generate(t, 2, at17.Add(time.Hour), 2*time.Minute, 300)
	defs := def.Heroku()
	gap, err := NewDefSet(defs, nil)
	require.NoError(t, err)
	alone, err := NewDefSet(defs, nil)
	require.NoError(t, err)
	foldStream(t, gap, before)
	foldStream(t, gap, after)
	foldStream(t, alone, after)
	require.Equal(t, alone.End(), gap.End())
	require.Equal(t, alone.Now(), gap.Now())
	assertSameSnapshots(t, mustSnap(t, alone, alone.End()), mustSnap(t, gap, gap.End()))
	// A few seconds earlier, too.
	T := alone.End().Add(-4 * time.Second)
	assertSameSnapshots(t, mustSnap(t, alone, T), mustSnap(t, gap, T))
	// Before the gap is gone: the windows dropped it.
	_, err = gap.Snapshot(at17.Add(time.Minute))
	require.ErrorIs(t, err, ErrClock)
}

// TestEventClockSparse folds one event every ten minutes, further apart
// than the skew: every run of LeapBuckets events moves the clock, and
// only the events of the last, undecided run are not folded.
func TestEventClockSparse(t *testing.T) {
	s := mustDefSet(t, "name=req kind=rate window=1h where=\"proc=router\"")
	var lines []string
	for i := range 7 {
		lines = append(lines, routerLine(at17.Add(time.Duration(i)*10*time.Minute)))
	}
	foldLines(t, s, lines...)
	// Event 0 set the clock; 1, 2, 3 proved a leap; 4, 5, 6 another.
	assert.Equal(t, at17.Add(time.Hour), s.Now())
	snap := mustSnap(t, s, s.End())
	assert.Equal(t, 6.0, num(t, snap, "req"), "events 1 to 6 in the hour before End")
	assert.Equal(t, 0.0, num(t, snap, StatFuture))
}

// TestEventClockHeldBound holds a run that outgrows LeapBytes: the events
// that do not fit are dropped and counted in pulse.future at the new
// clock, and the rest are folded after the leap.
func TestEventClockHeldBound(t *testing.T) {
	s := mustDefSet(t, "name=req kind=rate per=1s window=10s where=\"proc=router\"")
	foldLines(t, s, routerLine(at17))
	pad := strings.Repeat("x", 5000)
	var ev logfmt.Event
	base := at17.Add(time.Hour)
	for i := range LeapEvents {
		require.NoError(t, logfmt.ParseLine([]byte(routerLine(base.Add(time.Duration(i)*time.Microsecond))+" pad="+pad), &ev))
		s.Fold(&ev)
	}
	held := LeapBytes / eventSize(&ev)
	require.Less(t, held, LeapEvents)
	assert.Equal(t, base, s.Now(), "LeapEvents in a row proved the jump")
	snap := mustSnap(t, s, s.End())
	assert.InDelta(t, float64(held)/10, num(t, snap, "req"), 1e-9, "the held events, folded")
	assert.InDelta(t, float64(LeapEvents-held)/10, num(t, snap, StatFuture), 1e-9, "the rest, counted")
}

// TestFoldDamagedTime: an event whose header timestamp did not parse is
// counted as unparsed, never stamped with a guess.
func TestFoldDamagedTime(t *testing.T) {
	s := mustDefSet(t, clockDefs)
	foldLines(t, s, routerLine(at17))
	var ev logfmt.Event
	require.NoError(t, logfmt.ParseLine([]byte(routerLine(at17)), &ev))
	ev.Time, ev.Timestamp = time.Time{}, []byte("2012-12-10T04:05:25Z+00:00") // as the parser leaves it
	s.Fold(&ev)
	ev.Time = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) // outside UnixNano's range
	s.Fold(&ev)
	ev.Time, ev.Timestamp = time.Time{}, []byte("-") // the NILVALUE: no time, so the clock's
	s.Fold(&ev)
	snap := mustSnap(t, s, s.End())
	assert.Equal(t, 2.0, num(t, snap, "req"))
	assert.Equal(t, 0.2, num(t, snap, StatUnparsed))
}

func TestManualClock(t *testing.T) {
	d, err := def.Parse(strings.NewReader(clockDefs), "x")
	require.NoError(t, err)
	s, err := NewDefSet(d, &SetOptions{Clock: ManualClock})
	require.NoError(t, err)
	assert.Equal(t, ManualClock, s.Clock())

	_, err = s.Snapshot(at17)
	require.ErrorIs(t, err, ErrClock, "snapshot before the clock is set")
	err = s.Apply(Delta{Name: "req", Kind: stat.KindCount, Start: at17, Width: time.Second, Stat: new(stat.Count)})
	require.ErrorIs(t, err, ErrClock, "apply before the clock is set")
	foldLines(t, s, routerLine(at17)) // waits for the clock: rejected

	now := at17.Add(10*time.Second + 300*time.Millisecond)
	require.NoError(t, s.Advance(now))
	assert.Equal(t, at17.Add(10*time.Second), s.Now())
	assert.Equal(t, at17.Add(11*time.Second), s.End())
	assert.Equal(t, at17.Add(8*time.Second), s.Settled(2*time.Second), "flush + grace = 2 s")
	foldLines(t, s,
		routerLine(at17.Add(5*time.Second)),  // behind the clock: folded
		routerLine(at17.Add(12*time.Second)), // ahead, within skew: folded
		routerLine(at17.Add(time.Hour)),      // beyond skew: future
	)
	assert.Equal(t, at17.Add(10*time.Second), s.Now(), "events never move a manual clock")
	_, err = s.Snapshot(at17.Add(12 * time.Second))
	require.ErrorIs(t, err, ErrClock, "after End: buckets still filling")
	snap := mustSnap(t, s, s.Settled(2*time.Second))
	assert.Equal(t, 1.0, num(t, snap, "req"))
	require.NoError(t, s.Advance(at17.Add(13*time.Second)))
	snap = mustSnap(t, s, s.End())
	assert.Equal(t, 2.0, num(t, snap, "req"))
	assert.Equal(t, 0.1, num(t, snap, StatFuture))
	assert.Equal(t, 0.1, num(t, snap, StatRejected), "the event folded before the clock was set")

	ev := mustDefSet(t, clockDefs)
	require.ErrorIs(t, ev.Advance(now), ErrClock, "an EventClock set follows its events")
	_, err = NewDefSet(d, &SetOptions{Clock: 7})
	require.ErrorIs(t, err, ErrOptions)
	assert.Equal(t, "event clock", EventClock.String())
	assert.Equal(t, "clock(7)", Clock(7).String())
}

// TestSnapshotReadOnly: a snapshot never changes the set, even with a run
// held.
func TestSnapshotReadOnly(t *testing.T) {
	s := mustDefSet(t, clockDefs)
	foldLines(t, s, routerLine(at17), routerLine(at17.Add(time.Second)), routerLine(at17.Add(time.Hour)))
	a := mustSnap(t, s, s.End()).AppendJSON(nil)
	b := mustSnap(t, s, s.End()).AppendJSON(nil)
	assert.Equal(t, string(a), string(b))
	assert.Len(t, s.leap.held, 1)
}

// TestZeroSetFolds: the zero Set and a NewSet set fold without
// definitions, counting events.
func TestZeroSetFolds(t *testing.T) {
	var z Set
	foldLines(t, &z, routerLine(at17), routerLine(at17.Add(time.Second)))
	snap := mustSnap(t, &z, z.End())
	assert.Equal(t, 0.2, num(t, snap, StatEvents))
	assert.Len(t, snap.Stats, len(selfStats))

	w, err := New("requests", stat.KindCount, Options{})
	require.NoError(t, err)
	ns, err := NewSet(w)
	require.NoError(t, err)
	foldLines(t, ns, routerLine(at17)) // no clock yet: rejected when it is set
	require.NoError(t, ns.Advance(at17.Add(time.Second)))
	foldLines(t, ns, routerLine(at17))
	require.NoError(t, ns.Advance(at17.Add(2*time.Second))) // the rejected count is at 17:00:01
	snap = mustSnap(t, ns, ns.End())
	assert.Equal(t, 0.1, num(t, snap, StatEvents))
	assert.Equal(t, 0.1, num(t, snap, StatRejected))

	var u Set
	u.Unparsed(3)
	foldLines(t, &u, routerLine(at17))
	assert.Equal(t, 0.3, num(t, mustSnap(t, &u, u.End()), StatUnparsed))
}

// TestApplyParametersFromDefinition: a bucket takes its parameters from
// its definition, so one delta of other parameters is refused (and
// counted) while the right ones after it apply.
func TestApplyParametersFromDefinition(t *testing.T) {
	defs := `
name=hosts kind=distinct of=host
name=top kind=topk of=host k=2
name=svc kind=quantiles of=service q=0.5
name=mem kind=last-sum of=mem by=dyno
`
	d4, err := stat.NewDistinct(4)
	require.NoError(t, err)
	d4.ObserveKey([]byte("a"))
	d14 := new(stat.Distinct)
	d14.ObserveKey([]byte("b"))
	k3, err := stat.NewTopK(stat.TopKConfig{K: 3})
	require.NoError(t, err)
	k3.ObserveKey([]byte("a"))
	k2, err := stat.NewTopK(stat.TopKConfig{K: 2})
	require.NoError(t, err)
	k2.ObserveKey([]byte("b"))
	q50, err := stat.NewQuantiles(50)
	require.NoError(t, err)
	q50.Observe(1)
	q := new(stat.Quantiles)
	q.Observe(2)
	l5, err := stat.NewLastBy(stat.LastByConfig{MaxKeys: 5})
	require.NoError(t, err)
	l5.ObserveAt([]byte("web.1"), at17, 1)
	l := new(stat.LastBy)
	l.ObserveAt([]byte("web.2"), at17, 2)
	for _, tt := range []struct {
		name      string
		kind      stat.Kind
		bad, good stat.Stat
		want      string
	}{
		{"hosts", stat.KindDistinct, d4, d14, "1"},
		{"top", stat.KindTopK, k3, k2, `[["b",1]]`},
		{"svc", stat.KindQuantiles, q50, q, `{"p50":2}`},
		{"mem", stat.KindLastBy, l5, l, "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := def.Parse(strings.NewReader(defs), "x")
			require.NoError(t, err)
			s, err := NewDefSet(ds, &SetOptions{Clock: ManualClock})
			require.NoError(t, err)
			require.NoError(t, s.Advance(at17.Add(time.Second)))
			delta := func(st stat.Stat) Delta {
				return Delta{Name: tt.name, Kind: tt.kind, Start: at17, Width: time.Second, Stat: st}
			}
			require.ErrorIs(t, s.Apply(delta(tt.bad)), stat.ErrIncompatible, "the first delta, into an empty bucket")
			assert.Equal(t, uint64(1), s.Window(tt.name).Rejected())
			require.NoError(t, s.Apply(delta(tt.good)))
			require.ErrorIs(t, s.Apply(delta(tt.bad)), stat.ErrIncompatible, "into the filled bucket")
			snap := mustSnap(t, s, s.End())
			assert.Equal(t, tt.want, snap.Stats[tt.name].String())
			assert.Equal(t, 0.2, num(t, snap, StatRejected))
		})
	}
}
