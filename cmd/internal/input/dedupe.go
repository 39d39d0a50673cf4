package input

import (
	"hash/maphash"
	"sync"
)

// frameIDs remembers the most recent Logplex-Frame-Ids accepted from each
// drain token, to spot a retried request. It keeps at most maxTokens
// tokens, forgetting the least recently used one to make room, and the
// last perToken ids of each in a ring. Tokens and ids are kept as 64-bit
// hashes (maphash, a random seed per process), so memory is fixed whatever
// their length: about (64 + 8·perToken) bytes a token. Two different ids
// of one token collide with probability 2⁻⁶⁴ per pair, which would drop a
// body as a duplicate; no attacker can aim at that without the seed.
//
// A frameIDs is safe for use by multiple goroutines.
type frameIDs struct {
	seed      maphash.Seed
	maxTokens int
	perToken  int

	mu     sync.Mutex
	tokens map[uint64]*tokenIDs
	// The tokens in a list from the most recently used (head) to the
	// least (tail).
	head, tail *tokenIDs
}

// tokenIDs is one token's ring of recent frame ids.
type tokenIDs struct {
	key        uint64
	ids        []uint64
	next       int // where the next id goes
	n          int // ids held, up to len(ids)
	prev, succ *tokenIDs
}

func newFrameIDs(maxTokens, perToken int) *frameIDs {
	return &frameIDs{
		seed:      maphash.MakeSeed(),
		maxTokens: maxTokens,
		perToken:  perToken,
		tokens:    make(map[uint64]*tokenIDs),
	}
}

// seen reports whether id was recorded for token.
func (f *frameIDs) seen(token, id string) bool {
	tk, h := maphash.String(f.seed, token), maphash.String(f.seed, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[tk]
	return t != nil && t.has(h)
}

// acceptOnce calls put unless id was recorded for token already, and
// records id when put reports true. It returns dup when id was recorded,
// accepted for put's answer, and how many tokens were forgotten to make
// room (0 or 1). put runs under f's lock, so it must not block: it is a
// Queue.TryPut.
func (f *frameIDs) acceptOnce(token, id string, put func() bool) (dup, accepted bool, evicted int) {
	tk, h := maphash.String(f.seed, token), maphash.String(f.seed, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[tk]
	if t != nil && t.has(h) {
		return true, false, 0
	}
	if !put() {
		return false, false, 0
	}
	if t == nil {
		if len(f.tokens) >= f.maxTokens {
			t = f.tail
			f.unlink(t)
			delete(f.tokens, t.key)
			t.next, t.n = 0, 0
			evicted = 1
		} else {
			t = &tokenIDs{ids: make([]uint64, f.perToken)}
		}
		t.key = tk
		f.tokens[tk] = t
	} else {
		f.unlink(t)
	}
	f.pushFront(t)
	t.ids[t.next] = h
	t.next = (t.next + 1) % len(t.ids)
	t.n = min(t.n+1, len(t.ids))
	return false, true, evicted
}

// len returns the number of tokens held.
func (f *frameIDs) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

func (t *tokenIDs) has(h uint64) bool {
	for _, v := range t.ids[:t.n] {
		if v == h {
			return true
		}
	}
	return false
}

func (f *frameIDs) unlink(t *tokenIDs) {
	if t.prev != nil {
		t.prev.succ = t.succ
	} else {
		f.head = t.succ
	}
	if t.succ != nil {
		t.succ.prev = t.prev
	} else {
		f.tail = t.prev
	}
	t.prev, t.succ = nil, nil
}

func (f *frameIDs) pushFront(t *tokenIDs) {
	t.succ = f.head
	if f.head != nil {
		f.head.prev = t
	}
	f.head = t
	if f.tail == nil {
		f.tail = t
	}
}
