package stat

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// observeLastBy feeds a stream over `keys` dyno names with few distinct
// times and values, so that ties occur, reusing one key buffer.
func observeLastBy(s *LastBy, r *rand.Rand, i, keys int) {
	key := strconv.AppendInt([]byte("web."), int64(r.IntN(keys)), 10)
	at := t0.Add(time.Duration(r.IntN(300)) * time.Second)
	s.ObserveAt(key, at, float64(r.IntN(20)))
	if i%53 == 0 {
		s.ObserveAt(key, at, math.NaN())
	}
}

func init() {
	contractCases = append(contractCases,
		contractCase{
			name:    "lastby",
			zero:    func() Stat { return new(LastBy) },
			observe: func(s Stat, r *rand.Rand, i int) { observeLastBy(s.(*LastBy), r, i, 200) },
		},
		// With eviction: the partitions are still independent of the order,
		// the Evicted counter is not, so it is left out of the comparison.
		contractCase{
			name: "lastby evicting",
			zero: func() Stat {
				s, err := NewLastBy(LastByConfig{MaxKeys: 40})
				if err != nil {
					panic(err)
				}
				return s
			},
			observe: func(s Stat, r *rand.Rand, i int) { observeLastBy(s.(*LastBy), r, i, 300) },
			same: func(t *testing.T, want, got Stat) {
				t.Helper()
				w, g := want.(*LastBy), got.(*LastBy)
				checkLastBy(t, w)
				checkLastBy(t, g)
				assert.Equal(t, w.MaxKeys(), g.MaxKeys())
				assert.Equal(t, partitions(w), partitions(g))
				assert.Equal(t, w.Ignored(), g.Ignored())
				assert.Equal(t, w.Len(), w.MaxKeys(), "the stream should overflow MaxKeys")
			},
		},
	)
}

// part is one partition as the tests see it.
type part struct {
	key string
	t   int64
	v   float64
}

// partitions returns s's partitions sorted by key.
func partitions(s *LastBy) []part {
	ps := make([]part, 0, len(s.entries))
	for _, e := range s.entries {
		ps = append(ps, part(e))
	}
	slices.SortFunc(ps, func(a, b part) int { return strings.Compare(a.key, b.key) })
	return ps
}

// checkLastBy asserts the internal invariants: without an index, the
// entries are sorted by key and there is no heap; with one, index, entries
// and heap agree, each entry is in the heap once at a time no later than
// its own, and the heap is ordered by (t, key).
func checkLastBy(t *testing.T, s *LastBy) {
	t.Helper()
	require.LessOrEqual(t, len(s.entries), s.MaxKeys())
	if s.index == nil {
		require.Nil(t, s.heap)
		require.True(t, slices.IsSortedFunc(s.entries, func(a, b lastByEntry) int { return strings.Compare(a.key, b.key) }))
		require.Equal(t, len(s.entries), len(slices.CompactFunc(slices.Clone(s.entries), func(a, b lastByEntry) bool { return a.key == b.key })))
		return
	}
	require.Len(t, s.index, len(s.entries))
	require.Len(t, s.heap, len(s.entries))
	require.LessOrEqual(t, len(s.entries), s.MaxKeys())
	for i, e := range s.entries {
		require.Equal(t, int32(i), s.index[e.key], "index of %q", e.key)
	}
	seen := make([]bool, len(s.entries))
	for _, h := range s.heap {
		require.False(t, seen[h.i], "entry %d twice in the heap", h.i)
		seen[h.i] = true
		require.LessOrEqual(t, h.t, s.entries[h.i].t, "heap time of %q", s.entries[h.i].key)
	}
	for j := 1; j < len(s.heap); j++ {
		require.False(t, s.before(j, (j-1)/2), "heap order at %d", j)
	}
}

