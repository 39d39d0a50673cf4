package input

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

func BenchmarkQueue(b *testing.B) {
	q := NewQueue(QueueConfig{})
	data := make([]byte, 3000)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		j := NewJob(InputDrain, data)
		q.TryPut(j)
		j, _ = q.Get(ctx)
		j.Release()
	}
}

func BenchmarkChunker(b *testing.B) {
	benchChunker(b, generate(5000, logfmttest.Drain))
}

// BenchmarkChunkerBare cuts octet-counted frames with no newline between
// them (RFC 6587 §3.4.1), as rsyslog and syslog-ng may send them.
func BenchmarkChunkerBare(b *testing.B) {
	benchChunker(b, bareFrames(generate(5000, logfmttest.Drain)))
}

func benchChunker(b *testing.B, in []byte) {
	c := newChunker(InputSyslog, 64<<10, time.Now())
	defer c.close()
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for p := in; len(p) > 0; {
			n := copy(c.space(), p[:min(len(p), 16<<10)]) // 16 KiB reads
			p = p[n:]
			c.grow(n, now)
			if c.due() {
				if j, ok, _ := c.cut(now, false); ok {
					j.Release()
				}
			}
		}
	}
}

// bareFrames rewrites octet-counted frames that end in a newline as
// frames without it, counted again.
func bareFrames(in []byte) []byte {
	var out []byte
	for l := range bytes.Lines(in) {
		sp := bytes.IndexByte(l, ' ')
		m := bytes.TrimSuffix(l[sp+1:], []byte("\n"))
		out = strconv.AppendInt(out, int64(len(m)), 10)
		out = append(out, ' ')
		out = append(out, m...)
	}
	return out
}

// benchBody is a request body that can be read again.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkDrainHandler serves Logplex-sized requests (10 frames, about
// 3 KiB) with auth and frame ids, a worker taking each job.
func BenchmarkDrainHandler(b *testing.B) {
	g := logfmttest.New(logfmttest.Options{Seed: 1})
	var body []byte
	for range 10 {
		body, _ = g.Next(body)
	}
	q := NewQueue(QueueConfig{})
	h := NewDrainHandler(DrainConfig{Auth: "u:p"}, q, new(Stats), nil)
	r := httptest.NewRequest(http.MethodPost, "/logs", nil)
	r.Header.Set("Content-Type", "application/logplex-1")
	r.Header.Set("Logplex-Msg-Count", "10")
	r.Header.Set("Logplex-Drain-Token", "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc")
	r.SetBasicAuth("u", "p")
	rb := &benchBody{}
	r.Body = rb
	r.ContentLength = int64(len(body))
	w := &benchWriter{h: http.Header{}}
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		rb.Reset(body)
		r.Header["Logplex-Frame-Id"] = ids[i%len(ids) : i%len(ids)+1]
		i++
		h.ServeHTTP(w, r)
		if w.code != http.StatusNoContent {
			b.Fatalf("status %d", w.code)
		}
		j, _ := q.TryGet()
		j.Release()
	}
}

// BenchmarkSyslog streams octet-counted frames over one loopback TCP
// connection, with a worker taking the jobs.
func BenchmarkSyslog(b *testing.B) {
	benchSyslog(b, generate(20000, logfmttest.Drain))
}

// BenchmarkSyslogBare streams octet-counted frames with no newline between
// them.
func BenchmarkSyslogBare(b *testing.B) {
	benchSyslog(b, bareFrames(generate(20000, logfmttest.Drain)))
}

func benchSyslog(b *testing.B, in []byte) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	q := NewQueue(QueueConfig{})
	var st Stats
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ServeSyslog(ctx, ln, SyslogConfig{QueueWait: time.Second}, q, &st, nil)
	go func() {
		for {
			j, ok := q.Get(ctx)
			if !ok {
				return
			}
			j.Release()
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	var sent int64
	for b.Loop() {
		if _, err := conn.Write(in); err != nil {
			b.Fatal(err)
		}
		sent += int64(len(in))
	}
	for {
		snap := st.Snapshot()
		if snap.SyslogBytes+snap.SyslogDroppedBytes >= sent {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(st.Snapshot().SyslogJobs)/float64(b.N), "jobs/op")
}
