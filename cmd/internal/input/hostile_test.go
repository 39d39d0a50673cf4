package input

import (
	"bytes"
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
)

// The hostile-input tests of the syslog input (RELIABILITY.md lists them
// with what each shows). Each sends what a broken or hostile peer could,
// and checks the answer, the counter, that memory stays within the
// input's bounds, and that the input goes on serving good lines.

// goodLine is a newline-delimited syslog line the reader parses, marked so
// the tests can find it.
const goodLine = "<158>1 2026-03-14T17:02:11.482113+00:00 host app web.1 - marker=good status=200\n"

// consumer takes jobs off a queue as workers do, reads them with logfmt's
// reader, and records what it saw.
type consumer struct {
	maxJob     atomic.Int64 // the longest job
	good       atomic.Int64 // events with marker=good
	unparsed   atomic.Int64 // syntax errors
	mismatches atomic.Int64 // wrong octet counts
	jobs       atomic.Int64
}

func consume(t *testing.T, q *Queue) *consumer {
	t.Helper()
	c := &consumer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rd := logfmt.NewReader(nil, nil)
		var br bytes.Reader
		for {
			j, ok := q.Get(ctx)
			if !ok {
				return
			}
			c.jobs.Add(1)
			if n := int64(len(j.Data)); n > c.maxJob.Load() {
				c.maxJob.Store(n)
			}
			br.Reset(j.Data)
			rd.Reset(&br)
			for {
				ev, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					c.unparsed.Add(1)
					continue
				}
				if v, ok := ev.Lookup("marker"); ok && string(v) == "good" {
					c.good.Add(1)
				}
			}
			c.mismatches.Add(rd.Stats().Mismatches)
			j.Release()
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// TestHostileSyslogLongLine sends a 10 MB line without a newline over
// syslog TCP, then a good line on the same connection: the long line is
// handed over in jobs of at most 2·MaxFrame, counted as overlong and
// reported by the reader; the connection stays open and its next line is
// read.
func TestHostileSyslogLongLine(t *testing.T) {
	const size = 10 << 20
	q := NewQueue(QueueConfig{})
	c := consume(t, q)
	s := startSyslog(t, nil, SyslogConfig{}, q)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()

	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		_, err := conn.Write(chunk)
		require.NoError(t, err, "the server reads on: the connection is not closed")
	}
	_, err = conn.Write([]byte("\n" + goodLine))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.good.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "the good line after the long one")

	snap := s.st.Snapshot()
	assert.GreaterOrEqual(t, snap.SyslogOverlong, int64(size/(2*logfmt.DefaultMaxFrame)), "the long line's jobs are counted as overlong")
	assert.EqualValues(t, 1, snap.SyslogConnsOpen, "the connection survives")
	assert.Zero(t, snap.SyslogDropped)
	assert.LessOrEqual(t, c.maxJob.Load(), int64(2*logfmt.DefaultMaxFrame), "no job holds more than the chunker's buffer")
	// A piece of exactly MaxFrame bytes is a line the reader takes (a
	// flag), the longer ones it reports.
	assert.Positive(t, c.unparsed.Load(), "the reader reports the overlong pieces")
}

// TestHostileSyslogSlowloris sends one byte at a time, never a newline,
// faster than the read timeout: the connection is closed ReadTimeout
// after it connected all the same, and counted. A sender of whole lines
// at the same pace keeps its connection.
func TestHostileSyslogSlowloris(t *testing.T) {
	const timeout = 300 * time.Millisecond
	q := NewQueue(QueueConfig{})
	c := consume(t, q)
	s := startSyslog(t, nil, SyslogConfig{ReadTimeout: timeout}, q)

	// A good sender: a line every timeout/3, for longer than the timeout.
	good, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer good.Close()

	start := time.Now() // before the server can start its clock
	slow, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer slow.Close()
	closed := make(chan time.Duration, 1)
	go func() {
		// The server closes the connection: the read sees EOF.
		slow.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = slow.Read(make([]byte, 1))
		closed <- time.Since(start)
	}()
	tick := time.NewTicker(timeout / 15) // one byte every 20 ms
	defer tick.Stop()
	lines := time.NewTicker(timeout / 3)
	defer lines.Stop()
	var took time.Duration
	sentLines := 0
loop:
	for {
		select {
		case took = <-closed:
			break loop
		case <-tick.C:
			_, _ = slow.Write([]byte("<"))
		case <-lines.C:
			_, err := good.Write([]byte(goodLine))
			require.NoError(t, err, "the good sender keeps its connection")
			sentLines++
		}
	}
	assert.GreaterOrEqual(t, took, timeout, "closed at the read timeout")
	assert.Less(t, took, 5*time.Second, "closed at the read timeout, not kept by its trickle")
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogReadTimeouts == 1 }, 2*time.Second, 10*time.Millisecond, "the timeout counted")

	// The good sender outlived the timeout, line by line.
	_, err = good.Write([]byte(goodLine))
	require.NoError(t, err)
	sentLines++
	require.Eventually(t, func() bool { return c.good.Load() == int64(sentLines) }, 2*time.Second, 10*time.Millisecond, "every good line")
	assert.EqualValues(t, 1, s.st.Snapshot().SyslogConnsOpen, "the good sender is still connected")
	assert.EqualValues(t, 1, s.st.Snapshot().SyslogReadTimeouts)
}

