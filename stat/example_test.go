package stat_test

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pulsehq/pulse/stat"
)

func ExampleCount() {
	var a, b stat.Count // zero values are ready
	for range 30 {
		a.Observe()
	}
	b.Add(15)
	_ = a.Merge(&b)
	fmt.Println(a.Count(), a.Rate(10*time.Second, time.Second))
	// Output: 45 4.5
}

func ExampleSum() {
	var s stat.Sum
	for _, bytes := range []float64{5321, 742, 0, 4096} {
		s.Observe(bytes)
	}
	fmt.Println(s.Sum(), s.Rate(time.Minute, time.Second))
	// Output: 10159 169.31666666666666
}

func ExampleTopK() {
	var a, b stat.TopK // zero values are ready: k 10, capacity 100
	for _, path := range []string{"/", "/login", "/", "/api", "/", "/api"} {
		a.ObserveKey([]byte(path))
	}
	b.Add([]byte("/login"), 4)
	_ = a.Merge(&b)
	for path, n := range a.Top() {
		fmt.Println(path, n)
	}
	fmt.Println("n", a.N(), "max error", a.MaxError())
	// Output:
	// /login 5
	// / 3
	// /api 2
	// n 10 max error 0
}

func ExampleNewTopK() {
	// A stream with more keys than the capacity 3: counts may
	// overestimate, by at most Err each. d replaced c and inherited its 1.
	tk, err := stat.NewTopK(stat.TopKConfig{K: 3, Capacity: 3})
	if err != nil {
		panic(err)
	}
	for _, k := range []string{"a", "b", "a", "c", "a", "d", "b", "a"} {
		tk.ObserveKey([]byte(k))
	}
	for _, e := range tk.Entries() {
		fmt.Printf("%s %d (true count ≥ %d)\n", e.Key, e.Count, e.Count-e.Err)
	}
	_, err = stat.NewTopK(stat.TopKConfig{Capacity: 1e9})
	fmt.Println(err)
	// Output:
	// a 4 (true count ≥ 4)
	// b 2 (true count ≥ 2)
	// d 2 (true count ≥ 1)
	// stat: new topk: capacity 1000000000 outside [k=10, 65536]: beyond limit
}

func ExampleDistinct() {
	var d stat.Distinct // precision 14; exact while small
	for _, dyno := range []string{"web.1", "web.2", "worker.1", "web.1", "web.2"} {
		d.ObserveString(dyno)
	}
	d.ObserveKey([]byte("router"))
	fmt.Println(d.Estimate())
	// Output: 4
}

func ExampleDistinct_Merge() {
	a, b := new(stat.Distinct), new(stat.Distinct)
	for i := range 600 {
		a.ObserveString(fmt.Sprint("user-", i))
		b.ObserveString(fmt.Sprint("user-", i+400)) // 200 users in both
	}
	if err := a.Merge(b); err != nil {
		fmt.Println(err)
	}
	fmt.Println(a.Estimate())

	p16, _ := stat.NewDistinct(16)
	p16.ObserveString("x")
	fmt.Println(a.Merge(p16))
	// Output:
	// 1000
	// stat: merge distinct p=14 with p=16: incompatible stats
}

func ExampleQuantiles() {
	var q stat.Quantiles
	for ms := 1; ms <= 1000; ms++ { // whole milliseconds: answers are integers
		q.Observe(float64(ms))
	}
	for _, p := range []float64{0.5, 0.99} {
		v, _ := q.Quantile(p)
		fmt.Println(p, v)
	}
	lo, _ := q.Min()
	hi, _ := q.Max()
	fmt.Println(q.Count(), lo, hi)
	// 501 holds ranks (0.500, 0.501]: a rank error of 0 for q = 0.5.
	// Output:
	// 0.5 501
	// 0.99 991
	// 1000 1 1000
}

func ExampleQuantiles_MarshalBinary() {
	var q stat.Quantiles
	for _, ms := range []float64{23, 4, 87, 12, 30000} {
		q.Observe(ms)
	}
	b, _ := q.MarshalBinary() // up to 64 values are kept exactly
	fmt.Println(len(b), "bytes")

	var back stat.Quantiles
	if err := back.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
	}
	p50, _ := back.Quantile(0.5)
	hi, _ := back.Max()
	fmt.Println(back.Count(), p50, hi)
	// Output:
	// 69 bytes
	// 5 23 30000
}

