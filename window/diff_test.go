package window

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
)

// herokuSnapshot folds generated traffic through the default set and
// returns the set and its snapshot at End.
func herokuSnapshot(t *testing.T, seed uint64, d time.Duration) (*Set, Snapshot) {
	t.Helper()
	s, err := NewDefSet(def.Heroku(), nil)
	require.NoError(t, err)
	foldStream(t, s, generate(t, seed, at17, d, 300))
	return s, mustSnap(t, s, s.End())
}

func jsonRoundTrip(t *testing.T, snap Snapshot) Snapshot {
	t.Helper()
	b, err := json.Marshal(snap)
	require.NoError(t, err)
	var back Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	return back
}

func TestDiffEqual(t *testing.T) {
	s, snap := herokuSnapshot(t, 1, 70*time.Second)
	require.Greater(t, len(snap.Stats), 60)
	assert.Empty(t, s.Diff(snap, snap))
	back := jsonRoundTrip(t, snap)
	assert.Empty(t, s.Diff(snap, back), "a snapshot and its JSON")
	assert.Empty(t, s.Diff(back, snap))
	assert.Empty(t, s.Diff(back, jsonRoundTrip(t, back)), "two decoded snapshots")
	assert.Empty(t, new(Set).Diff(snap, back), "no definitions: equal JSON")
	assert.Empty(t, s.Diff(Snapshot{}, Snapshot{}))
}

// The same stream folded by one set and by three receivers whose cuts a
// merger applies: every stat within its bound.
func TestDiffMergedEqualsSingle(t *testing.T) {
	data := generate(t, 2, at17, 65*time.Second, 500)
	whole, err := NewDefSet(def.Heroku(), nil)
	require.NoError(t, err)
	merger, err := NewDefSet(def.Heroku(), &SetOptions{Clock: ManualClock})
	require.NoError(t, err)
	var recv [3]*Set
	for i := range recv {
		recv[i], err = NewDefSet(def.Heroku(), nil)
		require.NoError(t, err)
	}
	r := logfmt.NewReader(strings.NewReader(string(data)), nil)
	var deltas []Delta
	for i := 0; ; i++ {
		ev, err := r.Next()
		if err != nil {
			break
		}
		whole.Fold(ev)
		recv[i%3].Fold(ev)
		if i%500 == 0 {
			require.NoError(t, merger.Advance(ev.Time))
			for _, rs := range recv {
				deltas = rs.Cut(deltas[:0])
				for _, d := range deltas {
					require.NoError(t, merger.Apply(d))
				}
			}
		}
	}
	at := whole.End()
	require.NoError(t, merger.Advance(at))
	for _, rs := range recv {
		for _, d := range rs.Cut(nil) {
			require.NoError(t, merger.Apply(d))
		}
	}
	single, merged := mustSnap(t, whole, at), mustSnap(t, merger, at)
	n, _ := single.Number("router.requests")
	require.NotZero(t, n)
	assert.Empty(t, whole.Diff(single, merged))
	assert.Empty(t, merger.Diff(single, merged), "the merger derived the same l2met metrics")
	assert.Empty(t, whole.Diff(single, jsonRoundTrip(t, merged)), "the merged snapshot as the web reads it")
}

