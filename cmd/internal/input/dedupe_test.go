package input

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func yes() bool { return true }

func TestFrameIDs(t *testing.T) {
	f := newFrameIDs(2, 3)
	accept := func(token, id string) (dup, ok bool) {
		dup, ok, _ = f.acceptOnce(token, id, yes)
		return dup, ok
	}
	dup, ok := accept("a", "1")
	assert.True(t, ok)
	assert.False(t, dup)
	assert.True(t, f.seen("a", "1"))
	assert.False(t, f.seen("b", "1"), "ids are per token")
	dup, _ = accept("a", "1")
	assert.True(t, dup)

	// Not recorded when put refuses.
	dup, ok, _ = f.acceptOnce("a", "2", func() bool { return false })
	assert.False(t, dup)
	assert.False(t, ok)
	assert.False(t, f.seen("a", "2"))

	// The ring keeps the last 3 ids.
	accept("a", "2")
	accept("a", "3")
	assert.True(t, f.seen("a", "1"))
	accept("a", "4")
	assert.False(t, f.seen("a", "1"), "oldest id forgotten")
	for _, id := range []string{"2", "3", "4"} {
		assert.True(t, f.seen("a", id), id)
	}

	// Two tokens at most; the least recently used goes.
	accept("b", "1")
	accept("a", "5") // a is now the most recent
	_, _, evicted := f.acceptOnce("c", "1", yes)
	assert.Equal(t, 1, evicted)
	assert.Equal(t, 2, f.len())
	assert.False(t, f.seen("b", "1"), "b evicted")
	assert.True(t, f.seen("a", "5"))
	assert.True(t, f.seen("c", "1"))
	assert.False(t, f.seen("c", "2"), "a reused ring starts empty")
}

func TestFrameIDsConcurrency(t *testing.T) {
	f := newFrameIDs(16, 512)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[string]int{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				token := fmt.Sprint("d.", i%8)
				id := fmt.Sprint(i) // every goroutine offers every id
				_, ok, _ := f.acceptOnce(token, id, yes)
				if ok {
					mu.Lock()
					accepted[token+"/"+id]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, accepted, 400)
	for k, n := range accepted {
		assert.Equal(t, 1, n, "%s accepted %d times", k, n)
	}
	assert.LessOrEqual(t, f.len(), 16)
}
