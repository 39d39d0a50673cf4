package bus_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/bus/bustest"
)

func newMemory(t *testing.T, opt bus.MemoryOptions) *bus.Memory {
	t.Helper()
	m, err := bus.NewMemory(opt)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T, c bustest.Config) bus.Bus {
		return newMemory(t, bus.MemoryOptions{Retention: c.Retention, SnapshotRetention: c.SnapshotRetention})
	})
}

func TestMemoryOptions(t *testing.T) {
	f := func(opt bus.MemoryOptions) {
		t.Helper()
		_, err := bus.NewMemory(opt)
		assert.ErrorIs(t, err, bus.ErrInvalid, "%+v", opt)
	}
	f(bus.MemoryOptions{Retention: -1})
	f(bus.MemoryOptions{SnapshotRetention: -1})
	f(bus.MemoryOptions{MaxEntries: -1})
	f(bus.MemoryOptions{MaxBytes: -1})
	f(bus.MemoryOptions{MaxMessage: -1})
	f(bus.MemoryOptions{MaxBytes: 100, MaxMessage: 101})
	f(bus.MemoryOptions{MaxBytes: 100}) // below the default MaxMessage
	_, err := bus.NewMemory(bus.MemoryOptions{MaxBytes: 100, MaxMessage: 100})
	assert.NoError(t, err)
}

func TestMemoryBounds(t *testing.T) {
	ctx := t.Context()
	t.Run("entries", func(t *testing.T) {
		m := newMemory(t, bus.MemoryOptions{MaxEntries: 3})
		for i := range 5 {
			require.NoError(t, m.PublishBatch(ctx, 0, []byte{byte(i)}))
		}
		require.NoError(t, m.PublishSnapshot(ctx, 0, []byte("{}")))
		got, err := m.ReadBatches(ctx, 0, bus.Start, 10, 0)
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, []byte{2}, got[0].Data, "the oldest are evicted")
		assert.Equal(t, bus.MemoryStats{Entries: 4, Bytes: 5, Evicted: 2}, m.Stats())
	})
	t.Run("bytes", func(t *testing.T) {
		m := newMemory(t, bus.MemoryOptions{MaxBytes: 10, MaxMessage: 10})
		for _, p := range []string{"aaaa", "bbbb", "cccc", "dddddddddd"} {
			require.NoError(t, m.PublishBatch(ctx, 1, []byte(p)))
			assert.LessOrEqual(t, m.Stats().Bytes, int64(10))
		}
		got, err := m.ReadBatches(ctx, 1, bus.Start, 10, 0)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "dddddddddd", string(got[0].Data))
		assert.Equal(t, uint64(3), m.Stats().Evicted)
		assert.ErrorIs(t, m.PublishBatch(ctx, 1, make([]byte, 11)), bus.ErrTooLarge)
	})
	t.Run("age", func(t *testing.T) {
		m := newMemory(t, bus.MemoryOptions{Retention: 50 * time.Millisecond})
		require.NoError(t, m.PublishBatch(ctx, 0, []byte("old")))
		deadline := time.Now().Add(10 * time.Second)
		for m.Stats().Expired == 0 && time.Now().Before(deadline) {
			_, err := m.ReadBatches(ctx, 0, bus.Start, 10, 10*time.Millisecond)
			require.NoError(t, err)
		}
		assert.Equal(t, bus.MemoryStats{Expired: 1}, m.Stats())
	})
	t.Run("many shards", func(t *testing.T) {
		m := newMemory(t, bus.MemoryOptions{MaxEntries: 2})
		for shard := range bus.MaxShards {
			for range 3 {
				require.NoError(t, m.PublishBatch(ctx, shard, []byte("x")))
			}
		}
		st := m.Stats()
		assert.Equal(t, 2*bus.MaxShards, st.Entries)
		assert.Equal(t, uint64(bus.MaxShards), st.Evicted)
	})
}

