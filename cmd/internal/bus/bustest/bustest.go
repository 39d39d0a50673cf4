// Package bustest checks that a bus.Bus keeps the bus contract, as
// testing/fstest checks a file system: every implementation's tests call
// Run.
package bustest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
)

// Config asks newBus for a bus with particular settings. Zero fields mean
// the implementation's defaults.
type Config struct {
	// Retention and SnapshotRetention are the buses' retentions.
	Retention         time.Duration
	SnapshotRetention time.Duration
}

// long is a block no test should wait out: a read that gets there has
// missed its wake-up.
const long = 30 * time.Second

// Run runs the contract as parallel subtests of t. newBus returns a new,
// empty bus with the settings of c, whose default MaxMessage is
// bus.DefaultMaxMessage, and closes it when its t ends; it is called
// from several goroutines at once.
func Run(t *testing.T, newBus func(t *testing.T, c Config) bus.Bus) {
	tests := []struct {
		name string
		run  func(t *testing.T, newBus func(t *testing.T, c Config) bus.Bus)
	}{
		{"PublishReadOrder", testOrder},
		{"AfterPosition", testAfter},
		{"InvalidArguments", testInvalid},
		{"AtBackfill", testAt},
		{"BlockingReadWakes", testWake},
		{"BlockTimeout", testBlockTimeout},
		{"ContextDone", testContext},
		{"Max", testMax},
		{"ShardsIndependent", testShards},
		{"Snapshots", testSnapshots},
		{"Payloads", testPayloads},
		{"TooLarge", testTooLarge},
		{"Retention", testRetention},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newBus)
		})
	}
}

func testOrder(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	want := publishBatches(t, b, 0, "a", "b", "c", "d", "e")
	got, err := b.ReadBatches(ctx, 0, bus.Start, 100, 0)
	require.NoError(t, err)
	assertMessages(t, want, got)
	assertIncreasing(t, got)
	for _, m := range got {
		assert.Equal(t, 0, m.Shard)
		_, err := bus.PositionTime(m.ID)
		assert.NoError(t, err, "ID %q", m.ID)
	}

	again, err := b.ReadBatches(ctx, 0, bus.Start, 100, 0)
	require.NoError(t, err)
	assert.Equal(t, got, again, "reading does not consume")
}

func testAfter(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	publishBatches(t, b, 0, "a", "b", "c", "d")
	all, err := b.ReadBatches(ctx, 0, bus.Start, 100, 0)
	require.NoError(t, err)
	require.Len(t, all, 4)

	f := func(after string, want []bus.Message) {
		t.Helper()
		got, err := b.ReadBatches(ctx, 0, after, 100, 0)
		require.NoError(t, err, "after %q", after)
		assertMessages(t, want, got)
	}
	f(bus.Start, all)
	f("0", all)
	f(all[0].ID, all[1:])
	f(all[1].ID, all[2:])
	f(all[3].ID, nil)
	// A position between entries: just below the third entry's.
	f(before(t, all[2].ID), all[2:])
	// Positions need not be IDs of entries.
	f("18446744073709551615-18446744073709551615", nil)
}

func testInvalid(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	publishBatches(t, b, 0, "a")
	for _, after := range []string{"", "x", "1-", "-1", "1-x", "1-2-3", "$", "+", "-", ">", " 1-0", "+1-0", "1_000-0", "18446744073709551616-0"} {
		_, err := b.ReadBatches(ctx, 0, after, 10, 0)
		assert.ErrorIs(t, err, bus.ErrInvalid, "batches after %q", after)
		_, err = b.ReadSnapshots(ctx, after, 10, 0)
		assert.ErrorIs(t, err, bus.ErrInvalid, "snapshots after %q", after)
	}
	for _, max := range []int{0, -1} {
		_, err := b.ReadBatches(ctx, 0, bus.Start, max, 0)
		assert.ErrorIs(t, err, bus.ErrInvalid, "max %d", max)
		_, err = b.ReadSnapshots(ctx, bus.Start, max, 0)
		assert.ErrorIs(t, err, bus.ErrInvalid, "max %d", max)
	}
	for _, shard := range []int{-1, bus.MaxShards} {
		assert.ErrorIs(t, b.PublishBatch(ctx, shard, []byte("x")), bus.ErrInvalid, "shard %d", shard)
		assert.ErrorIs(t, b.PublishSnapshot(ctx, shard, []byte("{}")), bus.ErrInvalid, "shard %d", shard)
		_, err := b.ReadBatches(ctx, shard, bus.Start, 10, 0)
		assert.ErrorIs(t, err, bus.ErrInvalid, "shard %d", shard)
	}
	// The largest shard is valid.
	require.NoError(t, b.PublishBatch(ctx, bus.MaxShards-1, []byte("x")))
	got, err := b.ReadBatches(ctx, bus.MaxShards-1, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, bus.MaxShards-1, got[0].Shard)
}

