package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ft0 = time.Date(2026, 3, 14, 17, 2, 0, 0, time.UTC)

// line returns an RFC 5424 router-style line at ft0 + offset.
func line(offset time.Duration, app, proc, msg string) string {
	return fmt.Sprintf("<158>1 %s host %s %s - %s", ft0.Add(offset).Format(time.RFC3339Nano), app, proc, msg)
}

func foldLines(t *testing.T, s *Set, lines ...string) {
	t.Helper()
	var ev logfmt.Event
	for _, l := range lines {
		require.NoError(t, logfmt.ParseLine([]byte(l), &ev), l)
		s.Fold(&ev)
	}
}

func mustDefSet(t *testing.T, defs string) *Set {
	t.Helper()
	d, err := def.Parse(strings.NewReader(defs), "test.defs")
	require.NoError(t, err)
	s, err := NewDefSet(d, nil)
	require.NoError(t, err)
	return s
}

func mustSnap(t testing.TB, s *Set, at time.Time) Snapshot {
	t.Helper()
	snap, err := s.Snapshot(at)
	require.NoError(t, err)
	return snap
}

func snapJSON(t *testing.T, s *Set, at time.Time, names ...string) string {
	t.Helper()
	snap := mustSnap(t, s, at)
	parts := make([]string, len(names))
	for i, n := range names {
		v, ok := snap.Stats[n]
		require.True(t, ok, "no stat %q", n)
		parts[i] = n + "=" + v.String()
	}
	return strings.Join(parts, " ")
}

const kindsDefs = `
name=req kind=rate per=1s where="proc=router"
name=req.min kind=rate where="proc=router"
name=svc.sum kind=sum of=service where="proc=router"
name=bytes kind=sum of=bytes per=1s where="proc=router"
name=svc.mean kind=mean of=service where="proc=router"
name=svc.min kind=min of=service where="proc=router"
name=svc.max kind=max of=service where="proc=router"
name=svc.last kind=last of=service where="proc=router"
name=mem kind=last-sum of=mem by=dyno where="proc=metrics"
name=mem.mean kind=last-mean of=mem by=dyno where="proc=metrics"
name=hosts kind=distinct of=host where="proc=router"
name=svc.q kind=quantiles of=service q=0.5,0.99 where="proc=router"
name=top kind=topk of=host k=2 per=1s window=1m where="proc=router"
name=err kind=rate per=1m where="proc=router code=H12"
`

func TestFoldEveryKind(t *testing.T) {
	s := mustDefSet(t, kindsDefs)
	foldLines(t, s,
		line(0, "heroku", "router", "host=a service=10ms bytes=100 status=200"),
		line(100*time.Millisecond, "heroku", "router", "host=b service=30ms bytes=300 status=200"),
		line(1500*time.Millisecond, "heroku", "router", "host=a service=20ms bytes=200 code=H12 status=503"),
		line(2*time.Second, "heroku", "router", "host=a service= bytes= code=H12 status=503"),
		line(0, "heroku", "metrics", "dyno=web.1 mem=100MB"),
		line(time.Second, "heroku", "metrics", "dyno=web.1 mem=150MB"),
		line(time.Second, "heroku", "metrics", "dyno=web.2 mem=50MB"),
	)
	at := ft0.Add(3 * time.Second) // buckets 0, 1 and 2 are complete
	got := mustSnap(t, s, at)
	want := map[string]string{
		"req":      "0.4", // 4 events over the 10 s window, per second
		"req.min":  "4",   // per defaults to the 1 m window
		"svc.sum":  "60",
		"bytes":    "60", // 600 bytes over the 10 s window, per second
		"svc.mean": "20",
		"svc.min":  "10",
		"svc.max":  "30",
		"svc.last": "20",
		"mem":      "200", // web.1's latest 150 + web.2's 50
		"mem.mean": "100",
		"hosts":    "2",
		"svc.q":    `{"p50":20,"p99":30}`,
		"top":      `[["a",0.05],["b",0.016666666666666666]]`,
		"err":      "2",
	}
	for name, v := range want {
		assert.Equal(t, v, got.Stats[name].String(), name)
	}
	// The skipped observations: the line with empty service and bytes
	// skipped svc.sum, bytes, svc.mean, min, max, last and svc.q.
	assert.Equal(t, "0.7", got.Stats[StatSkipped].String())
	assert.Equal(t, "0.7", got.Stats[StatEvents].String())
}

