package logfmt

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Limits on a body read as JSON; past any of them the body is read as
// logfmt instead.
const (
	// maxJSONBody is the longest body read as JSON: 1 MiB.
	maxJSONBody = 1 << 20
	// maxJSONDepth bounds the nesting of objects and arrays.
	maxJSONDepth = 32
	// jsonScratchPerByte bounds the event's own storage for joined keys
	// and unescaped strings, per byte of the body (plus jsonScratchSlack):
	// a deep object with many members would otherwise make its joined
	// keys grow with the square of the body.
	jsonScratchPerByte = 4
	jsonScratchSlack   = 1024
)

// parseJSON reads b, whose first byte that is not a space or a tab is b[i]
// == '{', as one JSON object followed by nothing but white space,
// appending its members as pairs (see ParseBody for the flattening). It
// reports false, with the pairs half appended, when b is not such an
// object or is past the limits above; the caller then reads b as logfmt.
//
// It is written by hand rather than with encoding/json, which would
// allocate for every value: here keys and values without escapes borrow
// from b, as logfmt's do, and the rest go to the event's scratch storage.
func (e *Event) parseJSON(b []byte, i int) bool {
	if len(b) > maxJSONBody {
		return false
	}
	e.path = e.path[:0]
	j := &jsonReader{e: e, b: b, limit: jsonScratchPerByte*len(b) + jsonScratchSlack, base: len(e.scratch)}
	i, ok := j.object(i, 1)
	if !ok || skipJSONSpace(b, i) != len(b) {
		return false
	}
	e.json = true
	return true
}

// jsonReader holds the state of one parseJSON.
type jsonReader struct {
	e     *Event
	b     []byte
	limit int // the most scratch storage the body may use
	base  int // the scratch storage in use before the body
}

// object reads the object at b[i] ('{') at nesting depth, whose members
// become pairs under e.path. It returns the index after the '}'.
func (j *jsonReader) object(i, depth int) (int, bool) {
	b, e := j.b, j.e
	i = skipJSONSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	pathLen := len(e.path)
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		ks := i + 1
		ke, esc, ok := scanJSONString(b, i)
		if !ok {
			return 0, false
		}
		i = skipJSONSpace(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipJSONSpace(b, i+1)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == '{' {
			if k := skipJSONSpace(b, i+1); k < len(b) && b[k] != '}' {
				// A nested object: its members are pairs under path.key.
				if depth >= maxJSONDepth {
					return 0, false
				}
				if pathLen > 0 {
					e.path = append(e.path, '.')
				}
				if esc {
					e.path = appendJSONUnescaped(e.path, b[ks:ke])
				} else {
					e.path = append(e.path, b[ks:ke]...)
				}
				if len(e.path) > j.limit {
					return 0, false
				}
				if i, ok = j.object(i, depth+1); !ok {
					return 0, false
				}
				e.path = e.path[:pathLen]
				goto next
			}
		}
		{
			p := e.addSpan()
			if pathLen == 0 && !esc {
				p.k, p.ke = uint32(ks), uint32(ke)
			} else {
				start := len(e.scratch)
				e.scratch = append(e.scratch, e.path...)
				if pathLen > 0 {
					e.scratch = append(e.scratch, '.')
				}
				if esc {
					e.scratch = appendJSONUnescaped(e.scratch, b[ks:ke])
				} else {
					e.scratch = append(e.scratch, b[ks:ke]...)
				}
				p.k, p.ke = uint32(start)|inScratch, uint32(len(e.scratch))
			}
			if i, ok = j.value(i, depth, p); !ok || len(e.scratch)-j.base > j.limit {
				return 0, false
			}
		}
	next:
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// value reads the value at b[i] into p: a string unquoted, a number,
// true or false as written, null as the empty value, and an array or an
// empty object as its raw text. It returns the index after the value.
func (j *jsonReader) value(i, depth int, p *span) (int, bool) {
	b, e := j.b, j.e
	switch b[i] {
	case '"':
		end, esc, ok := scanJSONString(b, i)
		if !ok {
			return 0, false
		}
		if !esc {
			p.v, p.ve = uint32(i+1), uint32(end)
		} else {
			start := len(e.scratch)
			e.scratch = appendJSONUnescaped(e.scratch, b[i+1:end])
			p.v, p.ve = uint32(start)|inScratch, uint32(len(e.scratch))
		}
		return end + 1, true
	case 'n':
		end, ok := skipJSON(b, i, depth)
		p.v, p.ve = uint32(i), uint32(i) // empty, not a flag
		return end, ok
	}
	end, ok := skipJSON(b, i, depth)
	p.v, p.ve = uint32(i), uint32(end)
	return end, ok
}

// skipJSON returns the index after the JSON value at b[i], checking its
// syntax; depth is the nesting of the container holding it.
func skipJSON(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanJSONString(b, i)
		return end + 1, ok
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipJSONSpace(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				end, _, ok := scanJSONString(b, i)
				if !ok {
					return 0, false
				}
				i = skipJSONSpace(b, end+1)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipJSONSpace(b, i+1)
			}
			var ok bool
			if i, ok = skipJSON(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipJSONSpace(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closing {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipJSONSpace(b, i+1)
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || isDigit(c):
		return skipJSONNumber(b, i)
	}
	return 0, false
}

func literal(b []byte, i int, word string) (int, bool) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return 0, false
	}
	return i + len(word), true
}

// skipJSONNumber returns the index after the JSON number at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipJSONNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}

// scanJSONString checks the JSON string whose opening quote is b[i]. It
// returns the index of the closing quote and whether there are escapes.
// Control characters must be escaped; other bytes, valid UTF-8 or not,
// pass through as they do in logfmt.
func scanJSONString(b []byte, i int) (end int, esc, ok bool) {
	i++
	for {
		// Eight bytes at a time to the next quote, backslash or control
		// byte, as the logfmt scanner does.
		for ; i+8 <= len(b); i += 8 {
			x := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
			if m := (hasByte(x, '"'*lo8) | hasByte(x, '\\'*lo8) | hasLess(x, ' '*lo8)) & hi8; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= ' ' {
			i++
		}
		if i >= len(b) {
			return 0, false, false
		}
		switch b[i] {
		case '"':
			return i, esc, true
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i:]); !ok {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		default: // a control byte
			return 0, false, false
		}
	}
}

// hasLess returns a mask whose lowest set bit marks the first byte of x
// (little-endian) below n's byte, for a byte of n at most 0x80; bits above
// it may be spurious.
func hasLess(x, n uint64) uint64 {
	return (x - n) &^ x
}

// appendJSONUnescaped appends the content of a JSON string that
// scanJSONString accepted, unescaped. A lone surrogate becomes U+FFFD.
func appendJSONUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, w := unicodeEscape(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += w
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space, or len(b).
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