func testAt(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	assert.Equal(t, bus.Start, bus.At(time.Time{}))
	assert.Equal(t, bus.Start, bus.At(time.Unix(0, 0)))

	first := publishBatches(t, b, 0, "old")
	all, err := b.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, all, 1)
	oldAt, err := bus.PositionTime(all[0].ID)
	require.NoError(t, err)
	// Let the clock leave the old entry's millisecond: a wait on the
	// clock, which nothing can signal.
	waitPast(t, oldAt)
	since := time.Now()
	want := publishBatches(t, b, 0, "new1", "new2")

	f := func(at time.Time, want []bus.Message) {
		t.Helper()
		got, err := b.ReadBatches(ctx, 0, bus.At(at), 10, 0)
		require.NoError(t, err, "At(%v) = %q", at, bus.At(at))
		assertMessages(t, want, got)
	}
	f(since, want)
	f(oldAt, append(first, want...)) // the entry's own millisecond is in
	f(oldAt.Add(999*time.Microsecond), append(first, want...))
	f(oldAt.Add(-time.Millisecond), append(first, want...))
	f(time.Time{}, append(first, want...))
	f(time.Now().Add(time.Hour), nil)

	p := bus.At(since)
	pt, err := bus.PositionTime(p)
	require.NoError(t, err)
	assert.Equal(t, since.UnixMilli()-1, pt.UnixMilli(), "At(t) is in the millisecond before t's")
}

