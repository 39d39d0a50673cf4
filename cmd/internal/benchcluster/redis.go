package benchcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// ErrNoRedis is returned when no Redis URL is given and there is no
// redis-server to start.
var ErrNoRedis = errors.New("benchcluster: no --redis-url and no redis-server in PATH to start one (apt-get install redis-server)")

// startRedis starts a redis-server without persistence on a free port of
// 127.0.0.1, in a temporary directory, and waits until it answers PING.
// stop stops it and removes the directory.
func startRedis(ctx context.Context) (url string, p *proc, stop func(), err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, nil, ErrNoRedis
	}
	dir, err := os.MkdirTemp("", "pulse-bench-redis-")
	if err != nil {
		return "", nil, nil, fmt.Errorf("benchcluster: %w", err)
	}
	// A free port can be taken before the server binds it: try a few.
	for range 3 {
		var ports []string
		if ports, err = freePorts(1); err != nil {
			break
		}
		p, err = startProc("redis-server", bin, nil,
			"--port", ports[0], "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", "")
		if err != nil {
			break
		}
		url = "redis://127.0.0.1:" + ports[0] + "/0"
		if err = pingUntil(ctx, url, p, 10*time.Second); err == nil {
			return url, p, func() {
				p.stop(5 * time.Second)
				os.RemoveAll(dir)
			}, nil
		}
		p.stop(5 * time.Second)
	}
	os.RemoveAll(dir)
	return "", nil, nil, err
}

// pingUntil polls url with PING until it answers, p exits or timeout
// passes.
func pingUntil(ctx context.Context, url string, p *proc, timeout time.Duration) error {
	c, err := newClient(url)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if p.exited() {
			return p.failure()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("benchcluster: redis-server not answering within %v: %w", timeout, err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// newClient returns a client of url with bounded calls.
func newClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: say what is wrong, not what it is.
		return nil, errors.New("benchcluster: --redis-url is not a redis:// or rediss:// URL")
	}
	opt.DialTimeout = 5 * time.Second
	opt.ReadTimeout = 10 * time.Second
	opt.WriteTimeout = 10 * time.Second
	opt.PoolSize = 4
	return redis.NewClient(opt), nil
}

// redisInfo is what the bench reads of INFO.
type redisInfo struct {
	In, Out int64         // total_net_input_bytes, total_net_output_bytes
	CPU     time.Duration // used_cpu_user + used_cpu_sys
	Memory  int64         // used_memory
	Version string        // redis_version
}

// readInfo reads INFO server, stats, cpu and memory.
func readInfo(ctx context.Context, c *redis.Client) (redisInfo, error) {
	s, err := c.Info(ctx, "server", "stats", "cpu", "memory").Result()
	if err != nil {
		return redisInfo{}, fmt.Errorf("benchcluster: redis INFO: %w", err)
	}
	return parseInfo(s)
}

// parseInfo reads INFO's "key:value" lines.
func parseInfo(s string) (redisInfo, error) {
	var in redisInfo
	var cpu float64
	found := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		var err error
		switch k {
		case "total_net_input_bytes":
			in.In, err = strconv.ParseInt(v, 10, 64)
			found++
		case "total_net_output_bytes":
			in.Out, err = strconv.ParseInt(v, 10, 64)
			found++
		case "used_cpu_user", "used_cpu_sys":
			var f float64
			f, err = strconv.ParseFloat(v, 64)
			cpu += f
			found++
		case "used_memory":
			in.Memory, err = strconv.ParseInt(v, 10, 64)
		case "redis_version":
			in.Version = v
		}
		if err != nil {
			return redisInfo{}, fmt.Errorf("benchcluster: redis INFO %s: %q is not a number", k, v)
		}
	}
	if found < 4 {
		return redisInfo{}, fmt.Errorf("benchcluster: redis INFO lacks total_net_input_bytes, total_net_output_bytes, used_cpu_user or used_cpu_sys")
	}
	in.CPU = time.Duration(cpu * float64(time.Second))
	return in, nil
}

// shardStream is what one shard's stream of batches held.
type shardStream struct {
	Key     string
	Shard   int
	Batches int64 // entries
	Bytes   int64 // their payloads
	// InWindow counts the batches and bytes whose entry IDs fall in
	// [from, to].
	WindowBatches, WindowBytes int64
	// Events is the sum of the pulse.events counts in the batches.
	Events uint64
	// Bad counts entries that did not decode as a batch.
	Bad int64
}

// shardRE takes the shard from a stream key: the last run of digits
// (pulse:received:3, or a hash-tagged {pulse:received:3}).
var shardRE = regexp.MustCompile(`(\d+)\D*$`)

// readStreams reads every batch stream under prefix (keys holding
// "received"), counting entries and bytes overall and with IDs in
// [from, to], and summing the pulse.events counts of the batches.
func readStreams(ctx context.Context, c *redis.Client, prefix string, from, to time.Time) ([]shardStream, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*received*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) > 1024 {
			return nil, fmt.Errorf("benchcluster: more than 1024 streams under %q", prefix)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("benchcluster: redis SCAN: %w", err)
	}
	fromMS, toMS := from.UnixMilli(), to.UnixMilli()
	var out []shardStream
	for _, key := range keys {
		s := shardStream{Key: key, Shard: -1}
		if m := shardRE.FindStringSubmatch(key); m != nil {
			s.Shard, _ = strconv.Atoi(m[1])
		}
		start := "-"
		for {
			msgs, err := c.XRangeN(ctx, key, start, "+", 1000).Result()
			if err != nil {
				return nil, fmt.Errorf("benchcluster: redis XRANGE %s: %w", key, err)
			}
			for _, m := range msgs {
				b, _ := m.Values["b"].(string)
				s.Batches++
				s.Bytes += int64(len(b))
				if ms, ok := idMillis(m.ID); ok && ms >= fromMS && ms <= toMS {
					s.WindowBatches++
					s.WindowBytes += int64(len(b))
				}
				n, err := batchEvents([]byte(b))
				if err != nil {
					s.Bad++
					continue
				}
				s.Events += n
			}
			if len(msgs) < 1000 {
				break
			}
			start = "(" + msgs[len(msgs)-1].ID
		}
		out = append(out, s)
	}
	return out, nil
}

// idMillis reads the time of a stream entry ID, "<ms>-<seq>".
func idMillis(id string) (int64, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil
}

// batchEvents returns the sum of the pulse.events counts in an encoded
// batch.
func batchEvents(b []byte) (uint64, error) {
	var batch fragment.Batch
	if err := batch.UnmarshalBinary(b); err != nil {
		return 0, err
	}
	var n uint64
	for _, f := range batch.Fragments {
		if f.Name != window.StatEvents {
			continue
		}
		var c stat.Count
		if err := c.UnmarshalBinary(f.Stat); err != nil {
			return 0, err
		}
		n += c.Count()
	}
	return n, nil
}