// TestMemoryCompaction publishes far more than a stream holds, so its
// slice is compacted many times, and checks what a follower reads.
func TestMemoryCompaction(t *testing.T) {
	ctx := t.Context()
	m := newMemory(t, bus.MemoryOptions{MaxEntries: 100})
	after := bus.Start
	next := 0
	for i := range 5000 {
		require.NoError(t, m.PublishBatch(ctx, 0, fmt.Appendf(nil, "%d", i)))
		if i%37 == 0 {
			got, err := m.ReadBatches(ctx, 0, after, 1000, 0)
			require.NoError(t, err)
			require.NotEmpty(t, got)
			// The follower keeps up, so it misses nothing.
			for _, msg := range got {
				require.Equal(t, fmt.Sprint(next), string(msg.Data))
				next++
			}
			after = got[len(got)-1].ID
		}
	}
	st := m.Stats()
	assert.Equal(t, 100, st.Entries)
	assert.Equal(t, uint64(4900), st.Evicted)
}

// TestMemoryConcurrency runs random publishers and followers on a few
// shards and the snapshot stream under the race detector: every follower
// reads its stream whole, each publisher's messages in order, and the
// bytes it reads are never written to.
func TestMemoryConcurrency(t *testing.T) {
	ctx := t.Context()
	m := newMemory(t, bus.MemoryOptions{})
	const shards, publishers, each = 3, 4, 200
	const followers = 2 * (shards + 1)
	read := func(s int, after string, max int) ([]bus.Message, error) {
		if s == shards {
			return m.ReadSnapshots(ctx, after, max, 20*time.Millisecond)
		}
		return m.ReadBatches(ctx, s, after, max, 20*time.Millisecond)
	}
	var published atomic.Bool
	var pubs, subs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			buf := make([]byte, 0, 64)
			for i := range each {
				buf = fmt.Appendf(buf[:0], "%d/%d/", p, i)
				buf = append(buf, bytes.Repeat([]byte{'x'}, rng.IntN(32))...)
				shard := rng.IntN(shards + 1)
				var err error
				if shard == shards {
					err = m.PublishSnapshot(ctx, p, buf)
				} else {
					err = m.PublishBatch(ctx, shard, buf)
				}
				assert.NoError(t, err)
				clear(buf) // reuse the buffer at once, as a receiver does
				if rng.IntN(8) == 0 {
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
				}
			}
		})
	}
	got := make([][]string, followers)
	for f := range followers {
		subs.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(f), 2))
			last := []int{-1, -1, -1, -1}
			after := bus.Start
			for {
				done := published.Load()
				msgs, err := read(f%(shards+1), after, 1+rng.IntN(20))
				if !assert.NoError(t, err) {
					return
				}
				if len(msgs) == 0 && done {
					return
				}
				for _, msg := range msgs {
					var p, i int
					_, err := fmt.Sscanf(string(msg.Data), "%d/%d/", &p, &i)
					assert.NoError(t, err, "%q", msg.Data)
					assert.Greater(t, i, last[p], "publisher %d out of order", p)
					last[p] = i
					got[f] = append(got[f], msg.ID)
					after = msg.ID
				}
			}
		})
	}
	pubs.Wait()
	published.Store(true)
	subs.Wait()

	total := 0
	for s := range shards + 1 {
		all, err := read(s, bus.Start, 10*each*publishers)
		require.NoError(t, err)
		total += len(all)
		var ids []string
		for _, msg := range all {
			ids = append(ids, msg.ID)
		}
		for f := s; f < followers; f += shards + 1 {
			assert.Equal(t, ids, got[f], "follower %d of stream %d", f, s)
		}
	}
	assert.Equal(t, publishers*each, total)
}

// TestMemoryDataShared documents ownership: readers share the stored
// bytes (no copy per read), which the bus never changes, and an append
// to them cannot reach the next entry.
func TestMemoryDataShared(t *testing.T) {
	ctx := t.Context()
	m := newMemory(t, bus.MemoryOptions{})
	require.NoError(t, m.PublishBatch(ctx, 0, []byte("abc")))
	require.NoError(t, m.PublishBatch(ctx, 0, []byte("def")))
	a, err := m.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	b, err := m.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	assert.Same(t, &a[0].Data[0], &b[0].Data[0], "reads share the stored bytes")
	assert.Equal(t, len(a[0].Data), cap(a[0].Data), "no spare capacity to append into")
	_ = append(a[0].Data, 'x')
	c, err := m.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(c[0].Data))
	assert.Equal(t, "def", string(c[1].Data))
}

func TestMemoryReadAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ctx := t.Context()
	m := newMemory(t, bus.MemoryOptions{})
	require.NoError(t, m.PublishBatch(ctx, 0, []byte("abc")))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.ReadBatches(ctx, 0, bus.Start, 10, 0); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 1.0, "one []Message per read")
}