func TestLastByReads(t *testing.T) {
	var s LastBy
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	key := []byte("web.1")
	s.ObserveAt(key, at(10), 100)
	copy(key, "web.2") // the caller reuses its buffer
	s.ObserveAt(key, at(20), 200)
	s.ObserveAt([]byte("web.3"), at(30), 300)
	s.ObserveAt([]byte("web.1"), at(5), 999) // older: ignored by web.1
	s.ObserveAt([]byte("web.3"), at(30), 50) // tie, smaller: kept 300
	s.ObserveAt([]byte("web.4"), at(40), math.Inf(1))
	checkLastBy(t, &s)
	assert.Equal(t, 3, s.Len())
	assert.Equal(t, uint64(1), s.Ignored())

	tests := []struct {
		name  string
		since time.Time
		sum   float64
		count uint64
	}{
		{"zero since takes all", time.Time{}, 600, 3},
		{"before all", at(0), 600, 3},
		{"exactly the oldest is inclusive", at(10), 600, 3},
		{"one ns after the oldest", at(10).Add(time.Nanosecond), 500, 2},
		{"exactly the newest", at(30), 300, 1},
		{"after the newest", at(30).Add(time.Nanosecond), 0, 0},
		{"far future", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0, 0},
		{"same instant in another zone", at(20).In(time.FixedZone("X", -7*3600)), 500, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.sum, s.Sum(tt.since))
			assert.Equal(t, tt.count, s.Count(tt.since))
			mean, ok := s.Mean(tt.since)
			assert.Equal(t, tt.count > 0, ok)
			if tt.count > 0 {
				assert.Equal(t, tt.sum/float64(tt.count), mean)
			}
		})
	}
	lt, v, ok := s.Last([]byte("web.1"))
	require.True(t, ok)
	assert.Equal(t, at(10), lt)
	assert.Equal(t, 100.0, v)
	lt, v, ok = s.Last([]byte("web.2"))
	require.True(t, ok, "the reused buffer's second key")
	assert.Equal(t, at(20), lt)
	assert.Equal(t, 200.0, v)
	_, _, ok = s.Last([]byte("web.4"))
	assert.False(t, ok)
	assert.Equal(t, "lastby 3 partitions sum 600", s.String())
}

func TestLastByIgnored(t *testing.T) {
	var s LastBy
	s.ObserveAt([]byte("a"), time.Time{}, 1)
	s.ObserveAt([]byte("a"), t0, math.NaN())
	s.ObserveAt(bytes.Repeat([]byte("k"), MaxLastByKeyLen+1), t0, 1)
	assert.Equal(t, uint64(2), s.Ignored())
	assert.Equal(t, uint64(1), s.Overflow(), "a key too long is a cap, counted as overflow")
	assert.Nil(t, s.index, "no map before the first key")
	assert.LessOrEqual(t, unsafe.Sizeof(s), uintptr(80))
	s.ObserveAt(bytes.Repeat([]byte("k"), MaxLastByKeyLen), t0, 1)
	s.ObserveAt(nil, t0, 2) // the empty key is a partition like any other
	assert.Equal(t, 2, s.Len())
	var d LastBy
	require.NoError(t, d.UnmarshalBinary(mustMarshal(t, &s)))
	assert.Equal(t, partitions(&s), partitions(&d))
}

