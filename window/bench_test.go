package window

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
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

// receiveStream is the input of BenchmarkReceivePath: 20 s of generated
// Heroku traffic at 2000 request lines/s as drain frames, about 41 000
// events.
func receiveStream(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: 1, Rate: 2000, Start: ft0, IncidentEvery: time.Minute})
	if _, err := g.WriteFor(&buf, 20*time.Second); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReceivePath is the whole receive path, parse + match + fold:
// one op reads the whole stream with logfmt.NewReader and folds every
// event into a new definitions set, with one rate definition or with the
// whole default set.
func BenchmarkReceivePath(b *testing.B) {
	stream := receiveStream(b)
	rows := []struct {
		name string
		defs []def.Def
	}{
		{"rate", def.MustParse(`name=req kind=rate per=1s where="proc=router"`, "rate.defs")},
		{"defaults", def.Heroku()},
	}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) {
			var events int64
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				set, err := NewDefSet(row.defs, nil)
				if err != nil {
					b.Fatal(err)
				}
				r := logfmt.NewReader(bytes.NewReader(stream), nil)
				for {
					ev, err := r.Next()
					if err != nil {
						if err == io.EOF {
							break
						}
						b.Fatal(err)
					}
					set.Fold(ev)
					events++
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
