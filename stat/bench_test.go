package stat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func BenchmarkCountObserve(b *testing.B) {
	b.ReportAllocs()
	var c Count
	for b.Loop() {
		c.Observe()
	}
}

func BenchmarkSumObserve(b *testing.B) {
	b.ReportAllocs()
	var s Sum
	v := 1.5
	for b.Loop() {
		s.Observe(v)
	}
}

// Exact kinds: Mean, Min, Max, Last, LastBy.

// benchValues returns n whole-millisecond latencies, as a router line has.
func benchValues(n int) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = math.Round(math.Exp(3 + 1.5*r.NormFloat64()))
	}
	return vs
}

func BenchmarkMeanObserve(b *testing.B) {
	b.ReportAllocs()
	vs := benchValues(1024)
	var m Mean
	i := 0
	for b.Loop() {
		m.Observe(vs[i&1023])
		i++
	}
}

func BenchmarkMinObserve(b *testing.B) {
	b.ReportAllocs()
	vs := benchValues(1024)
	var m Min
	i := 0
	for b.Loop() {
		m.Observe(vs[i&1023])
		i++
	}
}

func BenchmarkMaxObserve(b *testing.B) {
	b.ReportAllocs()
	vs := benchValues(1024)
	var m Max
	i := 0
	for b.Loop() {
		m.Observe(vs[i&1023])
		i++
	}
}

func BenchmarkLastObserveAt(b *testing.B) {
	b.ReportAllocs()
	vs := benchValues(1024)
	ts := make([]time.Time, 1024)
	for i := range ts {
		ts[i] = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	}
	var l Last
	i := 0
	for b.Loop() {
		l.ObserveAt(ts[i&1023], vs[i&1023])
		i++
	}
}

// benchLastByKeys returns n dyno names, as a runtime-metrics line has.
func benchLastByKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "web.%d", i+1)
	}
	return keys
}

// BenchmarkLastByObserveAtHit observes existing keys with advancing times,
// so that each observation moves its partition in the heap.
func BenchmarkLastByObserveAtHit(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			keys := benchLastByKeys(n)
			vs := benchValues(1024)
			var s LastBy
			at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			for i, k := range keys {
				s.ObserveAt(k, at.Add(time.Duration(i)), 1)
			}
			i := 0
			for b.Loop() {
				s.ObserveAt(keys[i%n], at.Add(time.Duration(n+i)), vs[i&1023])
				i++
			}
		})
	}
}

// BenchmarkLastByObserveAtEvict observes only new keys into a full
// LastBy: each one allocates its key and evicts the oldest partition.
func BenchmarkLastByObserveAtEvict(b *testing.B) {
	b.ReportAllocs()
	s, _ := NewLastBy(LastByConfig{MaxKeys: 1000})
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	key := make([]byte, 0, 32)
	i := 0
	for b.Loop() {
		key = strconv.AppendInt(append(key[:0], "req."...), int64(i), 10)
		s.ObserveAt(key, at.Add(time.Duration(i)), 1)
		i++
	}
}

// exactBenchStats returns one stat of each exact kind fed n observations
// (LastBy over 100 keys).
func exactBenchStats(n int) map[string]Stat {
	vs := benchValues(n)
	keys := benchLastByKeys(100)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var mean Mean
	var mn Min
	var mx Max
	var last Last
	var lb LastBy
	for i, v := range vs {
		mean.Observe(v)
		mn.Observe(v)
		mx.Observe(v)
		t := at.Add(time.Duration(i) * time.Millisecond)
		last.ObserveAt(t, v)
		lb.ObserveAt(keys[i%len(keys)], t, v)
	}
	return map[string]Stat{"mean": &mean, "min": &mn, "max": &mx, "last": &last, "lastby": &lb}
}

var exactBenchKinds = []string{"mean", "min", "max", "last", "lastby"}

func BenchmarkExactMerge(b *testing.B) {
	a, o := exactBenchStats(10000), exactBenchStats(5000)
	for _, name := range exactBenchKinds {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			dst, src := a[name], o[name]
			for b.Loop() {
				if err := dst.Merge(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkExactMarshal(b *testing.B) {
	stats := exactBenchStats(10000)
	for _, name := range exactBenchKinds {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			s := stats[name]
			buf, _ := s.AppendBinary(nil)
			for b.Loop() {
				buf, _ = s.AppendBinary(buf[:0])
			}
			b.ReportMetric(float64(len(buf)), "bytes")
		})
	}
}

func BenchmarkExactUnmarshal(b *testing.B) {
	stats := exactBenchStats(10000)
	for _, name := range exactBenchKinds {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			enc, _ := stats[name].MarshalBinary()
			b.SetBytes(int64(len(enc)))
			s, _ := New(stats[name].Kind())
			for b.Loop() {
				if err := s.UnmarshalBinary(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