func TestSnapshotEmptyWindow(t *testing.T) {
	s := mustDefSet(t, kindsDefs)
	_, err := s.Snapshot(ft0)
	require.ErrorIs(t, err, ErrClock, "no clock yet")
	foldLines(t, s, line(0, "app", "web.1", "matches=nothing")) // sets the clock
	got := mustSnap(t, s, ft0)
	want := map[string]string{
		"req": "0", "req.min": "0", "svc.sum": "0", "bytes": "0", "hosts": "0", "mem": "0", "err": "0",
		"svc.mean": "null", "svc.min": "null", "svc.max": "null", "svc.last": "null", "mem.mean": "null", "svc.q": "null",
		"top": "[]",
	}
	for name, v := range want {
		assert.Equal(t, v, got.Stats[name].String(), name)
	}
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.True(t, json.Valid(b))
	var back Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	b2, err := json.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(b2))
}

// TestSnapshotBoundaries holds the complete-bucket rule at exact instants:
// an event at the first nanosecond of a bucket, one at its last, and the
// snapshot times around them.
func TestSnapshotBoundaries(t *testing.T) {
	s := mustDefSet(t, "name=n kind=rate window=10s")
	foldLines(t, s,
		line(0, "app", "web.1", "x=1"),                           // bucket [0,1)
		line(time.Second-time.Nanosecond, "app", "web.1", "x=1"), // bucket [0,1)
		line(time.Second, "app", "web.1", "x=1"),                 // bucket [1,2)
		line(10*time.Second, "app", "web.1", "x=1"),              // bucket [10,11)
		line(12*time.Second, "app", "web.1", "x=1"),              // bucket [12,13): End is 13 s
	)
	f := func(at time.Duration, want string) {
		t.Helper()
		assert.Equal(t, "n="+want, snapJSON(t, s, ft0.Add(at), "n"), "at %v", at)
	}
	f(0, "0")                           // bucket 0 still filling
	f(time.Second-time.Nanosecond, "0") // still filling
	f(time.Second, "2")                 // bucket 0 complete
	f(2*time.Second, "3")
	f(10*time.Second, "3")         // [0,10): buckets 0..9
	f(11*time.Second, "2")         // [1,11): bucket 0 left the window, bucket 10 complete
	f(12*time.Second, "1")         // [2,12)
	f(10500*time.Millisecond, "1") // [0.5, 10.5): buckets 1..9; bucket 0 starts before T − window
}

func TestFoldHeaderAndFieldLookup(t *testing.T) {
	s := mustDefSet(t, `
name=by.field kind=distinct of=host where="proc=router"
name=by.header kind=distinct of=syslog.host where="proc=router"
name=app kind=rate where="app=heroku"
`)
	foldLines(t, s,
		line(0, "heroku", "router", "host=a.example.com"),
		line(0, "heroku", "router", "host=b.example.com"),
	)
	assert.Equal(t, "by.field=2 by.header=1 app=2", snapJSON(t, s, ft0.Add(time.Second), "by.field", "by.header", "app"))
}

func TestFoldBefore(t *testing.T) {
	s := mustDefSet(t, `name=l10 kind=sum before=messages per=1m where="msg=\"Error L10 *\""`)
	foldLines(t, s,
		line(0, "heroku", "logplex", "Error L10 (output buffer overflow): 213 messages dropped since 2026-03-14T17:06:58+00:00."),
		line(0, "heroku", "logplex", "Error L10 (output buffer overflow): 7 messages dropped since 2026-03-14T17:06:58+00:00."),
		line(0, "heroku", "logplex", "Error L11 (Tail buffer overflow): 9 messages dropped"),
	)
	assert.Equal(t, "l10=220", snapJSON(t, s, ft0.Add(time.Second), "l10"))
}

func TestFoldL2met(t *testing.T) {
	s := mustDefSet(t, `name=app kind=l2met max=3`)
	foldLines(t, s,
		line(0, "app", "web.1", "count#orders=2 measure#db=10ms sample#pool=3 source=web.1 unique#user=u1"),
		line(0, "app", "web.2", "count#orders=1 measure#db=30ms sample#pool=5 source=web.2 unique#user=u2"),
		line(0, "app", "web.2", "count#other=1"),
	)
	snap := mustSnap(t, s, ft0.Add(time.Second))
	assert.Equal(t, "0.3", snap.Stats["app.orders"].String(), "3 over 10 s, per second")
	assert.Equal(t, `{"p50":10,"p95":30,"p99":30}`, snap.Stats["app.db"].String())
	assert.Equal(t, "20", snap.Stats["app.db.mean"].String())
	assert.Equal(t, "4", snap.Stats["app.pool"].String())
	_, ok := snap.Stats["app.user"]
	assert.False(t, ok, "the fourth metric is over the cap")
	_, ok = snap.Stats["app.other"]
	assert.False(t, ok)
	// Over the cap of 3 metric keys: unique#user twice and count#other once,
	// 3 over 10 s.
	assert.Equal(t, "0.3", snap.Stats[StatOverflow].String())
}

