package stat

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases,
		contractCase{
			// 80 distinct keys fit the default capacity 100: exact, so
			// every merge order gives identical bytes.
			name: "topk",
			zero: func() Stat { return new(TopK) },
			observe: func(s Stat, r *rand.Rand, i int) {
				tk := s.(*TopK)
				key := strconv.AppendInt([]byte("k"), int64(r.IntN(1+r.IntN(80))), 10)
				switch {
				case i%50 == 0:
					tk.Add(key, uint64(r.IntN(1000)))
				case i%97 == 0:
					tk.ObserveKey(bytes.Repeat([]byte("x"), MaxTopKKeyLen+1))
				default:
					tk.ObserveKey(key)
				}
			},
		},
		contractCase{
			// 200 keys through capacity 8: past the capacity, so merges
			// agree within the bound, not byte for byte.
			name: "topk overflow",
			zero: func() Stat {
				tk, err := NewTopK(TopKConfig{K: 3, Capacity: 8})
				if err != nil {
					panic(err)
				}
				return tk
			},
			observe: func(s Stat, r *rand.Rand, i int) {
				s.(*TopK).ObserveKey(strconv.AppendInt([]byte("k"), int64(r.IntN(1+r.IntN(200))), 10))
			},
			same: assertTopKConsistent,
		},
	)
}

// assertTopKConsistent checks that two TopKs of the same stream agree
// within their bounds: the same N and Ignored, and for every key the
// intervals of possible true counts, [count−err, count] for a monitored key
// and [0, MaxError] for another, overlap (both hold the true count).
func assertTopKConsistent(t *testing.T, want, got Stat) {
	t.Helper()
	w, g := want.(*TopK), got.(*TopK)
	assert.Equal(t, w.N(), g.N(), "n")
	assert.Equal(t, w.Overflow(), g.Overflow(), "ignored")
	assert.Equal(t, w.Capacity(), g.Capacity(), "capacity")
	for _, pair := range [][2]*TopK{{w, g}, {g, w}} {
		for _, e := range pair[0].sorted() {
			c, err := pair[1].Estimate([]byte(e.Key))
			lo1, hi1 := e.Count-e.Err, e.Count
			lo2, hi2 := c-err, c
			assert.True(t, lo1 <= hi2 && lo2 <= hi1, "key %q: [%d, %d] and [%d, %d] are disjoint", e.Key, lo1, hi1, lo2, hi2)
		}
	}
}

func newTopK(t testing.TB, k, capacity int) *TopK {
	t.Helper()
	tk, err := NewTopK(TopKConfig{K: k, Capacity: capacity})
	require.NoError(t, err)
	return tk
}

func observeAll(tk *TopK, keys ...string) {
	for _, k := range keys {
		tk.ObserveKey([]byte(k))
	}
}

func TestNewTopK(t *testing.T) {
	tests := []struct {
		name      string
		cfg       TopKConfig
		k, c      int
		wantLimit bool
	}{
		{"defaults", TopKConfig{}, 10, 100, false},
		{"small k keeps capacity 100", TopKConfig{K: 3}, 3, 100, false},
		{"k 20 gives 200", TopKConfig{K: 20}, 20, 200, false},
		{"large k capped", TopKConfig{K: 10000}, 10000, MaxTopKCapacity, false},
		{"explicit capacity", TopKConfig{K: 5, Capacity: 7}, 5, 7, false},
		{"capacity equal to k", TopKConfig{K: 5, Capacity: 5}, 5, 5, false},
		{"capacity below k", TopKConfig{K: 5, Capacity: 4}, 0, 0, true},
		{"capacity below default k", TopKConfig{Capacity: 9}, 0, 0, true},
		{"negative k", TopKConfig{K: -1}, 0, 0, true},
		{"k too large", TopKConfig{K: MaxTopKCapacity + 1}, 0, 0, true},
		{"capacity too large", TopKConfig{Capacity: 1e9}, 0, 0, true},
		{"negative capacity", TopKConfig{Capacity: -1}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := NewTopK(tt.cfg)
			if tt.wantLimit {
				require.ErrorIs(t, err, ErrLimit)
				assert.Nil(t, tk)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.k, tk.K())
			assert.Equal(t, tt.c, tk.Capacity())
		})
	}
}

