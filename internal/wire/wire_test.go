package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReaderReads(t *testing.T) {
	var b []byte
	b = append(b, 7)
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -5)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(2.5))
	b = binary.AppendUvarint(b, 3)
	b = append(b, "abc"...)
	b = binary.AppendUvarint(b, 2)
	b = append(b, "xy"...)

	r := NewReader(b)
	assert.Equal(t, byte(7), r.Byte("tag"))
	assert.Equal(t, uint64(300), r.UvarintMax("n", 300))
	assert.Equal(t, int64(-5), r.Varint("t"))
	assert.Equal(t, 2.5, r.Float64("f"))
	assert.Equal(t, []byte("abc"), r.LenBytes("key", 3))
	second := r // a copy reads on from here
	n := r.Len("count", 2, 1)
	assert.Equal(t, 2, n)
	got := r.Bytes("xy", n)
	assert.Equal(t, []byte("xy"), got)
	assert.Equal(t, len(got), cap(got), "no access past the field")
	require.NoError(t, r.Finish())
	assert.Equal(t, 0, r.Remaining())

	assert.Equal(t, uint64(2), second.Uvarint("again"))
	assert.Equal(t, 2, second.Remaining())
}

func TestReaderErrors(t *testing.T) {
	f := func(name string, in []byte, read func(r *Reader), class Class, off int, msg string) {
		t.Helper()
		r := NewReader(in)
		read(&r)
		err := r.Finish()
		require.Error(t, err, name)
		var e *Error
		require.True(t, errors.As(err, &e), name)
		assert.Equal(t, class, e.Class, name)
		assert.Equal(t, off, e.Off, name)
		assert.Equal(t, msg, e.Msg, name)
		assert.Same(t, e, r.Failure(), name)
		// Sticky: later reads return zero values and keep the first error.
		assert.Zero(t, r.Uvarint("later"), name)
		assert.Zero(t, r.Byte("later"), name)
		assert.Nil(t, r.Bytes("later", 0), name)
		assert.Same(t, e, r.Failure(), name)
	}
	overlong := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}
	f("byte", nil, func(r *Reader) { r.Byte("tag") }, Corrupt, 0, "tag: truncated")
	f("uvarint truncated", []byte{1, 0x80}, func(r *Reader) { r.Byte("a"); r.Uvarint("n") }, Corrupt, 1, "n: truncated or overlong uvarint")
	f("uvarint overlong", overlong, func(r *Reader) { r.Uvarint("n") }, Corrupt, 0, "n: truncated or overlong uvarint")
	f("varint", []byte{0xff}, func(r *Reader) { r.Varint("t") }, Corrupt, 0, "t: truncated or overlong varint")
	f("uvarint max", []byte{1, 0xac, 0x02}, func(r *Reader) { r.Byte("a"); r.UvarintMax("k", 299) }, Limit, 1, "k 300 exceeds 299")
	f("float", []byte{1, 2, 3}, func(r *Reader) { r.Float64("min") }, Corrupt, 0, "min: truncated float")
	f("bytes", []byte{1, 2}, func(r *Reader) { r.Bytes("key", 3) }, Corrupt, 0, "key: 3 bytes exceed the 2 left")
	f("bytes negative", []byte{1, 2}, func(r *Reader) { r.Bytes("key", -1) }, Corrupt, 0, "key: -1 bytes exceed the 2 left")
	f("len limit", []byte{0, 5, 1, 1, 1, 1, 1}, func(r *Reader) { r.Byte("a"); r.Len("entries", 4, 1) }, Limit, 1, "entries 5 exceeds 4")
	f("len room", []byte{3, 1, 1, 1, 1, 1}, func(r *Reader) { r.Len("entries", 10, 3) }, Corrupt, 0, "entries 3 cannot fit in the 5 bytes left")
	f("len bytes limit", []byte{3, 'a', 'b', 'c'}, func(r *Reader) { r.LenBytes("key", 2) }, Limit, 0, "key length 3 exceeds 2")
	f("len bytes room", []byte{4, 'a', 'b', 'c'}, func(r *Reader) { r.LenBytes("key", 10) }, Corrupt, 0, "key length 4 exceeds the 3 bytes left")
	f("len bytes varint", []byte{0x80}, func(r *Reader) { r.LenBytes("key", 10) }, Corrupt, 0, "key length: truncated or overlong uvarint")
	f("trailing", []byte{1, 2, 3}, func(r *Reader) { r.Byte("a") }, Corrupt, 1, "2 trailing bytes")
	f("fail at", []byte{1, 2}, func(r *Reader) { r.Byte("a"); r.FailAt(0, Version, "version %d", 9) }, Version, 0, "version 9")
	f("first failure sticks", []byte{1}, func(r *Reader) { r.Fail(Limit, "first"); r.Fail(Corrupt, "second") }, Limit, 0, "first")
}

func TestReaderZero(t *testing.T) {
	var r Reader
	assert.NoError(t, r.Finish())
	assert.Equal(t, 0, r.Len("n", 0, 0)+r.Remaining())
	assert.Error(t, r.Err())
	assert.Equal(t, "at byte 0: n: truncated or overlong uvarint", r.Err().Error())
}

func TestClassString(t *testing.T) {
	assert.Equal(t, "corrupt", Corrupt.String())
	assert.Equal(t, "limit", Limit.String())
	assert.Equal(t, "version", Version.String())
	assert.Equal(t, "class(9)", Class(9).String())
}

// TestReaderAllocs: reading valid input allocates nothing.
func TestReaderAllocs(t *testing.T) {
	b := binary.AppendUvarint(nil, 1<<40)
	b = binary.AppendVarint(b, -1<<40)
	b = binary.LittleEndian.AppendUint64(b, 1)
	b = append(b, 3, 'a', 'b', 'c', 9)
	var sink uint64
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(b)
		sink += r.UvarintMax("a", math.MaxUint64)
		sink += uint64(r.Varint("b"))
		sink += uint64(r.Float64("c"))
		sink += uint64(len(r.LenBytes("d", 3)))
		sink += uint64(r.Byte("e"))
		if r.Finish() != nil {
			t.Fatal(r.Err())
		}
	})
	assert.Zero(t, allocs)
	_ = sink
}

// FuzzReader reads arbitrary input as a sequence of fields chosen by the
// input itself: it never panics, never reads past the end, and an error is
// an *Error whose offset lies within the input.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 0x80, 0x80})
	f.Add([]byte{4, 3, 'a', 'b', 'c', 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(in)
		for i := 0; i < 64 && !r.Failed() && r.Remaining() > 0; i++ {
			before := r.Offset()
			switch r.Byte("op") % 7 {
			case 0:
				r.Uvarint("u")
			case 1:
				r.Varint("v")
			case 2:
				r.Float64("f")
			case 3:
				r.Bytes("b", int(r.Byte("n")))
			case 4:
				r.LenBytes("lb", 8)
			case 5:
				r.Len("l", 100, 2)
			case 6:
				r.UvarintMax("m", 1000)
			}
			if !r.Failed() && r.Offset() <= before {
				t.Fatalf("no progress at %d", before)
			}
			if r.Offset() > len(in) {
				t.Fatalf("offset %d past the input's %d bytes", r.Offset(), len(in))
			}
		}
		if e := r.Failure(); e != nil && (e.Off < 0 || e.Off > len(in)) {
			t.Fatalf("error offset %d outside the input", e.Off)
		}
	})
}