// TestCutApplyEqualsFold folds traffic into three receivers, cuts them at
// random points, applies every cut to a merger, and compares with one set
// fed everything: the delta property, on every kind.
func TestCutApplyEqualsFold(t *testing.T) {
	defs, err := def.Parse(strings.NewReader(kindsDefs+"name=l kind=l2met\n"), "x")
	require.NoError(t, err)
	newSet := func() *Set {
		s, err := NewDefSet(defs, nil)
		require.NoError(t, err)
		return s
	}
	whole := newSet()
	merger, err := NewDefSet(defs, &SetOptions{Clock: ManualClock})
	require.NoError(t, err)
	recv := []*Set{newSet(), newSet(), newSet()}
	var ev logfmt.Event
	var deltas []Delta
	hosts := []string{"a", "b", "c", "d"}
	for i := range 3000 {
		l := line(time.Duration(i)*7*time.Millisecond, "heroku", "router",
			fmt.Sprintf("host=%s service=%dms bytes=%d count#n=%d measure#m=%dms", hosts[i*i%4], i%97, i*13%1000, i%3, i%50))
		if i%10 == 0 {
			l = line(time.Duration(i)*7*time.Millisecond, "heroku", "metrics", fmt.Sprintf("dyno=web.%d mem=%dMB", i%3, i%200))
		}
		require.NoError(t, logfmt.ParseLine([]byte(l), &ev))
		whole.Fold(&ev)
		r := recv[i%3]
		r.Fold(&ev)
		if i%37 == 0 {
			deltas = r.Cut(deltas[:0])
			require.NoError(t, merger.Advance(ev.Time))
			for _, d := range deltas {
				require.NoError(t, merger.Apply(d))
			}
		}
	}
	at := whole.End()
	require.Equal(t, ft0.Add(21*time.Second), at)
	require.NoError(t, merger.Advance(at)) // the merger's clock: now, past every bucket it reads
	for _, r := range recv {
		for _, d := range r.Cut(nil) {
			require.NoError(t, merger.Apply(d))
		}
	}
	want, got := mustSnap(t, whole, at), mustSnap(t, merger, at)
	require.NotEmpty(t, want.Stats)
	// Exact kinds equal, sketches merged in another order within their
	// bounds.
	assert.Empty(t, whole.Diff(want, got))
	assert.NotEqual(t, "0", want.Stats[StatEvents].String())
	assert.NotEqual(t, "0", want.Stats["l.m"].String(), "l2met metrics were derived on the merger")
}

// TestFoldL2metSampleWithoutSource partitions an app's own sample# lines,
// which carry no source, by the dyno that logged them.
func TestFoldL2metSampleWithoutSource(t *testing.T) {
	s := mustDefSet(t, `name=app kind=l2met`)
	foldLines(t, s,
		line(0, "app", "web.1", "sample#pool.busy=3"),
		line(time.Millisecond, "app", "web.1", "sample#pool.busy=1"),
		line(0, "app", "web.2", "sample#pool.busy=5"),
	)
	assert.Equal(t, "app.pool.busy=3", snapJSON(t, s, ft0.Add(time.Second), "app.pool.busy"), "web.1's latest 1 and web.2's 5")
}

// TestFoldAllocs: folding a realistic mix of events (generated router,
// app, l2met, runtime-metrics, add-on and incident lines) into a warmed-up
// default set allocates nothing: every bucket, key and partition exists.
func TestFoldAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var buf bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: 2, Rate: 2000, Start: ft0, IncidentEvery: time.Minute})
	_, err := g.WriteFor(&buf, 3*time.Second)
	require.NoError(t, err)
	var evs []*logfmt.Event
	r := logfmt.NewReader(bytes.NewReader(buf.Bytes()), nil)
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		own := new(logfmt.Event)
		require.NoError(t, logfmt.ParseFrame(bytes.Clone(r.Raw()), own))
		evs = append(evs, own)
	}
	require.Greater(t, len(evs), 5000)
	s, err := NewDefSet(def.Heroku(), nil)
	require.NoError(t, err)
	// Warm up until the buckets' quantile digests have grown to their
	// bounded size (at most 2c centroids, a 512-value buffer).
	for range 20 {
		for _, ev := range evs {
			s.Fold(ev)
		}
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, ev := range evs {
			s.Fold(ev)
		}
	})
	assert.Zero(t, allocs/float64(len(evs)), "allocations per event (%v per %d events)", allocs, len(evs))
}

func TestSnapshotJSONLimit(t *testing.T) {
	var s Snapshot
	big := make([]byte, MaxSnapshotJSON+1)
	err := s.UnmarshalJSON(big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceed")
	require.Error(t, json.Unmarshal([]byte(`{"stats":{}}`), &s), "no time")
	require.Error(t, json.Unmarshal([]byte(`{"time":"2026-03-14T17:02:00Z","stats":{},"x":1}`), &s), "unknown key")
}
