package stat

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/internal/wire"
)

// Limits of LastBy.
const (
	// DefaultLastByKeys is the number of partitions a LastBy keeps when
	// LastByConfig.MaxKeys is 0, and in the zero LastBy.
	DefaultLastByKeys = 10000
	// MaxLastByKeys is the largest LastByConfig.MaxKeys, 2²⁰.
	MaxLastByKeys = 1 << 20
	// MaxLastByKeyLen is the longest partition key, in bytes, that a LastBy
	// keeps. Longer keys are left out and counted (see LastBy.Overflow).
	MaxLastByKeyLen = 1024
)

// LastByConfig holds the parameters of a LastBy. The zero value gives the
// defaults.
type LastByConfig struct {
	// MaxKeys bounds the number of partitions kept, from 1 to
	// MaxLastByKeys. 0 means DefaultLastByKeys.
	MaxKeys int
}

// LastBy keeps the latest value, with its event time, of each partition
// key (for example each dyno's latest memory_total), and reads the sum, mean
// or count over the partitions whose latest observation falls in a window
// (see Sum for the boundary).
//
// Error bound: exact per partition, for the partitions held (see Overflow
// for those that are not). A partition's observation is replaced by a later
// one; at an equal time the larger value wins (+0 over −0), so the value
// kept never depends on the order of observations and merges. Sum and Mean
// add the partitions' values with Neumaier summation: exact while the
// values and partial sums are integers below 2⁵³, and otherwise within
// 2⁻⁵⁰·Σ|x| (the order of the partitions may differ between equal states,
// so the last bits may too).
//
// Memory: at most MaxKeys partitions (DefaultLastByKeys = 10 000, at most
// MaxLastByKeys = 2²⁰), each about 100 bytes plus its key (≤
// MaxLastByKeyLen = 1 KiB): 111 bytes a partition with 8-byte keys at 10 000
// partitions, 1.1 MB (TestLastByMemory holds it under 128). An empty LastBy
// is 80 bytes and allocates nothing until its first key. A decoded LastBy
// holds its partitions in 32 bytes each plus one copy of the keys, at most
// 4 times the bytes it was decoded from (TestLastByDecodeMemory): the index
// that finds a key and the heap that finds the oldest are built by the
// first observation or merge into it, which a LastBy decoded only to be
// merged into another never needs.
//
// Overflow: when a new key arrives and MaxKeys partitions are held, the
// partition with the oldest time is dropped (at equal times, the one with
// the bytewise smallest key), which may be the new key itself, and
// Overflow counts one; so does an observation whose key is longer than
// MaxLastByKeyLen. A Sum or Mean read from a LastBy whose Overflow is not
// zero covers only the partitions held. So a LastBy always holds the
// MaxKeys partitions that rank latest by (time, key) among those offered
// to it. Merging offers each of other's partitions in the same way.
// Because a partition's rank only grows and a full LastBy's lowest rank
// never falls, the partitions and values that a set of observations leaves
// after any order of observations and merges are exactly the MaxKeys latest
// partitions of the whole stream, each with its latest value: dropping
// loses partitions, never correctness of the rest, and never order
// independence. Only the Overflow count depends on the order (how many
// drops happened on the way; a dropped partition that comes back and is
// dropped again counts again), so it says that partitions were left out,
// not how many distinct ones; it is merged by sum.
//
// NaN and ±Inf values and times outside 1677-09-21 … 2262-04-11 are
// ignored and counted (see Ignored).
// Key bytes are copied: callers may reuse their buffers.
//
// Cost: an observation of an existing key is a map lookup and does not
// allocate. The index that finds the oldest partition (a heap by time and
// key) is brought up to date lazily, when an eviction needs it: amortized
// O(log n) per eviction and per partition that moved. A new key allocates
// its copy.
//
// The zero value is an empty LastBy with DefaultLastByKeys, ready to use;
// NewLastBy sets other parameters.
// A LastBy is not safe for concurrent use; callers shard or lock. Reads do
// not modify it.
type LastBy struct {
	maxKeys int32 // 0 means DefaultLastByKeys
	// sharedKeys is set when the keys are substrings of one decoded
	// string: a merge copies the keys it takes from such a LastBy, so that
	// a key held does not keep a whole decoded input alive.
	sharedKeys bool

	// entries are the partitions. While index is nil (an empty or a
	// decoded LastBy) they are in strictly increasing key order and heap is
	// nil; indexed builds both.
	entries []lastByEntry
	index   map[string]int32 // key → position in entries
	// heap holds every entry once, a min-heap by (t, key) where t is the
	// entry's time when it was last placed; an entry's time only grows, so
	// a root whose time is current is the oldest partition.
	heap []lastByHeapItem

	ignored, overflow uint64
}

