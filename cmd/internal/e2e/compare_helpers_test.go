package e2e

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// The comparison's own tests: it must reject what is beyond each kind's
// bound, or the end-to-end tests prove nothing.

func TestRankError(t *testing.T) {
	vs := []float64{1, 2, 2, 2, 3, 4, 5, 6, 7, 8} // F(2−) = 0.1, F(2) = 0.4
	f := func(q, x, want float64) {
		t.Helper()
		if got := rankError(vs, q, x); got < want-1e-12 || got > want+1e-12 {
			t.Errorf("rankError(q=%v, x=%v) = %v, want %v", q, x, got, want)
		}
	}
	f(0.3, 2, 0)       // inside the spike of 2s
	f(0.1, 2, 0)       // its lower edge
	f(0.5, 2, 0.1)     // above it
	f(0.05, 2, 0.05)   // below it
	f(0.5, 3.5, 0)     // between 3 (F = 0.5) and 4 (F(4−) = 0.5)
	f(0.99, 8, 0)      // the maximum
	f(0.99, 100, 0.01) // beyond every value: F(x−) = 1
	f(0.5, 0, 0.5)     // below every value: F = 0
	f(0.95, 7.5, 0.05) // F = 0.9 between 7 and 8
}

func compiled(t *testing.T, line string) *def.Compiled {
	t.Helper()
	ds, err := def.Parse(strings.NewReader(line), "test.defs")
	if err != nil {
		t.Fatal(err)
	}
	c, err := def.Compile(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckTruth(t *testing.T) {
	num := stat.Number
	// Quantiles: 2000 values 1..2000, so the rank bound is 1 point.
	qs := &truthStat{c: compiled(t, "name=q kind=quantiles of=x q=0.5,0.99")}
	for i := range 2000 {
		qs.values = append(qs.values, float64(i+1))
	}
	quant := func(p50, p99 float64) stat.Value {
		return stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: p50}, {Q: 0.99, Value: p99}})
	}
	// Few values: exact.
	small := &truthStat{c: qs.c, values: []float64{1, 2, 3}}
	// Distinct over 1000 keys; topk over 150 keys (capacity 100), the
	// first 3 far ahead.
	ds := &truthStat{c: compiled(t, "name=d kind=distinct of=k")}
	ds.keys, _ = stat.NewTopK(stat.TopKConfig{K: stat.MaxTopKCapacity, Capacity: stat.MaxTopKCapacity})
	for i := range 1000 {
		ds.keys.ObserveKey([]byte{byte(i), byte(i >> 8)})
	}
	ts := &truthStat{c: compiled(t, "name=t kind=topk of=k k=3 per=1m window=1m")}
	ts.keys, _ = stat.NewTopK(stat.TopKConfig{K: stat.MaxTopKCapacity, Capacity: stat.MaxTopKCapacity})
	keys := []string{"a", "b", "c", "d"}
	for i, n := range []int{50, 40, 30, 5} {
		for range n {
			ts.keys.ObserveKey([]byte(keys[i]))
		}
	}
	for i := range 146 { // N = 271, slack N ÷ 100 = 2.71
		ts.keys.ObserveKey([]byte{'z', byte(i)})
	}
	top := func(kv ...any) stat.Value {
		var es []stat.TopValueEntry
		for i := 0; i < len(kv); i += 2 {
			es = append(es, stat.TopValueEntry{Key: kv[i].(string), Value: float64(kv[i+1].(int))})
		}
		return stat.TopValueBound(es, 2)
	}

	tests := []struct {
		name string
		s    *truthStat
		v    stat.Value
		ok   bool
	}{
		{"quantiles exact", qs, quant(1000, 1980), true},
		{"quantiles within a point", qs, quant(1010, 1995), true},
		{"quantiles p50 two points off", qs, quant(1040, 1980), false},
		{"quantiles p99 missing", qs, stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 1000}}), false},
		{"quantiles null", qs, stat.Null(), false},
		{"small quantiles exact", small, quant(2, 3), true},
		{"small quantiles one rank off", small, quant(1, 3), false},
		{"distinct within 3 %", ds, num(1020), true},
		{"distinct 5 % off", ds, num(1050), false},
		{"distinct null", ds, stat.Null(), false},
		{"topk exact", ts, top("a", 50, "b", 40, "c", 30), true},
		{"topk over within N/capacity", ts, top("a", 52, "b", 42, "c", 32), true},
		{"topk over beyond N/capacity", ts, top("a", 54, "b", 40, "c", 30), false},
		{"topk under", ts, top("a", 49, "b", 40, "c", 30), false},
		{"topk leaves out a heavy key", ts, top("a", 50, "b", 40, "d", 7), false},
		{"topk short", ts, top("a", 50, "b", 40), false},
		{"topk unordered", ts, top("b", 40, "a", 50, "c", 30), false},
		{"topk bound beyond N/capacity", ts, stat.TopValueBound(top("a", 50, "b", 40, "c", 30).Top(), 5), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := checkTruth(tt.s, tt.v)
			if (msg == "") != tt.ok {
				t.Errorf("checkTruth(%s) = %q, want ok=%v", tt.v, msg, tt.ok)
			}
		})
	}
}