func ExampleMean() {
	var a, b stat.Mean
	for _, ms := range []float64{12, 30, 18} {
		a.Observe(ms)
	}
	b.Observe(40)
	b.Observe(math.NaN()) // ignored and counted
	_ = a.Merge(&b)
	mean, ok := a.Mean()
	fmt.Println(mean, ok, a.Count(), a.Sum(), a.Ignored())
	// Output: 25 true 4 100 1
}

func ExampleMin() {
	var m stat.Min
	_, ok := m.Min()
	fmt.Println(ok)
	for _, ms := range []float64{23, 7, math.Inf(-1), 104} {
		m.Observe(ms)
	}
	v, ok := m.Min()
	fmt.Println(v, ok, m.Ignored())
	// Output:
	// false
	// 7 true 1
}

func ExampleMax() {
	var a, b stat.Max // one per receiver
	a.Observe(230)
	b.Observe(30001) // an H12 timeout
	_ = a.Merge(&b)
	v, _ := a.Max()
	fmt.Println(v)
	// Output: 30001
}

func ExampleLast() {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var a, b stat.Last
	a.ObserveAt(t0.Add(20*time.Second), 512)
	b.ObserveAt(t0, 480) // older: a later one wins, whatever the merge order
	_ = b.Merge(&a)
	t, v, ok := b.Last()
	fmt.Println(t.Format(time.TimeOnly), v, ok)
	// Output: 12:00:20 512 true
}

// Total memory over dynos, from each dyno's latest runtime-metrics line.
func ExampleLastBy() {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var mem stat.LastBy
	mem.ObserveAt([]byte("web.1"), t0, 300)
	mem.ObserveAt([]byte("web.2"), t0.Add(5*time.Second), 250)
	mem.ObserveAt([]byte("web.1"), t0.Add(20*time.Second), 310) // replaces 300
	mem.ObserveAt([]byte("worker.1"), t0.Add(-time.Minute), 120)

	since := t0 // inclusive: web.1 and web.2, not worker.1
	mean, _ := mem.Mean(since)
	fmt.Println(mem.Sum(since), mem.Count(since), mean)
	fmt.Println(mem.Sum(time.Time{}), mem.Count(time.Time{}))
	// Output:
	// 560 2 280
	// 680 3
}

func ExampleNewLastBy() {
	s, err := stat.NewLastBy(stat.LastByConfig{MaxKeys: 2})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, dyno := range []string{"web.1", "web.2", "web.3"} {
		s.ObserveAt([]byte(dyno), t0.Add(time.Duration(i)*time.Second), 1)
	}
	_, _, ok := s.Last([]byte("web.1"))
	fmt.Println(s.Len(), s.Overflow(), ok) // web.1, the oldest, was dropped

	_, err = stat.NewLastBy(stat.LastByConfig{MaxKeys: 1 << 30})
	fmt.Println(errors.Is(err, stat.ErrLimit))
	// Output:
	// 2 1 false
	// true
}

func ExampleLastBy_MarshalBinary() {
	var s stat.LastBy
	s.ObserveAt([]byte("web.1"), time.Unix(0, 0), 1.5)
	b, _ := s.MarshalBinary()
	var d stat.LastBy
	if err := d.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	fmt.Println(len(b), d.Sum(time.Time{}))
	// Output: 22 1.5
}

func ExampleValue_Quantile() {
	// What a snapshot reports for a quantiles definition with q=0.5,0.99.
	var v stat.Value
	if err := v.UnmarshalJSON([]byte(`{"p50":18,"p99":240}`)); err != nil {
		panic(err)
	}
	p99, ok := v.Quantile(0.99)
	fmt.Println(p99, ok)
	_, ok = v.Quantile(0.95) // not reported by the definition
	fmt.Println(ok)
	// Output:
	// 240 true
	// false
}

func ExampleValue_TopKey() {
	v := stat.TopValue([]stat.TopValueEntry{{Key: "api.example.com", Value: 4.5}, {Key: "www.example.com", Value: 1}})
	n, ok := v.TopKey("api.example.com")
	fmt.Println(n, ok)
	_, ok = v.TopKey("old.example.com") // not in the top K
	fmt.Println(ok)
	// Output:
	// 4.5 true
	// false
}

