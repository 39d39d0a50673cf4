package stat

import "testing"

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
