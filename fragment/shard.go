package fragment

import (
	"time"

	"github.com/pulsehq/pulse/window"
)

// FNV-1a 64-bit parameters (FNV offset basis and prime).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// Shard returns the merger shard, in [0, n), that owns the stat named
// name: the 64-bit FNV-1a hash of the name's bytes, modulo n. The
// function is part of the wire contract: every receiver and merger, in
// any process and any version of this module, computes the same shard for
// the same name and n. An n below 1 is treated as 1.
func Shard(name string, n int) int {
	if n <= 1 {
		return 0
	}
	h := uint64(fnvOffset64)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= fnvPrime64
	}
	return int(h % uint64(n))
}

// Batches groups a cut's deltas by Shard(name, n) into n batches, index i
// for shard i, each with the given source, seq and time, and encodes every
// stat once. A shard with no deltas gets a batch with no fragments, so
// that every shard sees every seq; a caller may skip sending those. The
// stats' bytes of all batches share one buffer. An n below 1 is treated
// as 1.
func Batches(source string, seq uint64, at time.Time, deltas []window.Delta, n int) ([]Batch, error) {
	n = max(n, 1)
	counts := make([]int, n)
	shards := make([]int, len(deltas))
	for i := range deltas {
		s := Shard(deltas[i].Name, n)
		shards[i] = s
		counts[s]++
	}
	batches := make([]Batch, n)
	frags := make([]Fragment, len(deltas))
	for s := range batches {
		batches[s] = Batch{Source: source, Seq: seq, Time: at, Fragments: frags[:0:counts[s]]}
		frags = frags[counts[s]:]
	}
	var buf []byte
	for i := range deltas {
		var f Fragment
		var err error
		buf, f, err = NewFragment(buf, deltas[i])
		if err != nil {
			return nil, err
		}
		b := &batches[shards[i]]
		b.Fragments = append(b.Fragments, f)
	}
	return batches, nil
}