// TestHostileSyslogIdleConns opens up to 10 000 idle connections (fewer
// when the file descriptor limit is lower: each takes one here, and the
// held ones one more on the server's side) against a limit of 64: 64 are
// held, every other one is closed at once and counted as rejected; when
// the idle ones go, a good sender is served again. (An idle connection
// holds its slot for at most ReadTimeout: TestHostileSyslogSlowloris.)
func TestHostileSyslogIdleConns(t *testing.T) {
	const maxConns = 64
	n := 10_000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n+maxConns+512) {
		n = int(lim.Cur) - maxConns - 512
		t.Logf("RLIMIT_NOFILE is %d: %d connections instead of 10 000", lim.Cur, n)
	}
	if testing.Short() || raceEnabled {
		n = min(n, 1000)
	}
	require.Greater(t, n, 2*maxConns, "file descriptors for the test")

	q := NewQueue(QueueConfig{})
	c := consume(t, q)
	s := startSyslog(t, nil, SyslogConfig{MaxConns: maxConns, ReadTimeout: time.Minute}, q)

	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var dialErrs atomic.Int64
	const dialers = 8
	for d := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < n; i += dialers {
				conn, err := net.Dial("tcp", s.addr)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				conns[i] = conn
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.Close()
			}
		}
	}()
	require.Zero(t, dialErrs.Load(), "dials")
	require.Eventually(t, func() bool {
		snap := s.st.Snapshot()
		return snap.SyslogConns+snap.SyslogConnsRejected == int64(n)
	}, 10*time.Second, 10*time.Millisecond, "every connection accepted or rejected")

	snap := s.st.Snapshot()
	assert.EqualValues(t, maxConns, snap.SyslogConnsOpen, "the limit is held")
	assert.EqualValues(t, n-maxConns, snap.SyslogConnsRejected, "every connection over the limit is counted")

	for i, conn := range conns {
		conn.Close()
		conns[i] = nil
	}
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogConnsOpen == 0 }, 5*time.Second, 10*time.Millisecond, "the idle connections to go")
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(goodLine))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.good.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "a good sender served again")
}

// TestHostileSyslogBinaryJunk sends 1 MiB of random bytes (NULs, invalid
// UTF-8, stray newlines and digits that look like octet counts), then a
// good line: the junk is handed over, the reader counts it as unparsed
// and resynchronises, and the good line is read.
func TestHostileSyslogBinaryJunk(t *testing.T) {
	q := NewQueue(QueueConfig{})
	c := consume(t, q)
	s := startSyslog(t, nil, SyslogConfig{}, q)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()

	junk := make([]byte, 1<<20)
	r := mrand.New(mrand.NewPCG(12, 0))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	writeInPieces(t, conn, junk, 3)
	_, err = conn.Write([]byte("\n" + goodLine))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.good.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "the good line after the junk")
	assert.Positive(t, c.unparsed.Load(), "the junk is counted as unparsed")
	assert.LessOrEqual(t, c.maxJob.Load(), int64(2*logfmt.DefaultMaxFrame))
	assert.EqualValues(t, 1, s.st.Snapshot().SyslogConnsOpen, "the connection survives")
}

// TestHostileSyslogCounts sends octet-counted frames with no newline
// between them whose counts are wrong: short, long, 10¹², and 10¹² on
// 10 MB with no frame start or newline in it. Each frame with a wrong
// count that ends within MaxFrame is read where the stream shows it ends
// and counted as a mismatch; the 10 MB one goes to the workers in pieces
// of at most 2·MaxFrame (the connection never holds more), counted as
// overlong and reported by the reader; every good frame after it is read
// on the same connection.
func TestHostileSyslogCounts(t *testing.T) {
	// (Not ending in a digit: after a wrong count the reader would take
	// the digits for part of the next frame's count.)
	good := strings.TrimSuffix(goodLine, "\n") + " path=/x"
	tests := []struct {
		name           string
		in             func(w io.Writer) error
		wantGood       int64
		wantMismatches int64
		overlong       bool
	}{
		{"a count too short", func(w io.Writer) error {
			_, err := io.WriteString(w, strconv.Itoa(len(good)-20)+" "+good+octet(good)+octet(good))
			return err
		}, 3, 1, false},
		{"a count too long", func(w io.Writer) error {
			_, err := io.WriteString(w, strconv.Itoa(len(good)+20)+" "+good+octet(good)+octet(good))
			return err
		}, 3, 1, false},
		{"a count of 10^12", func(w io.Writer) error {
			_, err := io.WriteString(w, "1000000000000 "+good+octet(good)+octet(good))
			return err
		}, 3, 1, false},
		{"a count of 10^12 on 10 MB without an end", func(w io.Writer) error {
			if _, err := io.WriteString(w, "1000000000000 <158>1 "); err != nil {
				return err
			}
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for range 160 {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			_, err := io.WriteString(w, octet(good)+octet(good))
			return err
		}, 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue(QueueConfig{})
			c := consume(t, q)
			s := startSyslog(t, nil, SyslogConfig{}, q)
			conn, err := net.Dial("tcp", s.addr)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, tt.in(conn), "the server reads on: the connection is not closed")
			require.Eventually(t, func() bool { return c.good.Load() == tt.wantGood }, 5*time.Second, 10*time.Millisecond, "the good frames")
			assert.Equal(t, tt.wantMismatches, c.mismatches.Load())
			snap := s.st.Snapshot()
			assert.Equal(t, tt.overlong, snap.SyslogOverlong > 0, "overlong: %d", snap.SyslogOverlong)
			if tt.overlong {
				assert.GreaterOrEqual(t, snap.SyslogOverlong, int64(10<<20)/(2*logfmt.DefaultMaxFrame), "the long frame's pieces")
				assert.Positive(t, c.unparsed.Load(), "the reader reports the pieces")
			} else {
				assert.Zero(t, c.unparsed.Load())
			}
			assert.LessOrEqual(t, c.maxJob.Load(), int64(2*logfmt.DefaultMaxFrame), "no job holds more than the connection's buffer")
			assert.EqualValues(t, 1, snap.SyslogConnsOpen, "the connection survives")
		})
	}
}
