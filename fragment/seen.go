package fragment

import (
	"container/list"
	"sync"
)

// SeenWindow is how many recent sequence numbers per source Seen
// remembers individually, below the highest one seen.
const SeenWindow = 1024

// DefaultSeenSources is the number of sources a zero Seen remembers.
const DefaultSeenSources = 4096

// Seen recognises batches already applied, by (source, seq), so that a
// transport that delivers at least once still merges exactly once.
//
// Per source it keeps the highest seq seen and a bitmap of the SeenWindow
// seqs below it. A seq more than SeenWindow below the highest is too old
// to tell and is reported as seen (dropped), and counted by Stale. Seen
// remembers at most its capacity of sources and forgets the least recently
// active beyond that; a forgotten source that comes back is new again, so
// the capacity must exceed the number of live receivers. Memory: about
// 250 bytes plus the source's length per source, 1 MiB at the default
// 4096 sources with short names.
//
// A Source must be unique per process incarnation (host, pid and start
// time, for example): a restarted receiver that reused its identity and
// started again at seq 0 would see its batches dropped as stale.
//
// The zero Seen is ready to use with DefaultSeenSources. A Seen is safe
// for use by multiple goroutines.
type Seen struct {
	mu    sync.Mutex
	cap   int
	m     map[string]*list.Element
	lru   list.List // front: most recent; values *seenSource
	stale uint64
}

type seenSource struct {
	source string
	high   uint64
	bits   [SeenWindow / 64]uint64 // bit seq%SeenWindow for seqs in (high−SeenWindow, high]
}

// NewSeen returns a Seen that remembers up to sources sources; sources < 1
// means DefaultSeenSources.
func NewSeen(sources int) *Seen { return &Seen{cap: sources} }

// Add records (source, seq) and reports whether it is new: true the first
// time, false for a batch already applied or too old to tell.
func (s *Seen) Add(source string, seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		if s.cap < 1 {
			s.cap = DefaultSeenSources
		}
		s.m = make(map[string]*list.Element)
	}
	if e, ok := s.m[source]; ok {
		s.lru.MoveToFront(e)
		return e.Value.(*seenSource).add(seq, &s.stale)
	}
	if s.lru.Len() >= s.cap {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.m, old.Value.(*seenSource).source)
	}
	src := &seenSource{source: source, high: seq}
	src.set(seq)
	s.m[source] = s.lru.PushFront(src)
	return true
}

func (src *seenSource) set(seq uint64) { src.bits[seq/64%(SeenWindow/64)] |= 1 << (seq % 64) }
func (src *seenSource) has(seq uint64) bool {
	return src.bits[seq/64%(SeenWindow/64)]&(1<<(seq%64)) != 0
}
func (src *seenSource) clear(seq uint64) { src.bits[seq/64%(SeenWindow/64)] &^= 1 << (seq % 64) }

func (src *seenSource) add(seq uint64, stale *uint64) bool {
	switch {
	case seq > src.high:
		if seq-src.high >= SeenWindow {
			src.bits = [SeenWindow / 64]uint64{}
		} else {
			for q := src.high + 1; q < seq; q++ {
				src.clear(q)
			}
		}
		src.high = seq
		src.set(seq)
		return true
	case src.high-seq >= SeenWindow:
		*stale++
		return false
	case src.has(seq):
		return false
	default:
		src.set(seq)
		return true
	}
}

// Stale returns how many batches were reported as seen because their seq
// was too far below their source's highest.
func (s *Seen) Stale() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stale
}

// Len returns the number of sources remembered.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}
