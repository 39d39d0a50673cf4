package bus_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
)

// aclUsers are the ACL rules of RELIABILITY.md's Security section, one
// user per role, for the key prefix p and the snapshot channel ch: the
// receiver may only add to the batch streams, the merger only read them
// and add to the snapshot stream and channel, the web only read the
// snapshot stream. Every role may ask CLUSTER SLOTS, which tells a Redis
// Cluster (and its layout) from a standalone server; the merger may
// SPUBLISH, as it does on a cluster. The same rules serve both, here and
// in TestRedisCluster/ACL. Keep the two in step.
func aclUsers(p, ch string) map[string]string {
	return map[string]string{
		"receiver": fmt.Sprintf("resetkeys resetchannels -@all +ping +cluster|slots +xadd +pexpire %%W~%sreceived:*", p),
		"merger":   fmt.Sprintf("resetkeys resetchannels -@all +ping +cluster|slots +xread +xadd +pexpire +publish +spublish %%R~%sreceived:* %%W~%smerged &%s", p, p, ch),
		"web":      fmt.Sprintf("resetkeys resetchannels -@all +ping +cluster|slots +xread %%R~%smerged", p),
	}
}

// TestRedisACL creates the users of aclUsers and runs each role's bus
// calls as its user: each role can do its own work and nothing else's,
// so a leaked receiver password cannot forge snapshots, and a leaked web
// password cannot inject batches.
func TestRedisACL(t *testing.T) {
	s := sharedRedis(t)
	prefix := uniquePrefix(t)
	ch := "stats.merged." + strings.Trim(prefix, ":")
	admin := client(t, s)
	buses := map[string]*bus.Redis{}
	for role, rules := range aclUsers(prefix, ch) {
		user := strings.NewReplacer(":", "-", "/", "-").Replace(prefix) + role
		args := []any{"ACL", "SETUSER", user, "on", ">pw-" + role}
		for _, r := range strings.Fields(rules) {
			args = append(args, r)
		}
		require.NoError(t, admin.Do(t.Context(), args...).Err(), role)
		t.Cleanup(func() { admin.Do(t.Context(), "ACL", "DELUSER", user) })
		u := "redis://" + url.UserPassword(user, "pw-"+role).String() + "@" + s.Addr() + "/0"
		b, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: u, Prefix: prefix, Channel: ch})
		require.NoError(t, err, "%s connects as its user", role)
		t.Cleanup(func() { b.Close() })
		buses[role] = b
	}
	ctx := t.Context()

	// Each role's own work.
	require.NoError(t, buses["receiver"].PublishBatch(ctx, 0, []byte("batch")))
	msgs, err := buses["merger"].ReadBatches(ctx, 0, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.NoError(t, buses["merger"].PublishSnapshot(ctx, 0, []byte("{}")))
	snaps, err := buses["web"].ReadSnapshots(ctx, bus.Start, 10, 0)
	require.NoError(t, err)
	require.Len(t, snaps, 1)

	// Nothing else.
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
	_, err = buses["web"].ReadBatches(ctx, 0, bus.Start, 10, 0)
	noperm(err, "a web reads batches")
	for role := range buses {
		u := strings.NewReplacer(":", "-", "/", "-").Replace(prefix) + role
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: u, Password: "pw-" + role})
		noperm(c.Do(ctx, "FLUSHALL").Err(), role+" flushes the server")
		noperm(c.Do(ctx, "DEL", prefix+"received:0").Err(), role+" deletes a stream")
		c.Close()
	}
}
