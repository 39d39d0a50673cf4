package bus_test

import (
	"context"
	"net/url"
	"strings"
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

// newClusterBus returns a bus on cluster c, given one node's URL as a
// user would, with a prefix of its own.
func newClusterBus(t testing.TB, c *redistest.Cluster, opt bus.RedisOptions) *bus.Redis {
	t.Helper()
	if opt.URL == "" && len(opt.ClusterAddrs) == 0 {
		opt.URL = c.URL()
	}
	if opt.Prefix == "" {
		opt.Prefix = uniquePrefix(t)
	}
	r, err := bus.NewRedis(t.Context(), opt)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	require.True(t, r.Cluster(), "a cluster detected")
	return r
}

// clusterClient returns a go-redis cluster client of c.
func clusterClient(t testing.TB, c *redistest.Cluster) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// nodeClient returns a plain client of one node.
func nodeClient(t testing.TB, s *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedisCluster runs the bus over a Redis Cluster of three masters:
// the contract, how a cluster is named, where the streams land, and the
// snapshots on sharded Pub/Sub.
func TestRedisCluster(t *testing.T) {
	t.Parallel() // each on a cluster of its own, mostly waiting for it to form
	c := redistest.StartCluster(t, 3)

	t.Run("Contract", func(t *testing.T) {
		bustest.Run(t, func(t *testing.T, cfg bustest.Config) bus.Bus {
			return newClusterBus(t, c, bus.RedisOptions{Shards: 4, Retention: cfg.Retention, SnapshotRetention: cfg.SnapshotRetention})
		})
	})

	t.Run("Naming", func(t *testing.T) {
		ctx := t.Context()
		nodes := c.Addrs()
		for _, opt := range []bus.RedisOptions{
			{URL: c.URL()},
			{URL: "redis://" + nodes[2] + "/0"},
			{URL: "redis://" + nodes[1] + "?addr=" + nodes[0] + "&addr=" + nodes[2]},
			{ClusterAddrs: nodes},
			{ClusterAddrs: nodes[1:2], URL: "redis://"},
			{ClusterAddrs: []string{"127.0.0.1:1", nodes[0]}}, // one node down of those named
		} {
			r := newClusterBus(t, c, opt)
			require.NoError(t, r.PublishBatch(ctx, 1, []byte("x")), "%+v", opt)
			got, err := r.ReadBatches(ctx, 1, bus.Start, 10, 0)
			require.NoError(t, err)
			assert.Len(t, got, 1)
		}
		// A standalone server is not taken for a cluster.
		if server != nil {
			assert.False(t, newRedis(t, server, bus.RedisOptions{}).Cluster())
		}
		_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: "redis://" + nodes[0] + "/2"})
		require.ErrorIs(t, err, bus.ErrInvalid)
		assert.Contains(t, err.Error(), "database 2: a Redis Cluster has only database 0")
	})

	t.Run("ShardsOnNodes", func(t *testing.T) {
		ctx := t.Context()
		cc := clusterClient(t, c)
		for _, shards := range []int{2, 3} {
			prefix := uniquePrefix(t)
			r := newClusterBus(t, c, bus.RedisOptions{Prefix: prefix, Shards: shards})
			onNode := map[string]int{}
			for shard := range shards {
				key := r.BatchKey(shard)
				assert.True(t, strings.HasPrefix(key, prefix+"received:"), key)
				require.NoError(t, r.PublishBatch(ctx, shard, []byte("b")))
				slot, err := cc.ClusterKeySlot(ctx, key).Result()
				require.NoError(t, err)
				node := c.NodeOf(int(slot))
				onNode[node.Addr()]++
				// Stored on that node: its own client reads it without a
				// redirect.
				n, err := nodeClient(t, node).XLen(ctx, key).Result()
				require.NoError(t, err, "%s on %s (slot %d)", key, node.Addr(), slot)
				assert.Equal(t, int64(1), n)
			}
			assert.Len(t, onNode, shards, "%d shards on %d nodes: %v", shards, len(onNode), onNode)
		}
	})

	t.Run("ShardedPubSub", func(t *testing.T) {
		ctx := t.Context()
		channel := "stats.merged." + strings.Trim(uniquePrefix(t), ":")
		cc := clusterClient(t, c)
		sub := cc.SSubscribe(ctx, channel)
		defer sub.Close()
		_, err := sub.Receive(ctx)
		require.NoError(t, err)
		// A plain subscriber on the node that serves the channel's slot.
		slot, err := cc.ClusterKeySlot(ctx, channel).Result()
		require.NoError(t, err)
		node := nodeClient(t, c.NodeOf(int(slot)))
		plain := node.Subscribe(ctx, channel)
		defer plain.Close()
		_, err = plain.Receive(ctx)
		require.NoError(t, err)

		r := newClusterBus(t, c, bus.RedisOptions{Channel: channel})
		snaps := []string{`{"time":"2026-01-02T03:04:05Z","stats":{"router.requests":12.5}}`, "{\"odd\":\"\xff\"}"}
		for i, s := range snaps {
			require.NoError(t, r.PublishSnapshot(ctx, i, []byte(s)))
		}
		for i, want := range snaps {
			select {
			case msg := <-sub.Channel():
				assert.Equal(t, channel, msg.Channel)
				assert.Equal(t, want, msg.Payload, "snapshot %d", i)
			case <-time.After(10 * time.Second):
				t.Fatalf("snapshot %d not received by SSUBSCRIBE %s", i, channel)
			}
		}
		// SPUBLISH, not PUBLISH: the plain subscriber's first message is a
		// marker PUBLISHed after the snapshots, on the node that got them.
		require.NoError(t, node.Publish(ctx, channel, "marker").Err())
		select {
		case msg := <-plain.Channel():
			assert.Equal(t, "marker", msg.Payload, "a plain SUBSCRIBE got a snapshot")
		case <-time.After(10 * time.Second):
			t.Fatal("marker not received")
		}
	})

	t.Run("ACL", func(t *testing.T) {
		testClusterACL(t, c)
	})

	t.Run("Undetected", func(t *testing.T) {
		// A user without +cluster|slots: the node looks like a single
		// server, and a key on another node answers MOVED, which the
		// error explains.
		prefix := uniquePrefix(t)
		name := strings.NewReplacer(":", "-", "/", "-").Replace(prefix) + "blind"
		for _, s := range c.Nodes() {
			admin := nodeClient(t, s)
			require.NoError(t, admin.Do(t.Context(), "ACL", "SETUSER", name, "on", ">pw", "resetkeys", "-@all", "+ping", "+xadd", "+pexpire", "~*").Err())
			t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", name) })
		}
		u := "redis://" + url.UserPassword(name, "pw").String() + "@" + c.Addrs()[0]
		r, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: u, Prefix: prefix})
		require.NoError(t, err)
		defer r.Close()
		assert.False(t, r.Cluster())
		var moved error
		for shard := range 16 {
			if err := r.PublishBatch(t.Context(), shard, []byte("x")); err != nil {
				moved = err
				break
			}
		}
		require.Error(t, moved, "no shard's stream on another node")
		assert.Contains(t, moved.Error(), "MOVED ")
		assert.Contains(t, moved.Error(), "(the server is a Redis Cluster node, which Pulse did not detect: give its Redis user +cluster|slots")
	})
}

