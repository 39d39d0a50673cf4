package input

import (
	"bytes"
	"time"
)

// A chunker gathers the bytes read from a stream and cuts them into jobs
// of whole lines: each cut ends at the last newline read so far, and the
// partial line after it waits for the rest (the package comment has the
// rules). It reads into a buffer of at least 2·maxFrame bytes, so a cut
// always leaves room for the next read.
//
// A chunker is owned by one goroutine.
type chunker struct {
	input    string
	maxFrame int
	buf      *buffer // len(buf.b) bytes are pending
	// since is when the oldest byte not yet offered to a cut arrived, or
	// zero when there is none: the time the idle flush counts from.
	since time.Time
}

func newChunker(input string, maxFrame int) *chunker {
	return &chunker{input: input, maxFrame: maxFrame, buf: getBuffer(2 * maxFrame)}
}

// space returns the free part of the buffer, for the next read.
func (c *chunker) space() []byte { return c.buf.b[len(c.buf.b):cap(c.buf.b)] }

// grow records n bytes read into space at now.
func (c *chunker) grow(n int, now time.Time) {
	if n > 0 && c.since.IsZero() {
		c.since = now
	}
	c.buf.b = c.buf.b[:len(c.buf.b)+n]
}

// pending returns the number of bytes not yet cut.
func (c *chunker) pending() int { return len(c.buf.b) }

// full reports whether a cut is due on size: maxFrame bytes are pending.
func (c *chunker) full() bool { return len(c.buf.b) >= c.maxFrame }

// cut hands over the complete lines pending as a job, with Arrival now,
// and reports whether there was one. When what would be left, a partial
// line, is already maxFrame bytes long, it goes too, and overlong is true:
// such a line can only be an error for the reader, and holding it would
// let one line fill the buffer.
func (c *chunker) cut(now time.Time) (j Job, ok, overlong bool) {
	c.since = time.Time{}
	b := c.buf.b
	n := bytes.LastIndexByte(b, '\n') + 1
	if len(b)-n >= c.maxFrame {
		n, overlong = len(b), true
	}
	if n == 0 {
		return Job{}, false, false
	}
	return c.take(n, now), true, overlong
}

// rest hands over everything pending, a partial last line included, as a
// job: at the end of the stream.
func (c *chunker) rest(now time.Time) (Job, bool) {
	c.since = time.Time{}
	if len(c.buf.b) == 0 {
		return Job{}, false
	}
	return c.take(len(c.buf.b), now), true
}

// take makes a job of the first n pending bytes. A job of at least half
// the buffer takes the buffer itself, and the rest moves to a new one;
// a smaller job is copied into a buffer of its own size class, so that no
// job holds more than about twice its length.
func (c *chunker) take(n int, now time.Time) Job {
	b := c.buf.b
	var jb *buffer
	if 2*n >= cap(b) {
		jb = c.buf
		c.buf = getBuffer(cap(b))
		c.buf.b = append(c.buf.b, b[n:]...)
	} else {
		jb = getBuffer(n)
		jb.b = append(jb.b, b[:n]...)
		c.buf.b = b[:copy(b, b[n:])]
	}
	return Job{Data: jb.b[:n:n], Input: c.input, MsgCount: -1, Arrival: now, buf: jb}
}

// close returns the buffer to its pool; the chunker is done.
func (c *chunker) close() {
	putBuffer(c.buf)
	c.buf = nil
}
