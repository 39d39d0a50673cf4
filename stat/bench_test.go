package stat

import (
	"encoding/binary"
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

// topkZipf returns a default TopK fed 10⁶ Zipf(1.2) events over 10⁵ keys,
// the stream of TestTopKZipf, split over shards TopKs.
func topkZipf(shards int) []*TopK {
	out := make([]*TopK, shards)
	for i := range out {
		out[i] = new(TopK)
	}
	var buf []byte
	for i, k := range zipfStream(1_000_000, 100_000, 1) {
		buf = zipfKey(buf, k)
		out[i%shards].ObserveKey(buf)
	}
	return out
}

// BenchmarkTopKObserveHit observes keys that are all monitored: a full
// default TopK cycling over its 100 keys, so each hit sifts its counter
// through the heap.
func BenchmarkTopKObserveHit(b *testing.B) {
	b.ReportAllocs()
	var tk TopK
	keys := make([][]byte, tk.Capacity())
	for i := range keys {
		keys[i] = zipfKey(nil, uint32(i))
		tk.ObserveKey(keys[i])
	}
	i := 0
	for b.Loop() {
		tk.ObserveKey(keys[i])
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkTopKObserveMiss observes a key that is never monitored on every
// call: each evicts the minimum and copies the key (one allocation).
func BenchmarkTopKObserveMiss(b *testing.B) {
	b.ReportAllocs()
	var tk TopK
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = zipfKey(nil, uint32(i))
	}
	for _, k := range keys[:tk.Capacity()] {
		tk.ObserveKey(k)
	}
	i := 0
	for b.Loop() {
		tk.ObserveKey(keys[i])
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkTopKObserveZipf observes the Zipf(1.2) stream of TestTopKZipf:
// mostly hits, some misses. It reports events/s.
func BenchmarkTopKObserveZipf(b *testing.B) {
	b.ReportAllocs()
	stream := zipfStream(1<<16, 100_000, 1)
	keys := make([][]byte, len(stream))
	for i, k := range stream {
		keys[i] = zipfKey(nil, k)
	}
	var tk TopK
	i := 0
	for b.Loop() {
		tk.ObserveKey(keys[i])
		if i++; i == len(keys) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTopKMerge merges two full default TopKs (two of 16 shards of
// the Zipf stream) into an empty one, as a merger does per bucket.
func BenchmarkTopKMerge(b *testing.B) {
	b.ReportAllocs()
	shards := topkZipf(16)
	var m TopK
	for b.Loop() {
		m.Reset()
		_ = m.Merge(shards[0])
		_ = m.Merge(shards[1])
	}
}

// BenchmarkTopKMarshal encodes a default TopK of 10⁶ Zipf events and
// reports the encoded size.
func BenchmarkTopKMarshal(b *testing.B) {
	b.ReportAllocs()
	tk := topkZipf(1)[0]
	buf, _ := tk.AppendBinary(nil)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf, _ = tk.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/marshaled")
}

// BenchmarkTopKUnmarshal decodes the encoding of BenchmarkTopKMarshal.
func BenchmarkTopKUnmarshal(b *testing.B) {
	b.ReportAllocs()
	buf, _ := topkZipf(1)[0].MarshalBinary()
	b.SetBytes(int64(len(buf)))
	var tk TopK
	for b.Loop() {
		if err := tk.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// distinctBenchKeys returns 4096 request-id-like keys.
func distinctBenchKeys() [][]byte {
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = []byte("req-" + strconv.FormatUint(uint64(i)*2654435761, 16) + "-4f1c9b")
	}
	return keys
}

func BenchmarkDistinctObserve(b *testing.B) {
	b.ReportAllocs()
	keys := distinctBenchKeys()
	var d Distinct
	for i := range 1 << 20 { // dense, the steady state
		d.ObserveString(strconv.Itoa(i))
	}
	i := 0
	for b.Loop() {
		d.ObserveKey(keys[i&4095])
		i++
	}
}

// distinctMillion returns a Distinct of 10⁶ keys.
func distinctMillion() *Distinct {
	var d Distinct
	var k [8]byte
	for i := range 1000000 {
		binary.LittleEndian.PutUint64(k[:], uint64(i))
		d.ObserveKey(k[:])
	}
	return &d
}

func BenchmarkDistinctMerge(b *testing.B) {
	b.ReportAllocs()
	src := distinctMillion()
	var dst Distinct
	for b.Loop() {
		_ = dst.Merge(src)
	}
}

func BenchmarkDistinctMarshal(b *testing.B) {
	b.ReportAllocs()
	d := distinctMillion()
	var buf []byte
	for b.Loop() {
		buf, _ = d.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/1e6keys")
}

func BenchmarkQuantilesObserve(b *testing.B) {
	b.ReportAllocs()
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 4096)
	for i := range vals {
		vals[i] = math.Round(20 * math.Exp(1.5*r.NormFloat64())) // whole ms
	}
	var q Quantiles
	for _, v := range vals {
		q.Observe(v)
	}
	i := 0
	for b.Loop() {
		q.Observe(vals[i&4095])
		i++
	}
}

// BenchmarkQuantilesObserveDecimal is BenchmarkQuantilesObserve on values
// with one decimal place (l2met's measure#db.query=12.4ms), whose check of
// the decimal places multiplies, rounds and divides.
func BenchmarkQuantilesObserveDecimal(b *testing.B) {
	b.ReportAllocs()
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 4096)
	for i := range vals {
		vals[i] = math.Round(200*math.Exp(1.5*r.NormFloat64())) / 10
	}
	var q Quantiles
	for _, v := range vals {
		q.Observe(v)
	}
	i := 0
	for b.Loop() {
		q.Observe(vals[i&4095])
		i++
	}
}

// quantilesMillion returns a Quantiles of 10⁶ lognormal values.
func quantilesMillion() *Quantiles {
	r := rand.New(rand.NewPCG(3, 4))
	var q Quantiles
	for range 1000000 {
		q.Observe(20 * math.Exp(1.5*r.NormFloat64()))
	}
	return &q
}

func BenchmarkQuantilesMerge(b *testing.B) {
	b.ReportAllocs()
	src := quantilesMillion()
	var dst Quantiles
	for b.Loop() {
		_ = dst.Merge(src)
	}
}

func BenchmarkQuantilesMarshal(b *testing.B) {
	b.ReportAllocs()
	q := quantilesMillion()
	var buf []byte
	for b.Loop() {
		buf, _ = q.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/1e6values")
}

func BenchmarkQuantilesQuantile(b *testing.B) {
	b.ReportAllocs()
	q := quantilesMillion()
	for b.Loop() {
		q.Quantile(0.99)
	}
}

// BenchmarkQuantilesObserveExact observes 500 whole-ms values into a
// Quantiles and resets it, as a one-second bucket of a few hundred values
// does: the values are kept exactly. Reported per value.
func BenchmarkQuantilesObserveExact(b *testing.B) {
	b.ReportAllocs()
	vals := benchLognormal(500)
	var q Quantiles
	for b.Loop() {
		for _, v := range vals {
			q.Observe(v)
		}
		q.Reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(vals)), "ns/value")
}

// BenchmarkQuantilesQuantileExact reads p99 of 500 exact values: a copy
// on the stack and a sort.
func BenchmarkQuantilesQuantileExact(b *testing.B) {
	b.ReportAllocs()
	var q Quantiles
	for _, v := range benchLognormal(500) {
		q.Observe(v)
	}
	for b.Loop() {
		q.Quantile(0.99)
	}
}

// BenchmarkQuantilesMarshalExact encodes 500 exact values (version 3).
func BenchmarkQuantilesMarshalExact(b *testing.B) {
	b.ReportAllocs()
	var q Quantiles
	for _, v := range benchLognormal(500) {
		q.Observe(v)
	}
	var buf []byte
	for b.Loop() {
		buf, _ = q.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/500values")
}

// benchLognormal returns n whole-ms lognormal latencies (median 20).
func benchLognormal(n int) []float64 {
	r := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = math.Round(20 * math.Exp(1.5*r.NormFloat64()))
	}
	return vals
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
