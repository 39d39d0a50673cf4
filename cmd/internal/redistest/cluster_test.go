package redistest_test

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// TestCluster starts a 3-node cluster and checks it from a cluster
// client: every node a master of a third of the slots, keys in each
// third stored on its node, and a node that restarts rejoins.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	require.Len(t, c.Nodes(), 3)
	ctx := t.Context()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer cc.Close()

	shards, err := cc.ClusterShards(ctx).Result()
	require.NoError(t, err)
	require.Len(t, shards, 3)
	covered := 0
	for _, sh := range shards {
		require.Len(t, sh.Nodes, 1, "no replicas")
		addr := net.JoinHostPort(sh.Nodes[0].IP, strconv.FormatInt(sh.Nodes[0].Port, 10))
		for _, r := range sh.Slots {
			covered += int(r.End - r.Start + 1)
			assert.Equal(t, c.NodeOf(int(r.Start)).Addr(), addr, "slot %d", r.Start)
			assert.Equal(t, c.NodeOf(int(r.End)).Addr(), addr, "slot %d", r.End)
		}
	}
	assert.Equal(t, redistest.Slots, covered)

	// A key of each node, written through the cluster client, is on that
	// node alone.
	keys := map[*redistest.Server]string{}
	for i := 0; len(keys) < 3; i++ {
		k := "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		slot, err := cc.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		if _, ok := keys[c.NodeOf(int(slot))]; !ok {
			keys[c.NodeOf(int(slot))] = k
		}
	}
	for s, k := range keys {
		require.NoError(t, cc.Set(ctx, k, "v", 0).Err())
		direct := redis.NewClient(&redis.Options{Addr: s.Addr()})
		assert.Equal(t, "v", direct.Get(ctx, k).Val(), "%s on %s", k, s.Addr())
		direct.Close()
	}

	// A restarted node is empty, and the cluster is whole again.
	n := c.Nodes()[1]
	require.NoError(t, n.Restart())
	require.NoError(t, c.WaitOK(redistest.ClusterTimeout))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.Eventually(t, func() bool { return cc.Set(rctx, keys[n], "again", 0).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, "again", cc.Get(ctx, keys[n]).Val())
	assert.Equal(t, "v", cc.Get(ctx, keys[c.Nodes()[0]]).Val(), "the other nodes keep their keys")
}

// TestClusterTLS starts a cluster that speaks only TLS, to clients and
// between nodes, and uses it from a cluster client that trusts its CA.
func TestClusterTLS(t *testing.T) {
	c := redistest.StartClusterTLS(t, 3)
	assert.Regexp(t, `^rediss://127\.0\.0\.1:\d+$`, c.URL())
	require.FileExists(t, c.CAFile())
	opt, err := redis.ParseClusterURL(c.URL())
	require.NoError(t, err)
	pool := x509Pool(t, c.CAFile())
	opt.TLSConfig.RootCAs = pool
	cc := redis.NewClusterClient(opt)
	defer cc.Close()
	ctx := t.Context()
	for i := range 20 {
		k := string(rune('a' + i))
		require.NoError(t, cc.Set(ctx, k, i, 0).Err())
		assert.Equal(t, i, mustInt(t, cc.Get(ctx, k)))
	}
	var masters atomic.Int32 // ForEachMaster calls in parallel
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		masters.Add(1)
		return m.Ping(ctx).Err()
	}))
	assert.Equal(t, int32(3), masters.Load())
}

func mustInt(t *testing.T, cmd *redis.StringCmd) int {
	t.Helper()
	n, err := cmd.Int()
	require.NoError(t, err)
	return n
}

func x509Pool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(file)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return pool
}
