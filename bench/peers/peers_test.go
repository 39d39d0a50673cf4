package peers_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	gologfmt "github.com/go-logfmt/logfmt"
	krlogfmt "github.com/kr/logfmt"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mix is the Heroku drain mix that logfmt's tests generate and keep in
// logfmt/testdata/mix.log: 1000 logplex frames, counts included.
type mix struct {
	stream []byte   // the frames as one logplex body
	frames [][]byte // each frame with its count and newline
	bodies [][]byte // each message body (copied)
	withSD [][]byte // each frame without its count, with the SD NILVALUE
	// that go-syslog needs inserted after MSGID
	bodyBytes, frameBytes int64
}

func loadMix(tb testing.TB) *mix {
	tb.Helper()
	stream, err := os.ReadFile("../../logfmt/testdata/mix.log")
	require.NoError(tb, err)
	m := &mix{stream: stream}
	r := logfmt.NewReader(bytes.NewReader(stream), nil)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(tb, err)
		raw := append([]byte(nil), r.Raw()...)
		raw = append(raw, '\n')
		m.frames = append(m.frames, raw)
		m.frameBytes += int64(len(raw))
		m.bodies = append(m.bodies, append([]byte(nil), ev.Msg...))
		m.bodyBytes += int64(len(ev.Msg))
		// "<PRI>1 TS HOST APP PROC MSGID MSG" → "... MSGID - MSG".
		sp := bytes.IndexByte(raw, ' ')
		frame := raw[sp+1:]
		head := len(frame) - len(ev.Msg) - 1 // the newline
		sd := append(append(append([]byte(nil), frame[:head]...), "- "...), frame[head:]...)
		m.withSD = append(m.withSD, sd)
	}
	require.Len(tb, m.frames, 1000)
	return m
}

type nopHandler struct{ n int }

func (h *nopHandler) HandleLogfmt(key, val []byte) error {
	h.n++
	return nil
}

// TestPeersAgree checks that every peer reads the mix as Pulse does, so
// that the benchmarks compare like with like.
func TestPeersAgree(t *testing.T) {
	m := loadMix(t)
	var ev logfmt.Event
	p := rfc5424.NewParser(rfc5424.WithBestEffort())
	dec := gologfmt.NewDecoder(bytes.NewReader(bytes.Join(m.bodies, []byte("\n"))))
	for i := range m.frames {
		require.NoError(t, logfmt.ParseFrame(m.frames[i], &ev))
		want := ev.Len()

		var h nopHandler
		require.NoError(t, krlogfmt.Unmarshal(m.bodies[i], &h))
		assert.Equal(t, want, h.n, "kr/logfmt pairs in frame %d", i)

		msg, err := p.Parse(m.withSD[i])
		require.NoError(t, err)
		sm := msg.(*rfc5424.SyslogMessage)
		require.NotNil(t, sm.Message, "go-syslog kept the body of frame %d", i)
		assert.Equal(t, string(ev.Msg), strings.TrimSuffix(*sm.Message, "\n"), "frame %d", i)
		assert.Equal(t, string(ev.App), *sm.Appname)

		require.True(t, dec.ScanRecord())
		n := 0
		for dec.ScanKeyval() {
			n++
		}
		require.NoError(t, dec.Err())
		assert.Equal(t, want, n, "go-logfmt pairs in frame %d", i)
	}
	// Without the inserted SD, go-syslog cannot read logplex frames as
	// they come: it errors or loses the body.
	sp := bytes.IndexByte(m.frames[0], ' ')
	msg, err := p.Parse(bytes.TrimSuffix(m.frames[0][sp+1:], []byte("\n")))
	lost := err != nil || msg.(*rfc5424.SyslogMessage).Message == nil
	assert.True(t, lost, "go-syslog reads raw logplex frames")
}

// meter reports, besides Go's wall-clock ns/op, the CPU time of the
// benchmark's own thread per event and as MB/s. The machine these figures
// come from is shared, so wall-clock time includes time spent waiting for
// a core; thread CPU time does not, and is what BENCHMARKS.md compares.
type meter struct {
	b      *testing.B
	cpu0   int64
	events int
	bytes  int64
}

