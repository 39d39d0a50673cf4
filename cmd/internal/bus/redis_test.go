package bus_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/bus/bustest"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// newRedis returns a bus on s with a prefix of its own.
func newRedis(t testing.TB, s *redistest.Server, opt bus.RedisOptions) *bus.Redis {
	t.Helper()
	opt.URL = s.URL()
	if opt.Prefix == "" {
		opt.Prefix = uniquePrefix(t)
	}
	r, err := bus.NewRedis(t.Context(), opt)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// client returns a plain go-redis client of s, as redis-cli would be.
func client(t testing.TB, s *redistest.Server) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(s.URL())
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisContract(t *testing.T) {
	s := sharedRedis(t)
	bustest.Run(t, func(t *testing.T, c bustest.Config) bus.Bus {
		return newRedis(t, s, bus.RedisOptions{Retention: c.Retention, SnapshotRetention: c.SnapshotRetention})
	})
}

// TestRedisSubscribe checks the promise of the original Pulse: `redis-cli
// subscribe stats.merged` prints every snapshot, verbatim.
func TestRedisSubscribe(t *testing.T) {
	s := sharedRedis(t)
	ctx := t.Context()
	sub := client(t, s).Subscribe(ctx, bus.DefaultChannel)
	defer sub.Close()
	_, err := sub.Receive(ctx) // the subscription's confirmation
	require.NoError(t, err)

	r := newRedis(t, s, bus.RedisOptions{})
	snaps := []string{
		`{"time":"2026-01-02T03:04:05Z","stats":{"router.requests":12.5,"router.H12":null}}`,
		`{"time":"2026-01-02T03:04:06Z","stats":{"router.top.hosts":[["a.example",3]]}}`,
		"{\"odd\":\"\\u0000 bytes \xff\"}",
	}
	for i, snap := range snaps {
		require.NoError(t, r.PublishSnapshot(ctx, i, []byte(snap)))
	}
	ch := sub.Channel()
	for i, want := range snaps {
		select {
		case msg := <-ch:
			assert.Equal(t, bus.DefaultChannel, msg.Channel)
			assert.Equal(t, want, msg.Payload, "snapshot %d", i)
		case <-time.After(10 * time.Second):
			t.Fatalf("snapshot %d not received on %s", i, bus.DefaultChannel)
		}
	}

	// Another channel, for deployments that share a server.
	other := client(t, s).Subscribe(ctx, "pulse.test.other")
	defer other.Close()
	_, err = other.Receive(ctx)
	require.NoError(t, err)
	r2 := newRedis(t, s, bus.RedisOptions{Channel: "pulse.test.other"})
	require.NoError(t, r2.PublishSnapshot(ctx, 0, []byte(`{}`)))
	select {
	case msg := <-other.Channel():
		assert.Equal(t, `{}`, msg.Payload)
	case <-time.After(10 * time.Second):
		t.Fatal("snapshot not received on the configured channel")
	}
}

// TestRedisKeys checks the layout in Redis that operators see: stream
// names, fields, trimming and expiry.
func TestRedisKeys(t *testing.T) {
	s := sharedRedis(t)
	ctx := t.Context()
	c := client(t, s)
	prefix := uniquePrefix(t)
	r := newRedis(t, s, bus.RedisOptions{Prefix: prefix, Retention: time.Minute, SnapshotRetention: 2 * time.Minute})
	require.NoError(t, r.PublishBatch(ctx, 3, []byte("batch")))
	require.NoError(t, r.PublishSnapshot(ctx, 2, []byte(`{"a":1}`)))

	batches, err := c.XRange(ctx, prefix+"received:3", "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, batches, 1)
	assert.Equal(t, map[string]any{"b": "batch"}, batches[0].Values)
	snaps, err := c.XRange(ctx, prefix+"merged", "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	assert.Equal(t, map[string]any{"shard": "2", "snap": `{"a":1}`}, snaps[0].Values)

	ttl, err := c.PTTL(ctx, prefix+"received:3").Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Seconds(), ttl.Seconds(), 5, "batch stream expires after its retention")
	ttl, err = c.PTTL(ctx, prefix+"merged").Result()
	require.NoError(t, err)
	assert.InDelta(t, (2 * time.Minute).Seconds(), ttl.Seconds(), 5, "snapshot stream expires after its retention")

	// An entry written by something else has a position and no data.
	_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "received:3", Values: []any{"other", "x"}}).Result()
	require.NoError(t, err)
	got, err := r.ReadBatches(ctx, 3, batches[0].ID, 10, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Nil(t, got[0].Data)
	_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "merged", Values: []any{"snap", "{}"}}).Result()
	require.NoError(t, err)
	gotSnaps, err := r.ReadSnapshots(ctx, snaps[0].ID, 10, 0)
	require.NoError(t, err)
	require.Len(t, gotSnaps, 1)
	assert.Equal(t, -1, gotSnaps[0].Shard)
	assert.Equal(t, "{}", string(gotSnaps[0].Data))
}

