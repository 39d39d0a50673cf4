package def

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// generated returns a few seconds of generated Heroku traffic as events.
func generated(tb testing.TB) []*logfmt.Event {
	tb.Helper()
	var buf bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: 7, Rate: 2000, Start: time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC), IncidentEvery: time.Minute})
	if _, err := g.WriteFor(&buf, 2*time.Second); err != nil {
		tb.Fatal(err)
	}
	var evs []*logfmt.Event
	r := logfmt.NewReader(bytes.NewReader(buf.Bytes()), nil)
	for {
		_, err := r.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			tb.Fatal(err)
		}
		ev := new(logfmt.Event)
		if err := logfmt.ParseFrame(bytes.Clone(r.Raw()), ev); err != nil {
			tb.Fatal(err)
		}
		evs = append(evs, ev)
	}
}

// BenchmarkMatcher finds the matching definitions of the default set for
// each event of generated traffic.
func BenchmarkMatcher(b *testing.B) {
	evs := generated(b)
	cs, err := CompileSet(Heroku(), Budget{})
	if err != nil {
		b.Fatal(err)
	}
	m := NewMatcher(cs)
	var dst []int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst = m.AppendMatches(dst[:0], evs[i%len(evs)])
		i++
	}
}

// BenchmarkMatchEach is what the Matcher saves: every filter checked.
func BenchmarkMatchEach(b *testing.B) {
	evs := generated(b)
	cs, err := CompileSet(Heroku(), Budget{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := evs[i%len(evs)]
		for _, c := range cs {
			c.Match(ev)
		}
		i++
	}
}

// BenchmarkObserve observes router lines into the default set's
// quantiles definition.
func BenchmarkObserve(b *testing.B) {
	c, err := Compile(Def{Name: "q", Kind: KindQuantiles, Of: "service"})
	if err != nil {
		b.Fatal(err)
	}
	ev := new(logfmt.Event)
	if err := logfmt.ParseLine([]byte(routerLine), ev); err != nil {
		b.Fatal(err)
	}
	s := c.NewStat()
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(s, ev)
	}
}
