package emitter_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/emitter"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

var at = time.Date(2026, 3, 14, 17, 2, 1, 0, time.UTC) // 1773507721

// graphite is a plaintext listener for a test: it sends every line it
// reads on lines, or, made with read false, accepts and never reads.
type graphite struct {
	ln    net.Listener
	lines chan string
	read  bool

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func listen(t *testing.T, addr string, read bool) *graphite {
	t.Helper()
	var ln net.Listener
	var err error
	// The port of a closed listener is free again at once (Go listens
	// with SO_REUSEADDR), but give a loaded machine a moment.
	require.Eventually(t, func() bool { ln, err = net.Listen("tcp", addr); return err == nil }, 5*time.Second, 10*time.Millisecond, "listen %s: %v", addr, err)
	g := &graphite{ln: ln, lines: make(chan string, 1<<16), read: read}
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(g.close)
	return g
}

func (g *graphite) url() string  { return "tcp://" + g.ln.Addr().String() }
func (g *graphite) addr() string { return g.ln.Addr().String() }

func (g *graphite) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns = append(g.conns, c)
		g.mu.Unlock()
		if !g.read {
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				g.lines <- sc.Text()
			}
		}()
	}
}

// close closes the listener and every connection, and waits for the
// readers.
func (g *graphite) close() {
	g.ln.Close()
	g.mu.Lock()
	for _, c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// next returns the next line, failing t after a few seconds.
func (g *graphite) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-g.lines:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("no line from the emitter within 5 s")
		return ""
	}
}

// start runs e until the test ends, and checks that Run returns nil
// within a few seconds of its context's end.
func start(t *testing.T, e *emitter.Emitter) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5 s of cancel")
		}
	})
	t.Cleanup(stop)
	return stop
}

func snap(sec int, stats map[string]stat.Value) window.Snapshot {
	return window.Snapshot{Time: at.Add(time.Duration(sec) * time.Second), Stats: stats}
}

func TestLinesArrive(t *testing.T) {
	g := listen(t, "127.0.0.1:0", true)
	e, err := emitter.New(emitter.Config{URL: g.url()}, nil)
	require.NoError(t, err)
	start(t, e)

	assert.True(t, e.Offer(snap(0, map[string]stat.Value{
		"router.requests":  stat.Number(412.5),
		"router.service":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}}),
		"router.hosts.top": stat.TopValue([]stat.TopValueEntry{{Key: "www.example.com", Value: 3}}),
		"router.H12":       stat.Null(),
		"pulse.events":     stat.Number(700),
	})))
	assert.True(t, e.Offer(snap(1, map[string]stat.Value{"router.requests": stat.Number(7)})))
	want := []string{
		"pulse.pulse.events 700 1773507721",
		"pulse.router.hosts.top.www_example_com 3 1773507721",
		"pulse.router.requests 412.5 1773507721",
		"pulse.router.service.p50 18 1773507721",
		"pulse.router.service.p99 412 1773507721",
		"pulse.router.requests 7 1773507722",
	}
	var got []string
	for range want {
		got = append(got, g.next(t))
	}
	assert.Equal(t, want, got)
	require.Eventually(t, func() bool { return e.Stats().Snapshots == 2 }, 5*time.Second, 5*time.Millisecond)
	s := e.Stats()
	assert.Equal(t, emitter.Stats{Offered: 2, Snapshots: 2, Lines: 6, Connects: 1, Connected: true}, s)
	fields, err := e.Health(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, true, fields["connected"])
	assert.Equal(t, uint64(6), fields["lines"])
}

