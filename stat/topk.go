package stat

import (
	"bytes"
	"cmp"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pulsehq/pulse/internal/wire"
)

// TopK limits and defaults.
const (
	// DefaultTopK is the number of top keys a TopK reports when
	// TopKConfig.K is 0.
	DefaultTopK = 10
	// MinTopKCapacity is the smallest default capacity: with K = 0 or a
	// small K, the capacity is max(10·K, MinTopKCapacity).
	MinTopKCapacity = 100
	// MaxTopKCapacity is the largest capacity (and so the largest K) that
	// NewTopK accepts and UnmarshalBinary reads.
	MaxTopKCapacity = 1 << 16
	// MaxTopKKeyLen is the longest key, in bytes, that a TopK counts. Longer
	// keys are left out and counted (see TopK.Overflow), never truncated,
	// so two long keys with a common prefix are never counted as one.
	MaxTopKKeyLen = 256
)

// TopKConfig holds the parameters of a TopK. Zero fields mean defaults.
type TopKConfig struct {
	// K is the number of top keys that Top and Entries report, from 1 to
	// MaxTopKCapacity. Zero means DefaultTopK (10).
	K int
	// Capacity is the number of keys the summary monitors, from K to
	// MaxTopKCapacity. The overestimate bound is N/Capacity. Zero means
	// max(10·K, MinTopKCapacity), at most MaxTopKCapacity.
	Capacity int
}

// TopKEntry is one key that a TopK monitors, with its estimated count and
// that count's error: the key's true count lies in [Count−Err, Count]
// (Count never underestimates, and Count−Err ≥ 1). A key whose Count−Err
// exceeds the TopK's MaxError certainly occurred more often than any key
// not shown. It is the sketch's view; a top-k Value reports
// TopValueEntry, a key with the number the definition derives from Count.
type TopKEntry struct {
	Key   string
	Count uint64
	Err   uint64
}

// topkSlot is a monitored key. Slots never move; the heap orders their
// indices.
type topkSlot struct {
	key        string
	count, err uint64
}

// TopK finds the most frequent keys and their counts with the Space-Saving
// algorithm (Metwally, Agrawal and El Abbadi, 2005): it monitors up to
// Capacity keys, and a key that is not monitored replaces the one with the
// smallest count, inheriting that count as its error.
//
// Error bound: exact (every count exact, every Err 0, byte-identical in any
// order of observation and merge) while the distinct keys seen, over all
// merged stats, number at most Capacity. Beyond that, every count
// overestimates its key's true count by at most its Err, and Err ≤
// MaxError() ≤ N()/Capacity (1 % of N at the default capacity 100); a key
// that is not monitored occurred at most MaxError() times, so any key that
// occurred more than N/Capacity times is monitored. Counts never
// underestimate. TestTopKBound holds this over random streams split into
// shards and merged in random trees; TestTopKZipf finds the exact top 10
// of a Zipf(1.2) stream of 10⁶ events over 10⁵ keys, whole and merged from
// 16 shards.
//
// Merge follows Agarwal et al., "Mergeable Summaries" (PODS 2012), in
// Space-Saving form: counters of the same key add, a key missing from a
// full summary counts as that summary's smallest counter (its Misra-Gries
// counter is 0 under the paper's isomorphism), and the Capacity largest
// sums are kept, ties broken by key. This keeps the same keys and count
// differences as the paper's Misra-Gries merge (add counters, subtract the
// (Capacity)-th largest), with Space-Saving's upper-bound counts. The merge
// is commutative and deterministic; it is associative exactly while the
// keys fit the capacity, and within the bound above otherwise.
//
// Memory: the 120-byte struct and nothing else until the first observation;
// then about 100 bytes plus the key's length per monitored key, at most
// Capacity keys (11 KB measured for a default TopK full of 9-byte keys;
// at most Capacity·(100+MaxTopKKeyLen) bytes). Keys are copied: callers
// may reuse their buffers. A decoded TopK holds 32 bytes per key plus one
// copy of the keys: decoding b allocates at most 10·len(b) + 1 KiB bytes
// (TestTopKDecodeMemory), as its index and heap are built only by the
// first observation or merge into it.
//
// Overflow: keys longer than MaxTopKKeyLen bytes are left out and counted
// (see Overflow), so a TopK that shows nothing while Overflow is not zero
// says that its keys were too long, not that there were none.
//
// The zero value is an empty TopK with K 10 and Capacity 100, ready to use;
// NewTopK sets other parameters. A TopK is not safe for concurrent use;
// callers shard or lock. Reads do not mutate it.
type TopK struct {
	k, capacity int // 0, 0: the zero value, defaults
	n           uint64
	overflow    uint64
	// slots are the monitored keys. While index is nil (an empty or a
	// decoded TopK) they are in strictly increasing key order, and heap
	// and pos are nil; indexed builds all three.
	slots []topkSlot
	heap  []int32          // slot indices, a min-heap by count
	pos   []int32          // slot index → position in heap
	index map[string]int32 // key → slot index
	// sharedKeys is set when the keys are substrings of one decoded
	// string: a merge copies the keys it takes from such a TopK.
	sharedKeys bool
}