// lastByEntry is one partition: its key, latest time and value.
type lastByEntry struct {
	key string
	t   int64
	v   float64
}

// lastByHeapItem places entries[i] in LastBy.heap at time t.
type lastByHeapItem struct {
	t int64
	i int32
}

// NewLastBy returns an empty LastBy with the given parameters. MaxKeys
// outside 0 … MaxLastByKeys is an error wrapping ErrLimit.
func NewLastBy(cfg LastByConfig) (*LastBy, error) {
	if cfg.MaxKeys < 0 || cfg.MaxKeys > MaxLastByKeys {
		return nil, fmt.Errorf("stat: new lastby: max keys %d is outside 0 (default) … %d: %w", cfg.MaxKeys, MaxLastByKeys, ErrLimit)
	}
	s := new(LastBy)
	if cfg.MaxKeys != DefaultLastByKeys {
		s.maxKeys = int32(cfg.MaxKeys)
	}
	return s, nil
}

// MaxKeys returns the most partitions the LastBy keeps.
func (s *LastBy) MaxKeys() int {
	if s.maxKeys == 0 {
		return DefaultLastByKeys
	}
	return int(s.maxKeys)
}

// ObserveAt offers the value v of partition key at event time t. It
// replaces the partition's value when t is later (at an equal time, when v
// is larger). A new key may drop a partition (see LastBy). NaN, ±Inf and
// times out of range are ignored and counted; keys longer than
// MaxLastByKeyLen are left out and counted as Overflow. key is copied when
// it is kept.
func (s *LastBy) ObserveAt(key []byte, t time.Time, v float64) {
	ns, ok := obsNano(t)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		s.ignored = satAdd(s.ignored, 1)
		return
	}
	if len(key) > MaxLastByKeyLen {
		s.overflow = satAdd(s.overflow, 1)
		return
	}
	s.indexed()
	if i, ok := s.index[string(key)]; ok {
		s.update(i, ns, v)
		return
	}
	if len(s.entries) >= s.MaxKeys() {
		if old := s.oldest(); ns < old.t || (ns == old.t && string(key) < old.key) {
			s.overflow = satAdd(s.overflow, 1) // dropped before its key is copied
			return
		}
	}
	s.insert(string(key), ns, v)
}

// indexed builds the index and the heap of a LastBy that has partitions
// but no index (a decoded one).
func (s *LastBy) indexed() {
	if s.index != nil || len(s.entries) == 0 {
		return
	}
	s.index = make(map[string]int32, len(s.entries))
	s.heap = make([]lastByHeapItem, len(s.entries))
	for i := range s.entries {
		s.index[s.entries[i].key] = int32(i)
		s.heap[i] = lastByHeapItem{t: s.entries[i].t, i: int32(i)}
	}
	for i := len(s.heap)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}

// find returns the position of key in entries, without building the index
// (reads do not modify a LastBy): a lookup, or a binary search of the
// sorted entries of a LastBy that has no index.
func (s *LastBy) find(key []byte) (int32, bool) {
	if s.index != nil {
		i, ok := s.index[string(key)]
		return i, ok
	}
	i, ok := slices.BinarySearchFunc(s.entries, key, func(e lastByEntry, k []byte) int {
		return strings.Compare(e.key, string(k))
	})
	return int32(i), ok
}

