package benchcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// buildPulse builds cmd/pulse into a temporary directory: the children
// run it, since os.Executable in a test is the test binary.
func buildPulse(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "module root not found from the test's directory")
	goBin := "go"
	if r := os.Getenv("GOROOT"); r != "" {
		goBin = filepath.Join(r, "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "pulse")
	cmd := exec.Command(goBin, "build", "-ldflags=-w", "-o", bin, "./cmd/pulse")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// running returns the PIDs of processes running bin.
func running(t *testing.T, bin string) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		return nil
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	require.NoError(t, err)
	var pids []string
	for _, d := range dirs {
		exe, err := os.Readlink(filepath.Join(d, "exe"))
		if err == nil && exe == bin {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// lines is a Progress writer that calls on for each line.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
	on func(string)
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.on != nil {
		for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
			l.on(line)
		}
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBenchCluster runs a real fleet (2 receivers, 2 merger shards, a web,
// one redis-server) for 5 s at a modest rate and checks that every event
// accepted is folded, published and merged, that every figure was
// measured, that the run's keys are gone from the Redis it was given, and
// that no process is left behind; then interrupts a second run during its
// load and checks that it stops every process.
func TestBenchCluster(t *testing.T) {
	srv := redistest.Start(t)
	bin := buildPulse(t)

	t.Run("run", func(t *testing.T) {
		progress := &lines{}
		res, err := Bench(t.Context(), Config{
			Bin: bin, Receivers: 2, Mergers: 2, Duration: 5 * time.Second,
			Rate: 40000, Clients: 2, RedisURL: srv.URL(), Progress: progress,
		})
		require.NoError(t, err, "progress:\n%s", progress)
		var text bytes.Buffer
		require.NoError(t, res.WriteText(&text))
		t.Logf("%s", text.String())

		ev := res.Events
		require.Positive(t, ev.Accepted)
		assert.Equal(t, map[int]int64{204: res.Requests}, res.Status)
		assert.Zero(t, res.Errors)
		// Every body answered 204 was queued, so folded; the queues were
		// empty and a flush passed before the streams were read.
		assert.Equal(t, ev.Accepted, ev.Folded, "accepted → folded")
		assert.Equal(t, ev.Folded, ev.Published, "folded → published on Redis")
		require.GreaterOrEqual(t, res.Merger.Republished, int64(0), "republished known")
		require.GreaterOrEqual(t, res.Merger.Late, int64(0), "late known")
		if res.Merger.Republished == 0 && res.Merger.Late == 0 {
			assert.Equal(t, ev.Published, ev.Merged, "published → merged at the web")
		} else {
			// A fragment that came after its second was published is in
			// later snapshots, not always in the ones the sum reads.
			t.Logf("mergers took fragments late (republished %d, late %d)", res.Merger.Republished, res.Merger.Late)
			assert.LessOrEqual(t, ev.Merged, ev.Published)
			assert.Positive(t, ev.Merged)
		}
		assert.Positive(t, ev.AcceptedPerSec)
		assert.False(t, ev.MergedAt.IsZero())

		if runtime.GOOS == "linux" {
			require.Len(t, res.CPU.Receivers, 2)
			for i, c := range res.CPU.Receivers {
				assert.Positive(t, c, "receiver %d CPU", i)
			}
			require.Len(t, res.CPU.Mergers, 2)
			assert.Positive(t, res.CPU.Mergers[0]+res.CPU.Mergers[1], "merger CPU")
			assert.Positive(t, res.CPU.ReceiverMicrosPerEvent)
			assert.Positive(t, res.CPU.MergerCoresPerReceiver)
			assert.Positive(t, res.CPU.Client)
			assert.Len(t, res.CPU.PeakRSS, 5)
			for _, r := range res.CPU.PeakRSS {
				assert.Greater(t, r, int64(1<<20))
			}
		}
		assert.Positive(t, res.RedisIO.InPerSec)
		assert.Positive(t, res.RedisIO.OutPerSec)
		require.Len(t, res.RedisIO.Shards, 2)
		for i, s := range res.RedisIO.Shards {
			assert.Equal(t, i, s.Shard)
			assert.Positive(t, s.Batches, "shard %d", i)
			assert.Positive(t, s.BytesPerBatch, "shard %d", i)
			assert.Positive(t, s.BytesPerSec, "shard %d", i)
			assert.Zero(t, s.Undecodable)
		}
		// Batches cross Redis, so its input is at least their bytes.
		var batchBytes float64
		for _, s := range res.RedisIO.Shards {
			batchBytes += s.BytesPerSec
		}
		assert.Greater(t, res.RedisIO.InPerSec, batchBytes)
		assert.Equal(t, int64(0), res.Merger.Duplicates)
		assert.Equal(t, int64(0), res.Merger.ApplyErrors)
		assert.Positive(t, res.Merger.Batches)
		assert.Positive(t, res.Freshness.Snapshots)
		assert.Positive(t, res.Freshness.LagP50)
		assert.GreaterOrEqual(t, res.Freshness.LagMax, res.Freshness.LagP50)
		assert.Empty(t, res.Notes)

		b, err := json.Marshal(res)
		require.NoError(t, err)
		var back Result
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, res.Events.Merged, back.Events.Merged)

		assert.Empty(t, running(t, bin), "processes left running")
		n, err := redisKeys(srv.URL())
		require.NoError(t, err)
		assert.Zero(t, n, "keys left in the Redis the bench was given")
	})

	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		progress := &lines{on: func(line string) {
			if strings.Contains(line, "loading") {
				cancel()
			}
		}}
		res, err := Bench(ctx, Config{
			Bin: bin, Receivers: 1, Mergers: 1, Duration: time.Minute,
			Rate: 10000, Clients: 1, RedisURL: srv.URL(), Progress: progress,
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, res)
		assert.Contains(t, progress.String(), "interrupted: stopping 3 processes")
		assert.Empty(t, running(t, bin), "processes left running")
	})
}

func redisKeys(url string) (int64, error) {
	c, err := newClient(url)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.DBSize(context.Background()).Result()
}

// TestStartRedis: the redis-server the bench starts for itself answers,
// and is gone, with its directory, when stopped.
func TestStartRedis(t *testing.T) {
	url, p, stop, err := startRedis(t.Context())
	if err == ErrNoRedis {
		redistest.Unavailable(t, err)
	}
	require.NoError(t, err)
	c, err := newClient(url)
	require.NoError(t, err)
	defer c.Close()
	in, err := readInfo(t.Context(), c)
	require.NoError(t, err)
	assert.NotEmpty(t, in.Version)
	assert.Positive(t, in.In)
	i := slices.Index(p.cmd.Args, "--dir")
	require.Positive(t, i)
	dir := p.cmd.Args[i+1]
	stop()
	assert.True(t, p.exited())
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "%s still there", dir)
}

func TestCheck(t *testing.T) {
	f := func(mod func(*Config), want string) {
		t.Helper()
		var c Config
		mod(&c)
		err := c.check()
		if want == "" {
			assert.NoError(t, err)
			return
		}
		assert.ErrorContains(t, err, want)
	}
	f(func(*Config) {}, "")
	f(func(c *Config) { c.Receivers = -1 }, "--receivers -1 must be between 1 and 64")
	f(func(c *Config) { c.Receivers = 65 }, "--receivers 65")
	f(func(c *Config) { c.Mergers = 100 }, "--mergers 100")
	f(func(c *Config) { c.Workers = -2 }, "--workers -2")
	f(func(c *Config) { c.Duration = -time.Second }, "--duration -1s must be positive")
	f(func(c *Config) { c.Rate = -1 }, "--rate -1")
	f(func(c *Config) { c.Clients = -1 }, "--clients -1")
	f(func(c *Config) { c.Frames = 200000 }, "--frames 200000")
	f(func(c *Config) { c.Bodies, c.Frames = 1000000, 100 }, "--bodies 1000000 × --frames 100")
	f(func(c *Config) { c.GenRate = -1 }, "--gen-rate -1")
	f(func(c *Config) { c.Settle = -1 }, "--settle must be positive")
}

func TestDrainShare(t *testing.T) {
	c := Config{Receivers: 4, Rate: 80000, Frames: 100}
	require.NoError(t, c.check())
	d := c.drain(2, "http://127.0.0.1:5000/logs")
	assert.Equal(t, 200.0, d.Rate, "80 000 events/s over 4 receivers of 100-frame bodies")
	assert.Equal(t, uint64(3), d.Seed)
	assert.Equal(t, DefaultClients, d.Clients)
	c.Rate = 0
	assert.Zero(t, c.drain(0, "").Rate)
}

func TestParseInfo(t *testing.T) {
	in, err := parseInfo("# Server\r\nredis_version:7.0.15\r\n# Stats\r\ntotal_net_input_bytes:1234\r\ntotal_net_output_bytes:5678\r\n" +
		"# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.500000\r\nused_cpu_sys_children:9.0\r\n# Memory\r\nused_memory:1048576\r\n")
	require.NoError(t, err)
	assert.Equal(t, redisInfo{In: 1234, Out: 5678, CPU: 1750 * time.Millisecond, Memory: 1 << 20, Version: "7.0.15"}, in)

	_, err = parseInfo("total_net_input_bytes:1\r\n")
	assert.ErrorContains(t, err, "lacks")
	_, err = parseInfo("total_net_input_bytes:x\r\n")
	assert.ErrorContains(t, err, `total_net_input_bytes: "x" is not a number`)
}

func TestSeriesTotal(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(1_800_000_000+s, 0) }
	// Counts per second: 5 events in each of seconds 3..24 (ending at 25),
	// none before or after. r(T) is the count of [T−10, T) ÷ 10.
	count := func(s int64) float64 {
		if s >= 3 && s < 25 {
			return 5
		}
		return 0
	}
	full := series{}
	for T := int64(0); T <= 40; T++ {
		var n float64
		for s := T - 10; s < T; s++ {
			n += count(s)
		}
		full[at(T).UnixMilli()] = n / 10
	}
	const want = 22 * 5

	tests := []struct {
		name   string
		s      series
		T      time.Time
		want   float64
		wantOK bool
	}{
		{"after the last event", full, at(30), want, true},
		{"long after", full, at(40), want, true},
		{"in the middle: what came before T", full, at(13), 10 * 5, true},
		{"before the first event", full, at(2), 0, true},
		{"a snapshot the sum needs is missing", without(full, at(20)), at(30), 0, false},
		{"one it does not need is missing", without(full, at(21)), at(30), want, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.s.total(tt.T, at(0), selfSpan)
			assert.Equal(t, tt.wantOK, ok)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}

	// latestTotal skips the times whose sum is incomplete.
	v, T, ok := without(full, at(20)).latestTotal(at(26), at(0), selfSpan)
	require.True(t, ok)
	assert.Equal(t, at(39), T, "40 needs 20")
	assert.InDelta(t, want, v, 1e-9)
	_, _, ok = full.latestTotal(at(41), at(0), selfSpan)
	assert.False(t, ok, "no snapshot at or after 41")
}

func without(s series, t time.Time) series {
	out := series{}
	for k, v := range s {
		if k != t.UnixMilli() {
			out[k] = v
		}
	}
	return out
}

func TestSeriesSummary(t *testing.T) {
	s := series{}
	for i := range 100 {
		s[time.Unix(int64(i), 0).UnixMilli()] = float64(i + 1)
	}
	p50, p99, mx, n := s.summary(time.Unix(0, 0), time.Unix(99, 0))
	assert.Equal(t, []float64{50, 99, 100}, []float64{p50, p99, mx})
	assert.Equal(t, 100, n)
	_, _, _, n = s.summary(time.Unix(200, 0), time.Unix(300, 0))
	assert.Zero(t, n)
}

func TestShardFromKey(t *testing.T) {
	for key, want := range map[string]string{
		"pulsebench:ab12:received:3":    "3",
		"pulsebench:ab12:{received:17}": "17",
		"{pulsebench:ab12:}received:0":  "0",
	} {
		m := shardRE.FindStringSubmatch(key)
		require.NotNil(t, m, key)
		assert.Equal(t, want, m[1], key)
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 8}
	tl.Write([]byte("abc"))
	assert.Equal(t, "abc", tl.String())
	tl.Write([]byte("defghijk"))
	assert.Equal(t, "[3 bytes before]\ndefghijk", tl.String())
}

func TestCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// Burn a little CPU so that at least one 10 ms tick is counted.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	c, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, c)
	rss, err := peakRSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20))
	_, err = cpuTime(-1)
	assert.Error(t, err)
	l, err := loadAvg()
	require.NoError(t, err)
	assert.Len(t, strings.Fields(l), 3)
}
