package input

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
)

// feed writes p into the chunker as reads would, cutting whenever one is
// due, and returns the jobs made.
func feed(c *chunker, p []byte, now time.Time) (jobs []Job) {
	for len(p) > 0 {
		n := copy(c.space(), p)
		p = p[n:]
		c.grow(n, now)
		if c.due() {
			if j, ok, _ := c.cut(now, false); ok {
				jobs = append(jobs, j)
			}
		}
	}
	return jobs
}

// msg returns an RFC 5424 message marked i=N, with extra at its end. (It
// does not end in a digit, which a resynchronised frame would glue to the
// next frame's count.)
func msg(i int, extra string) string {
	return "<158>1 2026-03-14T17:02:11.482113+00:00 host app web.1 - i=" + strconv.Itoa(i) + " at=x" + extra
}

// octet returns m with its octet count: RFC 6587 octet-counting framing.
func octet(m string) string { return strconv.Itoa(len(m)) + " " + m }

func TestChunkerCut(t *testing.T) {
	now := time.Unix(1, 0)
	bare := octet(msg(1, ""))
	f := func(name string, maxFrame int, in string, idle bool, want []string, wantOverlong bool, wantPending string) {
		t.Helper()
		c := newChunker(InputSyslog, maxFrame, now)
		defer c.close()
		n := copy(c.space(), in)
		require.Equal(t, len(in), n)
		c.grow(n, now)
		var got []string
		j, ok, overlong := c.cut(now, idle)
		if ok {
			got = append(got, string(j.Data))
			assert.Equal(t, InputSyslog, j.Input)
			assert.Equal(t, -1, j.MsgCount)
			assert.Equal(t, now, j.Arrival)
			j.Release()
		}
		assert.Equal(t, want, got, "%s: jobs", name)
		assert.Equal(t, wantOverlong, overlong, "%s: overlong", name)
		assert.Equal(t, wantPending, string(c.buf.b), "%s: pending", name)
		assert.Equal(t, wantPending != "" && !idle, !c.since.IsZero(), "%s: what is left waits for the idle flush", name)
	}
	f("nothing", 16, "", false, nil, false, "")
	f("a partial line", 16, "abc", false, nil, false, "abc")
	f("a line", 16, "abc\n", false, []string{"abc\n"}, false, "")
	f("a line and a partial one", 16, "abc\nde", false, []string{"abc\n"}, false, "de")
	f("lines", 16, "a\nb\nc\nde", false, []string{"a\nb\nc\n"}, false, "de")
	f("an empty line", 16, "\n", false, []string{"\n"}, false, "")
	f("a line of maxFrame waits for its newline", 4, "abcd", true, nil, false, "abcd")
	f("a partial line waits when idle", 16, "a\nbc", true, []string{"a\n"}, false, "bc")
	f("frames without newlines: the last waits for what follows it", 0, bare+bare+bare, false,
		[]string{bare + bare}, false, bare)
	f("... or for the stream to go quiet", 0, bare+bare+bare, true, []string{bare + bare + bare}, false, "")
	f("a partial frame waits", 0, bare+bare[:40], true, []string{bare}, false, bare[:40])
	f("a frame and the start of the next count", 0, bare+"12", true, []string{bare}, false, "12")
}

// TestChunkerOverlong fills the buffer with a line over maxFrame: it goes
// in pieces as large as the buffer, counted as overlong, and its end is a
// job of its own; the records after it go on as usual.
func TestChunkerOverlong(t *testing.T) {
	now := time.Unix(1, 0)
	for _, tt := range []struct {
		name, head, end string
	}{
		{"a line", "", "\n"},
		{"a frame: its count is wrong and no end comes within maxFrame", "99999 <13>1 ", octet(msg(7, ""))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newChunker(InputSyslog, 1024, now)
			defer c.close()
			after := octet(msg(8, "")) + octet(msg(9, "")) + "\n"
			in := []byte(tt.head + strings.Repeat("x", 5000) + tt.end + after)
			var jobs []Job
			var overlongs int
			for p := in; len(p) > 0; {
				n := copy(c.space(), p)
				p = p[n:]
				c.grow(n, now)
				for c.due() {
					j, ok, overlong := c.cut(now, false)
					if !ok {
						break
					}
					if overlong {
						overlongs++
						assert.GreaterOrEqual(t, len(j.Data), 2*1024-64, "a piece fills the buffer")
					}
					jobs = append(jobs, j)
				}
			}
			if j, ok := c.rest(now); ok {
				jobs = append(jobs, j)
			}
			var data [][]byte
			for _, j := range jobs {
				data = append(data, bytes.Clone(j.Data))
				j.Release()
			}
			assert.Equal(t, in, concat(data))
			assert.Equal(t, 2, overlongs, "pieces of 5000 bytes in a 2048-byte buffer")
			assert.Empty(t, bytes.Trim(data[2], "x\n"), "the record's end is a job of its own")
			ids, st := readIDs(t, data, 1024)
			want := []int{8, 9}
			if tt.end != "\n" {
				want = []int{7, 8, 9}
			}
			assert.Equal(t, want, ids, "the records after it are read")
			assert.Positive(t, st.Unparsed)
		})
	}
}

