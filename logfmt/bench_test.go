package logfmt

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

const mixSize = 1000

func totalLen(bs [][]byte) int64 {
	var n int64
	for _, b := range bs {
		n += int64(len(b))
	}
	return n
}

// BenchmarkParseBody parses the bodies of the Heroku mix; one op is the
// whole mix of 1000 bodies.
func BenchmarkParseBody(b *testing.B) {
	_, bodies := herokuMix(mixSize, 1)
	b.SetBytes(totalLen(bodies))
	b.ReportAllocs()
	var ev Event
	for b.Loop() {
		for _, body := range bodies {
			ParseBody(body, &ev)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/event")
}

// BenchmarkParseBodyJSON parses JSON bodies as log/slog's JSONHandler
// writes them, with a nested group and an escaped string; one op is 1000
// bodies.
func BenchmarkParseBodyJSON(b *testing.B) {
	bodies := make([][]byte, mixSize)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"time":"2026-03-14T17:02:%02d.%06dZ","level":"INFO","msg":"request \"done\"","req":{"method":"GET","path":"/api/orders/%d","status":%d},"elapsed_ms":%d.%d,"cached":%v,"user":null}`,
			i%60, i*7919%1000000, i, 200+i%5, i%97, i%10, i%3 == 0)
	}
	b.SetBytes(totalLen(bodies))
	b.ReportAllocs()
	var ev Event
	for b.Loop() {
		for _, body := range bodies {
			ParseBody(body, &ev)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/event")
}

// BenchmarkParseFrame parses whole frames of the mix (header, timestamp,
// body); one op is the whole mix.
func BenchmarkParseFrame(b *testing.B) {
	frames, _ := herokuMix(mixSize, 1)
	b.SetBytes(totalLen(frames))
	b.ReportAllocs()
	var ev Event
	for b.Loop() {
		for _, f := range frames {
			if err := ParseFrame(f, &ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/event")
}

// BenchmarkReader reads the mix as one logplex stream through a Reader.
func BenchmarkReader(b *testing.B) {
	frames, _ := herokuMix(mixSize, 1)
	stream := bytes.Join(frames, nil)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	src := bytes.NewReader(stream)
	r := NewReader(src, nil)
	for b.Loop() {
		src.Reset(stream)
		r.Reset(src)
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/event")
}

func BenchmarkParseNumber(b *testing.B) {
	vals := [][]byte{[]byte("43ms"), []byte("412.37MB"), []byte("200"), []byte("0.99871"), []byte("9831245312bytes")}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range vals {
			ParseNumber(v)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	ts := []byte("2026-03-14T17:02:11.482113+00:00")
	b.ReportAllocs()
	for b.Loop() {
		parseTime(ts)
	}
}

// BenchmarkSplitter splits the sample frames, with and without their
// newlines, as an input cutting a stream into jobs does.
func BenchmarkSplitter(b *testing.B) {
	for _, tt := range []struct {
		name     string
		newlines bool
	}{{"newlines", true}, {"bare", false}} {
		b.Run(tt.name, func(b *testing.B) {
			data := bytes.Repeat(frameBody(sampleFrames(b), tt.newlines), 20)
			var s Splitter
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			frames := 0
			for b.Loop() {
				for p := data; ; {
					n, split := s.Next(p, true)
					if split == SplitMore || n == 0 {
						break
					}
					frames++
					p = p[n:]
				}
			}
			b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