// NewTopK returns an empty TopK with the given parameters. A K or Capacity
// out of range is an error wrapping ErrLimit.
func NewTopK(cfg TopKConfig) (*TopK, error) {
	k, c := cfg.K, cfg.Capacity
	if k == 0 {
		k = DefaultTopK
	}
	if k < 1 || k > MaxTopKCapacity {
		return nil, fmt.Errorf("stat: new topk: k %d outside [1, %d]: %w", cfg.K, MaxTopKCapacity, ErrLimit)
	}
	if c == 0 {
		c = min(max(10*k, MinTopKCapacity), MaxTopKCapacity)
	}
	if c < k || c > MaxTopKCapacity {
		return nil, fmt.Errorf("stat: new topk: capacity %d outside [k=%d, %d]: %w", cfg.Capacity, k, MaxTopKCapacity, ErrLimit)
	}
	return &TopK{k: k, capacity: c}, nil
}

// params returns the effective K and capacity.
func (t *TopK) params() (k, capacity int) {
	if t.capacity == 0 {
		return DefaultTopK, MinTopKCapacity
	}
	return t.k, t.capacity
}

// K returns the number of keys Top and Entries report.
func (t *TopK) K() int { k, _ := t.params(); return k }

// Capacity returns the number of keys the summary monitors.
func (t *TopK) Capacity() int { _, c := t.params(); return c }

// ObserveKey counts one occurrence of key. The key is copied.
func (t *TopK) ObserveKey(key []byte) { t.Add(key, 1) }

// Add counts n occurrences of key; n = 0 does nothing. The key is copied.
// Keys longer than MaxTopKKeyLen bytes are left out and counted as
// Overflow. Counts saturate at the largest uint64.
func (t *TopK) Add(key []byte, n uint64) {
	if n == 0 {
		return
	}
	if len(key) > MaxTopKKeyLen {
		t.overflow = satAdd(t.overflow, n)
		return
	}
	t.n = satAdd(t.n, n)
	t.indexed()
	if s, ok := t.index[string(key)]; ok { // no allocation
		t.slots[s].count = satAdd(t.slots[s].count, n)
		t.down(int(t.pos[s]))
		return
	}
	if t.capacity == 0 {
		t.k, t.capacity = t.params()
	}
	if t.index == nil {
		t.index = make(map[string]int32)
	}
	if len(t.slots) < t.capacity {
		s := int32(len(t.slots))
		t.slots = append(t.slots, topkSlot{key: string(key), count: n})
		t.pos = append(t.pos, int32(len(t.heap)))
		t.heap = append(t.heap, s)
		t.index[t.slots[s].key] = s
		t.up(len(t.heap) - 1)
		return
	}
	// Space-Saving: the new key replaces the minimum and inherits its count
	// as its error.
	s := t.heap[0]
	sl := &t.slots[s]
	delete(t.index, sl.key)
	min := sl.count
	*sl = topkSlot{key: string(key), count: satAdd(min, n), err: min}
	t.index[sl.key] = s
	t.down(0)
}

// indexed builds the index and the heap of a TopK that has keys but no
// index (a decoded one).
func (t *TopK) indexed() {
	if t.index == nil && len(t.slots) > 0 {
		t.rebuild(t.slots)
	}
}

// less orders heap positions i and j by count, then by key descending: the
// heap's root is the last entry in Top's order, so the key that Space-Saving
// evicts depends only on the content, never on the history that built it.
func (t *TopK) less(i, j int) bool {
	a, b := &t.slots[t.heap[i]], &t.slots[t.heap[j]]
	return a.count < b.count || a.count == b.count && a.key > b.key
}

func (t *TopK) swap(i, j int) {
	h := t.heap
	h[i], h[j] = h[j], h[i]
	t.pos[h[i]] = int32(i)
	t.pos[h[j]] = int32(j)
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *TopK) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && t.less(r, l) {
			c = r
		}
		if !t.less(c, i) {
			return
		}
		t.swap(i, c)
		i = c
	}
}