func TestChunkerRest(t *testing.T) {
	c := newChunker(InputFile, 64, time.Now())
	defer c.close()
	_, ok := c.rest(time.Now())
	assert.False(t, ok)
	c.grow(copy(c.space(), "a\nlast"), time.Now())
	j, ok := c.rest(time.Now())
	require.True(t, ok)
	assert.Equal(t, "a\nlast", string(j.Data))
	assert.Equal(t, 2, j.records)
	j.Release()
	assert.Zero(t, c.pending())
}

// TestChunkerStream feeds streams of lines, octet-counted frames without
// newlines and both, in random pieces with random idle flushes: the jobs
// put back together are the stream, every job but the last ends at a
// record's end or is overlong, and no job holds much more memory than its
// length.
func TestChunkerStream(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lines, bare, mixed strings.Builder
	for i := range 5000 {
		m := msg(i, " x="+strings.Repeat("x", r.IntN(300)))
		lines.WriteString(m + "\n")
		bare.WriteString(octet(m))
		if i%2 == 0 {
			mixed.WriteString(m + "\n")
		} else {
			mixed.WriteString(octet(m + "\n"))
		}
		if i%1000 == 999 {
			lines.WriteString(strings.Repeat("y", 5000) + "\n") // longer than maxFrame below
		}
	}
	lines.WriteString("unterminated")
	for k, in := range [][]byte{[]byte(lines.String()), []byte(bare.String()), []byte(mixed.String())} {
		for _, maxFrame := range []int{1 << 10, 4 << 10, 64 << 10} {
			c := newChunker(InputSyslog, maxFrame, time.Now())
			var out []byte
			var jobs [][]byte
			overlongs := 0
			take := func(j Job, ok, overlong bool) {
				if !ok {
					return
				}
				if overlong {
					overlongs++
				}
				jobs = append(jobs, bytes.Clone(j.Data))
				assert.LessOrEqual(t, cap(j.buf.b), max(2*len(j.Data), 1<<minClassBits), "memory of a %d-byte job", len(j.Data))
				out = append(out, j.Data...)
				j.Release()
			}
			for p := in; len(p) > 0; {
				n := min(len(p), len(c.space()), 1+r.IntN(3000))
				copy(c.space(), p[:n])
				p = p[n:]
				c.grow(n, time.Now())
				if c.due() || r.IntN(10) == 0 {
					take(c.cut(time.Now(), r.IntN(2) == 0))
				}
				assert.Less(t, c.pending(), cap(c.buf.b), "room to read")
			}
			if j, ok := c.rest(time.Now()); ok {
				out = append(out, j.Data...)
				jobs = append(jobs, bytes.Clone(j.Data))
				j.Release()
			}
			c.close()
			assert.True(t, bytes.Equal(in, out), "maxFrame %d: output differs from input", maxFrame)
			// Every job but the pieces of the long lines holds whole
			// records: the workers read every message once, in order.
			ids, _ := readIDs(t, jobs, maxFrame)
			var want []int
			for i := range 5000 {
				if len(msg(i, ""))+300 <= maxFrame {
					want = append(want, i)
				}
			}
			if maxFrame > 1<<10 {
				assert.Equal(t, want, ids, "maxFrame %d", maxFrame)
			}
			// A 5001-byte line is over maxFrame, but it goes in pieces
			// only when it does not fit in the buffer.
			assert.Equal(t, k == 0 && 2*maxFrame < 5001, overlongs > 0, "maxFrame %d: %d overlong", maxFrame, overlongs)
		}
	}
}

func TestChunkerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"octet-counted, newlines", []byte(drainBody)},
		{"octet-counted, no newlines", []byte(octet(msg(1, " a=1")) + octet(msg(2, " b=2")))},
	} {
		c := newChunker(InputSyslog, 64<<10, time.Now())
		now := time.Now()
		// Warm the pools.
		for _, j := range feed(c, bytes.Repeat(tt.in, 1000), now) {
			j.Release()
		}
		allocs := testing.AllocsPerRun(200, func() {
			for p := tt.in; len(p) > 0; {
				n := copy(c.space(), p)
				p = p[n:]
				c.grow(n, now)
				if c.due() {
					if j, ok, _ := c.cut(now, false); ok {
						j.Release()
					}
				}
			}
			if j, ok, _ := c.cut(now, true); ok { // an idle flush
				j.Release()
			}
		})
		assert.Zero(t, allocs, "%s: allocations per read and cut", tt.name)
		c.close()
	}
}

// TestChunkerInnerNewline: a frame whose message holds a newline is never
// cut at it, even when a read ends there and the stream goes quiet.
func TestChunkerInnerNewline(t *testing.T) {
	m := msg(1, " panic: boom\ngoroutine 1 [running]")
	frame := octet(m + "\n")
	head, tail := frame[:strings.IndexByte(frame, '\n')+1], frame[strings.IndexByte(frame, '\n')+1:]

	c := newChunker(InputSyslog, 1024, time.Now())
	defer c.close()
	c.grow(copy(c.space(), head), time.Now()) // the read ends at the inner newline
	_, ok, _ := c.cut(time.Now(), true)
	assert.False(t, ok, "nothing to hand over: the count asks for more")
	c.grow(copy(c.space(), tail), time.Now())
	j, ok, _ := c.cut(time.Now(), false)
	require.True(t, ok)
	assert.Equal(t, frame, string(j.Data))
	ids, st := readIDs(t, [][]byte{j.Data}, 1024)
	j.Release()
	assert.Equal(t, []int{1}, ids)
	assert.Zero(t, st.Mismatches)
}

// readIDs reads jobs as workers do, with a reader of MaxFrame maxFrame,
// and returns the i= of each event in order.
func readIDs(t testing.TB, jobs [][]byte, maxFrame int) (ids []int, st logfmt.ReaderStats) {
	t.Helper()
	for _, j := range jobs {
		r := logfmt.NewReader(bytes.NewReader(j), &logfmt.ReaderOptions{MaxFrame: maxFrame})
		for {
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			if v, ok := ev.Lookup("i"); ok {
				id, err := strconv.Atoi(string(v))
				require.NoError(t, err)
				ids = append(ids, id)
			}
		}
		s := r.Stats()
		st.Events += s.Events
		st.Mismatches += s.Mismatches
		st.Unparsed += s.Unparsed
	}
	return ids, st
}

// runStream runs a connection's read loop over pieces (nil for a read
// that times out: an idle flush) and returns the jobs and the counters.
func runStream(t testing.TB, pieces [][]byte, maxFrame int) ([][]byte, StatsSnapshot) {
	t.Helper()
	total := 0
	for _, p := range pieces {
		total += len(p)
	}
	// Room for every job: one per piece at most, and one per maxFrame
	// bytes.
	q := NewQueue(QueueConfig{Jobs: len(pieces) + 2*total/maxFrame + 16, Bytes: 1 << 30})
	var st Stats
	s := &stream{
		dropLog: logLimit(),
		input:   InputSyslog,
		cfg:     streamConfig{maxFrame: maxFrame, readTimeout: time.Hour, flushAfter: time.Hour, queueWait: 0},
		c: streamCounters{
			jobs: syslogJobs, bytes: syslogBytes, overlong: syslogOverlong,
			dropped: syslogDropped, droppedBytes: syslogDroppedBytes, lines: syslogDroppedLines,
			readTimeouts: syslogReadTimeouts, connErrors: syslogConnErrors,
		},
		q: q, st: &st, log: nopLogger,
	}
	err := s.read(context.Background(), &scriptConn{pieces: pieces})
	require.NoError(t, err)
	return takeAll(q), st.Snapshot()
}

