package logfmt

import (
	"bytes"
	"io"
	"strconv"
)

// DefaultMaxFrame is the default limit on one frame or line: 64 KiB.
const DefaultMaxFrame = 64 << 10

// lookahead is how far past a frame the reader looks to check that an
// octet count lands on the start of the next frame.
const lookahead = maxCountDigits + 2

// ReaderOptions configures a Reader. The zero value (or nil) gives the
// defaults.
type ReaderOptions struct {
	// MaxFrame is the longest frame or line the reader accepts, in bytes;
	// zero means DefaultMaxFrame (64 KiB). A longer one is a *SyntaxError
	// wrapping ErrTooLong, and is skipped without being read into memory.
	MaxFrame int
	// Form fixes the form of every record; zero (FormUnknown) detects it
	// per frame or line, which lets one stream mix forms.
	Form Form
}

// ReaderStats counts what a Reader has seen.
type ReaderStats struct {
	// Events is the number of events returned.
	Events int64
	// Unparsed is the number of frames or lines returned as a
	// *SyntaxError, BadTime included.
	Unparsed int64
	// BadTime is the number of those Unparsed whose error wraps ErrTime:
	// Next returned the event too, complete except its time.
	BadTime int64
	// Mismatches is the number of wrong octet counts: counts that did
	// not land on the start of the next frame, counts of zero and counts
	// over MaxFrame on a frame that was in fact shorter. The reader
	// resynchronised at the next frame start or the frame's newline, and
	// the frame still counts as an event or as unparsed.
	Mismatches int64
	// Bytes is the number of input bytes consumed.
	Bytes int64
}

// Reader reads events from a stream of frames or lines: logplex drain
// bodies, syslog TCP streams, files of any of the forms in the package
// comment, or a mix.
//
// Next returns an *Event owned by the reader, and reused: its fields point
// into the reader's buffer and are valid only until the next call to Next.
// In steady state Next does not allocate.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	max  int
	form Form

	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	off  int64 // stream offset of buf[r]
	err  error // sticky error from src, including io.EOF

	skip  Form // when set, discard up to the next record before reading
	ev    Event
	raw   []byte
	stats ReaderStats
}

// NewReader returns a Reader over r. opts may be nil.
func NewReader(r io.Reader, opts *ReaderOptions) *Reader {
	rd := &Reader{src: r, max: DefaultMaxFrame}
	if opts != nil {
		if opts.MaxFrame > 0 {
			rd.max = opts.MaxFrame
		}
		rd.form = opts.Form
	}
	return rd
}

// Reset makes r read from src as if new, keeping its options and its
// buffer: a drain receiver can keep one Reader per worker and Reset it for
// every request body instead of allocating a buffer each time. The
// counts of Stats start again from zero.
func (r *Reader) Reset(src io.Reader) {
	*r = Reader{src: src, max: r.max, form: r.form, buf: r.buf, ev: r.ev}
}

// Raw returns the bytes of the last frame or line that Next read, good or
// bad, including any octet count and without the trailing newline. For a
// frame or line over MaxFrame it holds only the start. Raw is borrowed
// like the Event.
func (r *Reader) Raw() []byte { return r.raw }

// Stats returns the counts so far.
func (r *Reader) Stats() ReaderStats { return r.stats }

// Next returns the next event. At the end of the input it returns io.EOF.
// A frame or line that cannot be parsed gives a *SyntaxError (with the
// stream offset), after which the reader has resynchronised and Next can
// be called again. Any other error comes from the underlying reader, and
// is returned again by later calls.
//
// On an error wrapping [ErrTime] the event is complete except its time:
// Next returns it with the error, with Time zero and Timestamp holding the
// raw text, and counts it in both ReaderStats.Unparsed and
// ReaderStats.BadTime. On every other error the event is nil. So a caller
// that skips every error, or every error matching [ErrSyntax], skips
// these events too and counts them as unparsed, as before ErrTime existed;
// one that wants them keeps the event when errors.Is(err, ErrTime).
func (r *Reader) Next() (*Event, error) {
	if r.buf == nil {
		r.buf = make([]byte, r.max+256)
	}
	if r.skip != FormUnknown {
		r.discard()
	}
	r.raw = nil
	// Skip blank space between records.
	for {
		if r.r == r.w && !r.more() {
			return nil, r.err
		}
		c := r.buf[r.r]
		if c != '\n' && c != '\r' && c != ' ' && c != '\t' {
			break
		}
		r.consume(1)
	}
	if (r.form == FormUnknown || r.form == FormOctet) && isDigit(r.buf[r.r]) {
		r.ensure(lookahead)
		if k, ok := countPrefix(r.buf[r.r:r.w]); ok {
			return r.octet(k)
		}
	}
	if r.form == FormOctet {
		k, _ := countPrefix(r.buf[r.r:r.w])
		end := min(r.r+indexFrom(r.buf[r.r:r.w], 0, '\n')+1, r.w)
		r.raw = trimEOL(r.buf[r.r:end:end])
		r.skip = FormOctet
		return r.fail(syntaxErr(k, FormOctet, ErrCount, "frame does not start with an octet count, a space and '<'"))
	}
	return r.line()
}

