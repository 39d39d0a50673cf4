package stat

import (
	"encoding"
	"fmt"
	"math"
	"math/bits"
)

// Stat is the contract every kind implements. Observation methods are typed
// per kind (Count.Observe, Sum.Observe, Distinct.ObserveKey, ...) and are not
// part of the interface.
type Stat interface {
	// Kind returns the stat's kind.
	Kind() Kind
	// Merge absorbs other into the receiver. other is left as it was. A nil
	// other, or an empty one of the same kind, is a no-op. A zero receiver
	// adopts other's parameters. A different kind or different parameters
	// is an error wrapping ErrIncompatible, and the receiver is unchanged.
	Merge(other Stat) error
	// Reset returns the stat to its empty state, keeping its parameters.
	Reset()
	// Clone returns a deep copy that shares nothing with the receiver.
	Clone() Stat
	// AppendBinary appends the canonical encoding to dst: the same state
	// always gives the same bytes.
	AppendBinary(dst []byte) ([]byte, error)
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
	fmt.Stringer
}

// New returns the empty stat of kind k with default parameters.
func New(k Kind) (Stat, error) {
	switch k {
	case KindCount:
		return new(Count), nil
	case KindSum:
		return new(Sum), nil
	case KindMean:
		return new(Mean), nil
	case KindMin:
		return new(Min), nil
	case KindMax:
		return new(Max), nil
	case KindLast:
		return new(Last), nil
	case KindLastBy:
		return new(LastBy), nil
	case KindDistinct:
		return new(Distinct), nil
	case KindQuantiles:
		return new(Quantiles), nil
	case KindTopK:
		return new(TopK), nil
	}
	return nil, fmt.Errorf("stat: new %s: %w", k, ErrCorrupt)
}

// Unmarshal decodes any stat from its binary encoding, reading the kind from
// the encoding's first byte. It never keeps b.
func Unmarshal(b []byte) (Stat, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("stat: unmarshal: empty input: %w", ErrCorrupt)
	}
	k := Kind(b[0])
	if !k.Valid() {
		return nil, fmt.Errorf("stat: unmarshal: unknown kind tag %d: %w", b[0], ErrCorrupt)
	}
	s, err := New(k)
	if err != nil {
		return nil, err
	}
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return s, nil
}

// incompatible returns the error for merging other into a stat of kind k.
func incompatible(k Kind, other Stat) error {
	return fmt.Errorf("stat: merge %s with %s: %w", k, other.Kind(), ErrIncompatible)
}

// satAdd returns a + b, or the largest uint64 when the sum overflows: every
// counter saturates rather than wraps.
func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}