func testWake(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	for _, tc := range []struct {
		name    string
		read    func(after string) ([]bus.Message, error)
		publish func(data string) error
	}{
		{"batches",
			func(after string) ([]bus.Message, error) { return b.ReadBatches(ctx, 5, after, 10, long) },
			func(data string) error { return b.PublishBatch(ctx, 5, []byte(data)) }},
		{"snapshots",
			func(after string) ([]bus.Message, error) { return b.ReadSnapshots(ctx, after, 10, long) },
			func(data string) error { return b.PublishSnapshot(ctx, 5, []byte(data)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := bus.Start
			for round := range 3 {
				data := fmt.Sprintf(`{"round":%d}`, round)
				start := time.Now()
				got := make(chan []bus.Message, 1)
				go func() {
					msgs, err := tc.read(after)
					assert.NoError(t, err)
					got <- msgs
				}()
				// Give the read time to block; the test passes whether or
				// not it has, but only a blocked read tests the wake-up.
				time.Sleep(50 * time.Millisecond)
				require.NoError(t, tc.publish(data))
				select {
				case msgs := <-got:
					require.Len(t, msgs, 1)
					assert.Equal(t, data, string(msgs[0].Data))
					after = msgs[0].ID
				case <-time.After(10 * time.Second):
					t.Fatalf("round %d: blocked read not woken by a publish", round)
				}
				assert.Less(t, time.Since(start), long/2)
			}
		})
	}
}

func testBlockTimeout(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	const block = 200 * time.Millisecond
	publishBatches(t, b, 0, "a")
	all, err := b.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, all, 1)

	f := func(name string, read func(block time.Duration) ([]bus.Message, error)) {
		t.Helper()
		start := time.Now()
		got, err := read(block)
		elapsed := time.Since(start)
		require.NoError(t, err, name)
		assert.Empty(t, got, name)
		assert.GreaterOrEqual(t, elapsed, block-20*time.Millisecond, "%s: returned before the block", name)
		assert.Less(t, elapsed, block+5*time.Second, "%s: returned long after the block", name)

		start = time.Now()
		for _, nb := range []time.Duration{0, -time.Second} {
			got, err = read(nb)
			require.NoError(t, err, "%s: block %v", name, nb)
			assert.Empty(t, got, "%s: block %v", name, nb)
		}
		assert.Less(t, time.Since(start), 5*time.Second, "%s: block ≤ 0 waited", name)
	}
	f("empty stream", func(block time.Duration) ([]bus.Message, error) {
		return b.ReadBatches(ctx, 1, bus.Start, 10, block)
	})
	f("after the last entry", func(block time.Duration) ([]bus.Message, error) {
		return b.ReadBatches(ctx, 0, all[0].ID, 10, block)
	})
	f("snapshots", func(block time.Duration) ([]bus.Message, error) {
		return b.ReadSnapshots(ctx, bus.Start, 10, block)
	})
	// A block under a millisecond still blocks (Redis's BLOCK 0 would
	// wait forever).
	got, err := b.ReadBatches(ctx, 1, bus.Start, 10, time.Microsecond)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func testContext(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b := newBus(t, Config{})
	t.Run("cancel", func(t *testing.T) {
		for name, read := range readers(b) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			got, err := read(ctx, long)
			assert.ErrorIs(t, err, context.Canceled, name)
			assert.Empty(t, got, name)
			assert.Less(t, time.Since(start), 2*time.Second, "%s: cancel not prompt", name)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		for name, read := range readers(b) {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			start := time.Now()
			_, err := read(ctx, long)
			cancel()
			assert.ErrorIs(t, err, context.DeadlineExceeded, name)
			assert.Less(t, time.Since(start), 2*time.Second, "%s: deadline not prompt", name)
		}
	})
	t.Run("done before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for name, read := range readers(b) {
			_, err := read(ctx, long)
			assert.ErrorIs(t, err, context.Canceled, name)
		}
		assert.ErrorIs(t, b.PublishBatch(ctx, 0, []byte("x")), context.Canceled)
		assert.ErrorIs(t, b.PublishSnapshot(ctx, 0, []byte("{}")), context.Canceled)
		got, err := b.ReadBatches(t.Context(), 0, bus.Start, 10, 0)
		require.NoError(t, err)
		assert.Empty(t, got, "a publish with a done context stores nothing")
	})
}