func TestLastByEviction(t *testing.T) {
	s, err := NewLastBy(LastByConfig{MaxKeys: 3})
	require.NoError(t, err)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	keys := func() []string {
		var ks []string
		for _, p := range partitions(s) {
			ks = append(ks, p.key)
		}
		return ks
	}
	s.ObserveAt([]byte("a"), at(1), 1)
	s.ObserveAt([]byte("b"), at(2), 2)
	s.ObserveAt([]byte("c"), at(3), 3)
	assert.Zero(t, s.Overflow())
	s.ObserveAt([]byte("d"), at(4), 4)
	assert.Equal(t, []string{"b", "c", "d"}, keys(), "the oldest, a, is evicted")
	assert.Equal(t, uint64(1), s.Overflow())
	s.ObserveAt([]byte("e"), at(0), 5)
	assert.Equal(t, []string{"b", "c", "d"}, keys(), "a new key older than all is itself dropped")
	assert.Equal(t, uint64(2), s.Overflow())
	s.ObserveAt([]byte("b"), at(9), 6) // b becomes the latest; c is now the oldest
	s.ObserveAt([]byte("f"), at(5), 7)
	assert.Equal(t, []string{"b", "d", "f"}, keys())
	// Equal times: the smallest key goes first.
	s.ObserveAt([]byte("z"), at(9), 8)
	s.ObserveAt([]byte("y"), at(9), 9)
	assert.Equal(t, []string{"b", "y", "z"}, keys())
	s.ObserveAt([]byte("a"), at(9), 10)
	assert.Equal(t, []string{"b", "y", "z"}, keys(), "a ranks below b at the same time")
	assert.Equal(t, uint64(6), s.Overflow())
	checkLastBy(t, s)

	var o LastBy // default MaxKeys, empty: adopts 3
	require.NoError(t, o.Merge(s))
	assert.Equal(t, 3, o.MaxKeys())
	assert.Equal(t, uint64(6), o.Overflow())
	require.NoError(t, o.Merge(s))
	assert.Equal(t, uint64(12), o.Overflow(), "merged by sum")
}

// TestLastByEvictionOrder checks LastBy's promise under eviction: whatever
// the order of observations and merges, the partitions kept are the MaxKeys
// latest of the whole stream by (time, key), each with its latest value.
func TestLastByEvictionOrder(t *testing.T) {
	const maxKeys = 64
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 7))
		type ob struct {
			key string
			t   time.Time
			v   float64
		}
		obs := make([]ob, 5000)
		for i := range obs {
			obs[i] = ob{"dyno." + strconv.Itoa(r.IntN(400)), t0.Add(time.Duration(r.IntN(2000)) * time.Millisecond), float64(r.IntN(10))}
		}
		// The oracle: latest per key, then the maxKeys latest by (t, key).
		latest := map[string]part{}
		for _, o := range obs {
			p := part{o.key, o.t.UnixNano(), o.v}
			if q, ok := latest[o.key]; !ok || later(p.t, p.v, q.t, q.v) {
				latest[o.key] = p
			}
		}
		want := slices.Collect(func(yield func(part) bool) {
			for _, p := range latest {
				if !yield(p) {
					return
				}
			}
		})
		slices.SortFunc(want, func(a, b part) int {
			return cmp.Or(cmp.Compare(b.t, a.t), strings.Compare(b.key, a.key))
		})
		want = want[:maxKeys]
		slices.SortFunc(want, func(a, b part) int { return strings.Compare(a.key, b.key) })

		newStat := func() *LastBy {
			s, err := NewLastBy(LastByConfig{MaxKeys: maxKeys})
			require.NoError(t, err)
			return s
		}
		build := func(idx []int) *LastBy {
			s := newStat()
			for _, i := range idx {
				s.ObserveAt([]byte(obs[i].key), obs[i].t, obs[i].v)
			}
			return s
		}
		inOrder := make([]int, len(obs))
		for i := range inOrder {
			inOrder[i] = i
		}
		shuffled := slices.Clone(inOrder)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var shards [16]*LastBy
		for k := range shards {
			var idx []int
			for i := k; i < len(obs); i += 16 {
				idx = append(idx, i)
			}
			shards[k] = build(idx)
		}
		fwd, rev := newStat(), newStat()
		for k := range shards {
			require.NoError(t, fwd.Merge(shards[k]))
			require.NoError(t, rev.Merge(shards[15-k]))
		}
		tree := shards[0].Clone().(*LastBy)
		for k := 1; k < 16; k += 2 {
			pair := shards[k].Clone().(*LastBy)
			if k+1 < 16 {
				require.NoError(t, pair.Merge(shards[k+1]))
			}
			require.NoError(t, tree.Merge(pair))
		}
		for name, s := range map[string]*LastBy{
			"whole": build(inOrder), "shuffled": build(shuffled),
			"shards forward": fwd, "shards reverse": rev, "shards tree": tree,
		} {
			t.Run(fmt.Sprintf("seed %d %s", seed, name), func(t *testing.T) {
				checkLastBy(t, s)
				assert.Equal(t, want, partitions(s))
				assert.NotZero(t, s.Overflow())
			})
		}
	}
}

