package web

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/httpserve"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sse is a client of /stats/stream: its events (data lines, and ":"
// for a comment) arrive on a channel, closed at the end of the stream.
type sse struct {
	resp   *http.Response
	events chan string
}

// newServer starts a test server for hd, closed at the end of the test
// after the streams opened later.
func newServer(t *testing.T, hd http.Handler) *httptest.Server {
	srv := httptest.NewServer(hd)
	t.Cleanup(srv.Close)
	return srv
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/stats/stream", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	s := &sse{resp: resp, events: make(chan string, 1000)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data: "):
				s.events <- strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ":"):
				s.events <- ":"
			}
		}
	}()
	return s
}

// next returns the next data event, skipping comments; ok is false at
// the end of the stream.
func (s *sse) next(t *testing.T) (data string, ok bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-s.events:
			if ok && e == ":" {
				continue
			}
			return e, ok
		case <-deadline:
			t.Fatal("no event on the stream")
			return "", false
		}
	}
}

func decode(t *testing.T, data string) window.Snapshot {
	t.Helper()
	var s window.Snapshot
	require.NoError(t, s.UnmarshalJSON([]byte(data)), data)
	return s
}

func TestStream(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	h.Add(0, snap(at(1), "a", 1))
	h.Add(1, snap(at(1), "b", -1))
	// A buffer for the whole burst below: Adds come faster than a
	// client reads (a client that falls behind is cut off; see
	// TestStreamSlowClient).
	srv := newServer(t, Handler(h, Config{StreamBuffer: 128}))

	c := openStream(t, srv.URL)
	assert.Equal(t, http.StatusOK, c.resp.StatusCode)
	assert.Equal(t, "text/event-stream", c.resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", c.resp.Header.Get("Cache-Control"))
	assert.Equal(t, ContentSecurityPolicy, c.resp.Header.Get("Content-Security-Policy"))
	first, ok := c.next(t)
	require.True(t, ok)
	assert.Equal(t, string(h.Latest().AppendJSON(nil)), first, "the latest on connect")

	// Every later snapshot, in order, merged across shards.
	go func() {
		for s := 2; s <= 50; s++ {
			h.Add(0, snap(at(s), "a", s, "line\nbreak", s))
			h.Add(1, snap(at(s), "b", -s))
		}
	}()
	for s := 2; s <= 50; s++ {
		e, ok := c.next(t)
		require.True(t, ok)
		got := decode(t, e)
		require.Equal(t, at(s-1), got.Time, "shard 1 is still at the second before")
		require.Equal(t, fmt.Sprint(s), got.Stats["a"].String())
		e, ok = c.next(t)
		require.True(t, ok)
		require.Equal(t, snap(at(s), "a", s, "line\nbreak", s, "b", -s), decode(t, e))
	}
}

func TestStreamEndsAtCloseSubscriptions(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	srv := newServer(t, Handler(h, Config{}))
	c := openStream(t, srv.URL)
	h.Add(0, snap(at(1), "a", 1))
	_, ok := c.next(t)
	require.True(t, ok)
	h.CloseSubscriptions()
	_, ok = c.next(t)
	assert.False(t, ok, "the stream ends")
	require.Eventually(t, func() bool { return h.Stats().Subscribers == 0 }, 10*time.Second, time.Millisecond)
}

func TestStreamClientLeaves(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	srv := newServer(t, Handler(h, Config{}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stats/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 1, h.Stats().Subscribers)
	cancel()
	resp.Body.Close()
	// The handler's goroutine ends with the request's context.
	require.Eventually(t, func() bool { return h.Stats().Subscribers == 0 }, 10*time.Second, time.Millisecond)
}

func TestStreamMaxStreams(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	srv := newServer(t, Handler(h, Config{MaxStreams: 1}))
	c := openStream(t, srv.URL)
	require.Equal(t, http.StatusOK, c.resp.StatusCode)
	resp, err := http.Get(srv.URL + "/stats/stream")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	_, body := get(t, Handler(h, Config{}), "/healthz")
	assert.Contains(t, body, `"live_shards":0`)
}

func TestStreamHeartbeat(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	srv := newServer(t, Handler(h, Config{Heartbeat: 10 * time.Millisecond}))
	c := openStream(t, srv.URL)
	select {
	case e := <-c.events:
		assert.Equal(t, ":", e)
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat")
	}
}

// TestStreamSlowClient connects a client that never reads: Adds of
// large snapshots go on without waiting for it, and once the socket and
// its buffer of snapshots are full it is cut off.
func TestStreamSlowClient(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{Points: 10})
	srv := newServer(t, Handler(h, Config{StreamBuffer: 2, StreamWriteTimeout: time.Minute}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	_, err = fmt.Fprintf(conn, "GET /stats/stream HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.Stats().Subscribers == 1 }, 10*time.Second, time.Millisecond)

	kv := []any{}
	for i := range 500 {
		kv = append(kv, fmt.Sprintf("stat.%03d.%s", i, strings.Repeat("x", 100)), i)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := 0; h.Stats().Slow == 0; s++ {
			h.Add(0, snap(at(s), kv...))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the slow client was not cut off, or Add blocked")
	}
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Slow)
	assert.Equal(t, 0, st.Subscribers)
}

// TestStreamOutlivesServerTimeouts: a stream under a server with short
// read and write timeouts keeps delivering after both have passed.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	srv := httpserve.NewServer("", Handler(h, Config{}))
	srv.ReadTimeout = 100 * time.Millisecond
	srv.WriteTimeout = 100 * time.Millisecond
	srv.RegisterOnShutdown(h.CloseSubscriptions)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- httpserve.Serve(ctx, srv, ln) }()

	h.Add(0, snap(at(0), "a", 0))
	c := openStream(t, "http://"+ln.Addr().String())
	_, ok := c.next(t)
	require.True(t, ok)
	began := time.Now()
	for s := 1; time.Since(began) < 500*time.Millisecond; s++ {
		h.Add(0, snap(at(s), "a", s))
		e, ok := c.next(t)
		require.True(t, ok, "stream ended after %v", time.Since(began))
		require.Equal(t, at(s), decode(t, e).Time)
		time.Sleep(10 * time.Millisecond) // let the timeouts pass; nothing waits on this
	}
	// A graceful shutdown ends the stream at once.
	cancel()
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(httpserve.ShutdownTimeout / 2):
		t.Fatal("shutdown waited for the stream")
	}
	_, ok = c.next(t)
	assert.False(t, ok)
}