// TestTopKHandComputed checks Space-Saving and the merge against results
// worked out by hand.
func TestTopKHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		build    func(t *testing.T) *TopK
		want     []TopKEntry // Entries(): the top K
		n        uint64
		maxError uint64
		len      int
	}{
		{
			name:  "exact below capacity, ties by key",
			build: func(t *testing.T) *TopK { tk := newTopK(t, 2, 3); observeAll(tk, "c", "a", "b", "a"); return tk },
			// Full at 3 keys, so MaxError is the minimum, although no key
			// was evicted and every Err is 0.
			want: []TopKEntry{{"a", 2, 0}, {"b", 1, 0}},
			n:    4, maxError: 1, len: 3,
		},
		{
			// Full with a:2 b:1 c:1. The minimum is the last in Top order
			// among count 1: c. d takes its count 1 as error: 2±1.
			name:  "miss evicts the minimum, largest key on ties",
			build: func(t *testing.T) *TopK { tk := newTopK(t, 3, 3); observeAll(tk, "c", "a", "b", "a", "d"); return tk },
			want:  []TopKEntry{{"a", 2, 0}, {"d", 2, 1}, {"b", 1, 0}},
			n:     5, maxError: 1, len: 3,
		},
		{
			// Now a:2 d:2±1 b:1: e evicts the minimum b:1 and gets 1+1
			// with error 1; the minimum is then 2.
			name: "second eviction",
			build: func(t *testing.T) *TopK {
				tk := newTopK(t, 3, 3)
				observeAll(tk, "c", "a", "b", "a", "d", "e")
				return tk
			},
			want: []TopKEntry{{"a", 2, 0}, {"d", 2, 1}, {"e", 2, 1}},
			n:    6, maxError: 2, len: 3,
		},
		{
			name: "weighted add and hit",
			build: func(t *testing.T) *TopK {
				tk := newTopK(t, 2, 2)
				tk.Add([]byte("a"), 5)
				tk.Add([]byte("b"), 3)
				tk.Add([]byte("c"), 4) // evicts b:3 → c:7±3
				tk.Add([]byte("a"), 0) // no-op
				tk.ObserveKey([]byte("a"))
				return tk
			},
			want: []TopKEntry{{"c", 7, 3}, {"a", 6, 0}},
			n:    13, maxError: 6, len: 2,
		},
		{
			// A = a:5 b:3 c:1 (min 1), B = a:2 d:4 e:1 (min 1). Sums, a
			// missing key counting as the other's minimum: a 7, b 3+1,
			// c 1+1, d 4+1, e 1+1; keep 3: a 7, d 5±1, b 4±1.
			name: "merge of two full summaries",
			build: func(t *testing.T) *TopK {
				a, b := newTopK(t, 3, 3), newTopK(t, 3, 3)
				a.Add([]byte("a"), 5)
				a.Add([]byte("b"), 3)
				a.Add([]byte("c"), 1)
				b.Add([]byte("a"), 2)
				b.Add([]byte("d"), 4)
				b.Add([]byte("e"), 1)
				require.NoError(t, a.Merge(b))
				return a
			},
			want: []TopKEntry{{"a", 7, 0}, {"d", 5, 1}, {"b", 4, 1}},
			n:    16, maxError: 4, len: 3,
		},
		{
			// B is not full, so a key missing from B adds 0; a key missing
			// from the full A adds A's minimum 1.
			name: "merge of a full and a partial summary",
			build: func(t *testing.T) *TopK {
				a, b := newTopK(t, 3, 3), newTopK(t, 3, 3)
				a.Add([]byte("a"), 5)
				a.Add([]byte("b"), 3)
				a.Add([]byte("c"), 1)
				b.Add([]byte("z"), 9)
				require.NoError(t, a.Merge(b))
				return a
			},
			want: []TopKEntry{{"z", 10, 1}, {"a", 5, 0}, {"b", 3, 0}},
			n:    18, maxError: 3, len: 3,
		},
		{
			name: "long keys ignored and counted",
			build: func(t *testing.T) *TopK {
				var tk TopK
				tk.ObserveKey(make([]byte, MaxTopKKeyLen))
				tk.Add(make([]byte, MaxTopKKeyLen+1), 4)
				return &tk
			},
			want: []TopKEntry{{string(make([]byte, MaxTopKKeyLen)), 1, 0}},
			n:    1, maxError: 0, len: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tt.build(t)
			assert.Equal(t, tt.want, tk.Entries())
			assert.Equal(t, tt.n, tk.N())
			assert.Equal(t, tt.maxError, tk.MaxError())
			assert.Equal(t, tt.len, tk.Len())
			var keys []string
			var counts []uint64
			for k, c := range tk.Top() {
				keys = append(keys, k)
				counts = append(counts, c)
			}
			for i, e := range tt.want {
				assert.Equal(t, e.Key, keys[i])
				assert.Equal(t, e.Count, counts[i])
			}
			// Round trip keeps everything.
			var d TopK
			require.NoError(t, d.UnmarshalBinary(mustMarshal(t, tk)))
			assert.Equal(t, tt.want, d.Entries())
		})
	}
}