func testMax(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	payloads := make([]string, 10)
	for i := range payloads {
		payloads[i] = strconv.Itoa(i)
	}
	want := publishBatches(t, b, 0, payloads...)
	got, err := b.ReadBatches(ctx, 0, bus.Start, 3, long)
	require.NoError(t, err)
	assertMessages(t, want[:3], got)
	got, err = b.ReadBatches(ctx, 0, bus.Start, 1, long)
	require.NoError(t, err)
	assertMessages(t, want[:1], got)

	var all []bus.Message
	after := bus.Start
	for range 10 {
		page, err := b.ReadBatches(ctx, 0, after, 3, 0)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		assert.LessOrEqual(t, len(page), 3)
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	assertMessages(t, want, all)
	assertIncreasing(t, all)
}

func testShards(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	want := map[int][]bus.Message{
		0: publishBatches(t, b, 0, "0a", "0b"),
		1: publishBatches(t, b, 1, "1a"),
		7: publishBatches(t, b, 7, "7a", "7b", "7c"),
	}
	for shard, w := range want {
		got, err := b.ReadBatches(ctx, shard, bus.Start, 100, 0)
		require.NoError(t, err)
		assertMessages(t, w, got)
		for _, m := range got {
			assert.Equal(t, shard, m.Shard)
		}
	}
	got, err := b.ReadSnapshots(ctx, bus.Start, 100, 0)
	require.NoError(t, err)
	assert.Empty(t, got, "batches are not snapshots")

	// A read blocked on shard 2 is not woken by other shards.
	done := make(chan []bus.Message, 1)
	go func() {
		msgs, err := b.ReadBatches(ctx, 2, bus.Start, 10, 300*time.Millisecond)
		assert.NoError(t, err)
		done <- msgs
	}()
	for i := range 5 {
		require.NoError(t, b.PublishBatch(ctx, 3, []byte{byte(i)}))
		require.NoError(t, b.PublishSnapshot(ctx, 2, []byte("{}")))
	}
	select {
	case msgs := <-done:
		assert.Empty(t, msgs)
	case <-time.After(10 * time.Second):
		t.Fatal("read on shard 2 did not time out")
	}
}

func testSnapshots(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	snaps := []struct {
		shard int
		json  string
	}{
		{0, `{"time":"2026-01-02T03:04:05Z","stats":{"router.requests":12.5}}`},
		{3, `{"time":"2026-01-02T03:04:05Z","stats":{"router.service":{"p50":12,"p99":340}}}`},
		{0, `{"time":"2026-01-02T03:04:06Z","stats":{"router.requests":13}}`},
	}
	for _, s := range snaps {
		require.NoError(t, b.PublishSnapshot(ctx, s.shard, []byte(s.json)))
	}
	got, err := b.ReadSnapshots(ctx, bus.Start, 100, 0)
	require.NoError(t, err)
	require.Len(t, got, len(snaps))
	for i, s := range snaps {
		assert.Equal(t, s.shard, got[i].Shard, "snapshot %d", i)
		assert.Equal(t, s.json, string(got[i].Data), "snapshot %d", i)
	}
	assertIncreasing(t, got)

	rest, err := b.ReadSnapshots(ctx, got[0].ID, 100, 0)
	require.NoError(t, err)
	assertMessages(t, got[1:], rest)
	page, err := b.ReadSnapshots(ctx, bus.Start, 2, 0)
	require.NoError(t, err)
	assertMessages(t, got[:2], page)
	at, err := bus.PositionTime(got[1].ID)
	require.NoError(t, err)
	back, err := b.ReadSnapshots(ctx, bus.At(at), 100, 0)
	require.NoError(t, err)
	assert.Subset(t, ids(back), ids(got[1:]), "At backfills snapshots")

	for shard := range 4 {
		batches, err := b.ReadBatches(ctx, shard, bus.Start, 100, 0)
		require.NoError(t, err)
		assert.Empty(t, batches, "snapshots are not batches of shard %d", shard)
	}
}

func testPayloads(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	max := make([]byte, bus.DefaultMaxMessage)
	copy(max, big)
	payloads := map[string][]byte{
		"empty":       {},
		"one byte":    {0},
		"every byte":  every,
		"crlf":        []byte("*1\r\n$4\r\nPING\r\n"),
		"4 MiB":       big,
		"max message": max,
	}
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			for _, kind := range []string{"batch", "snapshot"} {
				// Publish a copy and scribble on it afterwards: the bus
				// must have copied.
				in := bytes.Clone(p)
				var err error
				if kind == "batch" {
					err = b.PublishBatch(ctx, 4, in)
				} else {
					err = b.PublishSnapshot(ctx, 4, in)
				}
				require.NoError(t, err, kind)
				for i := range in {
					in[i] ^= 0xff
				}
				var got []bus.Message
				if kind == "batch" {
					got, err = b.ReadBatches(ctx, 4, bus.Start, 100, 0)
				} else {
					got, err = b.ReadSnapshots(ctx, bus.Start, 100, 0)
				}
				require.NoError(t, err, kind)
				require.NotEmpty(t, got, kind)
				last := got[len(got)-1].Data
				assert.Equal(t, len(p), len(last), "%s length", kind)
				assert.True(t, bytes.Equal(p, last), "%s bytes differ", kind)
			}
		})
	}
}

