package logfmt

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Word-at-a-time scanning (SWAR): eight bytes per step, which beats a
// call to bytes.IndexByte on the short keys and values of log lines.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// hasByte returns a mask whose lowest set bit marks the first byte of x
// (little-endian) equal to c*lo8's byte; bits above it may be spurious.
func hasByte(x, c uint64) uint64 {
	y := x ^ c
	return (y - lo8) &^ y
}

// scanSpace returns the index of the first space in b at or after i, or
// len(b). Header fields are short, which suits eight bytes at a time.
func scanSpace(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
		if m := hasByte(x, ' '*lo8) & hi8; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && b[i] != ' ' {
		i++
	}
	return i
}

// ParseBody parses b as a message body into ev, replacing what ev held,
// by the rules of the package comment's Bodies section: as JSON when its
// first byte that is not a space or a tab is '{' and it is one JSON object
// within the limits (nested keys joined with dots, strings unquoted,
// numbers and booleans as written, null as the empty value, arrays and
// empty objects as their raw text), and as logfmt otherwise. It never
// fails: malformed JSON is read as logfmt, where every byte lands in a
// key, a value or a separator. The event's Form is FormLogfmt, its Msg is
// b and its header fields are empty. The pairs borrow from b, and from ev
// for unescaped quoted values and joined JSON keys.
func ParseBody(b []byte, ev *Event) {
	ev.reset()
	ev.Form = FormLogfmt
	ev.Msg = b
	ev.parseBody(b)
}

// parseBody appends the pairs of b to e, whose body must be unset: as
// JSON when its first byte that is not a space or a tab is '{' and it is a
// JSON object within the limits, and as logfmt otherwise. It is small
// enough to be inlined, so that logfmt pays a byte test for JSON.
func (e *Event) parseBody(b []byte) {
	if len(b) > 0 && (b[0] == '{' || b[0] == ' ' || b[0] == '\t') && e.tryJSON(b) {
		return
	}
	e.parseLogfmt(b)
}

// parseLogfmt appends the logfmt pairs of b to e, whose body must be
// unset.
func (e *Event) parseLogfmt(b []byte) {
	if len(b) > maxBody {
		b = b[:maxBody]
	}
	e.body = b
	n := len(b)
	// bs holds the index of the next backslash at or after some earlier
	// position, or n when there is none; it is refreshed only when the
	// scan passes it, so a body without escapes costs one vectorised scan.
	bs := -1
	i := 0
	for {
		for i < n && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= n {
			return
		}
		// The key runs to '=', a space or a tab. This loop and the value's
		// are scanSpace's, written in place: a call per key and per value
		// was a fifth of the time.
		j := i
		for ; j+8 <= n; j += 8 {
			x := binary.LittleEndian.Uint64(b[j : j+8 : j+8]) // [j:j+8] lets the compiler drop a bounds check
			if m := (hasByte(x, ' '*lo8) | hasByte(x, '\t'*lo8) | hasByte(x, '='*lo8)) & hi8; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto key
			}
		}
		for j < n && b[j] != ' ' && b[j] != '\t' && b[j] != '=' {
			j++
		}
	key:
		p := e.addSpan()
		p.k, p.ke = uint32(i), uint32(j)
		if j >= n || b[j] != '=' {
			p.v, p.ve = 0, isFlag
			i = j
			continue
		}
		v := j + 1
		if v < n && b[v] == '"' {
			// Quoted: up to the next unescaped quote, or the end.
			q := bytes.IndexByte(b[v+1:], '"')
			if q < 0 {
				q = n
			} else {
				q += v + 1
			}
			if bs < v {
				bs = indexFrom(b, v, '\\')
			}
			if bs >= q {
				p.v, p.ve = uint32(v+1), uint32(q)
				i = q + 1
				continue
			}
			start := len(e.scratch)
			i = e.unquote(b, v+1)
			p.v, p.ve = uint32(start)|inScratch, uint32(len(e.scratch))
			continue
		}
		// Unquoted: to the next space or tab; may hold '=' and '"'.
		i = v
		for ; i+8 <= n; i += 8 {
			x := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
			if m := (hasByte(x, ' '*lo8) | hasByte(x, '\t'*lo8)) & hi8; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto value
			}
		}
		for i < n && b[i] != ' ' && b[i] != '\t' {
			i++
		}
	value:
		p.v, p.ve = uint32(v), uint32(i)
	}
}

// tryJSON reads b as JSON when its first byte that is not a space or a
// tab is '{' and parseJSON accepts it, and otherwise leaves e with the
// pairs it had before and reports false.
func (e *Event) tryJSON(b []byte) bool {
	e.body = b
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) || b[i] != '{' {
		return false
	}
	n, scratch := e.n, len(e.scratch)
	if e.parseJSON(b, i) {
		return true
	}
	e.n, e.more, e.scratch, e.keysOK = n, e.more[:max(n-inlinePairs, 0)], e.scratch[:scratch], false
	return false
}

// indexFrom returns the index of the first c in b at or after i, or len(b).
func indexFrom(b []byte, i int, c byte) int {
	k := bytes.IndexByte(b[i:], c)
	if k < 0 {
		return len(b)
	}
	return i + k
}

// unquote appends the quoted value that starts at b[i] (after the opening
// quote), unescaped, to e.scratch. It returns the index after the closing
// quote (len(b) when unterminated).
func (e *Event) unquote(b []byte, i int) int {
	n := len(b)
	for i < n {
		c := b[i]
		switch {
		case c == '"':
			return i + 1
		case c != '\\' || i+1 >= n:
			e.scratch = append(e.scratch, c)
			i++
			continue
		}
		switch b[i+1] {
		case '"', '\\':
			e.scratch = append(e.scratch, b[i+1])
		case 'n':
			e.scratch = append(e.scratch, '\n')
		case 't':
			e.scratch = append(e.scratch, '\t')
		case 'r':
			e.scratch = append(e.scratch, '\r')
		case 'u':
			r, w := unicodeEscape(b[i:])
			if w == 0 {
				e.scratch = append(e.scratch, '\\', 'u')
				i += 2
				continue
			}
			e.scratch = utf8.AppendRune(e.scratch, r)
			i += w
			continue
		default:
			// Other escapes are kept as written.
			e.scratch = append(e.scratch, '\\', b[i+1])
		}
		i += 2
	}
	return n
}

// unicodeEscape decodes "\uXXXX", or a surrogate pair "\uXXXX\uXXXX", at
// the start of b. It returns the rune and the bytes used, or w == 0 when b
// does not start with four hex digits after "\u". A lone surrogate
// decodes to U+FFFD.
func unicodeEscape(b []byte) (rune, int) {
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if r >= 0xD800 && r < 0xDC00 {
		if r2, ok := hex4(b[6:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
			return (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000, 12
		}
		return utf8.RuneError, 6
	}
	if r >= 0xDC00 && r < 0xE000 {
		return utf8.RuneError, 6
	}
	return r, 6
}

// hex4 reads "\uXXXX" at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
