package logfmt

import "bytes"

// A Split says what [Splitter.Next] found at the start of the bytes it
// was given.
type Split uint8

// The kinds of Split.
const (
	// SplitMore: the bytes do not tell yet where the record ends; call
	// Next again with more bytes after them. n is 0.
	SplitMore Split = iota
	// SplitBlank: b[:n] is blank space between records (newlines,
	// carriage returns, spaces and tabs), which a Reader skips.
	SplitBlank
	// SplitRecord: b[:n] is one frame or line, as a Reader reads it: an
	// octet-counted frame by its count (or, when the count is wrong, up
	// to where the Reader resynchronises), a line with its newline.
	SplitRecord
	// SplitLong: b[:n] belongs to a record longer than MaxFrame, which a
	// Reader reports as ErrTooLong and skips; the record goes on after
	// b[:n]. n may be 0: the last bytes, which may start the next frame,
	// wait for more.
	SplitLong
	// SplitLongEnd: b[:n] ends a record longer than MaxFrame (it is all
	// of the record when no SplitLong came before). n may be 0 after a
	// SplitLong.
	SplitLongEnd
)

var splitNames = [...]string{
	SplitMore:    "more",
	SplitBlank:   "blank",
	SplitRecord:  "record",
	SplitLong:    "long",
	SplitLongEnd: "long-end",
}

// String returns the split's name ("more", "blank", "record", "long",
// "long-end"), or "split(N)" for a value that is not a Split.
func (s Split) String() string {
	if int(s) < len(splitNames) {
		return splitNames[s]
	}
	return "split(" + itoa(int(s)) + ")"
}

// A Splitter finds where the records of a stream end, as a [Reader] with
// the same MaxFrame and no fixed Form ends them, without parsing them. An
// input that hands a stream to Readers in pieces (a syslog connection cut
// into jobs for parse workers) cuts it where a Splitter says a record
// ends (after a SplitBlank, SplitRecord or SplitLongEnd, told without
// idle): each piece then reads as that part of the whole stream would.
// Octet-counted frames are split by their count, whether or not a newline
// follows each (RFC 6587 §3.4.1 does not ask for one); a wrong count is
// resynchronised as the Reader does it; lines end at their newline. A
// count of 10¹² makes a Splitter look no further than MaxFrame bytes, as it
// does a Reader.
//
// A Splitter is not safe for concurrent use. Its zero value splits with
// DefaultMaxFrame.
type Splitter struct {
	// MaxFrame is the MaxFrame of the Readers that read the pieces: the
	// longest frame or line, in bytes. Zero means DefaultMaxFrame.
	MaxFrame int

	skip Form // FormOctet or FormLogfmt while in a record over MaxFrame
	from int  // while skipping: where a frame start may begin in b (1 at the record's first byte, or after a digit)
}

// Reset forgets any record the splitter was in: the next bytes start a
// stream.
func (s *Splitter) Reset() {
	s.skip, s.from = FormUnknown, 0
}

// Next reports what starts b, the stream from where the previous call's
// b[:n] left off (from its start, at first): how many bytes n of b go
// with what it found, and what that is. Call it again with b[n:] (and any
// bytes read meanwhile) until it returns SplitMore.
//
// idle says that no more bytes are coming for now (a quiet connection): a
// frame whose count ends at the end of b, or is followed only by what may
// be the start of the next count, is then taken as whole, as a Reader
// takes a frame its count ends at the end of its input. Otherwise Next
// waits for the bytes after a frame that tell whether its count lands on
// a record boundary, and lines always wait for their newline; a frame
// with a wrong count waits too until the Reader would know where it ends.
// Next does not allocate.
func (s *Splitter) Next(b []byte, idle bool) (n int, split Split) {
	if len(b) == 0 {
		return 0, SplitMore
	}
	if s.skip != FormUnknown {
		return s.skipping(b)
	}
	for n < len(b) && (b[n] == '\n' || b[n] == '\r' || b[n] == ' ' || b[n] == '\t') {
		n++
	}
	if n > 0 {
		return n, SplitBlank
	}
	limit := s.MaxFrame
	if limit <= 0 {
		limit = DefaultMaxFrame
	}
	if isDigit(b[0]) {
		if k, ok := countPrefix(b); ok {
			return s.octet(b, k, limit, idle)
		}
		if maybeCount(b) {
			return 0, SplitMore
		}
	}
	nl := bytes.IndexByte(b, '\n')
	switch {
	case nl > limit:
		return nl + 1, SplitLongEnd
	case nl >= 0:
		return nl + 1, SplitRecord
	case len(b) > limit:
		s.skip = FormLogfmt
		return len(b), SplitLong
	}
	return 0, SplitMore
}

