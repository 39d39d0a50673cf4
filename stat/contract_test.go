package stat

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractCase describes one kind for the contract tests that every kind
// must pass. Each kind's _test.go file appends its case in an init func.
type contractCase struct {
	name string
	// zero returns the empty stat as the kind's zero value (or constructor,
	// for a parameterised case).
	zero func() Stat
	// observe feeds observation i of a deterministic stream into s; r is
	// seeded per stream so values depend only on i's position.
	observe func(s Stat, r *rand.Rand, i int)
	// same asserts that got equals want: byte-identical encodings for exact
	// kinds, within the stated bound for sketches. nil means byte-identical.
	same func(t *testing.T, want, got Stat)
	// n is the stream length for the merge tests; 0 means 1000.
	n int
}

var contractCases []contractCase

func (c contractCase) streamLen() int {
	if c.n > 0 {
		return c.n
	}
	return 1000
}

func (c contractCase) assertSame(t *testing.T, want, got Stat) {
	t.Helper()
	if c.same != nil {
		c.same(t, want, got)
		return
	}
	assert.Equal(t, mustMarshal(t, want), mustMarshal(t, got))
}

// build returns one stat fed observations [from, to) stepping by step, and
// the random source reseeded per observation so shards see the same values
// as the whole stream.
func (c contractCase) build(from, to, step int) Stat {
	s := c.zero()
	for i := from; i < to; i += step {
		c.observe(s, rand.New(rand.NewPCG(uint64(i), 42)), i)
	}
	return s
}

func mustMarshal(t *testing.T, s Stat) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	return b
}

func TestContract(t *testing.T) {
	require.NotEmpty(t, contractCases)
	for _, c := range contractCases {
		t.Run(c.name, func(t *testing.T) {
			n := c.streamLen()
			t.Run("zero value", func(t *testing.T) {
				z := c.zero()
				b := mustMarshal(t, z)
				got, err := Unmarshal(b)
				require.NoError(t, err)
				assert.Equal(t, z.Kind(), got.Kind())
				assert.Equal(t, b, mustMarshal(t, got))
				assert.NotEmpty(t, z.String())
				require.NoError(t, z.Merge(c.zero()), "zero merged into zero")
				require.NoError(t, z.Merge(nil), "nil merge is a no-op")
				assert.Equal(t, b, mustMarshal(t, z))
			})
			t.Run("merge order", func(t *testing.T) {
				a, b, d := c.build(0, n/3, 1), c.build(n/3, 2*n/3, 1), c.build(2*n/3, n, 1)
				ab := a.Clone()
				require.NoError(t, ab.Merge(b))
				ba := b.Clone()
				require.NoError(t, ba.Merge(a))
				c.assertSame(t, ab, ba)
				left := ab.Clone() // (a+b)+d
				require.NoError(t, left.Merge(d))
				bd := b.Clone() // a+(b+d)
				require.NoError(t, bd.Merge(d))
				right := a.Clone()
				require.NoError(t, right.Merge(bd))
				c.assertSame(t, left, right)
			})
			t.Run("16 shards equal the whole", func(t *testing.T) {
				whole := c.build(0, n, 1)
				merged := c.zero()
				for shard := range 16 {
					part := c.build(shard, n, 16)
					before := mustMarshal(t, part)
					require.NoError(t, merged.Merge(part))
					assert.Equal(t, before, mustMarshal(t, part), "merge changed its argument")
				}
				c.assertSame(t, whole, merged)
			})
			t.Run("round trip is byte-identical", func(t *testing.T) {
				s := c.build(0, n, 1)
				b1 := mustMarshal(t, s)
				s2 := c.zero()
				require.NoError(t, s2.UnmarshalBinary(b1))
				assert.Equal(t, b1, mustMarshal(t, s2))
				ab, err := s.AppendBinary([]byte("prefix"))
				require.NoError(t, err)
				assert.Equal(t, append([]byte("prefix"), b1...), ab)
			})
			t.Run("clone and reset", func(t *testing.T) {
				s := c.build(0, n, 1)
				before := mustMarshal(t, s)
				cl := s.Clone()
				cl.Reset()
				assert.Equal(t, before, mustMarshal(t, s), "resetting a clone changed the original")
				assert.Equal(t, mustMarshal(t, c.zero()), mustMarshal(t, cl), "reset is not empty")
			})
			t.Run("failed unmarshal leaves receiver unchanged", func(t *testing.T) {
				full := mustMarshal(t, c.build(0, n, 1))
				recv := c.build(0, n/2, 1)
				want := mustMarshal(t, recv)
				bad := [][]byte{nil, {}, full[:1], append(bytes.Clone(full), 0)}
				if len(full) > 2 {
					bad = append(bad, full[:len(full)-1], full[:2])
				}
				v := bytes.Clone(full)
				v[1] = 99
				bad = append(bad, v)
				for _, b := range bad {
					err := recv.UnmarshalBinary(b)
					require.Error(t, err, "input % x", b)
					assertSentinel(t, err)
					assert.Equal(t, want, mustMarshal(t, recv))
				}
			})
			t.Run("merge with another kind", func(t *testing.T) {
				s := c.build(0, 10, 1)
				want := mustMarshal(t, s)
				other := Stat(new(Count))
				if s.Kind() == KindCount {
					other = new(Sum)
				}
				require.ErrorIs(t, s.Merge(other), ErrIncompatible)
				assert.Equal(t, want, mustMarshal(t, s))
			})
		})
	}
}

// assertSentinel fails unless err wraps exactly one of the package's
// sentinel errors.
func assertSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{ErrIncompatible, ErrCorrupt, ErrVersion, ErrLimit} {
		if errorsIs(err, s) {
			n++
		}
	}
	assert.Equal(t, 1, n, "error %q should wrap exactly one sentinel", err)
}