func TestTopKIgnored(t *testing.T) {
	var tk TopK
	tk.Add(make([]byte, MaxTopKKeyLen+1), 4)
	assert.Equal(t, uint64(4), tk.Overflow())
	assert.Zero(t, tk.N())
	assert.Zero(t, tk.Len())
	var o TopK
	o.ObserveKey(make([]byte, 1000))
	require.NoError(t, tk.Merge(&o))
	assert.Equal(t, uint64(5), tk.Overflow())
}

func TestTopKEstimate(t *testing.T) {
	tk := newTopK(t, 1, 2)
	observeAll(tk, "a", "a", "a", "b", "c") // c evicts b: c 2±1
	c, e := tk.Estimate([]byte("a"))
	assert.Equal(t, [2]uint64{3, 0}, [2]uint64{c, e})
	c, e = tk.Estimate([]byte("c"))
	assert.Equal(t, [2]uint64{2, 1}, [2]uint64{c, e})
	c, e = tk.Estimate([]byte("b")) // evicted: at most MaxError
	assert.Equal(t, [2]uint64{2, 2}, [2]uint64{c, e})
}

func TestTopKEncoding(t *testing.T) {
	tag := byte(KindTopK)
	var z TopK
	assert.Equal(t, []byte{tag, 1, 10, 100, 0, 0, 0}, mustMarshal(t, &z))
	tk := newTopK(t, 2, 3)
	observeAll(tk, "b", "a", "b", "c", "d") // d evicts c: d 2±1
	assert.Equal(t, []byte{tag, 1, 2, 3, 5, 0, 3,
		1, 'a', 1, 0,
		1, 'b', 2, 0,
		1, 'd', 2, 1,
	}, mustMarshal(t, tk))
	assert.Equal(t, `topk k=2 capacity=3 n=5 ["b":2 "d":2±1]`, tk.String())
}

