package stat

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// fuzzAllocSlack is the allocation FuzzUnmarshal allows beyond
// maxDecodeRatio bytes per input byte: the fixed costs of a decode (a
// hyperloglog sketch's set, an error message).
const (
	maxDecodeRatio = 10
	fuzzAllocSlack = 16 << 10
)

// FuzzUnmarshal decodes arbitrary bytes as any kind. On error the error
// wraps a sentinel. On success:
//   - decoding allocates at most maxDecodeRatio bytes per input byte (plus
//     a fixed slack), whatever the lengths in the input claim;
//   - decode → encode → decode gives identical bytes and an identical
//     state (the encoding may differ from the input only where the input
//     is not canonical, such as a padded varint);
//   - every state reached from it, by merging a clone of itself, merging a
//     second fuzzed stat or observing more, encodes to bytes that decode:
//     the decoder accepts no state that leads the encoder to write what it
//     rejects;
//   - merging leaves its argument as it was.
//
// Seeded with every contract case's encodings.
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
	// The forged states of issue 9, each now rejected or harmless.
	meanMax := appendUvarint([]byte{byte(KindMean), 1}, 1<<64-1)
	meanMax = append(appendFloat(appendFloat(meanMax, 1), 0), 0)
	sumInf := append(appendFloat(appendFloat([]byte{byte(KindSum), 1}, math.MaxFloat64), math.MaxFloat64), 0)
	q53 := appendUvarint(appendFloat([]byte{byte(KindQuantiles), 1}, 100), maxQuantilesCount)
	q53 = appendUvarint(appendFloat(appendFloat(append(q53, 0, 0), 1), 1), 1)
	q53 = appendUvarint(appendFloat(q53, 1), maxQuantilesCount)
	for _, forged := range [][]byte{
		{byte(KindCount), 1, 1}, // -1
		meanMax,
		sumInf,
		q53,
		{byte(KindDistinct), 1, 14, 1, 1, 1}, // sparse key with z = 0
		{byte(KindTopK), 1, 1, 2, 4, 0, 2, 1, 'a', 2, 0, 1, 'b', 2, 2},  // error = count
		{byte(KindTopK), 1, 1, 2, 7, 0, 2, 1, 'a', 5, 3, 1, 'b', 2, 0},  // error > MaxError
		{byte(KindLastBy), 1, 0x80, 0x80, 0x40, 0x80, 0x80, 0x40, 0, 0}, // a claimed 2²⁰ partitions
	} {
		f.Add(forged, forged)
	}
	f.Add([]byte{}, []byte{0})
	f.Add([]byte{byte(KindCount), 2, 0}, []byte{0xff})
	f.Add([]byte{byte(KindCount), 1, 1}, []byte{byte(KindCount), 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data, data2 []byte) {
		var s Stat
		var err error
		used := allocatedOnce(func() { s, err = Unmarshal(data) })
		if err != nil {
			assertSentinelFuzz(t, err)
			return
		}
		if !raceEnabled && used > uint64(maxDecodeRatio*len(data)+fuzzAllocSlack) {
			t.Fatalf("decoding %d bytes allocated %d", len(data), used)
		}
		b := fuzzRoundTrip(t, s)
		if s2, _ := Unmarshal(b); !reflect.DeepEqual(s, s2) {
			t.Fatalf("the input and its canonical encoding decode to different states:\n%#v\n%#v", s, s2)
		}
		if !bytes.Equal(b, data) && bytes.Equal(b[:2], data[:2]) && len(b) > len(data) {
			t.Fatalf("the canonical encoding (%d bytes) is longer than the input (%d)", len(b), len(data))
		}

		merged := s.Clone()
		if err := merged.Merge(s.Clone()); err != nil && !errors.Is(err, ErrIncompatible) {
			t.Fatalf("merge with clone: %v", err)
		}
		fuzzRoundTrip(t, merged)
		if o, err := Unmarshal(data2); err == nil {
			before, _ := o.MarshalBinary()
			if err := merged.Merge(o); err != nil {
				assertSentinelFuzz(t, err)
			}
			after, _ := o.MarshalBinary()
			if !bytes.Equal(before, after) {
				t.Fatal("merge changed its argument")
			}
			fuzzRoundTrip(t, merged)
		}
		for _, c := range contractCases {
			if c.zero().Kind() != s.Kind() {
				continue
			}
			grown := s.Clone()
			for i := range 3 {
				c.observe(grown, rand.New(rand.NewPCG(uint64(i), 7)), i)
			}
			fuzzRoundTrip(t, grown)
		}
		_ = s.String()
	})
}

// fuzzRoundTrip encodes s, decodes the bytes, encodes again, and fails
// unless both encodings and both states are identical. It returns the
// encoding.
func fuzzRoundTrip(t *testing.T, s Stat) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatalf("marshal: %v (%s)", err, s)
	}
	s2, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("the encoding of %s does not decode: %v\n% x", s, err, b)
	}
	b2, err := s2.MarshalBinary()
	if err != nil {
		t.Fatalf("marshal after unmarshal: %v", err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("encoding is not a fixed point:\n% x\n% x", b, b2)
	}
	s3, _ := Unmarshal(b2)
	if !reflect.DeepEqual(s2, s3) {
		t.Fatalf("decoding the same bytes twice gave different states:\n%#v\n%#v", s2, s3)
	}
	return b
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
