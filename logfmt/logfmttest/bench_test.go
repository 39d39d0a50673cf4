package logfmttest

import (
	"io"
	"testing"
	"time"
)

// BenchmarkNext measures the generator alone: one line per iteration into
// a reused buffer.
func BenchmarkNext(b *testing.B) {
	for _, f := range []Format{Drain, Lines, HerokuLogs} {
		b.Run(f.String(), func(b *testing.B) {
			g := New(Options{Format: f})
			buf := make([]byte, 0, 4096)
			var bytes int64
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = g.Next(buf[:0])
				bytes += int64(len(buf))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(bytes)/float64(b.N), "B/line")
		})
	}
}

// BenchmarkWriteFor measures one second of event time at 100 000 lines/s
// written to io.Discard, as pulse gen does.
func BenchmarkWriteFor(b *testing.B) {
	g := New(Options{Rate: 100000})
	var lines, bytes float64
	b.ReportAllocs()
	for b.Loop() {
		n, err := g.WriteFor(io.Discard, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		bytes += float64(n)
		lines += 100000
	}
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	b.SetBytes(int64(bytes / float64(b.N)))
}