func TestTopKUnmarshalErrors(t *testing.T) {
	tag := byte(KindTopK)
	hdr := func(rest ...byte) []byte { return append([]byte{tag, 1}, rest...) }
	big := appendUvarint(hdr(10), 1e9)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"capacity 10⁹", append(big, 0, 0, 0), ErrLimit},
		{"capacity 2¹⁶+1", append(appendUvarint(hdr(10), MaxTopKCapacity+1), 0, 0, 0), ErrLimit},
		{"k 0", hdr(0, 100, 0, 0, 0), ErrLimit},
		{"k above capacity", hdr(11, 10, 0, 0, 0), ErrLimit},
		{"entries above capacity", hdr(1, 2, 9, 0, 3, 1, 'a', 1, 0, 1, 'b', 1, 0, 1, 'c', 1, 0), ErrLimit},
		{"entries beyond bytes", hdr(10, 100, 9, 0, 50, 1, 'a', 1, 0), ErrCorrupt},
		{"key too long", append(appendUvarint(hdr(10, 100, 9, 0, 1), 300), make([]byte, 302)...), ErrLimit},
		{"key beyond bytes", hdr(10, 100, 9, 0, 1, 5, 'a', 1, 0), ErrCorrupt},
		{"keys out of order", hdr(10, 100, 9, 0, 2, 1, 'b', 1, 0, 1, 'a', 1, 0), ErrCorrupt},
		{"duplicate keys", hdr(10, 100, 9, 0, 2, 1, 'a', 1, 0, 1, 'a', 1, 0), ErrCorrupt},
		{"count 0", hdr(10, 100, 9, 0, 1, 1, 'a', 0, 0), ErrCorrupt},
		{"error above count", hdr(10, 100, 9, 0, 1, 1, 'a', 2, 3), ErrCorrupt},
		{"counts above n", hdr(10, 100, 3, 0, 2, 1, 'a', 2, 0, 1, 'b', 2, 0), ErrCorrupt},
		{"trailing byte", hdr(10, 100, 0, 0, 0, 0), ErrCorrupt},
		{"truncated entry", hdr(10, 100, 9, 0, 1, 1, 'a', 1), ErrCorrupt},
		{"bad uvarint", hdr(10, 100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ErrCorrupt},
		// States no observations and merges reach, which the old decoder
		// accepted: a count whose error is all of it, an error while the
		// counts are exact (fewer entries than capacity), and an error
		// above the smallest count (MaxError, the bound on every error).
		{"error equal to count", hdr(1, 2, 4, 0, 2, 1, 'a', 2, 0, 1, 'b', 2, 2), ErrCorrupt},
		{"error while not full", hdr(10, 100, 9, 0, 1, 1, 'a', 2, 1), ErrCorrupt},
		{"error above the smallest count", hdr(1, 2, 7, 0, 2, 1, 'a', 5, 3, 1, 'b', 2, 0), ErrCorrupt},
		{"other kind", []byte{byte(KindCount), 1, 0}, ErrCorrupt},
		{"version 2", []byte{tag, 2, 10, 100, 0, 0, 0}, ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := newTopK(t, 2, 3)
			observeAll(recv, "x", "y", "x")
			before := mustMarshal(t, recv)
			err := recv.UnmarshalBinary(tt.in)
			require.ErrorIs(t, err, tt.want)
			assertSentinel(t, err)
			assert.Contains(t, err.Error(), "stat: unmarshal topk")
			assert.Equal(t, before, mustMarshal(t, recv), "receiver changed")
		})
	}
}

// TestTopKDecodedInvariants: what the encoder writes after any
// observations and merges satisfies the decoder's consistency rules, and a
// full TopK with errors within them decodes.
func TestTopKDecodedInvariants(t *testing.T) {
	tag := byte(KindTopK)
	in := []byte{tag, 1, 1, 2, 7, 0, 2, 1, 'a', 5, 2, 1, 'b', 2, 0}
	var tk TopK
	require.NoError(t, tk.UnmarshalBinary(in))
	assert.Equal(t, uint64(2), tk.MaxError())
	assert.Equal(t, in, mustMarshal(t, &tk))

	r := rand.New(rand.NewPCG(3, 4))
	parts := make([]*TopK, 8)
	for i := range parts {
		parts[i] = newTopK(t, 3, 8)
		for range 50 + r.IntN(200) {
			parts[i].Add([]byte(strconv.Itoa(r.IntN(1+r.IntN(40)))), 1+uint64(r.IntN(3)))
		}
	}
	for range 200 {
		a, b := parts[r.IntN(len(parts))], parts[r.IntN(len(parts))]
		require.NoError(t, a.Merge(b))
		var back TopK
		require.NoError(t, back.UnmarshalBinary(mustMarshal(t, a)), "a merged state decodes")
		for _, e := range a.sorted() {
			assert.LessOrEqual(t, e.Err, a.MaxError())
			assert.Less(t, e.Err, e.Count)
		}
	}
}