// octet splits the octet-counted frame at the start of b, whose '<' is at
// b[k], the way Reader.octet and Reader.resync read it.
func (s *Splitter) octet(b []byte, k, limit int, idle bool) (int, Split) {
	var count uint64
	for _, c := range b[:k-1] {
		count = count*10 + uint64(c-'0') // at most 19 digits: no overflow
	}
	f := b[k:]
	if count >= 1 && count <= uint64(limit) {
		n := int(count)
		switch {
		case len(f) >= n+lookahead || len(f) >= n && f[n-1] == '\n' || len(f) > n && !isDigit(f[n]) && f[n] != ' ':
			// What the Reader looks at past a frame before it trusts its
			// count, or less when that tells already: a frame that ends
			// in a newline, as Logplex's do, or is followed by a byte
			// that cannot start a count (a newline, say).
			if boundary(f, n) {
				return k + n, SplitRecord
			}
		case len(f) < n || !idle:
			return 0, SplitMore
		default:
			// Idle, with fewer bytes after the frame than the Reader
			// looks at: trust the count when what follows may be the next
			// count, or when the Reader would at the end of its input.
			if maybeCount(f[n:]) && boundary(f[:n], n) || boundary(f, n) {
				return k + n, SplitRecord
			}
		}
	}
	// A wrong count: the frame ends at the next frame start or after its
	// first newline, as long as it is at most MaxFrame bytes; telling
	// that it is not takes a frame start's length more.
	lim := f[:min(len(f), limit)]
	nl := indexFrom(lim, 0, '\n')
	end := nl
	if nl == len(lim) {
		end = indexFrom(f[:min(len(f), limit+frameStartLen)], len(lim), '\n')
	}
	if st := nextFrameStart(f[:end], 1); st >= 0 && st <= limit {
		return k + st, SplitRecord
	}
	if nl < len(lim) {
		return k + nl + 1, SplitRecord
	}
	if len(f) >= limit+frameStartLen || end < len(f) { // no frame start can come before that newline
		s.skip, s.from = FormOctet, 1
		return s.skipping(b)
	}
	return 0, SplitMore
}

// skipping finds where the record over MaxFrame that b is in ends, the
// way Reader.discard skips it: at the next frame start (for a frame) or
// after the next newline. Short of either, the bytes that cannot start a
// frame go as SplitLong.
func (s *Splitter) skipping(b []byte) (int, Split) {
	nl := bytes.IndexByte(b, '\n')
	lim := len(b)
	if nl >= 0 {
		lim = nl
	}
	if s.skip == FormOctet {
		if st := nextFrameStart(b[:lim], s.from); st >= 0 {
			s.Reset()
			return st, SplitLongEnd
		}
	}
	if nl >= 0 {
		s.Reset()
		return nl + 1, SplitLongEnd
	}
	n := len(b)
	if s.skip == FormOctet {
		n = max(0, n-frameStartLen) // may hold the start of the next frame
	}
	if n > 0 {
		// A frame start at the front of the next b must follow a
		// non-digit, as anywhere else.
		s.from = 0
		if isDigit(b[n-1]) {
			s.from = 1
		}
	}
	return n, SplitLong
}

// maybeCount reports whether b could be the start of an octet count
// followed by a space and '<', cut short: nothing, digits (at most 19),
// or digits and a space.
func maybeCount(b []byte) bool {
	k := 0
	for k < len(b) && isDigit(b[k]) {
		k++
	}
	if k > maxCountDigits {
		return false
	}
	return k == len(b) || k > 0 && b[k] == ' ' && k+1 == len(b)
}