// oldest returns the partition that ranks lowest by (time, key), first
// bringing the heap's root up to date. The LastBy must not be empty.
func (s *LastBy) oldest() *lastByEntry {
	for s.heap[0].t != s.entries[s.heap[0].i].t {
		s.heap[0].t = s.entries[s.heap[0].i].t
		s.down(0)
	}
	return &s.entries[s.heap[0].i]
}

// update offers (t, v) to the existing partition at entries[i].
func (s *LastBy) update(i int32, t int64, v float64) {
	if e := &s.entries[i]; later(t, v, e.t, e.v) {
		e.t, e.v = t, v
	}
}

// insert offers a partition whose key is not held.
func (s *LastBy) insert(key string, t int64, v float64) {
	if len(s.entries) < s.MaxKeys() {
		if s.index == nil {
			s.index = make(map[string]int32)
		}
		i := int32(len(s.entries))
		s.entries = append(s.entries, lastByEntry{key: key, t: t, v: v})
		s.heap = append(s.heap, lastByHeapItem{t: t, i: i})
		s.index[key] = i
		s.up(len(s.heap) - 1)
		return
	}
	s.overflow = satAdd(s.overflow, 1)
	root := s.oldest()
	if t < root.t || (t == root.t && key < root.key) {
		return // the new partition ranks lowest: it is the one dropped
	}
	delete(s.index, root.key)
	root.key, root.t, root.v = key, t, v
	s.index[key] = s.heap[0].i
	s.heap[0].t = t
	s.down(0)
}

// before reports whether heap slot i ranks below slot j by (t, key).
func (s *LastBy) before(i, j int) bool {
	a, b := s.heap[i], s.heap[j]
	return a.t < b.t || (a.t == b.t && s.entries[a.i].key < s.entries[b.i].key)
}

func (s *LastBy) swap(i, j int) { s.heap[i], s.heap[j] = s.heap[j], s.heap[i] }

func (s *LastBy) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !s.before(j, i) {
			return
		}
		s.swap(i, j)
		j = i
	}
}

func (s *LastBy) down(i int) {
	n := len(s.heap)
	for {
		j := 2*i + 1
		if j >= n {
			return
		}
		if r := j + 1; r < n && s.before(r, j) {
			j = r
		}
		if !s.before(j, i) {
			return
		}
		s.swap(i, j)
		i = j
	}
}

// Sum returns the sum of the latest values of the partitions whose latest
// observation is at or after since (time ≥ since, inclusive; a zero since
// takes every partition). It is 0 when there are none.
func (s *LastBy) Sum(since time.Time) float64 {
	sum, _ := s.sumCount(sinceNano(since))
	return sum
}