// shortestKeys returns the n shortest distinct keys in bytewise order:
// the empty key, then one byte, then two.
func shortestKeys(n int) []string {
	keys := []string{""}
	for i := 0; len(keys) < n && i < 256; i++ {
		keys = append(keys, string([]byte{byte(i)}))
	}
	for i := 0; len(keys) < n && i < 1<<16; i++ {
		keys = append(keys, string([]byte{byte(i >> 8), byte(i)}))
	}
	slices.Sort(keys)
	return keys
}

// TestTopKDecodeMemory holds the bound in TopK's doc comment: decoding
// allocates at most 10 bytes per input byte and 1 KiB, for the worst input
// (the shortest distinct keys, each counted once). The old decoder also
// built the index and the heap, 19 bytes per input byte.
func TestTopKDecodeMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	for _, n := range []int{1, 257, MaxTopKCapacity} {
		in := appendUvarint([]byte{byte(KindTopK), 1, 1}, MaxTopKCapacity)
		in = appendUvarint(in, uint64(n))
		in = append(in, 0)
		in = appendUvarint(in, uint64(n))
		for _, k := range shortestKeys(n) {
			in = append(append(append(in, byte(len(k))), k...), 1, 0)
		}
		var tk TopK
		got := allocated(func() { require.NoError(t, tk.UnmarshalBinary(in)) })
		t.Logf("%d keys: %d bytes allocated for %d bytes, %.1f×", n, got, len(in), float64(got)/float64(len(in)))
		assert.LessOrEqual(t, got, uint64(10*len(in)+1024), "%d keys", n)
		assert.Nil(t, tk.index, "decoding does not index")

		// Reads work without building the index, and so do writes.
		c, _ := tk.Estimate(nil)
		assert.Equal(t, uint64(1), c)
		assert.Equal(t, min(n, 1), len(tk.Entries()))
		tk.ObserveKey([]byte("new"))
		assert.NotNil(t, tk.index)
		c, e := tk.Estimate([]byte("new"))
		assert.Equal(t, uint64(1), c-e, "seen once (it replaced a key when full)")
	}
}

func TestTopKKeyCopied(t *testing.T) {
	var tk TopK
	buf := []byte("alpha")
	tk.ObserveKey(buf)
	copy(buf, "bravo")
	tk.ObserveKey(buf)
	var d TopK
	b := mustMarshal(t, &tk)
	require.NoError(t, d.UnmarshalBinary(b))
	for i := range b {
		b[i] = 0
	}
	assert.Equal(t, []TopKEntry{{"alpha", 1, 0}, {"bravo", 1, 0}}, d.Entries())
	assert.Equal(t, []TopKEntry{{"alpha", 1, 0}, {"bravo", 1, 0}}, tk.Entries())
}

func TestTopKMergeParameters(t *testing.T) {
	a := newTopK(t, 3, 30)
	observeAll(a, "a", "b")
	b := newTopK(t, 3, 40)
	observeAll(b, "c")
	before := mustMarshal(t, a)
	err := a.Merge(b)
	require.ErrorIs(t, err, ErrIncompatible)
	assert.Contains(t, err.Error(), "capacity=30 with k=3 capacity=40")
	assert.Equal(t, before, mustMarshal(t, a))

	c := newTopK(t, 4, 30)
	observeAll(c, "c")
	require.ErrorIs(t, a.Merge(c), ErrIncompatible, "k differs")

	require.NoError(t, a.Merge(newTopK(t, 5, 50)), "an empty other is a no-op")
	assert.Equal(t, before, mustMarshal(t, a))
	var typedNil *TopK
	require.NoError(t, a.Merge(typedNil))

	var z TopK // the zero value adopts the other's parameters
	require.NoError(t, z.Merge(b))
	assert.Equal(t, 40, z.Capacity())
	assert.Equal(t, mustMarshal(t, b), mustMarshal(t, &z))

	require.NoError(t, a.Merge(a), "merge with itself doubles")
	assert.Equal(t, []TopKEntry{{"a", 2, 0}, {"b", 2, 0}}, a.Entries())
	assert.Equal(t, uint64(4), a.N())
}

// zipfStream returns n keys drawn from Zipf(s=1.2) over keys 0..keys−1,
// with a fixed seed.
func zipfStream(n, keys int, seed uint64) []uint32 {
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, 7)), 1.2, 1, uint64(keys-1))
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(z.Uint64())
	}
	return out
}

