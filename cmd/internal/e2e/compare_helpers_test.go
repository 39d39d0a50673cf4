package e2e

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
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

func TestCompareStat(t *testing.T) {
	num := stat.Number
	// Quantiles: 2000 values 1..2000, so the rank bound is 1 point.
	qs := &truthStat{c: compiled(t, "name=q kind=quantiles of=x q=0.5,0.99")}
	for i := range 2000 {
		qs.values = append(qs.values, float64(i+1))
	}
	quant := func(p50, p99 float64) stat.Value {
		return stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: p50}, {Q: 0.99, Value: p99}})
	}
	// Few values: exact, so live must equal replay.
	small := &truthStat{c: qs.c, values: []float64{1, 2, 3}}
	// Distinct over 1000 keys; topk over 150 keys (capacity 100), the
	// first 10 far ahead.
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
		return stat.TopValue(es)
	}
	rate := &truthStat{c: compiled(t, "name=r kind=rate per=1s")}
	mean := &truthStat{c: compiled(t, "name=m kind=mean of=x")}

	tests := []struct {
		name string
		s    *truthStat
		g, w stat.Value
		ok   bool
	}{
		{"rate equal", rate, num(4.5), num(4.5), true},
		{"rate off by one count", rate, num(4.4), num(4.5), false},
		{"mean rounding", mean, num(1.0000000000000002), num(1), true},
		{"mean off", mean, num(1.001), num(1), false},
		{"mean null", mean, stat.Null(), num(1), false},
		{"quantiles within a point", qs, quant(1010, 1985), quant(1000, 1980), true},
		{"quantiles p50 two points off", qs, quant(1040, 1980), quant(1000, 1980), false},
		{"quantiles p99 missing", qs, stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 1000}}), quant(1000, 1980), false},
		{"quantiles null", qs, stat.Null(), quant(1000, 1980), false},
		{"small quantiles exact", small, quant(2, 3), quant(2, 3), true},
		{"small quantiles differ", small, quant(1, 3), quant(2, 3), false},
		{"distinct within 3 %", ds, num(1020), num(1000), true},
		{"distinct 5 % off", ds, num(1050), num(1000), false},
		{"topk exact", ts, top("a", 50, "b", 40, "c", 30), top("a", 50, "b", 40, "c", 30), true},
		{"topk over within N/capacity", ts, top("a", 52, "b", 42, "c", 32), top("a", 50, "b", 40, "c", 30), true},
		{"topk over beyond N/capacity", ts, top("a", 54, "b", 40, "c", 30), top("a", 50, "b", 40, "c", 30), false},
		{"topk under", ts, top("a", 49, "b", 40, "c", 30), top("a", 50, "b", 40, "c", 30), false},
		{"topk leaves out a heavy key", ts, top("a", 50, "b", 40, "d", 7), top("a", 50, "b", 40, "c", 30), false},
		{"topk short", ts, top("a", 50, "b", 40), top("a", 50, "b", 40, "c", 30), false},
		{"topk unordered", ts, top("b", 40, "a", 50, "c", 30), top("a", 50, "b", 40, "c", 30), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := compareStat(tt.s, tt.g, tt.w)
			if (msg == "") != tt.ok {
				t.Errorf("compareStat(web %s, replay %s) = %q, want ok=%v", tt.g, tt.w, msg, tt.ok)
			}
		})
	}
}

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
