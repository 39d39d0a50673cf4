package input

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// FuzzDrainRequest sends a request with arbitrary header values and body
// to a drain handler, several times over from different drain tokens and
// with a worker taking a job now and then, and checks that the handler
// never panics, answers only with the documented statuses, queues exactly
// the bodies it accepted, and keeps its memory bounded: the queue within
// its budget and the frame ids within their caps.
func FuzzDrainRequest(f *testing.F) {
	f.Add(byte(0), "Basic dTpw", "application/logplex-1", "2", "f00", "d.1", "", "", []byte(drainBody))
	f.Add(byte(0), "Basic dTpw", "application/logplex-1; charset=utf-8", "10", "f00", "d.1", "3", "4", []byte(drainBody))
	f.Add(byte(1), "Basic dTpx", "application/logplex-1", "x", "", "", "-1", "9999999999999999999999", []byte("70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n"))
	f.Add(byte(2), "", "text/plain", "", "", "", "", "", []byte{})
	f.Add(byte(4), "Basic !!!", "application/logplex-1", "-5", "id", "tok", "", "", bytes.Repeat([]byte("x"), 5000))
	f.Add(byte(8), "Bearer x", "", "2147483648", "\x00", "\xff", "1", "1", []byte("\n\n"))

	const maxBody, budget, tokens = 4096, 2 * 4096, 3
	f.Fuzz(func(t *testing.T, flags byte, authz, ctype, msgCount, frameID, token, drops, lost string, body []byte) {
		q := NewQueue(QueueConfig{Jobs: 2, Bytes: budget})
		var st Stats
		h := NewDrainHandler(DrainConfig{Auth: "u:p", MaxBody: maxBody, DedupeTokens: tokens, DedupeIDs: 2}, q, &st, nil).(*drainHandler)
		var queued [][]byte // the bodies in q, in order
		for i := range 8 {
			method := http.MethodPost
			if flags&1 != 0 {
				method = http.MethodPut
			}
			r := httptest.NewRequest(method, "/logs", bytes.NewReader(body))
			if flags&2 != 0 {
				r.ContentLength = -1 // as if chunked
			}
			if flags&4 == 0 {
				r.SetBasicAuth("u", "p")
			} else {
				r.Header.Set("Authorization", authz)
			}
			tok := token
			if i%4 == 3 {
				tok += string(rune('a' + i)) // another drain
			}
			for k, v := range map[string]string{
				"Content-Type": ctype, "Logplex-Msg-Count": msgCount, "Logplex-Frame-Id": frameID,
				"Logplex-Drain-Token": tok, "Logshuttle-Drops": drops, "Logshuttle-Lost": lost,
			} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			before := q.Len()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			switch w.Code {
			case 204, 400, 401, 405, 413, 415, 503:
			default:
				t.Fatalf("status %d", w.Code)
			}
			if q.Len() > before {
				if w.Code != 204 || len(body) > maxBody || len(body) == 0 {
					t.Fatalf("queued a body answered %d, %d bytes", w.Code, len(body))
				}
				queued = append(queued, slices.Clone(body))
			}
			if w.Code == 503 && w.Header().Get("Retry-After") != "1" {
				t.Fatal("503 without Retry-After: 1")
			}
			if q.Bytes() > budget+maxBody || q.Len() > 2 {
				t.Fatalf("queue holds %d jobs, %d bytes", q.Len(), q.Bytes())
			}
			if h.ids.len() > tokens {
				t.Fatalf("%d tokens remembered", h.ids.len())
			}
			if i%3 == 2 { // a worker comes by
				for _, got := range takeAll(q) {
					if len(queued) == 0 || !bytes.Equal(got, queued[0]) {
						t.Fatalf("queued %q, want the accepted body", got)
					}
					queued = queued[1:]
				}
				if len(queued) != 0 {
					t.Fatalf("%d accepted bodies missing", len(queued))
				}
			}
		}
		snap := st.Snapshot()
		if snap.DrainRequests != 8 || snap.DrainAccepted != snap.DrainBytes/max(int64(len(body)), 1) && len(body) > 0 {
			t.Fatalf("counters %+v", snap)
		}
	})
}