func TestDiffReports(t *testing.T) {
	s, snap := herokuSnapshot(t, 3, 70*time.Second)
	with := func(name string, v stat.Value) Snapshot {
		c := Snapshot{Time: snap.Time, Stats: maps.Clone(snap.Stats)}
		c.Stats[name] = v
		return c
	}
	without := func(name string) Snapshot {
		c := Snapshot{Time: snap.Time, Stats: maps.Clone(snap.Stats)}
		delete(c.Stats, name)
		return c
	}
	num := func(name string) float64 {
		n, ok := snap.Number(name)
		require.True(t, ok, name)
		return n
	}
	// quantiles returns router.service's quantiles, each at its range's
	// end, or beyond it by factor.
	service := snap.Stats["router.service"]
	n, ok := service.Count()
	require.True(t, ok)
	require.Greater(t, n, uint64(512), "a digest, with ranges")
	quantiles := func(hi bool, factor float64) stat.Value {
		var qs []stat.Quantile
		for _, q := range service.Quantiles() {
			lo, up, _ := service.QuantileRange(q.Q)
			x := lo / factor
			if hi {
				x = up * factor
			}
			qs = append(qs, stat.Quantile{Q: q.Q, Value: x})
		}
		return stat.QuantilesValue(qs)
	}
	hosts := num("router.hosts")
	require.GreaterOrEqual(t, hosts, 20.0)

	tests := []struct {
		name  string
		b     Snapshot
		want  string // the one stat reported, "" for none
		bound string // a part of its bound
	}{
		{"equal", snap, "", ""},
		{"a rate off by one", with("router.requests", stat.Number(num("router.requests")+1)), "router.requests", "exact: off by 1"},
		{"a rate one count off", with("router.5xx", stat.Number(num("router.5xx")+1.0/60)), "router.5xx", "exact"},
		{"a max one bit off", with("router.service.max", stat.Number(num("router.service.max")*(1+0x1p-52))), "router.service.max", "exact"},
		{"a sum off by one", with("router.bytes", stat.Number(num("router.bytes")+1)), "router.bytes", "relative 2⁻⁴⁸"},
		{"a sum within its float bound", with("router.bytes", stat.Number(num("router.bytes")*(1+0x1p-50))), "", ""},
		{"null for a number", with("router.requests", stat.Null()), "router.requests", "null and a value"},
		{"quantiles at their ranges' low ends", with("router.service", quantiles(false, 1)), "", ""},
		{"quantiles at their ranges' high ends", with("router.service", quantiles(true, 1)), "", ""},
		{"quantiles beyond their ranges", with("router.service", quantiles(true, 1.5)), "router.service", "do not overlap"},
		{"quantiles below their ranges", with("router.service", quantiles(false, 1.5)), "router.service", "do not overlap"},
		{"a distinct within 3 standard errors", with("router.hosts", stat.Number(hosts*1.02)), "", ""},
		{"a distinct beyond", with("router.hosts", stat.Number(hosts*1.03+1)), "router.hosts", "3 standard errors at p=14"},
		{"a top-k count off", with("router.hosts.top", stat.TopValue(append([]stat.TopValueEntry{{Key: snap.Stats["router.hosts.top"].Top()[0].Key, Value: 1e6}},
			snap.Stats["router.hosts.top"].Top()[1:]...))), "router.hosts.top", "exact lists differ at entry 1: "},
		{"missing in b", without("router.H12"), "router.H12", "missing in b"},
		{"a stat with no definition", with("extra", stat.Number(1)), "extra", "missing in a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := s.Diff(snap, tt.b)
			if tt.want == "" {
				assert.Empty(t, d)
				return
			}
			require.Len(t, d, 1, "%v", d)
			assert.Equal(t, tt.want, d[0].Name)
			assert.Contains(t, d[0].Bound, tt.bound)
			assert.Equal(t, snap.Stats[tt.want].String(), d[0].A.String())
			assert.Equal(t, tt.b.Stats[tt.want].String(), d[0].B.String())
			assert.Contains(t, d[0].String(), tt.want+": ")

			back := s.Diff(tt.b, snap)
			require.Len(t, back, 1, "swapped")
			assert.Equal(t, tt.want, back[0].Name)
		})
	}

	// A stat the set has no definition for is compared by its JSON.
	a, b := with("extra", stat.Number(1)), with("extra", stat.Number(1+0x1p-52))
	d := s.Diff(a, b)
	require.Len(t, d, 1)
	assert.Equal(t, "extra: 1 ≠ 1.0000000000000002 (exact (no definition))", d[0].String())
	assert.Empty(t, s.Diff(a, a))
}

