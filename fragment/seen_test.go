package fragment

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSeen(t *testing.T) {
	type add struct {
		source string
		seq    uint64
		want   bool
	}
	tests := []struct {
		name  string
		adds  []add
		stale uint64
	}{
		{"first is new, repeat is not", []add{{"a", 5, true}, {"a", 5, false}}, 0},
		{"sources are separate", []add{{"a", 5, true}, {"b", 5, true}, {"b", 5, false}}, 0},
		{"out of order within the window", []add{{"a", 10, true}, {"a", 8, true}, {"a", 9, true}, {"a", 8, false}, {"a", 10, false}}, 0},
		{"gap then fill", []add{{"a", 1, true}, {"a", 1000, true}, {"a", 500, true}, {"a", 500, false}}, 0},
		{"oldest remembered seq", []add{{"a", SeenWindow + 10, true}, {"a", 11, true}, {"a", 11, false}}, 0},
		{"too old is stale", []add{{"a", SeenWindow + 10, true}, {"a", 10, false}}, 1},
		{"bits from a lap ago are cleared", []add{{"a", 3, true}, {"a", 3 + SeenWindow, true}, {"a", 3 + 2*SeenWindow - 1, true}, {"a", 3 + 2*SeenWindow - 2, true}}, 0},
		{"a long jump forgets everything below", []add{{"a", 7, true}, {"a", 7 + 5*SeenWindow, true}, {"a", 7 + 5*SeenWindow - 1, true}, {"a", 7, false}}, 1},
		{"seq zero", []add{{"a", 0, true}, {"a", 0, false}, {"a", 1, true}}, 0},
		{"max seq", []add{{"a", ^uint64(0), true}, {"a", ^uint64(0), false}, {"a", ^uint64(0) - 1, true}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Seen
			for i, a := range tt.adds {
				assert.Equal(t, a.want, s.Add(a.source, a.seq), "add %d (%s, %d)", i, a.source, a.seq)
			}
			assert.Equal(t, tt.stale, s.Stale())
		})
	}
}

// TestSeenModel checks Seen against an exact set on random at-least-once
// deliveries: redelivered seqs within the window are always recognised.
func TestSeenModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := NewSeen(16)
	applied := map[string]map[uint64]bool{}
	high := map[string]uint64{}
	for range 200_000 {
		src := fmt.Sprintf("recv.%d", r.IntN(8))
		if applied[src] == nil {
			applied[src] = map[uint64]bool{}
		}
		seq := high[src] + 1
		if r.IntN(3) == 0 && high[src] > 0 { // a redelivery or a delayed batch
			seq = high[src] - uint64(r.IntN(int(min(high[src], 2*SeenWindow))))
		}
		got := s.Add(src, seq)
		inWindow := seq+SeenWindow > high[src]
		switch {
		case applied[src][seq]:
			assert.False(t, got, "%s seq %d applied twice", src, seq)
		case inWindow:
			assert.True(t, got, "%s seq %d is new", src, seq)
		default:
			assert.False(t, got, "%s seq %d is too old to tell", src, seq)
		}
		if got {
			applied[src][seq] = true
		}
		high[src] = max(high[src], seq)
	}
	assert.Equal(t, 8, s.Len())
	assert.NotZero(t, s.Stale())
}

func TestSeenEviction(t *testing.T) {
	s := NewSeen(2)
	assert.True(t, s.Add("a", 1))
	assert.True(t, s.Add("b", 1))
	assert.False(t, s.Add("a", 1)) // a is now the most recent
	assert.True(t, s.Add("c", 1))  // evicts b
	assert.Equal(t, 2, s.Len())
	assert.False(t, s.Add("a", 1), "a was kept")
	assert.True(t, s.Add("b", 1), "b was forgotten, so it is new again")
	assert.Equal(t, 2, s.Len())
}

func TestSeenConcurrency(t *testing.T) {
	s := NewSeen(64)
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				// Every goroutine delivers the same 4 × 500 batches in a
				// random order: each must be new exactly once.
				if s.Add(fmt.Sprintf("r%d", r.IntN(4)), uint64(r.IntN(500))) {
					fresh.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	seen := 0
	for src := range 4 {
		for seq := range 500 {
			if !s.Add(fmt.Sprintf("r%d", src), uint64(seq)) {
				seen++
			}
		}
	}
	assert.Equal(t, int64(seen), fresh.Load(), "each batch new exactly once")
}