// scriptConn is a net.Conn whose reads return the pieces of a script in
// turn: an empty piece is a read that times out, and after the last piece
// reads return io.EOF.
type scriptConn struct {
	net.Conn
	pieces [][]byte
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.pieces) == 0 {
		return 0, io.EOF
	}
	piece := c.pieces[0]
	if len(piece) == 0 {
		c.pieces = c.pieces[1:]
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, piece)
	if n == len(piece) {
		c.pieces = c.pieces[1:]
	} else {
		c.pieces[0] = piece[n:]
	}
	return n, nil
}

func (c *scriptConn) SetReadDeadline(time.Time) error { return nil }

// FuzzSyslogChunker runs a connection's read loop over a stream delivered
// in arbitrary pieces with idle flushes in between, and checks that the
// jobs put together are the stream, that each job ends with a newline
// unless it is overlong or the stream's unterminated end, and that no job
// is larger than the buffer or holds much more memory than its length.
func FuzzSyslogChunker(f *testing.F) {
	f.Add([]byte(drainBody), []byte{10, 0, 200, 3}, uint16(64))
	f.Add(generate(50, logfmttest.Lines), []byte{255, 255, 0, 1}, uint16(300))
	f.Add(generate(50, logfmttest.Drain), []byte{7}, uint16(0))
	f.Add([]byte(strings.Repeat("no newline at all ", 200)), []byte{50, 0}, uint16(100))
	f.Add([]byte("\n\n\n\nx"), []byte{1, 0, 0}, uint16(1))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxFrame uint16) {
		mf := 1 + int(maxFrame)%(8<<10)
		// Split data into pieces: each byte of cuts is a piece length,
		// zero a timeout.
		var pieces [][]byte
		rest := data
		for i := 0; len(rest) > 0 && len(pieces) < 1<<12; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				c := int(cuts[i%len(cuts)])
				if c == 0 {
					pieces = append(pieces, nil)
					continue
				}
				n = min(n, c*(1+i%7))
			}
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		if len(rest) > 0 {
			pieces = append(pieces, rest)
		}
		q := NewQueue(QueueConfig{Jobs: len(data) + 1, Bytes: 1 << 30})
		var st Stats
		s := &stream{
			input: InputSyslog,
			cfg:   streamConfig{maxFrame: mf, readTimeout: time.Hour, flushAfter: time.Hour, queueWait: 0},
			c: streamCounters{
				jobs: syslogJobs, bytes: syslogBytes, overlong: syslogOverlong,
				dropped: syslogDropped, droppedBytes: syslogDroppedBytes, lines: syslogDroppedLines,
				readTimeouts: syslogReadTimeouts, connErrors: syslogConnErrors,
			},
			q: q, st: &st, log: nopLogger,
		}
		if err := s.read(context.Background(), &scriptConn{pieces: pieces}); err != nil {
			t.Fatal(err)
		}
		var out []byte
		jobs := 0
		for {
			j, ok := q.TryGet()
			if !ok {
				break
			}
			jobs++
			last := q.Len() == 0
			if len(j.Data) == 0 {
				t.Fatal("empty job")
			}
			if j.Data[len(j.Data)-1] != '\n' && !last && st.Snapshot().SyslogOverlong == 0 {
				t.Fatalf("job %q does not end with a newline", j.Data)
			}
			if len(j.Data) > 2*mf+(1<<minClassBits) {
				t.Fatalf("job of %d bytes with MaxFrame %d", len(j.Data), mf)
			}
			if cap(j.buf.b) > max(2*len(j.Data), 1<<minClassBits) {
				t.Fatalf("job of %d bytes holds %d", len(j.Data), cap(j.buf.b))
			}
			out = append(out, j.Data...)
			j.Release()
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("jobs put together differ from the stream:\n got %q\nwant %q", out, data)
		}
		if snap := st.Snapshot(); snap.SyslogJobs != int64(jobs) || snap.SyslogBytes != int64(len(data)) {
			t.Fatalf("counted %d jobs of %d bytes, want %d of %d", snap.SyslogJobs, snap.SyslogBytes, jobs, len(data))
		}
	})
}
