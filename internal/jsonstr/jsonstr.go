// Package jsonstr appends Go strings to byte slices as JSON strings,
// without allocating, for the module's hand-written JSON encoders (the
// snapshot form of packages stat and window, the web's history, the OTLP
// responses).
package jsonstr

import "unicode/utf8"

// Append appends s to dst as a JSON string and returns the extended slice.
// The bytes are exactly those json.Marshal writes for s: quotes,
// backslashes and control characters escaped, <, > and & escaped as
// \u003c, \u003e and \u0026 (so a string from a log line stays inert if
// the JSON is ever read as HTML), U+2028 and U+2029 escaped, and each byte
// of invalid UTF-8 written as \ufffd, so the output is always valid JSON.
func Append(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending and needs no escape
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			start = i + n
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			start = i + n
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