// Mean returns the mean of the latest values of the partitions whose latest
// observation is at or after since (inclusive, as for Sum), and false when
// there are none.
func (s *LastBy) Mean(since time.Time) (float64, bool) {
	sum, n := s.sumCount(sinceNano(since))
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// Count returns the number of partitions whose latest observation is at or
// after since (inclusive, as for Sum).
func (s *LastBy) Count(since time.Time) uint64 {
	_, n := s.sumCount(sinceNano(since))
	return uint64(n)
}

func (s *LastBy) sumCount(since int64) (float64, int) {
	var sum, comp float64
	n := 0
	for i := range s.entries {
		if e := &s.entries[i]; e.t >= since {
			sum, comp = neumaier(sum, comp, e.v)
			n++
		}
	}
	return sum + comp, n
}

// Last returns the latest value of partition key with its event time in
// UTC, and ok false when the partition is not held.
func (s *LastBy) Last(key []byte) (t time.Time, v float64, ok bool) {
	i, ok := s.find(key)
	if !ok {
		return time.Time{}, 0, false
	}
	e := &s.entries[i]
	return time.Unix(0, e.t).UTC(), e.v, true
}

// Len returns the number of partitions held.
func (s *LastBy) Len() int { return len(s.entries) }

// Ignored returns how many observations were ignored (NaN or ±Inf values,
// times out of range), including those of merged stats.
func (s *LastBy) Ignored() uint64 { return s.ignored }

// Overflow returns how many partitions were dropped to stay within
// MaxKeys, by observations and merges, plus how many observations were
// left out because their key was longer than MaxLastByKeyLen, including
// those counted by merged stats. When it is not zero, Sum, Mean and Count
// cover only the partitions held. Unlike the partitions, the count depends
// on the order of observations and merges (see LastBy).
func (s *LastBy) Overflow() uint64 { return s.overflow }

// Kind returns KindLastBy.
func (s *LastBy) Kind() Kind { return KindLastBy }

// Merge offers each of other's partitions to the receiver (see LastBy for
// what a full LastBy drops) and adds its counters. other must be a *LastBy
// with the same MaxKeys, except that a receiver with the default MaxKeys
// and no partitions adopts other's, and an other with the default MaxKeys
// and no partitions only adds its counters; other combinations of
// different MaxKeys are an error wrapping ErrIncompatible.
func (s *LastBy) Merge(other Stat) error {
	if other == nil {
		return nil
	}
	o, ok := other.(*LastBy)
	if !ok {
		return incompatible(KindLastBy, other)
	}
	if o == nil || o == s {
		if o == s {
			s.ignored = satAdd(s.ignored, s.ignored)
			s.overflow = satAdd(s.overflow, s.overflow)
		}
		return nil
	}
	if s.MaxKeys() != o.MaxKeys() {
		switch {
		case s.maxKeys == 0 && len(s.entries) == 0:
			s.maxKeys = o.maxKeys
		case o.maxKeys == 0 && len(o.entries) == 0:
		default:
			return fmt.Errorf("stat: merge lastby max keys %d with max keys %d: %w", s.MaxKeys(), o.MaxKeys(), ErrIncompatible)
		}
	}
	s.indexed()
	for i := range o.entries {
		e := &o.entries[i]
		if j, ok := s.index[e.key]; ok {
			s.update(j, e.t, e.v)
		} else if o.sharedKeys {
			s.insert(strings.Clone(e.key), e.t, e.v)
		} else {
			s.insert(e.key, e.t, e.v) // strings are immutable: sharing is safe
		}
	}
	s.ignored = satAdd(s.ignored, o.ignored)
	s.overflow = satAdd(s.overflow, o.overflow)
	return nil
}

// Reset drops every partition, releasing their memory, and zeroes the
// counters. MaxKeys is kept.
func (s *LastBy) Reset() { *s = LastBy{maxKeys: s.maxKeys} }

// Clone returns a deep copy.
func (s *LastBy) Clone() Stat {
	cp := *s
	cp.index = maps.Clone(s.index)
	cp.entries = slices.Clone(s.entries)
	cp.heap = slices.Clone(s.heap)
	return &cp
}

// String returns the number of partitions and their sum, for debugging.
func (s *LastBy) String() string {
	sum, n := s.sumCount(math.MinInt64)
	return "lastby " + strconv.Itoa(n) + " partitions sum " + strconv.FormatFloat(sum, 'g', -1, 64)
}

// sorted returns the entry positions in bytewise key order.
func (s *LastBy) sorted() []int32 {
	idx := make([]int32, len(s.entries))
	for i := range idx {
		idx[i] = int32(i)
	}
	if s.index != nil { // without an index, entries are sorted already
		slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(s.entries[a].key, s.entries[b].key) })
	}
	return idx
}

// AppendBinary appends the encoding described at UnmarshalBinary.
func (s *LastBy) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, KindLastBy)
	dst = appendUvarint(dst, uint64(s.MaxKeys()))
	dst = appendUvarint(dst, uint64(len(s.entries)))
	if len(s.entries) > 0 {
		for _, i := range s.sorted() {
			e := &s.entries[i]
			dst = appendUvarint(dst, uint64(len(e.key)))
			dst = append(dst, e.key...)
			dst = appendVarint(dst, e.t)
			dst = appendFloat(dst, e.v)
		}
	}
	dst = appendUvarint(dst, s.ignored)
	return appendUvarint(dst, s.overflow), nil
}

