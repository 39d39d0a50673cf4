package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Class says what a failed read found.
type Class uint8

// The classes of failure.
const (
	// Corrupt is input that is truncated, malformed or inconsistent: a
	// varint that does not end, a length beyond the bytes that remain,
	// trailing bytes, a value that cannot occur.
	Corrupt Class = iota + 1
	// Limit is a length, count or parameter beyond a limit the caller
	// states.
	Limit
	// Version is a version or flag the caller does not read.
	Version
)

// String returns the class's lower-case name.
func (c Class) String() string {
	switch c {
	case Corrupt:
		return "corrupt"
	case Limit:
		return "limit"
	case Version:
		return "version"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Error is a failed read: the offset in the input where the field began,
// and a message that names the field and carries the numbers, such as
// "key length 300 exceeds 256". Packages wrap it in their own sentinel
// errors by Class.
type Error struct {
	Class Class
	Off   int
	Msg   string
}

// Error returns "at byte N: msg".
func (e *Error) Error() string { return fmt.Sprintf("at byte %d: %s", e.Off, e.Msg) }

// Reader reads fields from a byte slice front to back. The zero Reader
// reads an empty input. A Reader is a small value: a copy reads on
// independently from the same position, which is how a decoder makes a
// second pass over input it has validated.
type Reader struct {
	b   []byte
	off int
	err *Error
}

// NewReader returns a Reader at the start of b. It does not copy b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Offset returns the position of the next read.
func (r *Reader) Offset() int { return r.off }

// Remaining returns how many bytes are left to read.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Failed reports whether a read has failed.
func (r *Reader) Failed() bool { return r.err != nil }

// Err returns the first failure as an *Error, or nil.
func (r *Reader) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// Failure returns the first failure, or nil. Unlike Err its result is
// typed, for callers that wrap it in their own errors.
func (r *Reader) Failure() *Error { return r.err }

// Fail records a failure of class c at the current offset, unless one is
// already recorded.
func (r *Reader) Fail(c Class, format string, args ...any) {
	r.FailAt(r.off, c, format, args...)
}

// FailAt records a failure of class c at offset off, unless one is already
// recorded.
func (r *Reader) FailAt(off int, c Class, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Class: c, Off: off, Msg: fmt.Sprintf(format, args...)}
	}
}

// Finish records a Corrupt failure if bytes remain, and returns Err.
func (r *Reader) Finish() error {
	if r.err == nil && r.off != len(r.b) {
		r.Fail(Corrupt, "%d trailing bytes", len(r.b)-r.off)
	}
	return r.Err()
}

// Byte reads one byte.
func (r *Reader) Byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.Fail(Corrupt, "%s: truncated", what)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// Uvarint reads an unsigned varint of at most 10 bytes.
func (r *Reader) Uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.Fail(Corrupt, "%s: truncated or overlong uvarint", what)
		return 0
	}
	r.off += n
	return v
}

// UvarintMax reads an unsigned varint that is at most max; a larger value
// is a Limit failure.
func (r *Reader) UvarintMax(what string, max uint64) uint64 {
	off := r.off
	v := r.Uvarint(what)
	if r.err == nil && v > max {
		r.FailAt(off, Limit, "%s %d exceeds %d", what, v, max)
		return 0
	}
	return v
}

// Varint reads a zig-zag signed varint of at most 10 bytes.
func (r *Reader) Varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.Fail(Corrupt, "%s: truncated or overlong varint", what)
		return 0
	}
	r.off += n
	return v
}

// Float64 reads 8 bytes of little-endian IEEE 754, any bit pattern
// (NaN and ±Inf included: the caller decides what it accepts).
func (r *Reader) Float64(what string) float64 {
	if r.err != nil {
		return 0
	}
	if r.Remaining() < 8 {
		r.Fail(Corrupt, "%s: truncated float", what)
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	r.off += 8
	return f
}

// Bytes reads the next n bytes. The result aliases the input: copy it
// before keeping it. n beyond the bytes left is a Corrupt failure.
func (r *Reader) Bytes(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Remaining() {
		r.Fail(Corrupt, "%s: %d bytes exceed the %d left", what, n, r.Remaining())
		return nil
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Len reads a uvarint length or element count n and checks it twice
// before the caller allocates for it: against limit (beyond it, a Limit
// failure) and against the bytes that remain, at size bytes per element
// at least (beyond them, a Corrupt failure: the input cannot hold n
// elements). A size of 0 skips the second check.
func (r *Reader) Len(what string, limit uint64, size int) int {
	off := r.off
	n := r.Uvarint(what)
	switch {
	case r.err != nil:
		return 0
	case n > limit:
		r.FailAt(off, Limit, "%s %d exceeds %d", what, n, limit)
		return 0
	case size > 0 && n > uint64(r.Remaining()/size):
		r.FailAt(off, Corrupt, "%s %d cannot fit in the %d bytes left", what, n, r.Remaining())
		return 0
	}
	return int(n)
}

// LenBytes reads a uvarint length of at most limit (beyond it, a Limit
// failure) and that many bytes (beyond the bytes left, a Corrupt failure).
// The result aliases the input.
func (r *Reader) LenBytes(what string, limit int) []byte {
	if r.err != nil {
		return nil
	}
	n, w := binary.Uvarint(r.b[r.off:])
	switch {
	case w <= 0:
		r.Fail(Corrupt, "%s length: truncated or overlong uvarint", what)
		return nil
	case limit < 0 || n > uint64(limit):
		r.Fail(Limit, "%s length %d exceeds %d", what, n, limit)
		return nil
	case n > uint64(len(r.b)-r.off-w):
		r.Fail(Corrupt, "%s length %d exceeds the %d bytes left", what, n, len(r.b)-r.off-w)
		return nil
	}
	r.off += w
	b := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return b
}