func zipfKey(buf []byte, k uint32) []byte {
	return strconv.AppendUint(append(buf[:0], "/app/"...), uint64(k), 10)
}

// TestTopKZipf finds the exact top 10 of a Zipf(1.2) stream of 10⁶ events
// over 10⁵ keys at the default parameters, in one TopK and merged from 16
// shards (in two orders), and checks every reported count against the
// truth and its error.
func TestTopKZipf(t *testing.T) {
	stream := zipfStream(1_000_000, 100_000, 1)
	truth := map[string]uint64{}
	var whole TopK
	shards := make([]TopK, 16)
	var buf []byte
	for i, k := range stream {
		buf = zipfKey(buf, k)
		truth[string(buf)]++
		whole.ObserveKey(buf)
		shards[i%16].ObserveKey(buf)
	}
	type kc struct {
		key   string
		count uint64
	}
	var exact []kc
	for k, c := range truth {
		exact = append(exact, kc{k, c})
	}
	slices.SortFunc(exact, func(a, b kc) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	require.Greater(t, exact[9].count, exact[10].count, "the true top 10 is well defined")
	var fwd, rev TopK
	for i := range shards {
		require.NoError(t, fwd.Merge(&shards[i]))
		require.NoError(t, rev.Merge(&shards[len(shards)-1-i]))
	}
	// Past the capacity, merges are commutative but not associative, so
	// the two orders may differ in bytes; both must find the top 10.
	for name, tk := range map[string]*TopK{"whole": &whole, "16 shards forward": &fwd, "16 shards reverse": &rev} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, uint64(len(stream)), tk.N())
			got := tk.Entries()
			require.Len(t, got, 10)
			for i, e := range got {
				assert.Equal(t, exact[i].key, e.Key, "rank %d", i+1)
				tc := truth[e.Key]
				assert.LessOrEqual(t, tc, e.Count, "%s underestimated", e.Key)
				assert.LessOrEqual(t, e.Count-tc, e.Err, "%s: count %d true %d err %d", e.Key, e.Count, tc, e.Err)
			}
			assert.LessOrEqual(t, tk.MaxError(), tk.N()/uint64(tk.Capacity()))
		})
	}
}

// TestTopKBound holds the bound in TopK's doc comment over random streams
// with many more keys than the capacity, split into shards of random sizes
// and merged in a random tree: every monitored key's count c satisfies
// true ≤ c ≤ true + err and err ≤ MaxError ≤ N/capacity; every key not
// monitored occurred at most MaxError times; counts add up to at most N;
// and A.Merge(B) and B.Merge(A) give the same bytes.
func TestTopKBound(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 3))
		capacity := 5 + r.IntN(40)
		keys := capacity * (2 + r.IntN(20))
		n := 2000 + r.IntN(20000)
		truth := make([]uint64, keys)
		parts := []*TopK{newTopK(t, 1+r.IntN(capacity), capacity)}
		zero := func() *TopK { return newTopK(t, parts[0].K(), capacity) }
		var buf []byte
		for range n {
			if r.IntN(500) == 0 {
				parts = append(parts, zero())
			}
			k := r.IntN(1 + r.IntN(keys)) // skewed
			w := uint64(1)
			if r.IntN(20) == 0 {
				w = uint64(1 + r.IntN(50))
			}
			truth[k] += w
			buf = strconv.AppendInt(buf[:0], int64(k), 10)
			parts[len(parts)-1].Add(buf, w)
		}
		for len(parts) > 1 {
			i := r.IntN(len(parts) - 1)
			a, b := parts[i], parts[i+1]
			ab, ba := a.Clone(), b.Clone()
			require.NoError(t, ab.Merge(b))
			require.NoError(t, ba.Merge(a))
			require.Equal(t, mustMarshal(t, ab), mustMarshal(t, ba), "seed %d: merge is not commutative", seed)
			parts = slices.Replace(parts, i, i+2, ab.(*TopK))
		}
		tk := parts[0]
		var total, sum uint64
		for _, c := range truth {
			total += c
		}
		require.Equal(t, total, tk.N())
		bound := tk.N() / uint64(capacity)
		assert.LessOrEqual(t, tk.MaxError(), bound, "seed %d", seed)
		for k, tc := range truth {
			c, e := tk.Estimate(strconv.AppendInt(nil, int64(k), 10))
			if c == 0 {
				assert.Zero(t, tc)
				continue
			}
			assert.LessOrEqual(t, tc, c, "seed %d key %d underestimated", seed, k)
			assert.LessOrEqual(t, c-tc, e, "seed %d key %d: count %d true %d err %d", seed, k, c, tc, e)
			assert.LessOrEqual(t, e, tk.MaxError(), "seed %d key %d", seed, k)
		}
		for _, e := range tk.sorted() {
			sum += e.Count
		}
		assert.LessOrEqual(t, sum, tk.N(), "seed %d: counts add up to more than n", seed)
	}
}