// TestSyslogFraming sends streams in every framing a syslog sender uses,
// split into two reads at every byte offset (with the stream going quiet
// in between, where the framing allows telling a frame's end then), and
// checks that the workers read every frame once, in order, as they read
// the whole stream.
func TestSyslogFraming(t *testing.T) {
	const maxFrame = 256
	ids := func(n int) []int {
		var out []int
		for i := range n {
			out = append(out, i+1)
		}
		return out
	}
	exact := msg(2, " pad="+strings.Repeat("p", maxFrame-len(msg(2, " pad="))))
	require.Len(t, exact, maxFrame)
	tests := []struct {
		name       string
		in         string
		want       []int
		mismatches int64
		unparsed   int64
		// idle: a pause at any offset keeps every frame (not so for a
		// wrong count, which a pause right where it ends makes look right).
		idle bool
	}{
		{"octet-counted with a newline in the count (Logplex)",
			octet(msg(1, "\n")) + octet(msg(2, "\n")) + octet(msg(3, "\n")), ids(3), 0, 0, true},
		{"octet-counted back to back, no newlines (RFC 6587 §3.4.1)",
			octet(msg(1, "")) + octet(msg(2, "")) + octet(msg(3, "")) + octet(msg(4, "")), ids(4), 0, 0, true},
		{"octet-counted, a newline after each outside the count",
			octet(msg(1, "")) + "\n" + octet(msg(2, "")) + "\r\n" + octet(msg(3, "")) + "\n", ids(3), 0, 0, true},
		{"newline-delimited (non-transparent framing)",
			msg(1, "") + "\n" + msg(2, "") + "\n" + msg(3, "") + "\n", ids(3), 0, 0, true},
		{"mixed",
			octet(msg(1, "")) + octet(msg(2, "\n")) + msg(3, "") + "\n" + octet(msg(4, "")) + "\n" + msg(5, "") + "\n" + octet(msg(6, "")),
			ids(6), 0, 0, true},
		{"a message with newlines of its own",
			octet(msg(1, " panic: boom\ngoroutine 1 [running]:\nmain.main()")) + octet(msg(2, "")), ids(2), 0, 0, true},
		{"a count too short",
			strconv.Itoa(len(msg(1, ""))-10) + " " + msg(1, "") + octet(msg(2, "")) + octet(msg(3, "")), ids(3), 1, 0, false},
		{"a count too long",
			strconv.Itoa(len(msg(1, ""))+10) + " " + msg(1, "") + octet(msg(2, "")) + octet(msg(3, "")), ids(3), 1, 0, false},
		{"a count of 10^12",
			"1000000000000 " + msg(1, "") + octet(msg(2, "")) + octet(msg(3, "")), ids(3), 1, 0, false},
		{"a frame of exactly MaxFrame",
			octet(msg(1, "")) + octet(exact) + octet(msg(3, "")), ids(3), 0, 0, true},
		{"a frame one over MaxFrame: lost and reported",
			octet(msg(1, "")) + octet(exact+"!") + octet(msg(3, "")), []int{1, 3}, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			whole, wholeSt := readIDs(t, [][]byte{in}, maxFrame)
			require.Equal(t, tt.want, whole, "the reader, reading the whole stream")
			assert.Equal(t, tt.mismatches, wholeSt.Mismatches)
			assert.Equal(t, tt.unparsed, wholeSt.Unparsed)
			for off := 0; off <= len(in); off++ {
				for _, pause := range []bool{false, true} {
					if pause && !tt.idle {
						continue
					}
					pieces := [][]byte{in[:off], in[off:]}
					if pause {
						pieces = [][]byte{in[:off], nil, in[off:]}
					}
					jobs, snap := runStream(t, pieces, maxFrame)
					got, st := readIDs(t, jobs, maxFrame)
					if !assert.Equal(t, tt.want, got, "split at %d, pause %v: jobs %q", off, pause, jobs) ||
						!assert.Equal(t, wholeSt, st, "split at %d, pause %v: reader counts", off, pause) {
						return
					}
					assert.Zero(t, snap.SyslogOverlong)
					assert.Equal(t, tt.in, string(concat(jobs)))
				}
			}
		})
	}
}

// TestSyslogFramingHuge: a count of 10^12 and then megabytes without a
// frame start or a newline: the reader is never asked to hold more than
// MaxFrame of it, the connection's buffer stays within 2·MaxFrame, and
// the frames after it are read.
func TestSyslogFramingHuge(t *testing.T) {
	const maxFrame = 1024
	in := "1000000000000 <158>1 " + strings.Repeat("x", 1<<20) + octet(msg(1, "")) + octet(msg(2, ""))
	var pieces [][]byte
	for p := []byte(in); len(p) > 0; p = p[min(len(p), 4096):] {
		pieces = append(pieces, p[:min(len(p), 4096)])
	}
	jobs, snap := runStream(t, pieces, maxFrame)
	assert.Equal(t, in, string(concat(jobs)))
	for i, j := range jobs {
		assert.LessOrEqual(t, len(j), 2*maxFrame, "job %d", i)
	}
	assert.GreaterOrEqual(t, snap.SyslogOverlong, int64((1<<20)/(2*maxFrame)), "pieces of the frame")
	ids, st := readIDs(t, jobs, maxFrame)
	assert.Equal(t, []int{1, 2}, ids)
	assert.Positive(t, st.Unparsed)
}