// A top-k fed more distinct keys than its capacity reports its bound, and
// the snapshot's JSON says so; within the capacity it is the bare list.
func TestSnapshotTopBound(t *testing.T) {
	s := mustDefSet(t, `name=paths kind=topk of=path k=2 per=1s window=10s`)
	var lines []string
	for i := range 300 {
		lines = append(lines, line(time.Duration(i)*time.Millisecond, "app", "web.1", "path=/p"+strconv.Itoa(i)))
	}
	for i := range 50 {
		lines = append(lines, line(time.Duration(i)*time.Millisecond, "app", "web.1", "path=/hot"))
	}
	foldLines(t, s, lines[:60]...)
	snap := mustSnap(t, s, ft0.Add(time.Second))
	bound, ok := snap.Stats["paths"].TopBound()
	require.True(t, ok)
	assert.Zero(t, bound, "60 keys fit the capacity of 100")
	assert.Equal(t, `[["/p0",0.1],["/p1",0.1]]`, snap.Stats["paths"].String())

	foldLines(t, s, lines[60:]...)
	snap = mustSnap(t, s, ft0.Add(time.Second))
	v := snap.Stats["paths"]
	bound, _ = v.TopBound()
	assert.Positive(t, bound, "350 events over 301 keys through capacity 100")
	assert.LessOrEqual(t, bound, 350.0/100/10, "N ÷ capacity, per second over 10 s")
	hot, ok := snap.TopKey("paths", "/hot")
	require.True(t, ok)
	assert.Greater(t, hot-bound, bound, "/hot is certainly above any key not shown")

	b, err := json.Marshal(snap)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"paths":{"top":[["/hot",`)
	assert.Contains(t, string(b), `,"bound":`+strconv.FormatFloat(bound, 'g', -1, 64)+`}`)
	back := jsonRoundTrip(t, snap)
	got, _ := back.Stats["paths"].TopBound()
	assert.Equal(t, bound, got)
	assert.Empty(t, s.Diff(snap, back))
}

func TestSnapshotAccessors(t *testing.T) {
	snap := Snapshot{Stats: map[string]stat.Value{
		"n":    stat.Number(12.5),
		"null": stat.Null(),
		"q":    stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 240}}),
		"top":  stat.TopValue([]stat.TopValueEntry{{Key: "a", Value: 4.5}}),
	}}
	f := func(name string, got float64, ok bool, want float64, wantOK bool) {
		t.Helper()
		assert.Equal(t, wantOK, ok, name)
		assert.Equal(t, want, got, name)
	}
	n, ok := snap.Number("n")
	f("a number", n, ok, 12.5, true)
	n, ok = snap.Number("null")
	f("null", n, ok, 0, false)
	n, ok = snap.Number("q")
	f("quantiles as a number", n, ok, 0, false)
	n, ok = snap.Number("missing")
	f("a missing stat", n, ok, 0, false)
	n, ok = snap.Quantile("q", 0.99)
	f("p99", n, ok, 240, true)
	n, ok = snap.Quantile("q", 0.95)
	f("a quantile not reported", n, ok, 0, false)
	n, ok = snap.Quantile("missing", 0.5)
	f("a quantile of a missing stat", n, ok, 0, false)
	n, ok = snap.TopKey("top", "a")
	f("a top key", n, ok, 4.5, true)
	n, ok = snap.TopKey("top", "b")
	f("a key not shown", n, ok, 0, false)
	v, ok := snap.Value("q")
	assert.True(t, ok)
	assert.Equal(t, `{"p50":18,"p99":240}`, v.String())
	v, ok = snap.Value("missing")
	assert.False(t, ok)
	assert.True(t, v.IsNull())
	_, ok = Snapshot{}.Number("n")
	assert.False(t, ok, "the zero Snapshot")
}

// A LogWriter compares its snapshots by its set's definitions.
func TestLogWriterDiff(t *testing.T) {
	lw := newLogWriter(t)
	_, err := lw.Write([]byte("time=2026-03-14T17:02:03Z level=INFO msg=request path=/ duration=12ms\n"))
	require.NoError(t, err)
	a := lw.Snapshot()
	assert.Empty(t, lw.Diff(a, a))
	_, err = lw.Write([]byte("time=2026-03-14T17:02:03Z level=INFO msg=request path=/ duration=12ms\n"))
	require.NoError(t, err)
	d := lw.Diff(a, lw.Snapshot())
	names := make([]string, len(d))
	for i := range d {
		names[i] = d[i].Name
	}
	assert.Contains(t, names, "requests")
	assert.NotContains(t, names, "duration", "the same quantiles")
}