// TestTopKCanonical checks that the state, not its history, decides what
// happens next: a TopK and its decoded copy evict the same keys.
func TestTopKCanonical(t *testing.T) {
	tk := newTopK(t, 3, 10)
	r := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for range 5000 {
		tk.ObserveKey(strconv.AppendInt(buf[:0], int64(r.IntN(1+r.IntN(100))), 10))
	}
	var d TopK
	require.NoError(t, d.UnmarshalBinary(mustMarshal(t, tk)))
	for i := range 2000 {
		key := strconv.AppendInt(buf[:0], int64(r.IntN(1+r.IntN(100))), 10)
		tk.ObserveKey(key)
		d.ObserveKey(key)
		if i%100 == 0 {
			require.Equal(t, mustMarshal(t, tk), mustMarshal(t, &d), "observation %d", i)
		}
	}
	assert.Equal(t, mustMarshal(t, tk), mustMarshal(t, &d))
}

func TestTopKAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var tk TopK
	keys := make([][]byte, 50)
	for i := range keys {
		keys[i] = zipfKey(nil, uint32(i))
		tk.ObserveKey(keys[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		tk.ObserveKey(keys[i%len(keys)])
		i++
	})
	assert.Zero(t, allocs, "observe on a hit")
	var empty TopK
	assert.Zero(t, testing.AllocsPerRun(10, func() { _ = empty.N() }))
	assert.Zero(t, testing.AllocsPerRun(10, func() { empty.ObserveKey(make([]byte, 300)) }), "ignored key")
}

// TestTopKConcurrentReads checks the package's promise that concurrent
// reads without writers are safe (run with -race).
func TestTopKConcurrentReads(t *testing.T) {
	tk := newTopK(t, 5, 20)
	r := rand.New(rand.NewPCG(5, 5))
	for range 1000 {
		tk.ObserveKey(strconv.AppendInt(nil, int64(r.IntN(100)), 10))
	}
	want := mustMarshal(t, tk)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch (g + i) % 5 {
				case 0:
					_ = tk.Entries()
				case 1:
					_, _ = tk.Estimate([]byte(strconv.Itoa(i % 100)))
				case 2:
					_, _ = tk.MarshalBinary()
				case 3:
					_ = tk.String()
				case 4:
					var o TopK
					_ = o.Merge(tk)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, want, mustMarshal(t, tk))
}

func TestTopKSaturates(t *testing.T) {
	var tk TopK
	tk.Add([]byte("a"), math.MaxUint64-1)
	tk.Add([]byte("a"), 5)
	c, _ := tk.Estimate([]byte("a"))
	assert.Equal(t, uint64(math.MaxUint64), c)
	assert.Equal(t, uint64(math.MaxUint64), tk.N())
	require.NoError(t, tk.Merge(tk.Clone()))
	var d TopK
	require.NoError(t, d.UnmarshalBinary(mustMarshal(t, &tk)))
	assert.Equal(t, mustMarshal(t, &tk), mustMarshal(t, &d))
}

func TestTopKSize(t *testing.T) {
	assert.Equal(t, uintptr(120), unsafe.Sizeof(TopK{}), "the size TopK's doc comment states")
}
