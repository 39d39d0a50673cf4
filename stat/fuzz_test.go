package stat

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// FuzzUnmarshal decodes arbitrary bytes as any kind. On error the error
// wraps a sentinel; on success the stat re-encodes to the same bytes,
// merges with a clone of itself and with a fuzzed second stat without
// panicking. Seeded with every contract case's encodings.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range contractCases {
		for _, n := range []int{0, 1, 7, 100, c.streamLen()} {
			s := c.zero()
			for i := range n {
				c.observe(s, rand.New(rand.NewPCG(uint64(i), 42)), i)
			}
			b, err := s.MarshalBinary()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, b)
		}
	}
	f.Add([]byte{}, []byte{0})
	f.Add([]byte{byte(KindCount), 2, 0}, []byte{0xff})
	f.Fuzz(func(t *testing.T, data, data2 []byte) {
		s, err := Unmarshal(data)
		if err != nil {
			assertSentinelFuzz(t, err)
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal after unmarshal: %v", err)
		}
		if !bytes.Equal(b, data) {
			// Not every valid encoding is canonical (for example a varint
			// with padding), but the re-encoding must be a fixed point.
			s2, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("re-encoding does not decode: %v", err)
			}
			b2, _ := s2.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Fatalf("encoding is not a fixed point:\n% x\n% x", b, b2)
			}
		}
		if err := s.Merge(s.Clone()); err != nil && !errors.Is(err, ErrIncompatible) {
			t.Fatalf("merge with clone: %v", err)
		}
		if o, err := Unmarshal(data2); err == nil {
			before, _ := o.MarshalBinary()
			if err := s.Merge(o); err != nil {
				assertSentinelFuzz(t, err)
			}
			after, _ := o.MarshalBinary()
			if !bytes.Equal(before, after) {
				t.Fatal("merge changed its argument")
			}
		}
		_ = s.String()
	})
}

func assertSentinelFuzz(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrIncompatible, ErrCorrupt, ErrVersion, ErrLimit} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}
