package stat

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/pulsehq/pulse/internal/wire"
)

// encVersion is the encoding version every kind writes for the states that
// version 1 can hold. Each kind checks the versions it reads, so a kind can
// move to version 2 alone.
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

// appendVarint appends v as a zig-zag signed varint.
func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// appendUvarint appends v as an unsigned varint.
func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// decoder reads one kind's encoding front to back with a wire.Reader, whose
// first failure sticks: a decode function reads every field and checks the
// error once, at the end. It never allocates on its own (only to build an
// error) and never keeps its input.
type decoder struct {
	wire.Reader
	kind    Kind
	version byte // the version the header holds, 1 … newest
}

// newDecoder checks the header of b, the kind tag k and a version from 1 to
// newest, and returns a decoder positioned at the first byte after it.
// Small enough to inline, so that the decoder lives on the caller's stack.
func newDecoder(b []byte, k Kind, newest byte) *decoder {
	d := &decoder{Reader: wire.NewReader(b), kind: k}
	d.header(newest)
	return d
}

// header reads the kind tag and the version.
func (d *decoder) header(newest byte) {
	if n := d.Remaining(); n < 2 {
		d.Fail(wire.Corrupt, "%d bytes, shorter than the 2-byte header", n)
		return
	}
	tag, v := d.Byte("kind tag"), d.Byte("version")
	switch {
	case Kind(tag) != d.kind:
		d.FailAt(0, wire.Corrupt, "kind tag %d (%s)", tag, Kind(tag))
	case v < 1 || v > newest:
		d.FailAt(1, wire.Version, "version %d (this release reads 1 to %d)", v, newest)
	default:
		d.version = v
	}
}

// err returns the first failure as a stat error that names the kind and
// the offset and wraps ErrCorrupt, ErrLimit or ErrVersion, or nil.
func (d *decoder) err() error {
	e := d.Failure()
	if e == nil {
		return nil
	}
	return fmt.Errorf("stat: unmarshal %s at byte %d: %s: %w", d.kind, e.Off, e.Msg, sentinel(e.Class))
}

// finish fails if input remains, and returns err.
func (d *decoder) finish() error {
	d.Finish()
	return d.err()
}

// sentinel returns the stat error for a class of wire failure.
func sentinel(c wire.Class) error {
	switch c {
	case wire.Limit:
		return ErrLimit
	case wire.Version:
		return ErrVersion
	}
	return ErrCorrupt
}

// float reads a little-endian float64 and rejects NaN and ±Inf, which no
// stat ever stores.
func (d *decoder) float(what string) float64 {
	f := d.Float64(what)
	if isFinite(f) {
		return f
	}
	d.notFinite(what, f)
	return 0
}

func (d *decoder) notFinite(what string, f float64) {
	d.FailAt(d.Offset()-8, wire.Corrupt, "%s: %v is not finite", what, f)
}

// counter reads a uvarint counter (ignored or overflowed observations).
func (d *decoder) counter(what string) uint64 { return d.Uvarint(what) }

// flag reads a presence byte, 0 or 1.
func (d *decoder) flag(what string) bool {
	c := d.Byte(what)
	if c > 1 {
		d.FailAt(d.Offset()-1, wire.Corrupt, "%s %d is neither 0 nor 1", what, c)
	}
	return c == 1
}

// isFinite reports whether f is neither NaN nor ±Inf.
func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