// MarshalBinary returns AppendBinary(nil).
func (s *LastBy) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// lastByMinEntry is the fewest bytes one encoded partition takes: a key
// length, a time varint and a float.
const lastByMinEntry = 1 + 1 + 8

// UnmarshalBinary decodes a LastBy, replacing the receiver's state and
// parameters. The receiver is unchanged on error. It never keeps b, and
// allocates only once b has been validated, in proportion to len(b) (see
// LastBy's memory). The encoding, version 1:
//
//	[byte]       kind tag 7 (lastby)
//	[byte]       version 1
//	[uvarint]    max keys, 1 … MaxLastByKeys (2²⁰)
//	[uvarint]    number of partitions n, ≤ max keys and ≤ the bytes left ÷ 10
//	n × partition, keys strictly increasing bytewise (sorted, no duplicates):
//	  [uvarint]    key length, ≤ MaxLastByKeyLen (1024)
//	  [bytes]      key
//	  [varint]     event time in Unix nanoseconds, zig-zag, within
//	               −9223372036·10⁹ … 9223372035999999999
//	  [float64 LE] value, finite
//	[uvarint]    ignored observations
//	[uvarint]    overflow: partitions dropped and observations with keys
//	             too long (releases before Overflow called this count
//	             "evicted" and counted keys too long as ignored)
func (s *LastBy) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindLastBy, encVersion)
	maxKeys := d.lastByMaxKeys()
	n := d.Len("partitions", uint64(maxKeys), lastByMinEntry)
	parts := d.Reader // the second pass starts here
	keyBytes := d.lastByPartitions(n)
	ignored := d.counter("ignored")
	overflow := d.counter("overflow")
	if err := d.finish(); err != nil {
		return err
	}
	v := LastBy{entries: readLastByPartitions(&parts, n, keyBytes), ignored: ignored, overflow: overflow, sharedKeys: n > 1}
	if maxKeys != DefaultLastByKeys {
		v.maxKeys = int32(maxKeys)
	}
	*s = v
	return nil
}

// lastByMaxKeys reads LastBy's max keys, 1 … MaxLastByKeys.
func (d *decoder) lastByMaxKeys() int {
	off := d.Offset()
	maxKeys := int(d.UvarintMax("max keys", MaxLastByKeys))
	if !d.Failed() && maxKeys == 0 {
		d.FailAt(off, wire.Limit, "max keys 0 is below 1")
	}
	return maxKeys
}

// lastByPartitions validates n partitions without allocating, and returns
// the length of their keys together.
func (d *decoder) lastByPartitions(n int) (keyBytes int) {
	var prev []byte
	for i := 0; i < n && !d.Failed(); i++ {
		off := d.Offset()
		key := d.LenBytes("key", MaxLastByKeyLen)
		d.obsTime("time")
		d.float("value")
		if !d.Failed() && i > 0 && string(key) <= string(prev) {
			d.FailAt(off, wire.Corrupt, "partition %d key %q does not follow key %q (keys must be sorted and distinct)", i, key, prev)
		}
		prev = key
		keyBytes += len(key)
	}
	return keyBytes
}

// readLastByPartitions reads n partitions that lastByPartitions validated,
// copying their keys into one string.
func readLastByPartitions(r *wire.Reader, n, keyBytes int) []lastByEntry {
	if n == 0 {
		return nil
	}
	var keys strings.Builder
	keys.Grow(keyBytes)
	rest := *r
	for range n {
		keys.Write(rest.LenBytes("key", MaxLastByKeyLen))
		rest.Varint("time")
		rest.Float64("value")
	}
	all, off := keys.String(), 0
	entries := make([]lastByEntry, n)
	for i := range entries {
		l := len(r.LenBytes("key", MaxLastByKeyLen))
		entries[i] = lastByEntry{key: all[off : off+l], t: r.Varint("time"), v: r.Float64("value")}
		off += l
	}
	return entries
}