// N returns the total count of keys observed (the sum of the n passed to
// Add), including merged stats, excluding the keys Overflow counts.
func (t *TopK) N() uint64 { return t.n }

// Overflow returns how many observations were left out because their key
// was longer than MaxTopKKeyLen bytes, including merged stats.
func (t *TopK) Overflow() uint64 { return t.overflow }

// Len returns the number of keys monitored, at most Capacity.
func (t *TopK) Len() int { return len(t.slots) }

// MaxError returns the TopK's error bound: the largest overestimate of any
// count, which is the smallest monitored count once Capacity keys are
// monitored and 0 before (the counts are then exact). A key that is not
// monitored occurred at most MaxError() times, and every entry's Err is at
// most MaxError(). MaxError() ≤ N()/Capacity(): 1 % of N at the default
// capacity. When MaxError() is as large as the counts a TopK shows, those
// counts may be all error, and a report should say so.
func (t *TopK) MaxError() uint64 {
	if len(t.slots) == 0 || len(t.slots) < t.Capacity() {
		return 0
	}
	if t.heap == nil { // decoded, not yet indexed: a read must not build it
		m := uint64(math.MaxUint64)
		for i := range t.slots {
			m = min(m, t.slots[i].count)
		}
		return m
	}
	return t.slots[t.heap[0]].count
}

// Estimate returns key's estimated count and its error: the true count lies
// in [count−err, count]. For a key that is not monitored, count and err are
// both MaxError().
func (t *TopK) Estimate(key []byte) (count, err uint64) {
	if s, ok := t.find(key); ok {
		return t.slots[s].count, t.slots[s].err
	}
	m := t.MaxError()
	return m, m
}

// find returns key's slot without building the index: a lookup, or a
// binary search of the sorted slots of a TopK that has no index.
func (t *TopK) find(key []byte) (int32, bool) {
	if t.index != nil {
		s, ok := t.index[string(key)]
		return s, ok
	}
	s, ok := slices.BinarySearchFunc(t.slots, key, func(s topkSlot, k []byte) int {
		return strings.Compare(s.key, string(k))
	})
	return int32(s), ok
}

// sorted returns the monitored entries by count descending, then key
// ascending.
func (t *TopK) sorted() []TopKEntry {
	es := make([]TopKEntry, len(t.slots))
	for i, s := range t.slots {
		es[i] = TopKEntry{Key: s.key, Count: s.count, Err: s.err}
	}
	slices.SortFunc(es, func(a, b TopKEntry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return es
}

// Entries returns the top K entries (fewer while fewer keys are
// monitored), by count descending, then key ascending, with their errors.
// The slice is the caller's.
func (t *TopK) Entries() []TopKEntry {
	es := t.sorted()
	return es[:min(len(es), t.K())]
}

// Top yields the top K keys with their estimated counts, by count
// descending, then key ascending. See Entries for the errors.
func (t *TopK) Top() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for _, e := range t.Entries() {
			if !yield(e.Key, e.Count) {
				return
			}
		}
	}
}

// Kind returns KindTopK.
func (t *TopK) Kind() Kind { return KindTopK }

// Merge absorbs other, a *TopK with the same K and Capacity, as described
// at TopK. A zero-value receiver adopts other's parameters. other is left
// as it was.
func (t *TopK) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*TopK)
	if !ok {
		return incompatible(KindTopK, other)
	}
	if o == nil {
		return nil
	}
	ok2, oc := o.params()
	if t.capacity == 0 {
		t.k, t.capacity = ok2, oc
	}
	if o.n == 0 && o.overflow == 0 && len(o.slots) == 0 {
		return nil
	}
	if tk, tc := t.params(); tk != ok2 || tc != oc {
		return fmt.Errorf("stat: merge topk k=%d capacity=%d with k=%d capacity=%d: %w", tk, tc, ok2, oc, ErrIncompatible)
	}
	if o == t {
		o = t.Clone().(*TopK)
	}
	t.n = satAdd(t.n, o.n)
	t.overflow = satAdd(t.overflow, o.overflow)
	if len(o.slots) == 0 {
		return nil
	}
	t.indexed()
	t.rebuild(t.merged(o))
	return nil
}

