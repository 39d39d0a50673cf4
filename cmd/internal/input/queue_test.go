package input

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueueBounds(t *testing.T) {
	t.Run("jobs", func(t *testing.T) {
		q := NewQueue(QueueConfig{Jobs: 2, Bytes: 1 << 20})
		for i := range 2 {
			require.True(t, q.TryPut(NewJob(InputFile, []byte("a\n"))), "put %d", i)
		}
		j := NewJob(InputFile, []byte("b\n"))
		assert.False(t, q.TryPut(j), "third job in a queue of 2")
		j.Release()
		assert.Equal(t, 2, q.Len())
		assert.EqualValues(t, 4, q.Bytes())
	})
	t.Run("batch size", func(t *testing.T) {
		q := NewQueue(QueueConfig{Jobs: 100, Bytes: 100})
		require.True(t, q.TryPut(Job{Input: InputOTLP, Batch: "decoded", Size: 60}))
		assert.False(t, q.TryPut(Job{Input: InputOTLP, Batch: "decoded", Size: 41}), "101 bytes over a budget of 100")
		assert.EqualValues(t, 60, q.Bytes())
		got, ok := q.TryGet()
		require.True(t, ok)
		assert.Equal(t, "decoded", got.Batch)
		assert.EqualValues(t, 0, q.Bytes())
		got.Release()
		assert.Nil(t, got.Batch)
	})
	t.Run("bytes", func(t *testing.T) {
		q := NewQueue(QueueConfig{Jobs: 100, Bytes: 10})
		require.True(t, q.TryPut(NewJob(InputFile, []byte("123456\n"))))
		j := NewJob(InputFile, []byte("7890\n"))
		assert.False(t, q.TryPut(j), "12 bytes over a budget of 10")
		require.True(t, q.TryPut(NewJob(InputFile, []byte("78\n"))), "exactly 10 bytes")
		assert.EqualValues(t, 10, q.Bytes())
		got, ok := q.TryGet()
		require.True(t, ok)
		assert.Equal(t, "123456\n", string(got.Data))
		got.Release()
		assert.True(t, q.TryPut(j), "room again")
		assert.Equal(t, 2, q.Len())
		assert.EqualValues(t, 8, q.Bytes())
	})
	t.Run("oversized job into an empty queue", func(t *testing.T) {
		q := NewQueue(QueueConfig{Jobs: 10, Bytes: 4})
		require.True(t, q.TryPut(NewJob(InputFile, []byte("longer than four\n"))))
		j := NewJob(InputFile, []byte("x"))
		assert.False(t, q.TryPut(j), "over budget while the big one is queued")
		j.Release()
	})
	t.Run("defaults", func(t *testing.T) {
		q := NewQueue(QueueConfig{})
		assert.Equal(t, DefaultQueueJobs, cap(q.jobs))
		assert.EqualValues(t, DefaultQueueBytes, q.maxBytes)
	})
}

func TestQueueGetWaits(t *testing.T) {
	q := NewQueue(QueueConfig{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, ok := q.Get(ctx)
	assert.False(t, ok, "Get on an empty queue returns when ctx ends")

	done := make(chan Job)
	go func() {
		j, _ := q.Get(t.Context())
		done <- j
	}()
	require.True(t, q.TryPut(NewJob(InputSyslog, []byte("x\n"))))
	j := <-done
	assert.Equal(t, "x\n", string(j.Data))
	assert.Equal(t, InputSyslog, j.Input)
	assert.Equal(t, -1, j.MsgCount)
	j.Release()
	assert.Nil(t, j.Data)
	j.Release() // a second Release does nothing
}

func TestQueuePutWaits(t *testing.T) {
	q := NewQueue(QueueConfig{Jobs: 1})
	require.True(t, q.TryPut(NewJob(InputFile, []byte("1\n"))))

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	j := NewJob(InputFile, []byte("2\n"))
	require.ErrorIs(t, q.Put(ctx, j), context.DeadlineExceeded)

	put := make(chan error, 1)
	go func() { put <- q.Put(t.Context(), j) }()
	select {
	case err := <-put:
		t.Fatalf("Put returned %v on a full queue", err)
	case <-time.After(20 * time.Millisecond):
	}
	first, ok := q.TryGet()
	require.True(t, ok)
	first.Release()
	require.NoError(t, <-put)
	second, ok := q.TryGet()
	require.True(t, ok)
	assert.Equal(t, "2\n", string(second.Data))
	second.Release()
}

// TestQueueConcurrency runs producers (some waiting, some not) and
// consumers at random, and checks that every job put is got once and
// the counts return to zero.
func TestQueueConcurrency(t *testing.T) {
	q := NewQueue(QueueConfig{Jobs: 8, Bytes: 200})
	const producers, perProducer = 4, 500
	var put, got, gotBytes, putBytes atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(p), 1))
			buf := make([]byte, 64)
			for range perProducer {
				n := 1 + r.IntN(len(buf))
				j := NewJob(InputFile, buf[:n])
				if p%2 == 0 {
					require.NoError(t, q.Put(t.Context(), j))
				} else if !q.TryPut(j) {
					j.Release()
					continue
				}
				put.Add(1)
				putBytes.Add(int64(n))
			}
		}()
	}
	var cg sync.WaitGroup
	for c := range 3 {
		cg.Add(1)
		go func() {
			defer cg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 2))
			for {
				j, ok := q.Get(ctx)
				if !ok {
					return
				}
				assert.LessOrEqual(t, q.Bytes(), int64(200))
				got.Add(1)
				gotBytes.Add(int64(len(j.Data)))
				j.Release()
				if r.IntN(4) == 0 {
					time.Sleep(time.Duration(r.IntN(50)) * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return q.Len() == 0 }, 5*time.Second, 10*time.Millisecond, "the queue to empty")
	cancel()
	cg.Wait()
	assert.Equal(t, put.Load(), got.Load())
	assert.Equal(t, putBytes.Load(), gotBytes.Load())
	assert.GreaterOrEqual(t, put.Load(), int64(producers/2*perProducer))
	assert.Zero(t, q.Bytes())
}

func TestQueueAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	q := NewQueue(QueueConfig{})
	data := make([]byte, 3000)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		j := NewJob(InputDrain, data)
		if !q.TryPut(j) {
			t.Fatal("full")
		}
		j, _ = q.Get(ctx)
		j.Release()
	})
	assert.Zero(t, allocs, "allocations per job through the queue")
}

func TestBufferClasses(t *testing.T) {
	f := func(n, wantCap int) {
		t.Helper()
		b := getBuffer(n)
		assert.Equal(t, wantCap, cap(b.b), "getBuffer(%d)", n)
		assert.Zero(t, len(b.b))
		putBuffer(b)
	}
	f(0, 1<<10)
	f(1, 1<<10)
	f(1<<10, 1<<10)
	f(1<<10+1, 2<<10)
	f(100<<10, 128<<10)
	f(2<<20, 2<<20)
	f(2<<20+1, 2<<20+1) // past the largest class: exact, not pooled
}