func TestNewLastBy(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
		want    int
		err     error
	}{
		{"zero is the default", 0, DefaultLastByKeys, nil},
		{"one", 1, 1, nil},
		{"the limit", MaxLastByKeys, MaxLastByKeys, nil},
		{"above the limit", MaxLastByKeys + 1, 0, ErrLimit},
		{"negative", -1, 0, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewLastBy(LastByConfig{MaxKeys: tt.maxKeys})
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Contains(t, err.Error(), strconv.Itoa(tt.maxKeys))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.MaxKeys())
		})
	}
}

func TestLastByMergeParameters(t *testing.T) {
	mk := func(maxKeys int, keys ...string) *LastBy {
		s, err := NewLastBy(LastByConfig{MaxKeys: maxKeys})
		require.NoError(t, err)
		for i, k := range keys {
			s.ObserveAt([]byte(k), t0.Add(time.Duration(i)*time.Second), float64(i))
		}
		return s
	}
	tests := []struct {
		name     string
		recv, o  *LastBy
		err      error
		wantKeys int
	}{
		{"default empty adopts", mk(0), mk(5, "a"), nil, 5},
		{"default empty other adds counters only", mk(5, "a"), mk(0), nil, 5},
		{"explicit default equals the zero value", mk(DefaultLastByKeys, "a"), mk(0, "b"), nil, DefaultLastByKeys},
		{"different, both non-empty", mk(5, "a"), mk(6, "b"), ErrIncompatible, 5},
		{"explicit empty receiver does not adopt", mk(5), mk(6, "b"), ErrIncompatible, 5},
		{"default non-empty receiver", mk(0, "a"), mk(6, "b"), ErrIncompatible, DefaultLastByKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustMarshal(t, tt.recv)
			other := mustMarshal(t, tt.o)
			err := tt.recv.Merge(tt.o)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Contains(t, err.Error(), "max keys")
				assert.Equal(t, before, mustMarshal(t, tt.recv), "receiver unchanged")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantKeys, tt.recv.MaxKeys())
			assert.Equal(t, other, mustMarshal(t, tt.o), "other unchanged")
		})
	}
	var typedNil *LastBy
	s := mk(0, "a")
	require.NoError(t, s.Merge(typedNil))
	require.NoError(t, s.Merge(s), "self merge")
	assert.Equal(t, 1, s.Len())
}

// lastByEnc builds a LastBy encoding by hand.
type lastByEnc struct{ b []byte }

func newLastByEnc(maxKeys, n uint64) *lastByEnc {
	e := &lastByEnc{b: []byte{byte(KindLastBy), 1}}
	e.b = appendUvarint(e.b, maxKeys)
	e.b = appendUvarint(e.b, n)
	return e
}

func (e *lastByEnc) part(key string, ns int64, v float64) *lastByEnc {
	e.b = appendUvarint(e.b, uint64(len(key)))
	e.b = append(e.b, key...)
	e.b = appendVarint(e.b, ns)
	e.b = appendFloat(e.b, v)
	return e
}

func (e *lastByEnc) end() []byte { return append(e.b, 0, 0) }