// merged returns the slots of t and o merged as TopK describes: counters of
// the same key add, a key missing from one side counts as that side's
// MaxError, and the Capacity largest sums are kept, ties broken by key. t
// must be indexed; o need not be.
func (t *TopK) merged(o *TopK) []topkSlot {
	tm, om := t.MaxError(), o.MaxError()
	all := make([]topkSlot, len(t.slots), len(t.slots)+len(o.slots))
	copy(all, t.slots)
	inO := make([]bool, len(t.slots))
	for _, os := range o.slots {
		if j, ok := t.index[os.key]; ok {
			inO[j] = true
			all[j].count = satAdd(all[j].count, os.count)
			all[j].err = satAdd(all[j].err, os.err)
			continue
		}
		if o.sharedKeys {
			os.key = strings.Clone(os.key)
		}
		all = append(all, topkSlot{os.key, satAdd(os.count, tm), satAdd(os.err, tm)})
	}
	for j, found := range inO {
		if !found {
			all[j].count = satAdd(all[j].count, om)
			all[j].err = satAdd(all[j].err, om)
		}
	}
	if len(all) > t.capacity {
		slices.SortFunc(all, func(a, b topkSlot) int {
			if c := cmp.Compare(b.count, a.count); c != 0 {
				return c
			}
			return strings.Compare(a.key, b.key)
		})
		clear(all[t.capacity:])
		all = all[:t.capacity]
	}
	return all
}

// rebuild replaces the monitored keys with slots and rebuilds the index
// and the heap.
func (t *TopK) rebuild(slots []topkSlot) {
	t.slots = slots
	t.index = make(map[string]int32, len(slots))
	t.heap = make([]int32, len(slots))
	t.pos = make([]int32, len(slots))
	for i, s := range slots {
		t.index[s.key] = int32(i)
		t.heap[i] = int32(i)
		t.pos[i] = int32(i)
	}
	for i := len(t.heap)/2 - 1; i >= 0; i-- {
		t.down(i)
	}
}

// Reset empties the TopK, keeping its parameters and its memory.
func (t *TopK) Reset() {
	clear(t.slots)
	t.slots = t.slots[:0]
	t.heap = t.heap[:0]
	t.pos = t.pos[:0]
	clear(t.index)
	t.n, t.overflow = 0, 0
	t.sharedKeys = false
}

// Clone returns a deep copy.
func (t *TopK) Clone() Stat {
	cp := &TopK{k: t.k, capacity: t.capacity, n: t.n, overflow: t.overflow, sharedKeys: t.sharedKeys}
	if t.slots != nil {
		cp.slots = slices.Clone(t.slots)
		cp.heap = slices.Clone(t.heap)
		cp.pos = slices.Clone(t.pos)
		cp.index = maps.Clone(t.index)
	}
	return cp
}

// String returns the parameters, N and the top K entries, for debugging.
func (t *TopK) String() string {
	k, c := t.params()
	var b strings.Builder
	fmt.Fprintf(&b, "topk k=%d capacity=%d n=%d [", k, c, t.n)
	for i, e := range t.Entries() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(e.Key))
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(e.Count, 10))
		if e.Err > 0 {
			b.WriteString("±")
			b.WriteString(strconv.FormatUint(e.Err, 10))
		}
	}
	b.WriteByte(']')
	return b.String()
}

// AppendBinary appends the encoding described at UnmarshalBinary.
func (t *TopK) AppendBinary(dst []byte) ([]byte, error) {
	k, c := t.params()
	dst = appendHeader(dst, KindTopK)
	dst = appendUvarint(dst, uint64(k))
	dst = appendUvarint(dst, uint64(c))
	dst = appendUvarint(dst, t.n)
	dst = appendUvarint(dst, t.overflow)
	dst = appendUvarint(dst, uint64(len(t.slots)))
	order := make([]int32, len(t.slots))
	for i := range order {
		order[i] = int32(i)
	}
	if t.index != nil { // without an index, the slots are sorted already
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(t.slots[a].key, t.slots[b].key) })
	}
	for _, i := range order {
		s := &t.slots[i]
		dst = appendUvarint(dst, uint64(len(s.key)))
		dst = append(dst, s.key...)
		dst = appendUvarint(dst, s.count)
		dst = appendUvarint(dst, s.err)
	}
	return dst, nil
}

// MarshalBinary returns AppendBinary(nil).
func (t *TopK) MarshalBinary() ([]byte, error) { return t.AppendBinary(nil) }

// topkMinEntry is the fewest bytes one encoded entry takes: a key length,
// a count and an error.
const topkMinEntry = 3