// TestReconnect closes the listener and every connection, opens a new
// listener on the same port, and expects the emitter to find it and go
// on.
func TestReconnect(t *testing.T) {
	g := listen(t, "127.0.0.1:0", true)
	e, err := emitter.New(emitter.Config{URL: g.url(), MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, nil)
	require.NoError(t, err)
	start(t, e)

	e.Offer(snap(0, map[string]stat.Value{"a": stat.Number(0)}))
	assert.Equal(t, "pulse.a 0 1773507721", g.next(t))

	g.close()
	require.Eventually(t, func() bool { s := e.Stats(); return !s.Connected && s.Errors == 1 }, 5*time.Second, 5*time.Millisecond,
		"the emitter sees the server close while idle")
	assert.Equal(t, "connection closed by the server", e.Stats().LastError)
	// Offer a snapshot a second while nobody listens, then listen again.
	for i := 1; i <= 3; i++ {
		e.Offer(snap(i, map[string]stat.Value{"a": stat.Number(float64(i))}))
		time.Sleep(5 * time.Millisecond)
	}
	g2 := listen(t, g.addr(), true)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 4; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				e.Offer(snap(i, map[string]stat.Value{"a": stat.Number(float64(i))}))
			}
		}
	})
	line := regexp.MustCompile(`^pulse\.a (\d+) (\d+)$`)
	seen := map[string]bool{}
	for len(seen) < 5 {
		l := g2.next(t)
		m := line.FindStringSubmatch(l)
		require.NotNil(t, m, "line %q", l)
		assert.Equal(t, fmt.Sprint(at.Unix()+mustAtoi(t, m[1])), m[2], "value i at second i")
		seen[m[1]] = true
	}
	close(stop)
	wg.Wait()
	s := e.Stats()
	assert.GreaterOrEqual(t, s.Reconnects, uint64(1))
	assert.GreaterOrEqual(t, s.Errors, uint64(1))
	assert.True(t, s.Connected)
	assert.Contains(t, seen, "1", "the snapshots queued while nobody listened are sent after reconnecting")
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// TestStuckServer: a server that accepts and never reads. Offer never
// blocks, the queue stays within its bound, and what does not fit is
// dropped and counted.
func TestStuckServer(t *testing.T) {
	g := listen(t, "127.0.0.1:0", false)
	const buffer = 4
	e, err := emitter.New(emitter.Config{
		URL: g.url(), Buffer: buffer, WriteTimeout: 100 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxAttempts: 2,
	}, nil)
	require.NoError(t, err)
	stop := start(t, e)

	// 20 000 stats, about 600 KB of lines a snapshot: the socket buffers
	// fill after a few.
	stats := map[string]stat.Value{}
	for i := range 20000 {
		stats[fmt.Sprintf("stat.number.%05d", i)] = stat.Number(float64(i))
	}
	// Offer as a merger would, only faster, until the writes time out:
	// the socket buffers hold some megabytes first.
	var slowest time.Duration
	offered := 0
	deadline := time.Now().Add(20 * time.Second)
	for e.Stats().Errors < 2 {
		require.True(t, time.Now().Before(deadline), "writes to a server that does not read time out: %+v", e.Stats())
		t0 := time.Now()
		e.Offer(snap(offered, stats))
		slowest = max(slowest, time.Since(t0))
		offered++
		assert.LessOrEqual(t, e.Stats().Queued, buffer)
		time.Sleep(time.Millisecond)
	}
	assert.Less(t, slowest, 50*time.Millisecond, "Offer does not wait for the writer")
	s := e.Stats()
	assert.Equal(t, uint64(offered), s.Offered)
	assert.Positive(t, s.Dropped)
	assert.LessOrEqual(t, s.Queued, buffer)
	assert.Contains(t, s.LastError, "timeout")
	t.Logf("%+v", s)

	t0 := time.Now()
	stop()
	assert.Less(t, time.Since(t0), 2*time.Second, "Run stops within a write timeout or so")
	s = e.Stats()
	assert.Equal(t, s.Offered, s.Snapshots+s.Dropped+uint64(s.Queued), "every snapshot written, dropped or still queued: %+v", s)
}

// TestDialFails: nothing listens; dials fail and are retried with
// backoff, Health turns unhealthy, and the first listener gets the queued
// snapshot.
func TestDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	e, err := emitter.New(emitter.Config{
		URL: "tcp://" + addr, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, UnhealthyAfter: 50 * time.Millisecond,
	}, nil)
	require.NoError(t, err)
	start(t, e)
	e.Offer(snap(0, map[string]stat.Value{"a": stat.Number(1)}))
	require.Eventually(t, func() bool { _, err := e.Health(context.Background()); return err != nil }, 5*time.Second, 5*time.Millisecond)
	s := e.Stats()
	assert.GreaterOrEqual(t, s.Errors, uint64(3), "dials are retried")
	assert.False(t, s.Connected)
	assert.Contains(t, s.LastError, "refused")
	assert.Equal(t, uint64(0), s.Dropped, "a snapshot waits for a connection rather than being dropped")

	g := listen(t, addr, true)
	assert.Equal(t, "pulse.a 1 1773507721", g.next(t))
	require.Eventually(t, func() bool { _, err := e.Health(context.Background()); return err == nil }, 5*time.Second, 5*time.Millisecond)
}