func testTooLarge(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	huge := make([]byte, bus.DefaultMaxMessage+1)
	assert.ErrorIs(t, b.PublishBatch(ctx, 0, huge), bus.ErrTooLarge)
	assert.ErrorIs(t, b.PublishSnapshot(ctx, 0, huge), bus.ErrTooLarge)
	got, err := b.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func testRetention(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	const retention = 300 * time.Millisecond
	b, ctx := newBus(t, Config{Retention: retention, SnapshotRetention: 2 * retention}), t.Context()
	for _, tc := range []struct {
		name      string
		retention time.Duration
		publish   func(data string) error
		read      func(after string) ([]bus.Message, error)
	}{
		{"batches", retention,
			func(data string) error { return b.PublishBatch(ctx, 0, []byte(data)) },
			func(after string) ([]bus.Message, error) { return b.ReadBatches(ctx, 0, after, 100, 0) }},
		{"snapshots", 2 * retention,
			func(data string) error { return b.PublishSnapshot(ctx, 0, []byte(data)) },
			func(after string) ([]bus.Message, error) { return b.ReadSnapshots(ctx, after, 100, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, tc.publish("old"))
			old, err := tc.read(bus.Start)
			require.NoError(t, err)
			require.Len(t, old, 1)
			oldAt, err := bus.PositionTime(old[0].ID)
			require.NoError(t, err)
			assert.Less(t, time.Since(oldAt), tc.retention, "the test is too slow for its retention")

			// Once the old entry's millisecond is more than a retention
			// ago, it is gone. (A wait on the clock.)
			waitPast(t, oldAt.Add(tc.retention+time.Millisecond))
			got, err := tc.read(bus.Start)
			require.NoError(t, err)
			assert.Empty(t, got, "expired entry still read")

			require.NoError(t, tc.publish("new"))
			for _, after := range []string{bus.Start, bus.At(oldAt), before(t, old[0].ID)} {
				got, err = tc.read(after)
				require.NoError(t, err)
				require.Len(t, got, 1, "after %q", after)
				assert.Equal(t, "new", string(got[0].Data))
			}
		})
	}
}

func testConcurrent(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	const publishers, each, followers = 4, 50, 3
	var wg sync.WaitGroup
	results := make([][]bus.Message, followers)
	for f := range followers {
		wg.Go(func() {
			deadline := time.Now().Add(30 * time.Second)
			after := bus.Start
			for len(results[f]) < publishers*each && time.Now().Before(deadline) {
				msgs, err := b.ReadBatches(ctx, 0, after, 1+f*7, time.Second)
				if !assert.NoError(t, err) {
					return
				}
				if len(msgs) > 0 {
					results[f] = append(results[f], msgs...)
					after = msgs[len(msgs)-1].ID
				}
			}
		})
	}
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, b.PublishBatch(ctx, 0, fmt.Appendf(nil, "%d/%d", p, i)))
				if i%10 == 0 {
					assert.NoError(t, b.PublishSnapshot(ctx, p, fmt.Appendf(nil, `{"p":%d}`, p)))
				}
			}
		})
	}
	wg.Wait()

	stored, err := b.ReadBatches(ctx, 0, bus.Start, 10*publishers*each, 0)
	require.NoError(t, err)
	require.Len(t, stored, publishers*each)
	assertIncreasing(t, stored)
	next := make([]int, publishers)
	for _, m := range stored {
		var p, i int
		_, err := fmt.Sscanf(string(m.Data), "%d/%d", &p, &i)
		require.NoError(t, err)
		assert.Equal(t, next[p], i, "publisher %d out of order", p)
		next[p] = i + 1
	}
	for f, got := range results {
		assert.Equal(t, ids(stored), ids(got), "follower %d", f)
	}
	snaps, err := b.ReadSnapshots(ctx, bus.Start, 100, 0)
	require.NoError(t, err)
	assert.Len(t, snaps, publishers*((each+9)/10))
}

