package input

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
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
// jobs put together are the stream, that no job is larger than the buffer
// or holds much more memory than its length, and, when the stream never
// went quiet and held no record over MaxFrame, that the workers read the
// jobs as they would read the whole stream: the same records and errors,
// and the same counts.
func FuzzSyslogChunker(f *testing.F) {
	f.Add([]byte(drainBody), []byte{10, 0, 200, 3}, uint16(64))
	f.Add(generate(50, logfmttest.Lines), []byte{255, 255, 0, 1}, uint16(300))
	f.Add(generate(50, logfmttest.Drain), []byte{7}, uint16(0))
	f.Add(bareFrames(generate(50, logfmttest.Drain)), []byte{7, 30}, uint16(2000))
	f.Add([]byte(strings.Repeat("no newline at all ", 200)), []byte{50, 0}, uint16(100))
	f.Add([]byte("\n\n\n\nx"), []byte{1, 0, 0}, uint16(1))
	f.Add([]byte("1000000000000 "+msg(1, "")+octet(msg(2, ""))+"99 "+msg(3, "\n")+octet(msg(4, ""))), []byte{3, 9}, uint16(120))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxFrame uint16) {
		mf := 1 + int(maxFrame)%(8<<10)
		// Split data into pieces: each byte of cuts is a piece length,
		// zero a timeout.
		var pieces [][]byte
		quiet := false
		rest := data
		for i := 0; len(rest) > 0 && len(pieces) < 1<<12; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				c := int(cuts[i%len(cuts)])
				if c == 0 {
					pieces = append(pieces, nil)
					quiet = true
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
		jobs, snap := runStream(t, pieces, mf)
		for _, j := range jobs {
			if len(j) == 0 {
				t.Fatal("empty job")
			}
			if len(j) > 2*mf+(1<<minClassBits) {
				t.Fatalf("job of %d bytes with MaxFrame %d", len(j), mf)
			}
		}
		if !bytes.Equal(concat(jobs), data) {
			t.Fatalf("jobs put together differ from the stream:\n got %q\nwant %q", concat(jobs), data)
		}
		if snap.SyslogJobs != int64(len(jobs)) || snap.SyslogBytes != int64(len(data)) {
			t.Fatalf("counted %d jobs of %d bytes, want %d of %d", snap.SyslogJobs, snap.SyslogBytes, len(jobs), len(data))
		}
		if quiet || snap.SyslogOverlong > 0 {
			return
		}
		want, wantSt := readSummary(data, mf)
		var got []string
		var gotSt logfmt.ReaderStats
		for _, j := range jobs {
			out, st := readSummary(j, mf)
			got = append(got, out...)
			gotSt.Events += st.Events
			gotSt.Unparsed += st.Unparsed
			gotSt.BadTime += st.BadTime
			gotSt.Mismatches += st.Mismatches
			gotSt.Bytes += st.Bytes
		}
		if !slices.Equal(got, want) || gotSt != wantSt {
			t.Fatalf("jobs read apart differ from the stream read whole:\n got %q %+v\nwant %q %+v", got, gotSt, want, wantSt)
		}
	})
}

// readSummary reads data as a worker does, with a reader of MaxFrame
// maxFrame, and returns each record's raw bytes, error class and message.
func readSummary(data []byte, maxFrame int) ([]string, logfmt.ReaderStats) {
	r := logfmt.NewReader(bytes.NewReader(data), &logfmt.ReaderOptions{MaxFrame: maxFrame})
	var out []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out, r.Stats()
		}
		s := string(r.Raw())
		var se *logfmt.SyntaxError
		if errors.As(err, &se) {
			s += " | " + se.Err.Error() + " " + se.Msg
		}
		if ev != nil {
			s += " | " + ev.Form.String() + " " + string(ev.App) + " " + string(ev.Msg)
		}
		out = append(out, s)
	}
}

// FuzzSyslogFrames builds a stream of well-formed messages, each in a
// framing of its own (octet-counted with its newline in the count, with
// none, with one after it, or newline-delimited), delivers it in
// arbitrary pieces with idle flushes in between, and checks that the
// workers read every message once, in order: chunking never loses or
// duplicates a well-formed frame, however the stream is framed and split.
func FuzzSyslogFrames(f *testing.F) {
	f.Add([]byte("hello world"), []byte{0, 1, 2, 3}, []byte{10, 0, 200, 3})
	f.Add([]byte("panic: boom\ngoroutine 1 [running]"), []byte{1, 1, 1, 0, 2}, []byte{1})
	f.Add([]byte(strings.Repeat("at=info status=200 ", 50)), []byte{1, 3, 1, 3, 1}, []byte{0, 7, 0, 13})
	f.Fuzz(func(t *testing.T, content, framing, cuts []byte) {
		n := min(max(len(framing), 1), 64)
		var stream []byte
		prevBare := false
		for i := range n {
			form := 0
			if len(framing) > 0 {
				form = int(framing[i] % 4)
			}
			part := content[i*len(content)/n : (i+1)*len(content)/n]
			body := make([]byte, 0, len(part))
			for k, c := range part {
				switch {
				case c == '\n' && form != 3 && k+1 < len(part) && !isDigit(part[k+1]):
					// A newline in a counted message, but no inner
					// line that starts like a frame.
				case c < 0x20 || c >= 0x7f:
					c = '.'
				}
				body = append(body, c)
			}
			m := msg(i, " m="+string(body))
			switch form {
			case 0: // Logplex: the newline in the count
				stream = append(stream, octet(m+"\n")...)
			case 1: // RFC 6587 §3.4.1: nothing between frames
				stream = append(stream, octet(m)...)
			case 2: // a newline after the frame, outside the count
				stream = append(stream, octet(m)+"\n"...)
			case 3: // non-transparent framing: a line
				if prevBare {
					stream = append(stream, '\n')
				}
				stream = append(stream, m+"\n"...)
			}
			prevBare = form == 1
		}
		var pieces [][]byte
		rest := stream
		for i := 0; len(rest) > 0 && len(pieces) < 1<<12; i++ {
			c := len(rest)
			if len(cuts) > 0 {
				if c = int(cuts[i%len(cuts)]); c == 0 {
					pieces = append(pieces, nil)
					continue
				}
			}
			c = min(c, len(rest))
			pieces = append(pieces, rest[:c])
			rest = rest[c:]
		}
		if len(rest) > 0 {
			pieces = append(pieces, rest)
		}
		jobs, snap := runStream(t, pieces, logfmt.DefaultMaxFrame)
		ids, st := readIDs(t, jobs, logfmt.DefaultMaxFrame)
		if len(ids) != n || st.Mismatches != 0 || st.Unparsed != 0 || snap.SyslogOverlong != 0 {
			t.Fatalf("%d frames sent, %d read (%+v, %d overlong):\n%q\njobs %q", n, len(ids), st, snap.SyslogOverlong, stream, jobs)
		}
		for i, id := range ids {
			if id != i {
				t.Fatalf("frame %d read as %d: %v\njobs %q", i, id, ids, jobs)
			}
		}
	})
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
