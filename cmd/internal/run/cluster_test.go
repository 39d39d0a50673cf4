package run

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/logbuf"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

func TestConfigRedisCluster(t *testing.T) {
	c, err := parse(t, "all", map[string]string{"ROLE": "receiver", "REDIS_CLUSTER_ADDRS": "10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002"})
	require.NoError(t, err, "REDIS_CLUSTER_ADDRS alone names the bus")
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001", "[::1]:7002"}, c.RedisClusterAddrs)
	assert.False(t, c.demo(), "a fleet over Redis runs no generator")
	assert.Equal(t, "redis cluster 10.0.0.1:7000,10.0.0.2:7001,[::1]:7002", busName(*c))

	c, err = parse(t, "all", map[string]string{"REDIS_URL": "rediss://u:p@"}, "--redis-cluster-addrs", "a:1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a:1"}, c.RedisClusterAddrs, "the flag")

	for _, bad := range []string{"10.0.0.1", "10.0.0.1:", ":7000", "host:port", "h:0", "h:70000", "a:1,b"} {
		_, err := parse(t, "all", map[string]string{"ROLE": "receiver", "REDIS_CLUSTER_ADDRS": bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "REDIS_CLUSTER_ADDRS (--redis-cluster-addrs): ", bad)
		assert.Contains(t, err.Error(), "is not host:port", bad)
	}
}

// TestOpenBusCluster runs openBus on a Redis Cluster named each way a
// user can: REDIS_URL of any node, REDIS_CLUSTER_ADDRS alone or with the
// scheme and credentials in REDIS_URL. A merger logs its stream's name.
func TestOpenBusCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	for _, env := range []map[string]string{
		{"REDIS_URL": "redis://" + c.Addrs()[2]},
		{"REDIS_CLUSTER_ADDRS": strings.Join(c.Addrs(), ",")},
		{"REDIS_URL": "redis://", "REDIS_CLUSTER_ADDRS": c.Addrs()[1]},
	} {
		env["ROLE"], env["MERGER_COUNT"], env["SHARD"] = "merger", "3", "2"
		cfg, err := parse(t, "all", env)
		require.NoError(t, err)
		var logs logbuf.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		b, err := openBus(ctx, *cfg, nil, slog.New(slog.NewTextHandler(&logs, nil)))
		require.NoError(t, ctx.Err(), "openBus kept retrying")
		cancel()
		require.NoError(t, err, env)
		r := b.(*bus.Redis)
		assert.True(t, r.Cluster(), env)
		assert.Contains(t, logs.String(), " batches="+r.BatchKey(2)+"\n", env)
		assert.Contains(t, logs.String(), "redis-cli -c ssubscribe stats.merged", env)
		require.NoError(t, b.PublishBatch(t.Context(), 2, []byte("x")), env)
		require.NoError(t, b.Close())
	}

	cfg, err := parse(t, "all", map[string]string{"ROLE": "receiver", "REDIS_URL": "redis://" + c.Addrs()[0] + "/3"})
	require.NoError(t, err)
	_, err = openBus(t.Context(), *cfg, nil, slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "REDIS_URL: bus: redis URL: database 3: a Redis Cluster has only database 0")
	cfg, err = parse(t, "all", map[string]string{"ROLE": "receiver", "REDIS_URL": "redis://", "REDIS_CLUSTER_ADDRS": c.Addrs()[0], "REDIS_TLS_SKIP_VERIFY": "1"})
	require.NoError(t, err)
	_, err = openBus(t.Context(), *cfg, nil, slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "REDIS_URL, REDIS_CLUSTER_ADDRS: bus: redis: TLS options need a rediss:// URL")
}