// TestShutdown: what is queued when Run's context ends is written on
// the open connection before Run returns.
func TestShutdown(t *testing.T) {
	g := listen(t, "127.0.0.1:0", true)
	e, err := emitter.New(emitter.Config{URL: g.url()}, nil)
	require.NoError(t, err)
	stop := start(t, e)
	e.Offer(snap(0, map[string]stat.Value{"a": stat.Number(0)}))
	g.next(t)
	for i := 1; i <= 5; i++ {
		e.Offer(snap(i, map[string]stat.Value{"a": stat.Number(float64(i))}))
	}
	stop()
	for i := 1; i <= 5; i++ {
		assert.Equal(t, fmt.Sprintf("pulse.a %d %d", i, at.Unix()+int64(i)), g.next(t))
	}
	assert.Equal(t, 0, e.Stats().Queued)
	assert.False(t, e.Stats().Connected)
}

func TestOffer(t *testing.T) {
	e, err := emitter.New(emitter.Config{URL: "tcp://127.0.0.1:1", Buffer: 2}, nil)
	require.NoError(t, err)
	assert.True(t, e.Offer(snap(0, nil)))
	assert.True(t, e.Offer(snap(1, nil)))
	assert.False(t, e.Offer(snap(2, nil)), "full: the oldest is dropped")
	assert.False(t, e.Offer(window.Snapshot{}), "no time: dropped")
	s := e.Stats()
	assert.Equal(t, uint64(4), s.Offered)
	assert.Equal(t, uint64(2), s.Dropped)
	assert.Equal(t, 2, s.Queued)
}

func TestRunTwice(t *testing.T) {
	g := listen(t, "127.0.0.1:0", true)
	e, err := emitter.New(emitter.Config{URL: g.url()}, nil)
	require.NoError(t, err)
	start(t, e)
	e.Offer(snap(0, map[string]stat.Value{"a": stat.Number(0)}))
	g.next(t) // Run is running
	err = e.Run(context.Background())
	require.Error(t, err)
	assert.Equal(t, "emitter: Run called twice", err.Error())
}

func TestConfig(t *testing.T) {
	bad := func(cfg emitter.Config, want string) {
		t.Helper()
		_, err := emitter.New(cfg, nil)
		require.ErrorIs(t, err, emitter.ErrConfig, "%+v", cfg)
		assert.Contains(t, err.Error(), want)
		assert.True(t, strings.HasPrefix(err.Error(), "emitter: "), err.Error())
	}
	url := func(u, want string) { t.Helper(); bad(emitter.Config{URL: u}, want) }
	url("", "no Graphite URL")
	url("localhost:2003", `scheme "localhost" is not tcp`)
	url("http://localhost:2003", `scheme "http" is not tcp`)
	url("udp://localhost:2003", `scheme "udp" is not tcp`)
	url("tcp://", "no host")
	url("tcp://:2003", "no host")
	url("tcp:localhost", "no host")
	url("tcp://localhost:http", "invalid port")
	url("tcp://localhost:0", `port "0" out of range`)
	url("tcp://localhost:65536", `port "65536" out of range`)
	url("tcp://localhost:2003/pulse", "nothing may follow the port")
	url("tcp://localhost:2003?x=1", "nothing may follow the port")
	url("tcp://localhost:2003#x", "nothing may follow the port")
	url("tcp://user:pass@localhost:2003", "no user or password")
	url("tcp://local host:2003", "invalid character")
	url(" tcp://localhost:2003", "first path segment")

	ok := "tcp://localhost:2003"
	bad(emitter.Config{URL: ok, Prefix: "a b."}, "prefix")
	bad(emitter.Config{URL: ok, Prefix: "a\n"}, "prefix")
	bad(emitter.Config{URL: ok, Buffer: -1}, "buffer -1 out of range")
	bad(emitter.Config{URL: ok, Buffer: emitter.MaxBuffer + 1}, "buffer 65537 out of range")
	bad(emitter.Config{URL: ok, TopK: -2}, "top-k -2 out of range")
	bad(emitter.Config{URL: ok, TopK: emitter.MaxTopK + 1}, "top-k 1001 out of range")
	bad(emitter.Config{URL: ok, WriteTimeout: -1}, "write timeout -1ns is negative")
	bad(emitter.Config{URL: ok, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "max backoff 1ms is less than min backoff 1s")
	bad(emitter.Config{URL: ok, MaxAttempts: -1}, "max attempts -1")

	for _, u := range []string{"tcp://localhost", "tcp://localhost:2003", "tcp://localhost:2003/", "tcp://127.0.0.1:2003", "tcp://[::1]:2003", "TCP://graphite.example.com:2004"} {
		_, err := emitter.New(emitter.Config{URL: u, TopK: -1}, nil)
		assert.NoError(t, err, u)
	}
}
