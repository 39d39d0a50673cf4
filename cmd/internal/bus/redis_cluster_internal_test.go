package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeySlot holds keySlot to CRC-16/XMODEM's check value and to the
// examples of the Redis Cluster specification, hash tags included.
func TestKeySlot(t *testing.T) {
	assert.Equal(t, uint16(0x31c3), crc16([]byte("123456789")), "CRC-16/XMODEM check value")
	f := func(key string, want int) {
		t.Helper()
		assert.Equal(t, want, keySlot(key), "%q", key)
	}
	f("somekey", 11058)
	f("foo{hash_tag}", 2515)
	f("bar{hash_tag}", 2515)
	f("hash_tag", 2515)
	f("{user1000}.following", keySlot("user1000"))
	f("foo{}{bar}", int(crc16([]byte("foo{}{bar}"))%clusterSlots)) // an empty tag hashes the whole key
	f("foo{{bar}}zap", keySlot("{bar"))
	f("foo{bar}{zap}", keySlot("bar"))
	f("{unclosed", int(crc16([]byte("{unclosed"))%clusterSlots))
	f("", 0)
}

// TestSlotTags checks that every slot has a tag, and that the tag puts a
// key in that slot.
func TestSlotTags(t *testing.T) {
	for slot := range clusterSlots {
		tag := slotTag(slot)
		require.NotEmpty(t, tag)
		require.Equal(t, slot, keySlot("pulse:received:7{"+tag+"}"), "slot %d, tag %q", slot, tag)
	}
	assert.LessOrEqual(t, len(slotTag(0)), 5)
}

// TestShardSlotsSpread checks the promise of the design note: on a
// cluster of M masters serving equal runs of slots (as redis-cli lays
// them out), the streams of N shards fall ⌊N/M⌋ or ⌈N/M⌉ on each master.
func TestShardSlotsSpread(t *testing.T) {
	for m := 1; m <= 16; m++ {
		for n := 1; n <= 64; n++ {
			count := make([]int, m)
			for shard := range n {
				slot := shardSlot(shard, n)
				require.True(t, slot >= 0 && slot < clusterSlots)
				node := 0
				for i := m - 1; i > 0; i-- {
					if slot >= i*clusterSlots/m {
						node = i
						break
					}
				}
				count[node]++
			}
			for i, c := range count {
				if c < n/m || c > (n+m-1)/m {
					t.Errorf("%d shards on %d masters: master %d holds %d (%v)", n, m, i, c, count)
				}
			}
		}
	}
	assert.Equal(t, shardSlot(2, 3), shardSlot(5, 3), "a shard beyond the count wraps around")
	assert.Equal(t, shardSlot(0, 1), shardSlot(0, 0), "zero shards mean one")
}

// TestBatchKeyNames pins the stream names, which every process of a
// deployment must compute alike: a change would split a fleet of mixed
// versions.
func TestBatchKeyNames(t *testing.T) {
	standalone := &Redis{opt: RedisOptions{Prefix: "pulse:", Shards: 3}}
	cluster := &Redis{opt: RedisOptions{Prefix: "pulse:", Shards: 3}, cluster: true}
	var got []string
	for shard := range 3 {
		assert.Equal(t, "pulse:received:"+string(rune('0'+shard)), standalone.BatchKey(shard))
		got = append(got, cluster.BatchKey(shard))
	}
	assert.Equal(t, []string{"pulse:received:0{54h}", "pulse:received:1{fjl}", "pulse:received:2{1x3}"}, got)
	for shard, key := range got {
		assert.Equal(t, shardSlot(shard, 3), keySlot(key))
	}
}

func TestCheckClusterAddrs(t *testing.T) {
	require.NoError(t, checkClusterAddrs([]string{"127.0.0.1:7000", "redis.example.com:6379", "[::1]:7001"}))
	for _, bad := range []string{"", "localhost", "localhost:", ":7000", "localhost:x", "localhost:0", "localhost:65536", "a:1:2", "[::1]"} {
		assert.ErrorIs(t, checkClusterAddrs([]string{"127.0.0.1:7000", bad}), ErrInvalid, "%q", bad)
	}
}