// UnmarshalBinary decodes a TopK, replacing the receiver's state and
// parameters. The receiver is unchanged on error. It never keeps b, and
// allocates only once b has been validated, in proportion to len(b) (see
// TopK's memory). The encoding, version 1:
//
//	[byte]    kind tag 10 (topk)
//	[byte]    version 1
//	[uvarint] K, 1 ≤ K ≤ capacity
//	[uvarint] capacity, K ≤ capacity ≤ MaxTopKCapacity (65536)
//	[uvarint] N, the total count
//	[uvarint] overflow: observations whose key was over MaxTopKKeyLen
//	[uvarint] entries, at most capacity and at most a third of the bytes left
//	entries times, in strictly ascending bytewise order of key:
//	  [uvarint] key length, at most MaxTopKKeyLen (256)
//	  [bytes]   key
//	  [uvarint] count, 1 ≤ count ≤ N
//	  [uvarint] error, error < count (error = count only for a count
//	            saturated at 2⁶⁴−1)
//
// The counts add up to at most N. While there are fewer entries than
// capacity every error is 0 (the counts are exact); with capacity entries
// every error is at most the smallest count (MaxError). A state that
// breaks these rules is one no sequence of observations and merges
// reaches, and is ErrCorrupt. Every entry is validated before anything is
// allocated for it; the decoded keys share one copied string.
func (t *TopK) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindTopK, encVersion)
	k := d.UvarintMax("k", MaxTopKCapacity)
	c := d.UvarintMax("capacity", MaxTopKCapacity)
	if !d.Failed() && (k < 1 || c < k) {
		d.Fail(wire.Limit, "k %d and capacity %d: want 1 ≤ k ≤ capacity", k, c)
	}
	v := TopK{k: int(k), capacity: int(c), n: d.Uvarint("n"), overflow: d.counter("overflow")}
	cnt := d.Len("entries", c, topkMinEntry)
	entries := d.Reader // the second pass starts here
	keyBytes := d.topkEntries(cnt, v.n, cnt == int(c))
	if err := d.finish(); err != nil {
		return err
	}
	if cnt > 0 {
		v.slots = readTopKEntries(&entries, cnt, keyBytes)
		v.sharedKeys = cnt > 1
	}
	*t = v
	return nil
}

// topkEntries validates cnt entries without allocating and returns the
// length of their keys together; n is the TopK's N, and full says whether
// the entries fill its capacity.
func (d *decoder) topkEntries(cnt int, n uint64, full bool) (keyBytes int) {
	var prev []byte
	var sum, maxErr uint64
	minCount := uint64(math.MaxUint64)
	for i := 0; i < cnt && !d.Failed(); i++ {
		off := d.Offset()
		key := d.LenBytes("key", MaxTopKKeyLen)
		count := d.Uvarint("count")
		e := d.Uvarint("error")
		switch {
		case d.Failed():
		case count == 0:
			d.FailAt(off, wire.Corrupt, "entry %d: count 0", i)
		case e >= count && count != math.MaxUint64:
			d.FailAt(off, wire.Corrupt, "entry %d: error %d is not below count %d", i, e, count)
		case e > 0 && !full:
			d.FailAt(off, wire.Corrupt, "entry %d: error %d with %d entries, fewer than capacity (counts are exact then)", i, e, cnt)
		case i > 0 && bytes.Compare(prev, key) >= 0:
			d.FailAt(off, wire.Corrupt, "entry %d: key %q not after %q", i, key, prev)
		}
		if sum = satAdd(sum, count); !d.Failed() && sum > n {
			d.FailAt(off, wire.Corrupt, "counts add up to more than n %d", n)
		}
		prev = key
		keyBytes += len(key)
		minCount, maxErr = min(minCount, count), max(maxErr, e)
	}
	if !d.Failed() && full && cnt > 0 && maxErr > minCount {
		d.Fail(wire.Corrupt, "an error of %d exceeds the smallest count %d", maxErr, minCount)
	}
	return keyBytes
}

// readTopKEntries reads cnt entries that topkEntries validated, copying
// their keys into one string. The slots are in key order.
func readTopKEntries(r *wire.Reader, cnt, keyBytes int) []topkSlot {
	var keys strings.Builder
	keys.Grow(keyBytes)
	rest := *r
	for range cnt {
		keys.Write(rest.LenBytes("key", MaxTopKKeyLen))
		rest.Uvarint("count")
		rest.Uvarint("error")
	}
	all, off := keys.String(), 0
	slots := make([]topkSlot, cnt)
	for i := range slots {
		l := len(r.LenBytes("key", MaxTopKKeyLen))
		slots[i] = topkSlot{key: all[off : off+l], count: r.Uvarint("count"), err: r.Uvarint("error")}
		off += l
	}
	return slots
}
