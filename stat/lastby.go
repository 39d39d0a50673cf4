package stat

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of LastBy.
const (
	// DefaultLastByKeys is the number of partitions a LastBy keeps when
	// LastByConfig.MaxKeys is 0, and in the zero LastBy.
	DefaultLastByKeys = 10000
	// MaxLastByKeys is the largest LastByConfig.MaxKeys, 2²⁰.
	MaxLastByKeys = 1 << 20
	// MaxLastByKeyLen is the longest partition key, in bytes, that a LastBy
	// keeps. Longer keys are ignored and counted.
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
// Error bound: exact per partition. A partition's observation is replaced by
// a later one; at an equal time the larger value wins (+0 over −0), so the
// value kept never depends on the order of observations and merges. Sum and
// Mean add the partitions' values with Neumaier summation: exact while the
// values and partial sums are integers below 2⁵³, and otherwise within
// 2⁻⁵⁰·Σ|x| (the order of the partitions may differ between equal states,
// so the last bits may too).
//
// Memory: at most MaxKeys partitions (DefaultLastByKeys = 10 000, at most
// MaxLastByKeys = 2²⁰), each about 100 bytes plus its key (≤
// MaxLastByKeyLen = 1 KiB): about 1 MB at the default with short keys. An
// empty LastBy is 80 bytes and allocates nothing until its first key.
//
// Eviction: when a new key arrives and MaxKeys partitions are held, the
// partition with the oldest time is dropped (at equal times, the one with
// the bytewise smallest key), which may be the new key itself, and Evicted
// counts one. So a LastBy always holds the MaxKeys partitions that rank
// latest by (time, key) among those offered to it. Merging offers each of
// other's partitions in the same way. Because a partition's rank only grows
// and a full LastBy's lowest rank never falls, the partitions and values
// that a set of observations leaves after any order of observations and
// merges are exactly the MaxKeys latest partitions of the whole stream, each
// with its latest value: eviction loses partitions, never correctness of
// the rest, and never order independence. Only Evicted depends on the order
// (how many drops happened on the way); it is a diagnostic, merged by sum.
//
// NaN and ±Inf values, times outside 1677-09-21 … 2262-04-11 and keys
// longer than MaxLastByKeyLen are ignored and counted (see Ignored).
// Key bytes are copied: callers may reuse their buffers.
//
// Cost: an observation of an existing key does not allocate; a later time
// moves the partition in an index ordered by (time, key), O(log n). A new
// key allocates its copy.
//
// The zero value is an empty LastBy with DefaultLastByKeys, ready to use;
// NewLastBy sets other parameters.
// A LastBy is not safe for concurrent use; callers shard or lock. Reads do
// not modify it.
type LastBy struct {
	maxKeys int // 0 means DefaultLastByKeys

	index   map[string]int32 // key → position in entries
	entries []lastByEntry    // the partitions, in no particular order
	heap    []int32          // entry positions, a min-heap by (t, key)

	ignored, evicted uint64
}

// lastByEntry is one partition: its key, latest time and value, and its
// position in LastBy.heap.
type lastByEntry struct {
	key  string
	t    int64
	v    float64
	heap int32
}

// NewLastBy returns an empty LastBy with the given parameters. MaxKeys
// outside 0 … MaxLastByKeys is an error wrapping ErrLimit.
func NewLastBy(cfg LastByConfig) (*LastBy, error) {
	if cfg.MaxKeys < 0 || cfg.MaxKeys > MaxLastByKeys {
		return nil, fmt.Errorf("stat: new lastby: max keys %d is outside 0 (default) … %d: %w", cfg.MaxKeys, MaxLastByKeys, ErrLimit)
	}
	s := new(LastBy)
	if cfg.MaxKeys != DefaultLastByKeys {
		s.maxKeys = cfg.MaxKeys
	}
	return s, nil
}

// MaxKeys returns the most partitions the LastBy keeps.
func (s *LastBy) MaxKeys() int {
	if s.maxKeys == 0 {
		return DefaultLastByKeys
	}
	return s.maxKeys
}

// ObserveAt offers the value v of partition key at event time t. It
// replaces the partition's value when t is later (at an equal time, when v
// is larger). A new key may evict a partition (see LastBy). NaN, ±Inf,
// times out of range and keys longer than MaxLastByKeyLen are ignored and
// counted. key is copied when it is kept.
func (s *LastBy) ObserveAt(key []byte, t time.Time, v float64) {
	ns, ok := obsNano(t)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || len(key) > MaxLastByKeyLen {
		s.ignored++
		return
	}
	if i, ok := s.index[string(key)]; ok {
		s.update(i, ns, v)
		return
	}
	s.insert(string(key), ns, v)
}

// update offers (t, v) to the existing partition at entries[i].
func (s *LastBy) update(i int32, t int64, v float64) {
	e := &s.entries[i]
	if !later(t, v, e.t, e.v) {
		return
	}
	moved := t != e.t
	e.t, e.v = t, v
	if moved {
		s.down(int(e.heap))
	}
}

// insert offers a partition whose key is not held.
func (s *LastBy) insert(key string, t int64, v float64) {
	if len(s.entries) < s.MaxKeys() {
		if s.index == nil {
			s.index = make(map[string]int32)
		}
		i := int32(len(s.entries))
		s.entries = append(s.entries, lastByEntry{key: key, t: t, v: v, heap: int32(len(s.heap))})
		s.heap = append(s.heap, i)
		s.index[key] = i
		s.up(len(s.heap) - 1)
		return
	}
	s.evicted++
	root := &s.entries[s.heap[0]]
	if t < root.t || (t == root.t && key < root.key) {
		return // the new partition ranks lowest: it is the one dropped
	}
	delete(s.index, root.key)
	root.key, root.t, root.v = key, t, v
	s.index[key] = s.heap[0]
	s.down(0)
}

// before reports whether heap slot i ranks below slot j by (t, key).
func (s *LastBy) before(i, j int) bool {
	a, b := &s.entries[s.heap[i]], &s.entries[s.heap[j]]
	return a.t < b.t || (a.t == b.t && a.key < b.key)
}

func (s *LastBy) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.entries[s.heap[i]].heap = int32(i)
	s.entries[s.heap[j]].heap = int32(j)
}

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
func (s *LastBy) Count(since time.Time) int {
	_, n := s.sumCount(sinceNano(since))
	return n
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
	i, ok := s.index[string(key)]
	if !ok {
		return time.Time{}, 0, false
	}
	e := &s.entries[i]
	return time.Unix(0, e.t).UTC(), e.v, true
}

