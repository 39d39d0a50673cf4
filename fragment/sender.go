package fragment

import (
	"fmt"
	"time"

	"github.com/pulsehq/pulse/window"
)

// Sender is a receiver's side of the wire in one call: at every flush,
// Cut takes the deltas of its set and encodes one batch per merger shard.
// It numbers the cuts of its source 1, 2, 3, … and reuses its buffers, so
// a steady receiver allocates little beyond the stats the cut hands out.
//
// A Sender is not safe for concurrent use; a receiver with several sets
// (one per worker) gives each its own Sender and its own source.
type Sender struct {
	source string
	shards int
	lim    Limits
	seq    uint64

	deltas []window.Delta
	shard  []int      // per delta
	counts []int      // per shard
	next   []int      // per shard: where its next fragment goes
	frags  []Fragment // grouped by shard
	stats  []byte     // the stats' bytes
}

// NewSender returns a Sender for a receiver named source (unique per
// process incarnation: see Batch.Source) that sends to shards merger
// shards (below 1 means 1), encoding under limits (nil means the
// defaults).
func NewSender(source string, shards int, limits *Limits) *Sender {
	s := &Sender{source: source, shards: max(shards, 1)}
	if limits != nil {
		s.lim = *limits
	}
	s.lim = s.lim.withDefaults()
	return s
}

// Seq returns the sequence number of the latest cut, 0 before the first.
func (s *Sender) Seq() uint64 { return s.seq }

// Source returns the name the Sender's batches carry.
func (s *Sender) Source() string { return s.source }

// Cut takes every delta of set (window.Set.Cut) and, when set has a
// window.ManualClock, then advances set to now, so that nothing leaves
// retention uncut: a live receiver calls Cut at every flush with the wall
// clock, and nothing else moves its clock. It returns one encoded batch
// per shard, index i for shard i (Shard), with the source, the next
// sequence number and now as the batch's time, appending each batch to
// dst[i][:0] when dst has such an element, so that a caller that hands
// the previous result back reuses its buffers (once the bytes are sent).
//
// Every shard gets a batch on every cut, with no fragments when the cut
// had none of its stats: about 30 bytes that tell a merger the receiver
// is alive and how far its clock has got, and that keep every shard's
// sequence numbers the same. Send them all.
//
// On error (a delta whose stat will not encode, a time outside the years
// 1678–2262, or a batch over the limits) the cut's deltas are lost, since
// they were taken from the set, and the sequence number is not reused;
// the error wraps ErrInvalid or ErrLimit.
func (s *Sender) Cut(set *window.Set, now time.Time, dst [][]byte) ([][]byte, error) {
	s.deltas = set.Cut(s.deltas[:0])
	if set.Clock() == window.ManualClock {
		_ = set.Advance(now) // a ManualClock set: cannot fail
	}
	s.seq++
	defer clear(s.deltas) // the stats are ours to drop once encoded
	if err := s.group(); err != nil {
		return dst, err
	}
	if cap(dst) < s.shards {
		dst = append(dst[:cap(dst)], make([][]byte, s.shards-cap(dst))...)
	}
	dst = dst[:s.shards]
	b := Batch{Source: s.source, Seq: s.seq, Time: now}
	frags := s.frags
	for i := range s.shards {
		b.Fragments = frags[:s.counts[i]]
		frags = frags[s.counts[i]:]
		out, err := b.AppendBinaryLimits(dst[i][:0], s.lim)
		if err != nil {
			return dst, fmt.Errorf("fragment: cut %d of %q for shard %d: %w", s.seq, s.source, i, err)
		}
		dst[i] = out
	}
	return dst, nil
}

// group encodes the deltas' stats and sorts the fragments by shard,
// keeping the cut's order within a shard.
func (s *Sender) group() error {
	if cap(s.counts) < s.shards {
		s.counts = make([]int, s.shards)
	}
	s.counts = s.counts[:s.shards]
	clear(s.counts)
	s.shard = s.shard[:0]
	for i := range s.deltas {
		sh := Shard(s.deltas[i].Name, s.shards)
		s.shard = append(s.shard, sh)
		s.counts[sh]++
	}
	if cap(s.next) < s.shards+1 {
		s.next = make([]int, s.shards+1)
	}
	next := s.next[:s.shards+1]
	next[0] = 0
	for sh, n := range s.counts {
		next[sh+1] = next[sh] + n
	}
	if cap(s.frags) < len(s.deltas) {
		s.frags = make([]Fragment, len(s.deltas))
	}
	s.frags = s.frags[:len(s.deltas)]
	s.stats = s.stats[:0]
	for i := range s.deltas {
		var f Fragment
		var err error
		s.stats, f, err = NewFragment(s.stats, s.deltas[i])
		if err != nil {
			return err
		}
		sh := s.shard[i]
		s.frags[next[sh]] = f
		next[sh]++
	}
	return nil
}
