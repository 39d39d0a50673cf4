package fragment

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzUnmarshalBatch decodes arbitrary bytes, both as they are and
// resealed (the input taken as a body, framed and checksummed) so that
// the body decoder is reached. Decoding never panics; an error wraps a
// sentinel and leaves the batch unchanged; a success holds no more bytes
// than its input, re-encodes, and decodes again to the same batch.
func FuzzUnmarshalBatch(f *testing.F) {
	golden := goldenBatch(f)
	data, err := golden.MarshalBinary()
	require.NoError(f, err)
	f.Add(data)
	headerEnd := headerLen + uvarintLen(uint64(len(data)-headerLen-1-crcLen))
	f.Add(data[headerEnd : len(data)-crcLen]) // the golden body: resealed, it decodes
	for _, names := range []int{0, 1, 7} {
		b := mustBatch(f, "web.2", 3, t0, realisticDeltas(names, 2, uint64(names)))
		data, err := b.MarshalBinary()
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add(body(1, "r", 1, int64(0), 1, 1, 2, []byte{1}, 0, 0, 3, "abc", []byte{2}, 0, 2, 1, "d", 2, 0, int64(0), 3, []byte{1, 1, 2}, 1, int64(-1), 2, []byte{2, 1}))
	f.Add([]byte{})
	f.Add([]byte("PLSB\x01\x00\x00"))
	f.Add(body(1, "r", 1, int64(0), 0, 0, 100_000))
	f.Add(body(1, "r", 1, int64(0), 1, 2, 1, []byte{1}, 0, 0, 1, "x", 1, 0, int64(-1<<62), 3, []byte{1, 1, 2}))

	f.Fuzz(func(t *testing.T, in []byte) {
		check(t, in)
		check(t, reseal(in))
	})
}

func check(t *testing.T, in []byte) {
	b := Batch{Seq: 12345}
	err := b.UnmarshalBinary(in)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrLimit) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		assert.Equal(t, Batch{Seq: 12345}, b, "unchanged on error")
		return
	}
	held := len(b.Source)
	for _, f := range b.Fragments {
		held += len(f.Stat)
		if d, err := f.Delta(); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
		} else {
			require.Equal(t, f.Kind, d.Stat.Kind())
		}
	}
	require.LessOrEqual(t, held, len(in), "decoded bytes bounded by the input")
	require.LessOrEqual(t, len(b.Fragments), DefaultMaxFragments)
	out, err := b.MarshalBinary()
	require.NoError(t, err, "a decoded batch re-encodes")
	require.LessOrEqual(t, len(out), len(in), "the canonical encoding is never longer")
	var again Batch
	require.NoError(t, again.UnmarshalBinary(out))
	assertSameBatch(t, b, again)
}
