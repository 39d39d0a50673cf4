package window

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// BenchmarkAt is the per-event path: find the bucket and observe, with
// event times jittered over the last 3 s as in a live stream.
func BenchmarkAt(b *testing.B) {
	w := newCount(b, Options{})
	now := t0.Add(time.Hour)
	w.Advance(now)
	r := rand.New(rand.NewPCG(1, 1))
	times := make([]time.Time, 1024)
	for i := range times {
		times[i] = now.Add(-time.Duration(r.Int64N(int64(3 * time.Second))))
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if s := w.At(times[i&1023]); s != nil {
			s.(*stat.Count).Observe()
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCutApply is one flush of one window with 3 touched buckets:
// the receiver's cut and the merger's apply.
func BenchmarkCutApply(b *testing.B) {
	recv, merger := newCount(b, Options{}), newCount(b, Options{})
	recv.Advance(t0)
	merger.Advance(t0)
	var ds []Delta
	b.ReportAllocs()
	for b.Loop() {
		for j := range 3 {
			recv.At(t0.Add(-time.Duration(j) * time.Second)).(*stat.Count).Observe()
		}
		ds = recv.Cut(ds[:0])
		for _, d := range ds {
			if err := merger.Apply(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRead reads a full minute of 1 s buckets.
func BenchmarkRead(b *testing.B) {
	w := newCount(b, Options{})
	w.Advance(t0)
	for j := range 60 {
		w.At(t0.Add(-time.Duration(j) * time.Second)).(*stat.Count).Observe()
	}
	var c stat.Count
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		if err := w.Read(t0, time.Minute, &c); err != nil {
			b.Fatal(err)
		}
	}
}