func testClose(t *testing.T, newBus func(*testing.T, Config) bus.Bus) {
	b, ctx := newBus(t, Config{}), t.Context()
	publishBatches(t, b, 0, "a")
	errs := make(chan error, 2)
	for name, read := range readers(b) {
		go func() {
			_, err := read(ctx, long)
			errs <- fmt.Errorf("%s: %w", name, err)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the reads block, as in testWake
	start := time.Now()
	require.NoError(t, b.Close())
	for range 2 {
		select {
		case err := <-errs:
			assert.ErrorIs(t, err, bus.ErrClosed)
		case <-time.After(10 * time.Second):
			t.Fatal("a blocked read outlived Close")
		}
	}
	assert.Less(t, time.Since(start), 5*time.Second, "Close waited for blocked reads")
	assert.NoError(t, b.Close(), "closing twice")

	assert.ErrorIs(t, b.PublishBatch(ctx, 0, []byte("x")), bus.ErrClosed)
	assert.ErrorIs(t, b.PublishSnapshot(ctx, 0, []byte("x")), bus.ErrClosed)
	_, err := b.ReadBatches(ctx, 0, bus.Start, 10, 0)
	assert.ErrorIs(t, err, bus.ErrClosed)
	_, err = b.ReadSnapshots(ctx, bus.Start, 10, 0)
	assert.ErrorIs(t, err, bus.ErrClosed)
}

// readers returns a blocking read of each stream of b with nothing to
// read: batches after the last entry of shard 0 and an empty snapshot
// stream.
func readers(b bus.Bus) map[string]func(ctx context.Context, block time.Duration) ([]bus.Message, error) {
	return map[string]func(ctx context.Context, block time.Duration) ([]bus.Message, error){
		"batches": func(ctx context.Context, block time.Duration) ([]bus.Message, error) {
			return b.ReadBatches(ctx, 0, bus.At(time.Now().Add(time.Hour)), 10, block)
		},
		"snapshots": func(ctx context.Context, block time.Duration) ([]bus.Message, error) {
			return b.ReadSnapshots(ctx, bus.At(time.Now().Add(time.Hour)), 10, block)
		},
	}
}

// publishBatches publishes each payload to shard and returns the
// messages a reader should get, without their IDs.
func publishBatches(t *testing.T, b bus.Bus, shard int, payloads ...string) []bus.Message {
	t.Helper()
	out := make([]bus.Message, len(payloads))
	for i, p := range payloads {
		require.NoError(t, b.PublishBatch(t.Context(), shard, []byte(p)))
		out[i] = bus.Message{Shard: shard, Data: []byte(p)}
	}
	return out
}

// assertMessages checks got's shards and payloads against want's.
func assertMessages(t *testing.T, want, got []bus.Message) {
	t.Helper()
	data := func(ms []bus.Message) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = fmt.Sprintf("%d:%q", m.Shard, m.Data)
		}
		return out
	}
	assert.Equal(t, data(want), data(got))
}

// assertIncreasing checks that the IDs of ms increase strictly.
func assertIncreasing(t *testing.T, ms []bus.Message) {
	t.Helper()
	for i := 1; i < len(ms); i++ {
		a, b := parse(t, ms[i-1].ID), parse(t, ms[i].ID)
		if !(a[0] < b[0] || a[0] == b[0] && a[1] < b[1]) {
			t.Errorf("IDs not increasing: %q then %q", ms[i-1].ID, ms[i].ID)
		}
	}
}

func ids(ms []bus.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// parse reads an ID "<ms>-<seq>".
func parse(t *testing.T, id string) [2]uint64 {
	t.Helper()
	ms, seq, ok := strings.Cut(id, "-")
	require.True(t, ok, "ID %q has no '-'", id)
	a, err := strconv.ParseUint(ms, 10, 64)
	require.NoError(t, err, "ID %q", id)
	b, err := strconv.ParseUint(seq, 10, 64)
	require.NoError(t, err, "ID %q", id)
	return [2]uint64{a, b}
}

// before returns the position just below id.
func before(t *testing.T, id string) string {
	t.Helper()
	p := parse(t, id)
	if p[1] > 0 {
		return fmt.Sprintf("%d-%d", p[0], p[1]-1)
	}
	return fmt.Sprintf("%d-%d", p[0]-1, uint64(1<<64-1))
}

// waitPast waits until the clock's millisecond is past t's.
func waitPast(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().UnixMilli() <= at.UnixMilli() {
		if time.Now().After(deadline) {
			t.Fatalf("clock stuck before %v", at)
		}
		time.Sleep(time.Until(at) + time.Millisecond)
	}
}
