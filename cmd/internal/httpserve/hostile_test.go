package httpserve

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hostile-client tests of Pulse's HTTP servers (RELIABILITY.md lists
// them): a server from NewServer, with its timeouts shortened, behind
// Limit, as pulse run serves the drain and the web.

// hostileServer serves an "ok" handler with NewServer's bounds, the
// header timeout shortened to headerTimeout, behind Limit(maxConns).
func hostileServer(t *testing.T, headerTimeout time.Duration, maxConns int, log *slog.Logger) (*Listener, string) {
	t.Helper()
	srv := NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	srv.ReadHeaderTimeout = headerTimeout
	ln := Limit(listen(t), maxConns, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeGrace(ctx, srv, ln, 0) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln, ln.Addr().String()
}

// get asks addr for / on a new connection and returns the status.
func get(t *testing.T, addr string) int {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestHostileSlowHeaders sends a request's headers one byte every 20 ms:
// at ReadHeaderTimeout the server answers 400 and closes the connection,
// and counts the timeout; other clients are served meanwhile.
func TestHostileSlowHeaders(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ln, addr := hostileServer(t, timeout, 0, nil)
	start := time.Now() // before the server can start its clock
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()

	closed := make(chan []byte, 1)
	go func() {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(conn)
		closed <- b
	}()
	req := []byte("POST /logs HTTP/1.1\r\nHost: pulse\r\nContent-Type: application/logplex-1\r\n")
	tick := time.NewTicker(timeout / 10)
	defer tick.Stop()
	var answer []byte
loop:
	for i := 0; ; i++ {
		select {
		case answer = <-closed:
			break loop
		case <-tick.C:
			conn.Write(req[i%len(req) : i%len(req)+1])
		}
	}
	took := time.Since(start)
	assert.True(t, strings.HasPrefix(string(answer), "HTTP/1.1 400 Bad Request\r\n"), "net/http answers 400 to headers cut off by the timeout: %q", answer)
	assert.GreaterOrEqual(t, took, timeout)
	assert.Less(t, took, 5*time.Second, "closed at the header timeout, not kept by the trickle")
	assert.Equal(t, http.StatusOK, get(t, addr), "others are served")
	st := ln.Stats()
	assert.EqualValues(t, 1, st.Timeouts, "the header timeout is counted")
	assert.EqualValues(t, 2, st.Accepted)
}

// TestHostileIdleHTTPConns opens up to 10 000 connections that send
// nothing (fewer when the file descriptor limit is lower) against a limit
// of 64: at most 64 are open at once, the others are closed at once and
// counted, with one warning in the log; the held ones are closed at the
// header timeout and counted; then the server serves again.
func TestHostileIdleHTTPConns(t *testing.T) {
	const maxConns = 64
	n := 10_000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n+maxConns+512) {
		n = int(lim.Cur) - maxConns - 512
		t.Logf("RLIMIT_NOFILE is %d: %d connections instead of 10 000", lim.Cur, n)
	}
	if testing.Short() {
		n = min(n, 1000)
	}
	require.Greater(t, n, 2*maxConns, "file descriptors for the test")
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const timeout = time.Second
	ln, addr := hostileServer(t, timeout, maxConns, log)

	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var dialErrs atomic.Int64
	var maxOpen atomic.Int64
	const dialers = 8
	start := time.Now()
	for d := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < n; i += dialers {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				conns[i] = c
				if o := ln.Stats().Open; o > maxOpen.Load() {
					maxOpen.Store(o)
				}
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	require.Zero(t, dialErrs.Load())
	require.Eventually(t, func() bool {
		st := ln.Stats()
		return st.Accepted+st.Rejected == uint64(n)
	}, 10*time.Second, 10*time.Millisecond, "every connection accepted or rejected")

	t.Logf("%d connections dialled in %v", n, time.Since(start))
	st := ln.Stats()
	assert.LessOrEqual(t, maxOpen.Load(), int64(maxConns), "the limit is held")
	// The first 64 hold their slots until the header timeout; when the
	// dials took longer than that, later ones took the freed slots.
	assert.GreaterOrEqual(t, st.Accepted, uint64(maxConns))
	assert.Greater(t, st.Rejected, uint64(n/2), "the connections over the limit are rejected")
	assert.Equal(t, 1, strings.Count(logs.String(), "connection limit reached"), "one warning, not one a connection")

	require.Eventually(t, func() bool { return ln.Stats().Open == 0 }, 3*timeout, 10*time.Millisecond, "the header timeout to close the idle ones")
	st = ln.Stats()
	assert.Equal(t, st.Accepted, st.Timeouts, "each idle connection served is closed by the header timeout and counted")
	assert.Equal(t, uint64(n), st.Accepted+st.Rejected)
	assert.Equal(t, http.StatusOK, get(t, addr), "served again")
}

// TestHostileHeaderTooLarge sends 1 MiB of headers: net/http answers 431
// at MaxHeaderBytes (64 KiB) and closes; the server goes on.
func TestHostileHeaderTooLarge(t *testing.T) {
	ln, addr := hostileServer(t, time.Second, 0, nil)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	go func() {
		var b bytes.Buffer
		b.WriteString("GET / HTTP/1.1\r\nHost: pulse\r\n")
		for b.Len() < 1<<20 {
			b.WriteString("X-Junk: " + strings.Repeat("j", 1000) + "\r\n")
		}
		conn.Write(b.Bytes()) // fails once the server has hung up
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	assert.Equal(t, http.StatusOK, get(t, addr), "served again")
	require.Eventually(t, func() bool { return ln.Stats().Open == 0 }, 5*time.Second, 10*time.Millisecond, "the connections closed")
}

// TestLimitKeepAlive checks that a keep-alive client's requests are not
// counted as timeouts: net/http ends its background read after each
// request with a deadline in the past.
func TestLimitKeepAlive(t *testing.T) {
	ln, addr := hostileServer(t, time.Second, 0, nil)
	c := &http.Client{Timeout: 5 * time.Second}
	for range 20 {
		resp, err := c.Post("http://"+addr+"/", "text/plain", strings.NewReader("body"))
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	st := ln.Stats()
	assert.EqualValues(t, 1, st.Accepted, "one keep-alive connection")
	assert.Zero(t, st.Timeouts)
	assert.Zero(t, st.Rejected)
}
