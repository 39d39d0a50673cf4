package input

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feed writes p into the chunker as reads would, cutting whenever one is
// due on size, and returns the jobs made.
func feed(c *chunker, p []byte, now time.Time) (jobs []Job) {
	for len(p) > 0 {
		n := copy(c.space(), p)
		p = p[n:]
		c.grow(n, now)
		if c.full() {
			if j, ok, _ := c.cut(now); ok {
				jobs = append(jobs, j)
			}
		}
	}
	return jobs
}

func TestChunkerCut(t *testing.T) {
	now := time.Unix(1, 0)
	f := func(maxFrame int, in string, want []string, wantOverlong bool, wantPending string) {
		t.Helper()
		c := newChunker(InputSyslog, maxFrame)
		defer c.close()
		n := copy(c.space(), in)
		require.Equal(t, len(in), n)
		c.grow(n, now)
		var got []string
		j, ok, overlong := c.cut(now)
		if ok {
			got = append(got, string(j.Data))
			assert.Equal(t, InputSyslog, j.Input)
			assert.Equal(t, -1, j.MsgCount)
			assert.Equal(t, now, j.Arrival)
			j.Release()
		}
		assert.Equal(t, want, got, "jobs of %q", in)
		assert.Equal(t, wantOverlong, overlong, "overlong for %q", in)
		assert.Equal(t, wantPending, string(c.buf.b), "pending after %q", in)
		assert.True(t, c.since.IsZero())
	}
	f(16, "", nil, false, "")
	f(16, "abc", nil, false, "abc")
	f(16, "abc\n", []string{"abc\n"}, false, "")
	f(16, "abc\nde", []string{"abc\n"}, false, "de")
	f(16, "a\nb\nc\nde", []string{"a\nb\nc\n"}, false, "de")
	f(16, "\n", []string{"\n"}, false, "")
	f(4, "abcd", []string{"abcd"}, true, "")              // maxFrame bytes, no newline
	f(4, "a\nbcdef", []string{"a\nbcdef"}, true, "")      // a partial line past maxFrame goes too
	f(4, "a\nbcd\nef", []string{"a\nbcd\n"}, false, "ef") // the remainder fits
}

func TestChunkerRest(t *testing.T) {
	c := newChunker(InputFile, 64)
	defer c.close()
	_, ok := c.rest(time.Now())
	assert.False(t, ok)
	c.grow(copy(c.space(), "a\nlast"), time.Now())
	j, ok := c.rest(time.Now())
	require.True(t, ok)
	assert.Equal(t, "a\nlast", string(j.Data))
	j.Release()
	assert.Zero(t, c.pending())
}

// TestChunkerStream feeds streams in random pieces with random idle
// flushes: the jobs put back together are the input, every job but the
// last ends in a newline or is overlong, and no job holds much more memory
// than its length.
func TestChunkerStream(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lines strings.Builder
	for i := range 5000 {
		lines.WriteString(strings.Repeat("x", r.IntN(300)))
		if i%1000 == 999 {
			lines.WriteString(strings.Repeat("y", 5000)) // longer than maxFrame below
		}
		lines.WriteByte('\n')
	}
	lines.WriteString("unterminated")
	in := []byte(lines.String())
	for _, maxFrame := range []int{1 << 10, 4 << 10, 64 << 10} {
		c := newChunker(InputSyslog, maxFrame)
		var out []byte
		take := func(j Job, ok, overlong bool) {
			if !ok {
				return
			}
			if !overlong {
				assert.Equal(t, byte('\n'), j.Data[len(j.Data)-1])
			}
			assert.LessOrEqual(t, cap(j.buf.b), max(2*len(j.Data), 1<<minClassBits), "memory of a %d-byte job", len(j.Data))
			out = append(out, j.Data...)
			j.Release()
		}
		for p := in; len(p) > 0; {
			n := min(len(p), len(c.space()), 1+r.IntN(3000))
			copy(c.space(), p[:n])
			p = p[n:]
			c.grow(n, time.Now())
			if c.full() || r.IntN(10) == 0 {
				take(c.cut(time.Now()))
			}
			assert.Less(t, c.pending(), cap(c.buf.b), "room to read")
		}
		j, ok := c.rest(time.Now())
		require.True(t, ok)
		assert.Equal(t, "unterminated", string(j.Data[max(0, len(j.Data)-12):]))
		out = append(out, j.Data...)
		j.Release()
		c.close()
		assert.True(t, bytes.Equal(in, out), "maxFrame %d: output differs from input", maxFrame)
	}
}

func TestChunkerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	c := newChunker(InputSyslog, 64<<10)
	defer c.close()
	line := []byte(drainBody)
	now := time.Now()
	// Warm the pools.
	for _, j := range feed(c, bytes.Repeat(line, 1000), now) {
		j.Release()
	}
	allocs := testing.AllocsPerRun(200, func() {
		for p := line; len(p) > 0; {
			n := copy(c.space(), p)
			p = p[n:]
			c.grow(n, now)
			if c.full() {
				if j, ok, _ := c.cut(now); ok {
					j.Release()
				}
			}
		}
		if j, ok, _ := c.cut(now); ok { // an idle flush
			j.Release()
		}
	})
	assert.Zero(t, allocs, "allocations per read and cut")
}

// TestChunkerEmbeddedNewline shows the one case the package comment
// describes: a cut that falls on a newline inside an octet-counted frame.
// The reader ends the frame's head at that newline and counts a mismatch,
// and reads the tail, at the start of the next job, as a line.
func TestChunkerEmbeddedNewline(t *testing.T) {
	msg := "<190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - panic: boom\ngoroutine 1 [running]"
	frame := frames(msg)
	head, tail := frame[:strings.IndexByte(frame, '\n')+1], frame[strings.IndexByte(frame, '\n')+1:]

	c := newChunker(InputSyslog, 1024)
	defer c.close()
	c.grow(copy(c.space(), head), time.Now()) // the read ends at the inner newline
	j1, ok, _ := c.cut(time.Now())
	require.True(t, ok)
	assert.Equal(t, head, string(j1.Data))
	c.grow(copy(c.space(), tail), time.Now())
	j2, ok, _ := c.cut(time.Now())
	require.True(t, ok)
	assert.Equal(t, tail, string(j2.Data))

	events, st := readEvents(t, [][]byte{j1.Data})
	assert.Equal(t, 1, events, "the head is an event")
	assert.EqualValues(t, 1, st.Mismatches, "with a mismatch counted")
	events, st = readEvents(t, [][]byte{j2.Data})
	assert.Equal(t, 1, events, "the tail is read as a line of its own")
	assert.Zero(t, st.Mismatches)
	j1.Release()
	j2.Release()

	// In one job, the reader reads the frame whole.
	events, st = readEvents(t, [][]byte{[]byte(frame)})
	assert.Equal(t, 1, events)
	assert.Zero(t, st.Mismatches)
}
