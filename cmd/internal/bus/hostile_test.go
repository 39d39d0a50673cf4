package bus_test

import (
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
)

// TestRedisForgedShard adds snapshot entries to the stream as another
// writer of the Redis could, with shards out of range: each is read with
// shard -1, which the web refuses and counts (HistoryStats.Rejected), so a
// writer cannot make the web keep a latest snapshot for each of a million
// made-up shards.
func TestRedisForgedShard(t *testing.T) {
	s := sharedRedis(t)
	prefix := uniquePrefix(t)
	r := newRedis(t, s, bus.RedisOptions{Prefix: prefix})
	c := client(t, s)
	for _, shard := range []string{"99999", "-7", "1024", "x", "1023", "3"} {
		require.NoError(t, c.XAdd(t.Context(), &redis.XAddArgs{Stream: prefix + "merged", Values: []any{"shard", shard, "snap", "{}"}}).Err())
	}
	msgs, err := r.ReadSnapshots(t.Context(), bus.Start, 100, 0)
	require.NoError(t, err)
	var got []int
	for _, m := range msgs {
		got = append(got, m.Shard)
	}
	assert.Equal(t, []int{-1, -1, -1, -1, 1023, 3}, got)
}

// TestRedisPasswordNotInErrors opens buses whose URL holds a password that
// cannot work: a URL that does not parse, a server that is not there, and
// a server that has no password. The password is in no error.
func TestRedisPasswordNotInErrors(t *testing.T) {
	const secret = "s3cret-redis-pw"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	urls := []string{
		"redis://:" + secret + "@127.0.0.1:bad/0",
		"redis://user:" + secret + "@" + closed + "/0",
		"rediss://:" + secret + "@" + closed + "/0?dial_timeout=nope",
	}
	if server != nil {
		// A user the server does not have (AUTH pulse <password>).
		urls = append(urls, "redis://pulse:"+secret+"@"+server.Addr()+"/0")
	}
	for _, u := range urls {
		_, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: u})
		require.Error(t, err, "a URL that cannot work: %s", strings.ReplaceAll(u, secret, "***"))
		assert.NotContains(t, err.Error(), secret)
		t.Log(err)
	}
}
