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