// TestRedisTrims checks that XADD trims the stored stream too, not only
// what reads return: with entries of 4 KiB, each radix-tree node holds
// one, so MINID ~ trims nearly exactly.
func TestRedisTrims(t *testing.T) {
	s := sharedRedis(t)
	ctx := t.Context()
	prefix := uniquePrefix(t)
	const retention = 200 * time.Millisecond
	r := newRedis(t, s, bus.RedisOptions{Prefix: prefix, Retention: retention})
	big := make([]byte, 8<<10)
	for range 10 {
		require.NoError(t, r.PublishBatch(ctx, 0, big))
	}
	n, err := client(t, s).XLen(ctx, prefix+"received:0").Result()
	require.NoError(t, err)
	require.Equal(t, int64(10), n)
	time.Sleep(retention + 10*time.Millisecond) // a wait on the clock
	require.NoError(t, r.PublishBatch(ctx, 0, big))
	n, err = client(t, s).XLen(ctx, prefix+"received:0").Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, n, int64(2))
}

func TestRedisOptions(t *testing.T) {
	ctx := t.Context()
	f := func(opt bus.RedisOptions, secret string) {
		t.Helper()
		_, err := bus.NewRedis(ctx, opt)
		require.ErrorIs(t, err, bus.ErrInvalid, "%+v", opt)
		if secret != "" {
			assert.NotContains(t, err.Error(), secret, "the error quotes the password")
		}
	}
	f(bus.RedisOptions{}, "")
	f(bus.RedisOptions{URL: "http://localhost:6379"}, "")
	f(bus.RedisOptions{URL: "redis://user:hunter2@localhost:notaport"}, "hunter2")
	f(bus.RedisOptions{URL: "redis://:hunter2@local\x7fhost"}, "hunter2")
	f(bus.RedisOptions{URL: "redis://:hunter2@localhost/notadb"}, "hunter2")
	f(bus.RedisOptions{URL: "redis://localhost", TLSSkipVerify: true}, "")
	f(bus.RedisOptions{URL: "redis://localhost", TLSCAFile: "ca.pem"}, "")
	f(bus.RedisOptions{URL: "redis://localhost", Timeout: -1}, "")
	f(bus.RedisOptions{URL: "redis://localhost", Retention: -1}, "")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	f(bus.RedisOptions{URL: "rediss://localhost", TLSCAFile: notPEM}, "")
	_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: "rediss://localhost", TLSCAFile: filepath.Join(t.TempDir(), "missing.pem")})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestRedisUnreachable checks that NewRedis fails within its timeout when
// nothing listens.
func TestRedisUnreachable(t *testing.T) {
	s := redistest.Start(t)
	url := s.URL()
	require.NoError(t, s.Stop())
	start := time.Now()
	_, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: url, Timeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bus: redis ping")
	assert.Less(t, time.Since(start), 3*time.Second)
}