// startMeter locks the goroutine to its thread (b.Loop runs on the
// benchmark's goroutine) and reads the thread's CPU clock.
func startMeter(b *testing.B, events int, bytes int64) *meter {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	b.SetBytes(bytes)
	b.ReportAllocs()
	cpu0, _ := threadCPU()
	return &meter{b: b, cpu0: cpu0, events: events, bytes: bytes}
}

func (m *meter) stop() {
	b := m.b
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m.events), "ns/event")
	if cpu1, ok := threadCPU(); ok && cpu1 > m.cpu0 {
		ns := float64(cpu1 - m.cpu0)
		b.ReportMetric(ns/float64(b.N*m.events), "cpu-ns/event")
		b.ReportMetric(float64(m.bytes)*float64(b.N)/ns*1e3, "cpu-MB/s")
	}
}

// BenchmarkBody parses the 1000 message bodies of the mix; one op is the
// whole mix.
func BenchmarkBody(b *testing.B) {
	m := loadMix(b)
	b.Run("pulse", func(b *testing.B) {
		mt := startMeter(b, len(m.frames), m.bodyBytes)
		var ev logfmt.Event
		for b.Loop() {
			for _, body := range m.bodies {
				logfmt.ParseBody(body, &ev)
			}
		}
		mt.stop()
	})
	b.Run("kr-logfmt", func(b *testing.B) {
		mt := startMeter(b, len(m.frames), m.bodyBytes)
		h := &nopHandler{}
		for b.Loop() {
			for _, body := range m.bodies {
				if err := krlogfmt.Unmarshal(body, h); err != nil {
					b.Fatal(err)
				}
			}
		}
		mt.stop()
	})
	b.Run("go-logfmt", func(b *testing.B) {
		// go-logfmt reads records from a stream: the bodies joined by
		// newlines, through one Decoder per op.
		joined := bytes.Join(m.bodies, []byte("\n"))
		mt := startMeter(b, len(m.frames), m.bodyBytes)
		src := bytes.NewReader(joined)
		for b.Loop() {
			src.Reset(joined)
			dec := gologfmt.NewDecoder(src)
			for dec.ScanRecord() {
				for dec.ScanKeyval() {
					_, _ = dec.Key(), dec.Value()
				}
			}
			if dec.Err() != nil {
				b.Fatal(dec.Err())
			}
		}
		mt.stop()
	})
}

// BenchmarkFrame parses the 1000 whole frames of the mix (header,
// timestamp, body pairs); one op is the whole mix, and SetBytes counts the
// logplex bytes for every contender.
func BenchmarkFrame(b *testing.B) {
	m := loadMix(b)
	b.Run("pulse", func(b *testing.B) {
		mt := startMeter(b, len(m.frames), m.frameBytes)
		var ev logfmt.Event
		for b.Loop() {
			for _, f := range m.frames {
				if err := logfmt.ParseFrame(f, &ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		mt.stop()
	})
	b.Run("pulse-reader", func(b *testing.B) {
		// The stream reader over the whole body, framing included; one
		// Reader, Reset per op as a drain receiver would per request.
		mt := startMeter(b, len(m.frames), m.frameBytes)
		src := bytes.NewReader(m.stream)
		r := logfmt.NewReader(src, nil)
		for b.Loop() {
			src.Reset(m.stream)
			r.Reset(src)
			for {
				if _, err := r.Next(); err != nil {
					if err == io.EOF {
						break
					}
					b.Fatal(err)
				}
			}
		}
		mt.stop()
	})
	b.Run("go-syslog+kr-logfmt", func(b *testing.B) {
		// The frames had their count removed and the SD NILVALUE inserted
		// before the timer started (see loadMix): go-syslog cannot read
		// logplex frames as they come.
		mt := startMeter(b, len(m.frames), m.frameBytes)
		p := rfc5424.NewParser(rfc5424.WithBestEffort())
		h := &nopHandler{}
		for b.Loop() {
			for _, f := range m.withSD {
				msg, err := p.Parse(f)
				if err != nil {
					b.Fatal(err)
				}
				sm := msg.(*rfc5424.SyslogMessage)
				if sm.Message != nil {
					if err := krlogfmt.Unmarshal([]byte(*sm.Message), h); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		mt.stop()
	})
}
