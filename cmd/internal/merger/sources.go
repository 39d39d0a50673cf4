package merger

import (
	"slices"
	"time"
)

// Limits of the sources a merger follows.
const (
	// maxSources caps the sources followed, as fragment.Seen caps those
	// it remembers: past it, the source heard from least recently is
	// forgotten.
	maxSources = 4096
	// maxGaps caps the gaps kept open per source: past it, the oldest is
	// counted missing at once.
	maxGaps = 64
	// sourceExpire is how long a source is followed after its last batch:
	// a receiver that was stopped, or restarted under a new boot id. A
	// source that comes back later is new, and its batches missed
	// meanwhile are not counted.
	sourceExpire = 10 * time.Minute
	// liveSpan is how recent a source's last batch must be to count in
	// pulse.merger.<shard>.sources.
	liveSpan = 10 * time.Second
)

// sources follows the receivers' sources in a merger's stream, for two of
// its own figures: the batches missing from each source's sequence
// (pulse.merger.<shard>.missing) and the sources heard from within the
// last 10 s (pulse.merger.<shard>.sources).
//
// A receiver numbers its cuts 1, 2, 3, ... and sends every shard a batch
// on every cut, so a gap in a source's sequence is a batch this shard
// never got: dropped by the receiver (its bus was down or slow) or lost
// on the bus (a Redis that died holding it). A batch can come after a
// later one (a Redis that was stuck answers its queued commands in its
// own order), so a gap is counted only once it has stayed open for the
// merger's delay. The first batch of a source sets where its sequence
// starts: what a merger never saw the start of (it started after the
// receiver) is not counted.
//
// A sources is owned by the merger's goroutine.
type sources struct {
	delay time.Duration // how long a gap may wait to be filled
	m     map[string]*source
}

type source struct {
	high uint64    // highest seq applied
	seen time.Time // the merger's clock at its latest batch
	gaps []gap     // seqs below high not applied yet, oldest first
}

// gap is the seqs from through to, missing since at.
type gap struct {
	from, to uint64
	at       time.Time
}

func newSources(delay time.Duration) *sources {
	return &sources{delay: delay, m: make(map[string]*source)}
}

// add records a batch of name's, seq seq, applied at now, and returns
// the seqs it counts missing at once (gaps past maxGaps, or a forgotten
// source's open gaps).
func (s *sources) add(name string, seq uint64, now time.Time) (missing uint64) {
	src := s.m[name]
	if src == nil {
		if len(s.m) >= maxSources {
			missing += s.forgetOldest()
		}
		s.m[name] = &source{high: seq, seen: now}
		return missing
	}
	src.seen = now
	switch {
	case seq > src.high+1:
		src.gaps = append(src.gaps, gap{from: src.high + 1, to: seq - 1, at: now})
		if len(src.gaps) > maxGaps {
			missing += src.gaps[0].to - src.gaps[0].from + 1
			src.gaps = slices.Delete(src.gaps, 0, 1)
		}
		src.high = seq
	case seq == src.high+1:
		src.high = seq
	default:
		src.fill(seq)
	}
	return missing
}

// fill takes seq out of the open gaps, where it was missing.
func (src *source) fill(seq uint64) {
	for i, g := range src.gaps {
		if seq < g.from || seq > g.to {
			continue
		}
		switch {
		case g.from == g.to:
			src.gaps = slices.Delete(src.gaps, i, i+1)
		case seq == g.from:
			src.gaps[i].from++
		case seq == g.to:
			src.gaps[i].to--
		default:
			src.gaps = slices.Insert(src.gaps, i+1, gap{from: seq + 1, to: g.to, at: g.at})
			src.gaps[i].to = seq - 1
			if len(src.gaps) > maxGaps {
				// Counted at the next commit, as if it had aged.
				src.gaps[0].at = time.Time{}
			}
		}
		return
	}
}

// commit counts the gaps open for the delay at now as missing, and
// forgets the sources not heard from for sourceExpire.
func (s *sources) commit(now time.Time) (missing uint64) {
	for name, src := range s.m {
		n := 0
		for _, g := range src.gaps {
			if now.Sub(g.at) >= s.delay {
				missing += g.to - g.from + 1
				n++
				continue
			}
			break // gaps open in order
		}
		src.gaps = slices.Delete(src.gaps, 0, n)
		if now.Sub(src.seen) > sourceExpire {
			missing += src.open()
			delete(s.m, name)
		}
	}
	return missing
}

// open returns the seqs of src's open gaps.
func (src *source) open() (n uint64) {
	for _, g := range src.gaps {
		n += g.to - g.from + 1
	}
	return n
}

// forgetOldest forgets the source heard from least recently and returns
// its open gaps.
func (s *sources) forgetOldest() uint64 {
	var oldest string
	var at time.Time
	for name, src := range s.m {
		if oldest == "" || src.seen.Before(at) {
			oldest, at = name, src.seen
		}
	}
	n := s.m[oldest].open()
	delete(s.m, oldest)
	return n
}

// live returns how many sources sent a batch in the liveSpan up to now.
func (s *sources) live(now time.Time) int {
	n := 0
	for _, src := range s.m {
		if now.Sub(src.seen) < liveSpan {
			n++
		}
	}
	return n
}
