package stat

import (
	"encoding/binary"
	"fmt"
	"math"
)

// encVersion is the encoding version every kind writes today. Each kind
// checks the version it reads, so a kind can move to version 2 alone.
const encVersion = 1

// appendHeader appends the two header bytes every encoding starts with: the
// kind tag and the encoding version.
func appendHeader(dst []byte, k Kind) []byte {
	return append(dst, byte(k), encVersion)
}

// appendFloat appends f as 8 bytes of little-endian IEEE 754.
func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// decoder reads an encoding front to back. The first error sticks: later
// reads return zero values, so a decode function reads every field and
// checks d.err (or calls d.finish) once at the end. It never allocates on
// its own and never keeps its input past the call that made it.
type decoder struct {
	b    []byte
	off  int
	kind Kind
	err  error
}

// newDecoder checks the header of b against kind k and returns a decoder
// positioned at the first parameter byte.
func newDecoder(b []byte, k Kind) *decoder {
	// Small enough to inline, so that d can live on the caller's stack.
	d := &decoder{b: b, kind: k}
	d.header()
	return d
}

// header checks the kind tag and the version, and moves past them.
func (d *decoder) header() {
	b, k := d.b, d.kind
	switch {
	case len(b) < 2:
		d.fail(ErrCorrupt, "%d bytes, shorter than the 2-byte header", len(b))
	case Kind(b[0]) != k:
		d.fail(ErrCorrupt, "kind tag %d (%s)", b[0], Kind(b[0]))
	case b[1] != encVersion:
		d.fail(ErrVersion, "version %d", b[1])
	default:
		d.off = 2
	}
}

// fail records the first error, naming the kind and the offset.
func (d *decoder) fail(sentinel error, format string, args ...any) {
	if d.err != nil {
		return
	}
	d.err = fmt.Errorf("stat: unmarshal %s at byte %d: %s: %w", d.kind, d.off, fmt.Sprintf(format, args...), sentinel)
}

// remaining returns how many bytes are left.
func (d *decoder) remaining() int { return len(d.b) - d.off }

// byte1 reads one byte.
func (d *decoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.remaining() < 1 {
		d.fail(ErrCorrupt, "%s: truncated", what)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// uvarint reads an unsigned varint and checks it against max.
func (d *decoder) uvarint(what string, max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s: bad uvarint", what)
		return 0
	}
	if v > max {
		d.fail(ErrLimit, "%s %d exceeds %d", what, v, max)
		return 0
	}
	d.off += n
	return v
}

// varint reads a zig-zag signed varint.
func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s: bad varint", what)
		return 0
	}
	d.off += n
	return v
}

// float reads a little-endian float64 and rejects NaN and ±Inf, which no
// stat ever stores.
func (d *decoder) float(what string) float64 {
	if d.err != nil {
		return 0
	}
	if d.remaining() < 8 {
		d.fail(ErrCorrupt, "%s: truncated float", what)
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail(ErrCorrupt, "%s: %v is not finite", what, f)
		return 0
	}
	d.off += 8
	return f
}

// bytesN reads a uvarint length (at most max) and that many bytes. The
// result aliases the input: copy it before keeping it.
func (d *decoder) bytesN(what string, max int) []byte {
	if d.err != nil {
		return nil
	}
	// Not d.uvarint(what+" length", ...): the concatenation would allocate
	// on every call, not only on error.
	n, w := binary.Uvarint(d.b[d.off:])
	if w <= 0 {
		d.fail(ErrCorrupt, "%s length: bad uvarint", what)
		return nil
	}
	if n > uint64(max) {
		d.fail(ErrLimit, "%s length %d exceeds %d", what, n, max)
		return nil
	}
	d.off += w
	if uint64(d.remaining()) < n {
		d.fail(ErrCorrupt, "%s length %d exceeds the %d bytes left", what, n, d.remaining())
		return nil
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

// count reads a uvarint element count that is at most max and that the
// remaining input can hold at minSize bytes per element, so that a caller
// may allocate for it.
func (d *decoder) count(what string, max uint64, minSize int) int {
	n := d.uvarint(what, max)
	if d.err != nil {
		return 0
	}
	if minSize > 0 && n > uint64(d.remaining()/minSize) {
		d.fail(ErrCorrupt, "%s %d cannot fit in the %d bytes left", what, n, d.remaining())
		return 0
	}
	return int(n)
}

// finish reports the first error, or an error when input remains.
func (d *decoder) finish() error {
	if d.err == nil && d.remaining() != 0 {
		d.fail(ErrCorrupt, "%d trailing bytes", d.remaining())
	}
	return d.err
}

// appendVarint appends v as a zig-zag signed varint.
func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// appendUvarint appends v as an unsigned varint.
func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// isFinite reports whether f is neither NaN nor ±Inf.
func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
