package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// clusterShards is the merger shards of the Redis Cluster test, as many
// as the cluster has masters, so that each master holds one shard's
// stream.
const clusterShards = 3

// startOverCluster starts two receivers, a merger for each of
// clusterShards shards and a web over the Redis Cluster rc, under a
// REDIS_PREFIX of the test's own, and waits until each is healthy and the
// web hears from every shard. The processes name the cluster each way a
// user can: the receivers by one node's REDIS_URL, each a different one,
// the mergers by REDIS_URL with addr= parameters, the web by
// REDIS_CLUSTER_ADDRS. It returns the processes and the prefix.
func startOverCluster(t *testing.T, rc *redistest.Cluster) (*cluster, string) {
	t.Helper()
	var id [4]byte
	rand.Read(id[:])
	prefix := "e2e:" + t.Name() + ":" + hex.EncodeToString(id[:]) + ":"
	common := append([]string{"REDIS_PREFIX=" + prefix, fmt.Sprintf("MERGER_COUNT=%d", clusterShards)}, fast...)
	env := func(extra ...string) []string { return append(slices.Clone(common), extra...) }
	addrs := rc.Addrs()

	c := &cluster{}
	c.web = start(t, "web", "web", env("PORT="+freePort(t), "DYNO=web.1", "REDIS_CLUSTER_ADDRS="+strings.Join(addrs, ",")))
	for shard := range clusterShards {
		url := "redis://" + addrs[shard] + "?addr=" + addrs[(shard+1)%len(addrs)]
		c.mergers = append(c.mergers, start(t, fmt.Sprintf("merger.%d", shard+1), "merger",
			env("PORT="+freePort(t), fmt.Sprintf("DYNO=merger.%d", shard+1), fmt.Sprintf("SHARD=%d", shard), "REDIS_URL="+url)))
	}
	for i := range 2 {
		c.receivers = append(c.receivers, start(t, fmt.Sprintf("receiver.%d", i+1), "receiver",
			env("PORT="+freePort(t), fmt.Sprintf("DYNO=receiver.%d", i+1), "REDIS_URL=redis://"+addrs[len(addrs)-1-i])))
	}
	for _, p := range slices.Concat(c.receivers, c.mergers) {
		waitHealthy(t, p, startupTimeout, nil)
	}
	waitHealthy(t, c.web, startupTimeout, webReady(clusterShards))
	return c, prefix
}

// TestRedisClusterEndToEnd is TestRedisEndToEnd over a Redis Cluster of
// three masters: two receivers, three merger shards and a web, the same
// burst of traffic split between the receivers, and the web's history at
// T and its /stats/latest compared with pulse replay --at. It also checks
// where the data went: each shard's batch stream on a master of its own,
// and the snapshots on sharded Pub/Sub (SSUBSCRIBE stats.merged).
func TestRedisClusterEndToEnd(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs()})
	defer cc.Close()
	ctx := t.Context()
	sub := cc.SSubscribe(ctx, bus.DefaultChannel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	c, prefix := startOverCluster(t, rc)
	tr, target := recentTraffic(logfmttest.Options{Seed: 1, Rate: 1200, Apps: 300}, 2*time.Second)
	tr.postSplit(t, c.drains(), "d.e2e-cluster", allBodies(tr))
	checkPostedBefore(t, target)
	T, got, _ := checkAgainstReplay(t, c.web, tr, target)
	checkEventsTotal(t, numbers(got), tr, T)
	checkLatest(t, c.web, tr, T)

	// Each shard's stream is on a master of its own, and holds batches.
	b, err := bus.NewRedis(ctx, bus.RedisOptions{URL: rc.URL(), Prefix: prefix, Shards: clusterShards})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nodes := map[string]int{}
	for shard := range clusterShards {
		key := b.BatchKey(shard)
		slot, err := cc.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		node := rc.NodeOf(int(slot))
		nc := redis.NewClient(&redis.Options{Addr: node.Addr()})
		n, err := nc.XLen(ctx, key).Result()
		nc.Close()
		if err != nil || n == 0 {
			t.Errorf("shard %d's stream %s on %s (slot %d): %d batches, %v", shard, key, node.Addr(), slot, n, err)
		}
		nodes[node.Addr()]++
	}
	if len(nodes) != clusterShards {
		t.Errorf("%d shards' streams on %d masters: %v", clusterShards, len(nodes), nodes)
	}

	// Every shard's snapshots reach a sharded subscriber.
	shards := map[int]bool{}
	deadline := time.After(10 * time.Second)
	for len(shards) < clusterShards {
		select {
		case msg := <-sub.Channel():
			var snap struct {
				Stats map[string]json.RawMessage `json:"stats"`
			}
			if err := json.Unmarshal([]byte(msg.Payload), &snap); err != nil {
				t.Fatalf("SSUBSCRIBE %s: %v: %.200s", bus.DefaultChannel, err, msg.Payload)
			}
			for name := range snap.Stats {
				if !strings.HasPrefix(name, "pulse.") { // self-stats are every merger's
					shards[fragment.Shard(name, clusterShards)] = true
				}
			}
		case <-deadline:
			t.Fatalf("SSUBSCRIBE %s: snapshots of %d shards in 10 s, want %d", bus.DefaultChannel, len(shards), clusterShards)
		}
	}
	t.Logf("streams on %d masters %v; snapshots of %d shards on SSUBSCRIBE %s", len(nodes), nodes, len(shards), bus.DefaultChannel)
}
