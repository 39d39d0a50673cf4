package logfmt

import (
	"bytes"
	"unicode/utf8"
)

// keyStop marks the bytes that end a key: space, tab and '='.
var keyStop = [256]bool{' ': true, '\t': true, '=': true}

// ParseBody parses b as a logfmt body into ev, replacing what ev held. It
// never fails: every byte lands in a key, a value or a separator. The
// event's Form is FormLogfmt, its Msg is b and its header fields are empty.
// The pairs borrow from b (and from ev for unescaped quoted values).
func ParseBody(b []byte, ev *Event) {
	ev.reset()
	ev.Form = FormLogfmt
	ev.Msg = b
	ev.parseBody(b)
}

// parseBody appends the pairs of b to e.
func (e *Event) parseBody(b []byte) {
	n := len(b)
	// tab and bs hold the index of the next tab and backslash at or after
	// some earlier position, or n when there is none; both are refreshed
	// only when the scan passes them, so a body without tabs or escapes
	// costs one vectorised scan each.
	tab, bs := -1, -1
	i := 0
	for {
		for i < n && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= n {
			return
		}
		// The key runs to '=', a space or a tab: keys are short, so a
		// table-driven loop beats a call.
		j := i
		for j < n && !keyStop[b[j]] {
			j++
		}
		p := e.addPair()
		p.Key = b[i:j:j]
		if j >= n || b[j] != '=' {
			p.Value, p.Flag = nil, true
			i = j
			continue
		}
		p.Flag = false
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
				p.Value = b[v+1 : q : q]
				i = q + 1
				continue
			}
			p.Value, i = e.unquote(b, v+1)
			continue
		}
		// Unquoted: to the next space or tab; may hold '=' and '"'.
		end := indexFrom(b, v, ' ')
		if tab < end {
			if tab < v {
				tab = indexFrom(b, v, '\t')
			}
			if tab < end {
				end = tab
			}
		}
		p.Value = b[v:end:end]
		i = end
	}
}

// indexFrom returns the index of the first c in b at or after i, or len(b).
func indexFrom(b []byte, i int, c byte) int {
	k := bytes.IndexByte(b[i:], c)
	if k < 0 {
		return len(b)
	}
	return i + k
}

// unquote reads a quoted value that starts at b[i] (after the opening
// quote) and holds a backslash, into e.scratch. It returns the value and
// the index after the closing quote (len(b) when unterminated).
func (e *Event) unquote(b []byte, i int) ([]byte, int) {
	start := len(e.scratch)
	n := len(b)
	for i < n {
		c := b[i]
		switch {
		case c == '"':
			return e.scratchValue(start), i + 1
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
	return e.scratchValue(start), n
}

func (e *Event) scratchValue(start int) []byte {
	end := len(e.scratch)
	return e.scratch[start:end:end]
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