func TestLastByUnmarshal(t *testing.T) {
	good := newLastByEnc(5, 2).part("", 1, 1).part("a", 2, 2).end()
	var s LastBy
	require.NoError(t, s.UnmarshalBinary(good))
	assert.Equal(t, []part{{"", 1, 1}, {"a", 2, 2}}, partitions(&s))
	assert.Equal(t, 5, s.MaxKeys())
	checkLastBy(t, &s)

	long := strings.Repeat("k", MaxLastByKeyLen+1)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"max keys 0", newLastByEnc(0, 0).end(), ErrLimit},
		{"max keys above the limit", newLastByEnc(MaxLastByKeys+1, 0).end(), ErrLimit},
		{"more partitions than max keys", newLastByEnc(1, 2).part("a", 1, 1).part("b", 1, 1).end(), ErrLimit},
		{"count beyond the bytes left", newLastByEnc(MaxLastByKeys, MaxLastByKeys).end(), ErrCorrupt},
		{"key too long", newLastByEnc(5, 1).part(long, 1, 1).end(), ErrLimit},
		{"key length beyond input", append(newLastByEnc(5, 1).b, 100, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrCorrupt},
		{"duplicate keys", newLastByEnc(5, 2).part("a", 1, 1).part("a", 2, 2).end(), ErrCorrupt},
		{"unsorted keys", newLastByEnc(5, 2).part("b", 1, 1).part("a", 2, 2).end(), ErrCorrupt},
		{"NaN value", newLastByEnc(5, 1).part("a", 1, math.NaN()).end(), ErrCorrupt},
		{"time out of range", newLastByEnc(5, 1).part("a", math.MaxInt64, 1).end(), ErrCorrupt},
		{"missing counters", newLastByEnc(5, 0).b, ErrCorrupt},
		{"trailing byte", append(newLastByEnc(5, 0).end(), 0), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r LastBy
			r.ObserveAt([]byte("keep"), t0, 1)
			before := mustMarshal(t, &r)
			err := r.UnmarshalBinary(tt.in)
			require.ErrorIs(t, err, tt.want)
			assertSentinel(t, err)
			assert.Equal(t, before, mustMarshal(t, &r), "receiver unchanged")
		})
	}
	t.Run("does not keep the input", func(t *testing.T) {
		in := bytes.Clone(good)
		var r LastBy
		require.NoError(t, r.UnmarshalBinary(in))
		clear(in)
		assert.Equal(t, []part{{"", 1, 1}, {"a", 2, 2}}, partitions(&r))
	})
	t.Run("canonical: keys sorted whatever the insertion order", func(t *testing.T) {
		var a, b LastBy
		for i := range 50 {
			a.ObserveAt([]byte(strconv.Itoa(i)), t0, float64(i))
			b.ObserveAt([]byte(strconv.Itoa(49-i)), t0, float64(49-i))
		}
		assert.Equal(t, mustMarshal(t, &a), mustMarshal(t, &b))
	})
}

// TestLastByDecodeMemory holds the bound in LastBy's doc comment: decoding
// allocates 32 bytes per partition and one copy of the keys, at most 4
// bytes per input byte, and builds no index until a write needs one. The
// old decoder allocated the index and the heap too: 6 to 8 bytes per input
// byte.
func TestLastByDecodeMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	for _, n := range []int{1, 257, 100_000} {
		keys := shortestKeys(min(n, 1<<16+257))
		for i := len(keys); i < n; i++ {
			keys = append(keys, fmt.Sprintf("\xff\xff%d", i))
		}
		slices.Sort(keys)
		e := newLastByEnc(MaxLastByKeys, uint64(n))
		for _, k := range keys {
			e.part(k, 0, 1)
		}
		in := e.end()
		var s LastBy
		got := allocated(func() { require.NoError(t, s.UnmarshalBinary(in)) })
		t.Logf("%d partitions: %d bytes allocated for %d bytes, %.1f×", n, got, len(in), float64(got)/float64(len(in)))
		assert.LessOrEqual(t, got, uint64(4*len(in)), "%d partitions", n)
		assert.Nil(t, s.index, "decoding does not index")
		checkLastBy(t, &s)
		assert.Equal(t, uint64(n), s.Count(time.Time{}))
	}
}