// octet reads an octet-counted frame whose '<' is at buf[r.r+k].
func (r *Reader) octet(k int) (*Event, error) {
	digits := r.buf[r.r : r.r+k-1]
	var count uint64
	for _, c := range digits {
		count = count*10 + uint64(c-'0') // at most 19 digits: no overflow
	}
	n := int(min(count, uint64(r.max)))
	ok := false
	if count >= 1 && count <= uint64(r.max) {
		r.ensure(k + n + lookahead)
		ok = boundary(r.buf[r.r+k:r.w], n)
	}
	if !ok {
		// A wrong count, however large: the frame ends where the stream
		// shows it does, as long as that is within MaxFrame.
		if n, ok = r.resync(k); !ok {
			// Reading on may have moved the frame to the buffer's front.
			digits = r.buf[r.r : r.r+k-1]
			end := r.r + k + r.max
			r.raw = r.buf[r.r:end:end]
			r.skip = FormOctet
			msg := "octet count " + string(digits) + " exceeds limit " + strconv.Itoa(r.max)
			if count <= uint64(r.max) {
				msg = "frame with octet count " + string(digits) + " runs past limit " + strconv.Itoa(r.max)
			}
			return r.fail(syntaxErr(0, FormOctet, ErrTooLong, msg))
		}
		r.stats.Mismatches++
	}
	end := r.r + k + n
	r.raw = trimEOL(r.buf[r.r:end:end])
	frame := r.buf[r.r+k : end : end]
	start := r.off
	r.consume(k + n)
	if err := ParseFrame(frame, &r.ev); err != nil {
		se := err.(*SyntaxError)
		se.Offset += start + int64(k)
		se.Form = FormOctet
		r.ev.Form = FormOctet
		return r.fail(se)
	}
	r.ev.Form = FormOctet
	r.stats.Events++
	return &r.ev, nil
}

// resync finds where a frame whose octet count was wrong really ends (its
// '<' is at buf[r.r+k]): at the next frame start or after its first
// newline, whichever comes first, else at the end of the input; so that
// the frame is at most MaxFrame bytes in each case (the next frame's own
// start may run past them). It reads on only until it finds one, holds
// enough of the frame to tell there is none (MaxFrame bytes and a frame
// start's length) or meets the end of the input, so the answer does not
// depend on how the source splits its reads. ok is false when the frame
// runs past MaxFrame.
func (r *Reader) resync(k int) (n int, ok bool) {
	for from := 0; ; {
		b := r.buf[r.r+k : r.w]
		lim := b[:min(len(b), r.max)]
		nl := indexFrom(lim, from, '\n')
		end := nl
		if nl == len(lim) {
			end = indexFrom(b[:min(len(b), r.max+frameStartLen)], len(lim), '\n')
		}
		// A frame start needs its bytes up to VERSION: one that was cut
		// off by the end of the last read is looked at again.
		if s := nextFrameStart(b[:end], max(1, from-frameStartLen)); s >= 0 && s <= r.max {
			return s, true
		}
		if nl < len(lim) {
			return nl + 1, true
		}
		from = len(lim)
		if len(b) >= r.max+frameStartLen || end < len(b) { // no frame start can come before that newline
			return 0, false
		}
		if !r.more() {
			if len(b) > r.max {
				return 0, false
			}
			return len(b), true
		}
	}
}

// frameStartLen is the longest frame start: "NNN <PRI>V".
const frameStartLen = maxCountDigits + 7

// boundary reports whether an octet count n over b (which starts at the
// frame's '<' and holds up to lookahead bytes past it when the stream has
// them) lands on a record boundary: the frame ends in a newline, or is
// followed by the end of input, a newline or the next frame's count; and
// no line inside the frame starts like a frame.
func boundary(b []byte, n int) bool {
	if n > len(b) {
		return false
	}
	frame := b[:n]
	for i := 0; ; {
		nl := bytes.IndexByte(frame[i:], '\n')
		if nl < 0 || i+nl == n-1 {
			break
		}
		i += nl + 1
		if _, ok := countPrefix(b[i:]); ok {
			return false
		}
	}
	if frame[n-1] == '\n' || n == len(b) {
		return true
	}
	after := b[n:]
	if after[0] == '\n' || after[0] == '\r' {
		return true
	}
	_, ok := countPrefix(after)
	return ok
}