// Len returns the number of partitions held.
func (s *LastBy) Len() int { return len(s.entries) }

// Ignored returns how many observations were ignored (NaN or ±Inf values,
// times out of range, keys too long), including those of merged stats.
func (s *LastBy) Ignored() uint64 { return s.ignored }

// Evicted returns how many partitions were dropped to stay within MaxKeys,
// by observations and merges, including those counted by merged stats.
// Unlike the partitions, the count depends on the order of observations
// and merges.
func (s *LastBy) Evicted() uint64 { return s.evicted }

// Kind returns KindLastBy.
func (s *LastBy) Kind() Kind { return KindLastBy }

// Merge offers each of other's partitions to the receiver (see LastBy for
// eviction) and adds its counters. other must be a *LastBy with the same
// MaxKeys, except that a receiver with the default MaxKeys and no
// partitions adopts other's, and an other with the default MaxKeys and no
// partitions only adds its counters; other combinations of different
// MaxKeys are an error wrapping ErrIncompatible.
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
			s.ignored += s.ignored
			s.evicted += s.evicted
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
	for i := range o.entries {
		e := &o.entries[i]
		if j, ok := s.index[e.key]; ok {
			s.update(j, e.t, e.v)
		} else {
			s.insert(e.key, e.t, e.v) // strings are immutable: sharing is safe
		}
	}
	s.ignored += o.ignored
	s.evicted += o.evicted
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
	slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(s.entries[a].key, s.entries[b].key) })
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
	return appendUvarint(dst, s.evicted), nil
}

// MarshalBinary returns AppendBinary(nil).
func (s *LastBy) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// lastByMinEntry is the fewest bytes one encoded partition takes: a key
// length, a time varint and a float.
const lastByMinEntry = 1 + 1 + 8

// UnmarshalBinary decodes a LastBy, replacing the receiver's state and
// parameters. The receiver is unchanged on error. It never keeps b. The
// encoding, version 1:
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
//	[uvarint]    evicted partitions
func (s *LastBy) UnmarshalBinary(b []byte) error {
	d := newDecoder(b, KindLastBy)
	maxKeys := int(d.uvarint("max keys", MaxLastByKeys))
	if d.err == nil && maxKeys == 0 {
		d.off--
		d.fail(ErrLimit, "max keys 0 is below 1")
	}
	n := d.count("partitions", uint64(maxKeys), lastByMinEntry)
	var v LastBy
	if d.err == nil && n > 0 {
		v.entries = make([]lastByEntry, 0, n)
		v.heap = make([]int32, 0, n)
		v.index = make(map[string]int32, n)
	}
	var prev []byte
	for i := 0; i < n && d.err == nil; i++ {
		off := d.off
		key := d.bytesN("key", MaxLastByKeyLen)
		t := d.obsTime("time")
		f := d.float("value")
		if d.err != nil {
			break
		}
		if i > 0 && string(key) <= string(prev) {
			d.off = off
			d.fail(ErrCorrupt, "partition %d key %q does not follow key %q (keys must be sorted and distinct)", i, key, prev)
			break
		}
		prev = key
		k := string(key)
		v.index[k] = int32(i)
		v.entries = append(v.entries, lastByEntry{key: k, t: t, v: f, heap: int32(i)})
		v.heap = append(v.heap, int32(i))
	}
	v.ignored = d.uvarint("ignored", math.MaxUint64)
	v.evicted = d.uvarint("evicted", math.MaxUint64)
	if err := d.finish(); err != nil {
		return err
	}
	for i := len(v.heap)/2 - 1; i >= 0; i-- {
		v.down(i)
	}
	if maxKeys != DefaultLastByKeys {
		v.maxKeys = maxKeys
	}
	*s = v
	return nil
}