// TestLastByDecodedReadsAndWrites: a decoded LastBy answers reads from its
// sorted partitions without building anything (so concurrent reads stay
// safe), and builds its index on the first write; merging a decoded LastBy
// copies the keys it takes, so a held key does not keep the decoded input
// alive.
func TestLastByDecodedReadsAndWrites(t *testing.T) {
	src, err := NewLastBy(LastByConfig{MaxKeys: 3})
	require.NoError(t, err)
	for i, k := range []string{"web.1", "web.2", "web.3"} {
		src.ObserveAt([]byte(k), t0.Add(time.Duration(i)*time.Second), float64(i))
	}
	var d LastBy
	require.NoError(t, d.UnmarshalBinary(mustMarshal(t, src)))
	require.Nil(t, d.index)
	at, v, ok := d.Last([]byte("web.2"))
	require.True(t, ok)
	assert.Equal(t, t0.Add(time.Second), at)
	assert.Equal(t, 1.0, v)
	_, _, ok = d.Last([]byte("web.0"))
	assert.False(t, ok)
	assert.Nil(t, d.index, "reads build nothing")

	var into LastBy
	require.NoError(t, into.Merge(&d))
	require.True(t, d.sharedKeys)
	for _, e := range into.entries {
		i, _ := d.find([]byte(e.key))
		assert.NotSame(t, unsafe.StringData(d.entries[i].key), unsafe.StringData(e.key), "key %q copied", e.key)
	}

	d.ObserveAt([]byte("web.4"), t0.Add(time.Minute), 4) // drops web.1
	checkLastBy(t, &d)
	require.NotNil(t, d.index)
	assert.Equal(t, uint64(1), d.Overflow())
	_, _, ok = d.Last([]byte("web.1"))
	assert.False(t, ok)
	assert.Equal(t, 7.0, d.Sum(time.Time{}))
}

func TestLastByAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var s LastBy
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = []byte("web." + strconv.Itoa(i))
		s.ObserveAt(keys[i], t0, 1)
	}
	buf := make([]byte, 0, 64)
	at := t0
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		at = at.Add(time.Millisecond)
		i = (i + 7) % len(keys)
		s.ObserveAt(keys[i], at, float64(i))
		buf = strconv.AppendFloat(buf[:0], s.Sum(time.Time{}), 'g', -1, 64)
		_ = s.Count(at)
	})
	assert.Zero(t, allocs, "observe of an existing key and reads")

	full, err := NewLastBy(LastByConfig{MaxKeys: 1})
	require.NoError(t, err)
	full.ObserveAt([]byte("new"), t0.Add(time.Hour), 1)
	old := []byte("old")
	allocs = testing.AllocsPerRun(100, func() { full.ObserveAt(old, t0, 1) })
	assert.Zero(t, allocs, "a new key that is dropped at once is not copied")
	assert.Equal(t, uint64(101), full.Overflow())
}

// TestLastByConcurrentReads holds the package promise that reads without
// writers are safe; run with -race.
func TestLastByConcurrentReads(t *testing.T) {
	var s LastBy
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		observeLastBy(&s, r, i, 100)
	}
	want := mustMarshal(t, &s)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_ = s.Sum(t0)
				_, _ = s.Mean(time.Time{})
				_ = s.Count(t0.Add(time.Minute))
				_, _, _ = s.Last([]byte("web.1"))
				b, err := s.MarshalBinary()
				assert.NoError(t, err)
				assert.Equal(t, want, b)
			}
		}()
	}
	wg.Wait()
}

// TestLastByMemory holds the memory bound in LastBy's doc comment: about
// 100 bytes per partition plus its key, under 128 with 8-byte keys.
func TestLastByMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes heap use")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := new(LastBy)
	for i := range DefaultLastByKeys {
		s.ObserveAt(fmt.Appendf(nil, "web.%04d", i), t0, 1) // 8-byte keys
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := float64(after.HeapAlloc-before.HeapAlloc) / DefaultLastByKeys
	t.Logf("%.1f bytes per partition with 8-byte keys", perKey)
	assert.LessOrEqual(t, perKey, 128.0)
	runtime.KeepAlive(s)
}