func TestRedisClusterOptions(t *testing.T) {
	ca := writeCA(t)
	tests := []struct {
		name     string
		opt      RedisOptions
		addrs    []string
		user, pw string
		tls      bool
	}{
		{"URL alone", RedisOptions{URL: "redis://10.0.0.1:7000"}, []string{"10.0.0.1:7000"}, "", "", false},
		{"URL with database 0", RedisOptions{URL: "redis://10.0.0.1:7000/0"}, []string{"10.0.0.1:7000"}, "", "", false},
		{"URL with more nodes", RedisOptions{URL: "redis://u:p@10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000"},
			[]string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, "u", "p", false},
		{"addresses alone", RedisOptions{ClusterAddrs: []string{"10.0.0.1:7000", "10.0.0.2:7001"}},
			[]string{"10.0.0.1:7000", "10.0.0.2:7001"}, "", "", false},
		{"addresses with the URL's credentials", RedisOptions{URL: "rediss://pulse:s3cret@", ClusterAddrs: []string{"10.0.0.1:7000", "10.0.0.2:7001"}, TLSCAFile: ca},
			[]string{"10.0.0.1:7000", "10.0.0.2:7001"}, "pulse", "s3cret", true},
		{"addresses and the URL's node", RedisOptions{URL: "redis://:pw@10.0.0.9:7000", ClusterAddrs: []string{"10.0.0.1:7000"}},
			[]string{"10.0.0.9:7000", "10.0.0.1:7000"}, "", "pw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.Timeout, tt.opt.PoolSize = time.Second, 7
			co, err := redisClusterOptions(tt.opt)
			require.NoError(t, err)
			assert.Equal(t, tt.addrs, co.Addrs)
			assert.Equal(t, tt.user, co.Username)
			assert.Equal(t, tt.pw, co.Password)
			assert.Equal(t, tt.tls, co.TLSConfig != nil)
			if co.TLSConfig != nil {
				assert.NotNil(t, co.TLSConfig.RootCAs)
				assert.GreaterOrEqual(t, co.TLSConfig.MinVersion, uint16(tls.VersionTLS12))
			}
			assert.Equal(t, time.Second, co.DialTimeout)
			assert.Equal(t, time.Second, co.ReadTimeout)
			assert.Equal(t, time.Second, co.PoolTimeout)
			assert.True(t, co.ContextTimeoutEnabled)
			assert.Equal(t, 7, co.PoolSize)
			assert.True(t, co.DisableRoutingPolicies)
		})
	}

	bad := func(opt RedisOptions, want string) {
		t.Helper()
		_, err := redisClusterOptions(opt)
		require.ErrorIs(t, err, ErrInvalid, "%+v", opt)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "hunter2")
	}
	bad(RedisOptions{URL: "redis://:hunter2@10.0.0.1:7000/3"}, `database "3": a Redis Cluster has only database 0`)
	bad(RedisOptions{URL: "redis://:hunter2@"}, "the URL names no host")
	bad(RedisOptions{URL: "redis://:hunter2@10.0.0.1:7000?addr=nope"}, "unable to parse addr param: nope")
	bad(RedisOptions{URL: "redis://:hunter2@10.0.0.1:7000?db=2&addr=10.0.0.2:7000"}, "unexpected option: db")
	bad(RedisOptions{URL: "http://:hunter2@10.0.0.1:7000?addr=10.0.0.2:7000"}, "invalid URL scheme")
	bad(RedisOptions{URL: "redis://:hunter2@local\x7fhost"}, "bus: redis URL")
	bad(RedisOptions{ClusterAddrs: []string{"10.0.0.1"}}, `cluster address "10.0.0.1"`)
	bad(RedisOptions{ClusterAddrs: []string{"10.0.0.1:7000"}, TLSSkipVerify: true}, "TLS options need a rediss:// URL")
	assert.True(t, clusterURL("redis://a:1?addr=b:2"))
	assert.False(t, clusterURL("redis://a:1/0"))
	assert.False(t, clusterURL("redis://a:1?addr"+"\x7f"))
}

// writeCA writes a self-signed certificate authority's certificate to a
// PEM file and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}