// testClusterACL creates RELIABILITY.md's users on every node of c, and
// runs each role's bus calls as its user over the cluster.
func testClusterACL(t *testing.T, c *redistest.Cluster) {
	prefix := uniquePrefix(t)
	ch := "stats.merged." + strings.Trim(prefix, ":")
	user := func(role string) string { return strings.NewReplacer(":", "-", "/", "-").Replace(prefix) + role }
	for _, s := range c.Nodes() {
		admin := nodeClient(t, s)
		for role, rules := range aclUsers(prefix, ch) {
			args := []any{"ACL", "SETUSER", user(role), "on", ">pw-" + role}
			for _, r := range strings.Fields(rules) {
				args = append(args, r)
			}
			require.NoError(t, admin.Do(t.Context(), args...).Err(), role)
			t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user(role)) })
		}
	}
	buses := map[string]*bus.Redis{}
	for role := range aclUsers(prefix, ch) {
		u := "redis://" + url.UserPassword(user(role), "pw-"+role).String() + "@" + c.Addrs()[1]
		buses[role] = newClusterBus(t, c, bus.RedisOptions{URL: u, Prefix: prefix, Channel: ch, Shards: 3})
	}
	ctx := t.Context()
	cc := clusterClient(t, c)
	sub := cc.SSubscribe(ctx, ch)
	defer sub.Close()
	_, err := sub.Receive(ctx)
	require.NoError(t, err)

	for shard := range 3 {
		require.NoError(t, buses["receiver"].PublishBatch(ctx, shard, []byte("batch")))
		msgs, err := buses["merger"].ReadBatches(ctx, shard, bus.Start, 10, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
	}
	require.NoError(t, buses["merger"].PublishSnapshot(ctx, 0, []byte("{}")))
	snaps, err := buses["web"].ReadSnapshots(ctx, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	select {
	case msg := <-sub.Channel():
		assert.Equal(t, "{}", msg.Payload)
	case <-time.After(10 * time.Second):
		t.Fatal("the merger's snapshot not received by SSUBSCRIBE")
	}

	noperm := func(err error, what string) {
		t.Helper()
		if assert.Error(t, err, what) {
			assert.Contains(t, err.Error(), "NOPERM", what)
		}
	}
	noperm(buses["receiver"].PublishSnapshot(ctx, 0, []byte("{}")), "a receiver forges a snapshot")
	_, err = buses["receiver"].ReadBatches(ctx, 0, bus.Start, 10, 0)
	noperm(err, "a receiver reads batches")
	noperm(buses["merger"].PublishBatch(ctx, 0, []byte("batch")), "a merger injects a batch")
	noperm(buses["web"].PublishBatch(ctx, 0, []byte("batch")), "a web injects a batch")
	noperm(buses["web"].PublishSnapshot(ctx, 0, []byte("{}")), "a web forges a snapshot")
}

// TestRedisClusterWithoutSPublish runs a cluster whose servers lack
// SPUBLISH, as Redis 6 does: snapshots go out with PUBLISH instead, from
// the first.
func TestRedisClusterWithoutSPublish(t *testing.T) {
	t.Parallel() // each on a cluster of its own, mostly waiting for it to form
	c := redistest.StartCluster(t, 3, "--rename-command", "SPUBLISH", "")
	ctx := t.Context()
	cc := clusterClient(t, c)
	require.ErrorContains(t, cc.SPublish(ctx, "x", "y").Err(), "unknown command", "precondition: no SPUBLISH")
	sub := cc.Subscribe(ctx, bus.DefaultChannel)
	defer sub.Close()
	_, err := sub.Receive(ctx)
	require.NoError(t, err)

	r := newClusterBus(t, c, bus.RedisOptions{})
	for i := range 3 {
		require.NoError(t, r.PublishSnapshot(ctx, 0, []byte{'{', '0' + byte(i), '}'}))
	}
	// PUBLISH goes to any node, which relays it to the others, so the
	// order between two publishes is not kept.
	var got []string
	for i := range 3 {
		select {
		case msg := <-sub.Channel():
			got = append(got, msg.Payload)
		case <-time.After(10 * time.Second):
			t.Fatalf("snapshot %d not PUBLISHed", i)
		}
	}
	assert.ElementsMatch(t, []string{"{0}", "{1}", "{2}"}, got)
	snaps, err := r.ReadSnapshots(ctx, bus.Start, 10, 0)
	require.NoError(t, err)
	assert.Len(t, snaps, 3, "each snapshot stored once")
}

// TestRedisClusterTLS runs the bus over a cluster that speaks only TLS,
// verified against its CA.
func TestRedisClusterTLS(t *testing.T) {
	t.Parallel() // each on a cluster of its own, mostly waiting for it to form
	c := redistest.StartClusterTLS(t, 3)
	ctx := t.Context()
	_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: c.URL(), Timeout: time.Second})
	require.ErrorIs(t, err, bus.ErrCertificate, "verified by default")
	for _, opt := range []bus.RedisOptions{
		{URL: c.URL(), TLSCAFile: c.CAFile()},
		{URL: "rediss://", ClusterAddrs: c.Addrs(), TLSCAFile: c.CAFile()},
		{URL: c.URL(), TLSSkipVerify: true},
	} {
		r := newClusterBus(t, c, opt)
		for shard := range 3 {
			require.NoError(t, r.PublishBatch(ctx, shard, []byte("over TLS")))
			got, err := r.ReadBatches(ctx, shard, bus.Start, 10, 0)
			require.NoError(t, err)
			require.Len(t, got, 1)
		}
		require.NoError(t, r.PublishSnapshot(ctx, 0, []byte(`{"t":1}`)))
		snaps, err := r.ReadSnapshots(ctx, bus.Start, 10, 0)
		require.NoError(t, err)
		assert.Len(t, snaps, 1)
	}
}