// nextFrameStart returns the index of the first "NNN <PRI>V" in b at or
// after from that is preceded by a non-digit, or -1.
func nextFrameStart(b []byte, from int) int {
	for i := from; i < len(b); {
		lt := bytes.IndexByte(b[i:], '<')
		if lt < 0 {
			return -1
		}
		lt += i
		i = lt + 1
		if lt < 2 || b[lt-1] != ' ' || !isDigit(b[lt-2]) {
			continue
		}
		s := lt - 2
		for s > 0 && isDigit(b[s-1]) && lt-1-s < maxCountDigits {
			s--
		}
		if s < from || (s > 0 && isDigit(b[s-1])) {
			continue
		}
		// "<PRI>V": 1 to 3 digits, '>', a digit.
		k := lt + 1
		for k < len(b) && k-lt <= 3 && isDigit(b[k]) {
			k++
		}
		if k == lt+1 || k+1 >= len(b) || b[k] != '>' || !isDigit(b[k+1]) {
			continue
		}
		return s
	}
	return -1
}

// line reads one newline-terminated line (or the last, unterminated one).
func (r *Reader) line() (*Event, error) {
	scanned := 0
	for {
		nl := bytes.IndexByte(r.buf[r.r+scanned:r.w], '\n')
		if nl >= 0 {
			scanned += nl
			break
		}
		scanned = r.w - r.r
		if scanned > r.max {
			r.raw = r.buf[r.r : r.r+r.max : r.r+r.max]
			r.skip = FormLogfmt
			return r.fail(syntaxErr(0, FormLogfmt, ErrTooLong, "line exceeds limit "+strconv.Itoa(r.max)))
		}
		if !r.more() {
			if r.err != nil && r.err != io.EOF {
				return nil, r.err
			}
			break
		}
	}
	if scanned > r.max {
		r.raw = r.buf[r.r : r.r+r.max : r.r+r.max]
		r.skip = FormLogfmt
		return r.fail(syntaxErr(0, FormLogfmt, ErrTooLong, "line exceeds limit "+strconv.Itoa(r.max)))
	}
	end := r.r + scanned
	line := trimEOL(r.buf[r.r:end:end])
	if end < r.w {
		end++ // the newline
	}
	r.raw = line
	start := r.off
	r.consume(end - r.r)
	form := r.form
	if form == FormUnknown {
		form = detect(line)
	}
	if err := parseAs(line, form, &r.ev); err != nil {
		se := err.(*SyntaxError)
		se.Offset += start
		return r.fail(se)
	}
	r.stats.Events++
	return &r.ev, nil
}

// fail counts and returns a syntax error, with its offset made absolute
// when it is still relative to buf[r.r]. An event whose only fault is its
// time is returned with the error.
func (r *Reader) fail(se *SyntaxError) (*Event, error) {
	if r.skip != FormUnknown {
		se.Offset += r.off
	}
	r.stats.Unparsed++
	if se.Err == ErrTime {
		r.stats.BadTime++
		return &r.ev, se
	}
	return nil, se
}

// discard skips the rest of an over-long or malformed record: up to and
// including the next newline, or (for octet streams) up to the next frame
// start, reading as little as it can hold at a time.
func (r *Reader) discard() {
	octet := r.skip == FormOctet
	r.skip = FormUnknown
	from := 1 // never resync onto the record being skipped
	for {
		b := r.buf[r.r:r.w]
		nl := bytes.IndexByte(b, '\n')
		if octet {
			lim := len(b)
			if nl >= 0 {
				lim = nl
			}
			if s := nextFrameStart(b[:lim], from); s >= 0 {
				r.consume(s)
				return
			}
		}
		if nl >= 0 {
			r.consume(nl + 1)
			return
		}
		// Keep a tail that might hold the start of a frame start. One at
		// the tail's front must follow a non-digit, as anywhere else.
		keep := min(len(b), lookahead+4)
		if len(b) > keep {
			from = 0
			if isDigit(b[len(b)-keep-1]) {
				from = 1
			}
			r.consume(len(b) - keep)
		}
		if !r.more() {
			r.consume(r.w - r.r)
			return
		}
	}
}

func (r *Reader) consume(n int) {
	r.r += n
	r.off += int64(n)
	r.stats.Bytes += int64(n)
}

// ensure reads until n bytes are buffered or the source is done; it
// reports whether they are.
func (r *Reader) ensure(n int) bool {
	for r.w-r.r < n {
		if !r.more() {
			return false
		}
	}
	return true
}

// more reads at least one byte more into the buffer, moving the unread
// bytes to its front when it is full. It reports false once the source has
// returned an error (kept in r.err).
func (r *Reader) more() bool {
	if r.err != nil {
		return false
	}
	if r.w == len(r.buf) {
		if r.r == 0 {
			return false // full: callers bound what they ask for
		}
		copy(r.buf, r.buf[r.r:r.w])
		r.w -= r.r
		r.r = 0
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.err = io.ErrNoProgress
	return false
}
