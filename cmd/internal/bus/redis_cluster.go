package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Design note: the batch streams' slots.
//
// A key lives in one slot, CRC16(key) mod 16384, or CRC16 of its hash tag,
// the text between its first "{" and the next "}". Each shard's stream is
// one key, so it is on one node whatever its name; what a name can choose
// is which node. Left to the hash of "pulse:received:<n>", shards 0 and 1
// of the default prefix both land in the first third of the slots, on one
// node of three, while the other two idle. So on a cluster a batch stream
// is <Prefix>received:<n>{<tag>}, with a tag that puts shard n of N
// (RedisOptions.Shards) in slot
//
//	(2·(n mod N) + 1)·16384 / (2N)
//
// the middle of the n-th of N equal parts of the slots. A cluster whose M
// masters serve equal runs of slots, as redis-cli --cluster create and
// managed services lay them out, then holds ⌊N/M⌋ or ⌈N/M⌉ shards on each
// master: one shard a master when N = M, never two on one master when N
// is fewer (TestShardSlotsSpread checks every M ≤ 16 and N ≤ 64; of all
// M ≤ 64 and N ≤ 1024 only two pairs, at M = 51, are off by one). The tag
// of a slot is the smallest number, in base 36, whose CRC16 falls in it
// (slotTag), so a name is a pure function of Prefix, n and N, which every
// receiver and merger of a deployment computes alike. Deployments sharing
// a cluster under other prefixes use the same slots, with keys of their
// own: each is spread by itself.
//
// A standalone server keeps the names <Prefix>received:<n>, so an upgrade
// does not move the streams of existing deployments. A Prefix that holds
// a hash tag itself ({...}) puts every key in that tag's slot.

// crc16Table is the table of CRC-16/XMODEM (polynomial 0x1021), the hash
// of Redis Cluster's key slots.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ crc16Table[byte(c>>8)^x]
	}
	return c
}

// keySlot returns the cluster slot of key, as CLUSTER KEYSLOT does.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(key)) % clusterSlots)
}

// slotTags holds, for each slot, the smallest number whose base-36 form
// hashes to it: about 170 000 numbers are tried once, a few milliseconds,
// and only by a bus on a cluster.
var slotTags = sync.OnceValue(func() *[clusterSlots]uint32 {
	var tags [clusterSlots]uint32
	var found [clusterSlots]bool
	var buf [8]byte
	for i, left := uint32(0), clusterSlots; left > 0; i++ {
		s := crc16(strconv.AppendUint(buf[:0], uint64(i), 36)) % clusterSlots
		if !found[s] {
			found[s], tags[s] = true, i
			left--
		}
	}
	return &tags
})

// slotTag returns a hash tag of slot: a string whose CRC16 mod 16384 is
// slot.
func slotTag(slot int) string { return strconv.FormatUint(uint64(slotTags()[slot]), 36) }

// shardSlot returns the slot of shard's stream among shards, on a
// cluster (see the design note above).
func shardSlot(shard, shards int) int {
	shards = max(shards, 1)
	return (2*(shard%shards) + 1) * clusterSlots / (2 * shards)
}

// clusterURL reports whether URL lists more nodes in addr parameters,
// redis.ParseClusterURL's form.
func clusterURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Query().Has("addr")
}

// checkClusterAddrs returns an error wrapping ErrInvalid unless every
// address is host:port with a port in 1..65535.
func checkClusterAddrs(addrs []string) error {
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("bus: redis cluster address %q: want host:port: %w", a, ErrInvalid)
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("bus: redis cluster address %q: want host:port with a port of 1 to 65535: %w", a, ErrInvalid)
		}
	}
	return nil
}

// redisClusterOptions turns opt into go-redis cluster options: the nodes
// are URL's host (when it names one) and ClusterAddrs; URL gives the
// scheme, the user and password, and go-redis's cluster options in its
// query (redis.ParseClusterURL).
func redisClusterOptions(opt RedisOptions) (*redis.ClusterOptions, error) {
	if err := checkClusterAddrs(opt.ClusterAddrs); err != nil {
		return nil, err
	}
	raw := opt.URL
	if raw == "" {
		raw = "redis://"
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, password and all.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bus: redis URL: %v: %w", err, ErrInvalid)
	}
	if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
		return nil, fmt.Errorf("bus: redis URL: database %q: a Redis Cluster has only database 0: %w", db, ErrInvalid)
	}
	u.Path = ""
	addrs := opt.ClusterAddrs
	if u.Host == "" {
		if len(addrs) == 0 {
			return nil, fmt.Errorf("bus: redis: no cluster node: the URL names no host: %w", ErrInvalid)
		}
		u.Host, addrs = addrs[0], addrs[1:]
	}
	if len(addrs) > 0 {
		q := u.Query()
		for _, a := range addrs {
			q.Add("addr", a)
		}
		u.RawQuery = q.Encode()
	}
	co, err := redis.ParseClusterURL(u.String())
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bus: redis cluster URL: %v: %w", err, ErrInvalid)
	}
	if co.TLSConfig == nil && (opt.TLSCAFile != "" || opt.TLSSkipVerify) {
		return nil, fmt.Errorf("bus: redis: TLS options need a rediss:// URL: %w", ErrInvalid)
	}
	if co.TLSConfig != nil {
		if err := configureTLS(co.TLSConfig, opt); err != nil {
			return nil, err
		}
	}
	co.DialTimeout = opt.Timeout
	co.ReadTimeout = opt.Timeout
	co.WriteTimeout = opt.Timeout
	co.PoolTimeout = opt.Timeout
	co.ContextTimeoutEnabled = true
	co.PoolSize = opt.PoolSize // per node
	co.MaxActiveConns = opt.PoolSize
	co.PipelinePoolSize = -1
	co.DisableIdentity = true
	// Routing policies would ask each node for COMMAND, with a timeout of
	// go-redis's own; every command here has one key and needs none.
	co.DisableRoutingPolicies = true
	co.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return co, nil
}

// isCluster asks the server c talks to whether it is a node of a Redis
// Cluster: CLUSTER SLOTS answers on one (even before it has slots), and
// fails with an error reply elsewhere ("cluster support disabled",
// NOPERM for a user without +cluster|slots, an unknown command on a
// server that renamed it), which reads as no. A failure to get any reply
// is returned.
func isCluster(ctx context.Context, c *redis.Client) (bool, error) {
	err := c.Do(ctx, "cluster", "slots").Err()
	if err == nil {
		return true, nil
	}
	var reply redis.Error
	if errors.As(err, &reply) && !errors.Is(err, redis.Nil) {
		return false, nil
	}
	return false, err
}

// clusterPing checks that every master of the cluster answers PING, which
// first loads the cluster's layout (CLUSTER SLOTS).
func clusterPing(ctx context.Context, c *redis.ClusterClient) error {
	return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("node %s: %w", m.Options().Addr, err)
		}
		return nil
	})
}

// isUnknownCommand reports whether err is the server's reply to a command
// it does not have, as a Redis before 7.0 answers SPUBLISH.
func isUnknownCommand(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.HasPrefix(err.Error(), "ERR unknown command")
}

// movedHint explains a MOVED or ASK reply to a client that took a cluster
// node for a standalone server.
func movedHint(err error) error {
	var reply redis.Error
	if errors.As(err, &reply) {
		if s := err.Error(); strings.HasPrefix(s, "MOVED ") || strings.HasPrefix(s, "ASK ") {
			return fmt.Errorf("%w (the server is a Redis Cluster node, which Pulse did not detect: give its Redis user +cluster|slots, which the cluster client needs too)", err)
		}
	}
	return err
}