// TestRedisServerDown stops Redis under a bus with followers and a
// publisher: every call returns an error within its timeout rather than
// hanging, and once Redis is back on the same port, the same bus works
// again and followers pick up new entries from their old positions.
func TestRedisServerDown(t *testing.T) {
	s := redistest.Start(t)
	ctx := t.Context()
	const timeout = 500 * time.Millisecond
	r := newRedis(t, s, bus.RedisOptions{Timeout: timeout})
	require.NoError(t, r.PublishBatch(ctx, 0, []byte("before")))
	got, err := r.ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	after := got[0].ID

	// A follower blocked when the server dies gets an error.
	blocked := make(chan error, 1)
	go func() {
		_, err := r.ReadBatches(ctx, 0, after, 10, 2*time.Second)
		blocked <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it block
	require.NoError(t, s.Stop())
	select {
	case err := <-blocked:
		assert.Error(t, err, "a read blocked when the server died")
		t.Logf("blocked read: %v", err)
	case <-time.After(2*time.Second + 5*timeout):
		t.Fatal("blocked read hung after the server died")
	}

	// Every call fails, wrapped with its operation, within its timeout
	// (plus its block, for a blocking read): go-redis's own retries of
	// the dial stay inside it.
	const bound = timeout + 200*time.Millisecond + 500*time.Millisecond // the longest block, and slack
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"redis publish batch shard 0", func(ctx context.Context) error { return r.PublishBatch(ctx, 0, []byte("x")) }},
		{"redis publish snapshot shard 1", func(ctx context.Context) error { return r.PublishSnapshot(ctx, 1, []byte("{}")) }},
		{"redis read batches shard 0", func(ctx context.Context) error {
			_, err := r.ReadBatches(ctx, 0, after, 10, 0)
			return err
		}},
		{"redis read batches shard 0", func(ctx context.Context) error {
			_, err := r.ReadBatches(ctx, 0, after, 10, 200*time.Millisecond)
			return err
		}},
		{"redis read snapshots", func(ctx context.Context) error {
			_, err := r.ReadSnapshots(ctx, bus.Start, 10, 0)
			return err
		}},
	}
	for round := range 3 {
		for _, c := range calls {
			start := time.Now()
			err := c.call(ctx)
			elapsed := time.Since(start)
			require.Error(t, err, "round %d: %s with the server down", round, c.name)
			assert.Contains(t, err.Error(), "bus: "+c.name+": ")
			assert.Less(t, elapsed, bound, "round %d: %s took %v: %v", round, c.name, elapsed, err)
			t.Logf("round %d: %v after %v", round, err, elapsed.Round(time.Millisecond))
		}
	}
	// Many goroutines at once: the bounded pool does not make them hang.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			start := time.Now()
			assert.Error(t, r.PublishBatch(ctx, 0, []byte("x")))
			assert.Less(t, time.Since(start), bound)
		})
	}
	wg.Wait()

	require.NoError(t, s.Restart())

	// The follower, woken by a publish after the restart, reads from its
	// old position: the restarted server's IDs are later.
	woke := make(chan []bus.Message, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			msgs, err := r.ReadBatches(ctx, 0, after, 10, time.Second)
			if err == nil && len(msgs) > 0 {
				woke <- msgs
				return
			}
			if err != nil {
				time.Sleep(50 * time.Millisecond) // go-redis reconnects on the next call
			}
		}
		woke <- nil
	}()
	require.Eventually(t, func() bool { return r.PublishBatch(ctx, 0, []byte("after")) == nil }, 10*time.Second, 10*time.Millisecond)
	select {
	case msgs := <-woke:
		require.NotEmpty(t, msgs, "follower got nothing after the restart")
		assert.Equal(t, "after", string(msgs[0].Data))
	case <-time.After(15 * time.Second):
		t.Fatal("follower hung after the restart")
	}
	require.NoError(t, r.PublishSnapshot(ctx, 0, []byte("{}")))
	snaps, err := r.ReadSnapshots(ctx, bus.Start, 10, 0)
	require.NoError(t, err)
	assert.Len(t, snaps, 1)
}

// TestRedisReadCut checks that reads apply the retention exactly while
// XADD's MINID ~ still keeps an expired entry: small entries share a
// radix-tree node, which Redis trims only whole.
func TestRedisReadCut(t *testing.T) {
	s := sharedRedis(t)
	ctx := t.Context()
	prefix := uniquePrefix(t)
	const retention = time.Second // long enough that no gap between publishes lets the key expire on a loaded machine
	r := newRedis(t, s, bus.RedisOptions{Prefix: prefix, Retention: retention})
	require.NoError(t, r.PublishBatch(ctx, 0, []byte("old")))
	first, err := r.ReadBatches(ctx, 0, bus.Start, 1, 0)
	require.NoError(t, err)
	require.Len(t, first, 1)
	oldAt, err := bus.PositionTime(first[0].ID)
	require.NoError(t, err)
	// Keep publishing, so the key never expires, until the old entry is
	// past the retention.
	for time.Since(oldAt) <= retention+5*time.Millisecond {
		require.NoError(t, r.PublishBatch(ctx, 0, []byte("new")))
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, r.PublishBatch(ctx, 0, []byte("new")))

	raw, err := client(t, s).XRange(ctx, prefix+"received:0", "-", "+").Result()
	require.NoError(t, err)
	require.Equal(t, first[0].ID, raw[0].ID, "precondition: Redis still stores the expired entry")
	got, err := r.ReadBatches(ctx, 0, bus.Start, 1000, 0)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, m := range got {
		assert.Equal(t, "new", string(m.Data))
	}
	assert.Less(t, len(got), len(raw))
}