// TestCompareSnapshots checks what compareSnapshots reports: Set.Diff's
// differences, self-stats left out but pulse.events, stats missing from
// the web, except l2met metrics first seen at or after T.
func TestCompareSnapshots(t *testing.T) {
	T := time.Date(2026, 3, 14, 17, 1, 0, 0, time.UTC)
	defs, err := def.Parse(strings.NewReader("name=r kind=rate per=1s\nname=s kind=sum of=x\nname=l2met kind=l2met\n"), "t.defs")
	if err != nil {
		t.Fatal(err)
	}
	set, err := window.NewDefSet(defs, &window.SetOptions{Clock: window.ManualClock})
	if err != nil {
		t.Fatal(err)
	}
	tr := truth{}
	for _, d := range defs[:2] {
		tr[d.Name] = &truthStat{c: compiled(t, d.String())}
	}
	tr["l2met.late"] = &truthStat{c: compiled(t, "name=l2met.late kind=sum of=count#late per=1s"), first: T.Add(time.Second)}
	tr["l2met.early"] = &truthStat{c: compiled(t, "name=l2met.early kind=sum of=count#early per=1s"), first: T.Add(-time.Second)}
	want := window.Snapshot{Time: T, Stats: map[string]stat.Value{
		"r": stat.Number(4.5), "s": stat.Number(1e6), "l2met.late": stat.Number(0), "l2met.early": stat.Number(1),
		window.StatEvents: stat.Number(4.5), window.StatLate: stat.Number(1),
	}}
	f := func(name string, change map[string]stat.Value, wantProblems int) {
		t.Helper()
		got := map[string]stat.Value{}
		for k, v := range want.Stats {
			got[k] = v
		}
		for k, v := range change {
			if v.String() == deleted.String() {
				delete(got, k)
				continue
			}
			got[k] = v
		}
		problems, _ := compareSnapshots(set, got, want, tr)
		if len(problems) != wantProblems {
			t.Errorf("%s: %d problems, want %d: %q", name, len(problems), wantProblems, problems)
		}
	}
	f("equal", nil, 0)
	f("rate off", map[string]stat.Value{"r": stat.Number(4.4)}, 1)
	f("sum off", map[string]stat.Value{"s": stat.Number(1e6 + 1)}, 1)
	f("pulse.events off", map[string]stat.Value{window.StatEvents: stat.Number(4.4)}, 1)
	f("other self-stats left out", map[string]stat.Value{window.StatLate: stat.Number(7), "pulse.lag": stat.Number(3)}, 0)
	f("a stat only the web has", map[string]stat.Value{"x": stat.Number(1)}, 1)
	f("missing", map[string]stat.Value{"r": deleted}, 1)
	f("l2met metric first seen after T missing", map[string]stat.Value{"l2met.late": deleted}, 0)
	f("l2met metric seen before T missing", map[string]stat.Value{"l2met.early": deleted}, 1)
}

// deleted marks a stat f deletes.
var deleted = stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: -12345}})

// TestComputeTruth checks the truth against a plain count of generated
// lines: the values of a quantiles stat in its window, in and out of it.
func TestComputeTruth(t *testing.T) {
	T := time.Date(2026, 3, 14, 17, 1, 0, 0, time.UTC)
	var in []byte
	var want []float64
	r := rand.New(rand.NewPCG(1, 2))
	for s := -70; s < 5; s++ {
		v := float64(r.IntN(1000))
		at := T.Add(time.Duration(s) * time.Second)
		in = append(in, "<158>1 "+at.Format(time.RFC3339)+" host app web.1 - x="+formatFloat(v)+"\n"...)
		if s >= -60 && s < 0 {
			want = append(want, v)
		}
	}
	slices.Sort(want)
	tr := computeTruth(t, []def.Def{{Name: "q", Kind: def.KindQuantiles, Of: "x"}}, in, T)
	if !slices.Equal(tr["q"].values, want) {
		t.Errorf("values in the window: %v, want %v", tr["q"].values, want)
	}
}

func formatFloat(v float64) string { return stat.Number(v).String() }