// TestRedisClusterNodeDown kills the node that holds a shard's stream:
// calls on that shard fail within their timeout rather than hang, a read
// blocked on it returns, and once the node is back (empty) the same bus
// works again.
func TestRedisClusterNodeDown(t *testing.T) {
	t.Parallel() // each on a cluster of its own, mostly waiting for it to form
	c := redistest.StartCluster(t, 3)
	ctx := t.Context()
	const timeout = 500 * time.Millisecond
	r := newClusterBus(t, c, bus.RedisOptions{Shards: 3, Timeout: timeout})
	cc := clusterClient(t, c)
	slot, err := cc.ClusterKeySlot(ctx, r.BatchKey(1)).Result()
	require.NoError(t, err)
	node := c.NodeOf(int(slot))
	require.NoError(t, r.PublishBatch(ctx, 1, []byte("before")))
	got, err := r.ReadBatches(ctx, 1, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)

	blocked := make(chan error, 1)
	go func() {
		_, err := r.ReadBatches(ctx, 1, got[0].ID, 10, 2*time.Second)
		blocked <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it block
	require.NoError(t, node.Stop())
	select {
	case err := <-blocked:
		assert.Error(t, err, "a read blocked when its node died")
		t.Logf("blocked read: %v", err)
	case <-time.After(2*time.Second + 5*timeout):
		t.Fatal("blocked read hung after its node died")
	}

	const bound = timeout + 200*time.Millisecond + time.Second // the longest block, and slack
	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	var last error
	for range 20 {
		wg.Go(func() {
			start := time.Now()
			err := r.PublishBatch(ctx, 1, []byte("x"))
			took := time.Since(start)
			assert.Error(t, err)
			assert.Less(t, took, bound, "%v", err)
			start = time.Now()
			_, rerr := r.ReadBatches(ctx, 1, bus.Start, 10, 200*time.Millisecond)
			took = max(took, time.Since(start))
			assert.Error(t, rerr)
			assert.Less(t, time.Since(start), bound, "%v", rerr)
			mu.Lock()
			longest, last = max(longest, took), err
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("20 publishers and readers on the dead node's shard: errors within %v, such as %v", longest.Round(time.Millisecond), last)

	require.NoError(t, node.Restart())
	require.NoError(t, c.WaitOK(redistest.ClusterTimeout))
	require.Eventually(t, func() bool { return r.PublishBatch(ctx, 1, []byte("after")) == nil }, 15*time.Second, 10*time.Millisecond)
	got, err = r.ReadBatches(ctx, 1, bus.Start, 10, 0)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	assert.Equal(t, "after", string(got[0].Data), "the restarted node is empty")
	for shard := range 3 {
		require.NoError(t, r.PublishBatch(ctx, shard, []byte("all")))
	}
	require.NoError(t, r.PublishSnapshot(ctx, 0, []byte("{}")))
}
