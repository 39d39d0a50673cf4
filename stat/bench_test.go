package stat

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
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
