package input

import (
	"bytes"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// A chunker gathers the bytes read from a stream and cuts them into jobs
// of whole records, frames or lines, where a logfmt.Splitter says they
// end: octet-counted frames by their count, with or without a newline
// after each, and lines at their newline (the package comment has the
// rules). The record after the last cut waits for the rest. It reads into
// a buffer of at least 2·maxFrame bytes, so a cut always leaves room for
// the next read.
//
// A chunker is owned by one goroutine.
type chunker struct {
	input    string
	maxFrame int
	buf      *buffer // len(buf.b) bytes are pending
	// since is when the oldest byte not yet offered to an idle cut
	// arrived (or the last cut that left bytes pending), or zero when
	// there is none: the time the idle flush counts from.
	since time.Time
	// last is when the latest read that completed a record arrived (or
	// that made a piece of one over maxFrame), or when the chunker was
	// made: the time a read timeout counts from.
	last time.Time

	sp      logfmt.Splitter
	done    int  // buf.b[:done] is whole records and blank space: where a cut may end
	scan    int  // buf.b[:scan] has been through sp: done, then any bytes of a record over maxFrame
	records int  // the records in buf.b[:done]
	long    bool // buf.b[done:scan] is a record over maxFrame that sp is skipping
	piece   bool // and part of it went in a job already
	force   bool // a cut is due at done: the end of a record over maxFrame whose start went before
}

func newChunker(input string, maxFrame int, now time.Time) *chunker {
	return &chunker{
		input: input, maxFrame: maxFrame, buf: getBuffer(2 * maxFrame), last: now,
		sp: logfmt.Splitter{MaxFrame: maxFrame},
	}
}

// space returns the free part of the buffer, for the next read.
func (c *chunker) space() []byte { return c.buf.b[len(c.buf.b):cap(c.buf.b)] }

// grow records n bytes read into space at now, and finds the records
// they complete.
func (c *chunker) grow(n int, now time.Time) {
	if n > 0 && c.since.IsZero() {
		c.since = now
	}
	c.buf.b = c.buf.b[:len(c.buf.b)+n]
	c.split(now, false)
}

// split runs the splitter over the pending bytes it has not seen, up to
// the first record it cannot end yet (or a forced cut). idle trusts a
// count that ends at the end of what was read (see logfmt.Splitter.Next).
func (c *chunker) split(now time.Time, idle bool) {
	b := c.buf.b
	for !c.force {
		n, split := c.sp.Next(b[c.scan:], idle)
		switch split {
		case logfmt.SplitMore:
			return
		case logfmt.SplitBlank:
			if bytes.IndexByte(b[c.scan:c.scan+n], '\n') >= 0 {
				c.last = now // an empty line is a line
			}
			c.scan += n
			c.done = c.scan
		case logfmt.SplitRecord:
			c.scan += n
			c.done = c.scan
			c.records++
			c.last = now
		case logfmt.SplitLong:
			c.scan += n
			c.long = true
			if n == 0 {
				return
			}
		case logfmt.SplitLongEnd:
			c.scan += n
			c.done = c.scan
			c.records++
			c.last = now
			// The rest of a record whose start went in a job of its own
			// must end its job: a Reader starting in the middle of it
			// would read on past its end as a line.
			c.force = c.piece
			c.long, c.piece = false, false
		}
	}
}

// pending returns the number of bytes not yet cut.
func (c *chunker) pending() int { return len(c.buf.b) }

// due reports whether a cut is due now: maxFrame bytes are pending, the
// buffer is full, or a record over maxFrame ended after part of it was
// handed over.
func (c *chunker) due() bool {
	return len(c.buf.b) >= c.maxFrame || len(c.buf.b) == cap(c.buf.b) || c.force
}

// cut hands over the whole records pending as a job, with Arrival now,
// and reports whether there was one. idle says the stream is quiet: a
// frame whose count ends at the end of what was read is taken as whole.
//
// A record over maxFrame goes in pieces, each as large as the buffer
// allows (overlong is true), once it fills the buffer: such a record can
// only be an error for the reader, and holding it would let it fill the
// buffer for ever. Its last piece, up to where the reader resynchronises,
// is a job of its own.
func (c *chunker) cut(now time.Time, idle bool) (j Job, ok, overlong bool) {
	defer c.wait(now, idle)
	if idle {
		c.split(now, true)
	}
	n, records := c.done, c.records
	if n == 0 && len(c.buf.b) == cap(c.buf.b) {
		// Full, and no record ends: a record over maxFrame, or
		// (never, as the splitter ends every other record within
		// maxFrame and a count's length) one it has yet to end.
		n, records, overlong = c.scan, 0, true
		if !c.long {
			n = len(c.buf.b)
			c.sp.Reset()
		}
		c.piece = c.long
		c.last = now
	}
	if n == 0 {
		return Job{}, false, false
	}
	j = c.take(n, now)
	j.records = records
	c.done -= min(n, c.done)
	c.scan = max(c.scan-n, 0)
	c.records -= records
	c.force = false
	c.split(now, false) // past a forced cut
	return j, true, overlong
}

// wait sets since after a cut at now: what is left waits for more bytes,
// or for the stream to go quiet, when a frame whose count the next bytes
// would confirm is taken. After an idle cut only records that a forced
// cut held back wait.
func (c *chunker) wait(now time.Time, idle bool) {
	c.since = time.Time{}
	if len(c.buf.b) > 0 && (!idle || c.done > 0) {
		c.since = now
	}
}

// rest hands over everything pending, a partial last record included, as
// a job: at the end of the stream. The next bytes start a new stream.
func (c *chunker) rest(now time.Time) (Job, bool) {
	c.since = time.Time{}
	records := c.records
	if c.done < len(c.buf.b) {
		records++
	}
	c.done, c.scan, c.records = 0, 0, 0
	c.long, c.piece, c.force = false, false, false
	c.sp.Reset()
	if len(c.buf.b) == 0 {
		return Job{}, false
	}
	j := c.take(len(c.buf.b), now)
	j.records = records
	return j, true
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