func ExampleValue_TopBound() {
	// A top-k Value as a definition reads it: the top K with the TopK's
	// MaxError in the same unit. 300 hosts seen once and two seen 40
	// times overflow capacity 100, so the counts are estimates: the bound
	// says by how much, and the JSON carries it.
	var tk stat.TopK
	for i := range 300 {
		tk.ObserveKey([]byte(fmt.Sprint("host-", i)))
	}
	for range 40 {
		tk.ObserveKey([]byte("api"))
		tk.ObserveKey([]byte("www"))
	}
	var top []stat.TopValueEntry
	for k, n := range tk.Top() {
		top = append(top, stat.TopValueEntry{Key: k, Value: float64(n)})
		if len(top) == 2 {
			break
		}
	}
	v := stat.TopValueBound(top, float64(tk.MaxError()))
	bound, _ := v.TopBound()
	fmt.Println(bound)
	fmt.Println(v)
	fmt.Println(stat.TopValue(top)) // exact: the bare list
	// Output:
	// 3
	// {"top":[["api",43],["www",43]],"bound":3}
	// [["api",43],["www",43]]
}

func ExampleQuantilesValueOf() {
	// 2000 latencies of 1 to 2000 ms: past 512 values the answers come
	// from a digest, and each carries the range of values its rank bound
	// (1 point below 10⁴ values) allows, which snapshot comparisons use.
	var s stat.Quantiles
	for i := range 2000 {
		s.Observe(float64(i + 1))
	}
	v := stat.QuantilesValueOf(&s, []float64{0.5, 0.99})
	n, _ := v.Count()
	fmt.Println(v, "from", n, "values")
	for _, q := range []float64{0.5, 0.99} {
		x, _ := v.Quantile(q)
		lo, hi, _ := v.QuantileRange(q) // answers at q ∓ (2·0.01 + 1/n)
		fmt.Printf("%s %v in [%v, %v]\n", stat.QuantileName(q), x, lo, hi)
	}
	// Output:
	// {"p50":1000,"p99":1980} from 2000 values
	// p50 1000 in [959, 1041]
	// p99 1980 in [1939, 2000]
}

func ExampleTopK_Overflow() {
	// A key over MaxTopKKeyLen bytes is left out and counted, so an empty
	// top list with Overflow > 0 means "keys too long", not "no traffic".
	var tk stat.TopK
	long := make([]byte, stat.MaxTopKKeyLen+1)
	tk.ObserveKey(long)
	tk.ObserveKey(long)
	fmt.Println(len(tk.Entries()), tk.N(), tk.Overflow())
	// Output: 0 0 2
}

func ExampleTopK_MaxError() {
	// 300 keys seen once and 3 keys seen 40 times, through capacity 100:
	// MaxError, the bound on every count's overestimate, is 3 (at most
	// N ÷ capacity = 4.2). The three counts far above it are reliable; a
	// count near it could be all error.
	var tk stat.TopK
	for i := range 300 {
		tk.ObserveKey([]byte(fmt.Sprint("host-", i)))
	}
	for range 40 {
		for _, h := range []string{"api", "www", "cdn"} {
			tk.ObserveKey([]byte(h))
		}
	}
	for _, e := range tk.Entries()[:3] {
		fmt.Println(e.Key, e.Count, e.Err, e.Count-e.Err > tk.MaxError())
	}
	fmt.Println("max error", tk.MaxError(), "n", tk.N())
	// Output:
	// api 43 3 true
	// cdn 43 3 true
	// www 43 3 true
	// max error 3 n 420
}

func ExampleLastBy_Overflow() {
	// Three dynos through a LastBy that keeps two partitions: the sum
	// covers the two latest, and Overflow says that a partition was left
	// out.
	s, err := stat.NewLastBy(stat.LastByConfig{MaxKeys: 2})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, dyno := range []string{"web.1", "web.2", "web.3"} {
		s.ObserveAt([]byte(dyno), t0.Add(time.Duration(i)*time.Second), 512)
	}
	fmt.Println(s.Sum(time.Time{}), s.Count(time.Time{}), s.Overflow())
	// Output: 1024 2 1
}

func ExampleSum_Overflow() {
	var s stat.Sum
	s.Observe(math.MaxFloat64)
	s.Observe(math.MaxFloat64) // would overflow: left out and counted
	s.Observe(1)
	fmt.Println(s.Sum() == math.MaxFloat64, s.Overflow())
	// Output: true 1
}
