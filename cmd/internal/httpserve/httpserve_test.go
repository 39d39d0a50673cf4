package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// wait returns what Serve returned, failing the test after a deadline.
func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func TestNewServer(t *testing.T) {
	h := http.NotFoundHandler()
	srv := NewServer("127.0.0.1:0", h)
	assert.Equal(t, "127.0.0.1:0", srv.Addr)
	assert.NotNil(t, srv.Handler)
	assert.Equal(t, ReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, ReadTimeout, srv.ReadTimeout)
	assert.Equal(t, WriteTimeout, srv.WriteTimeout)
	assert.Equal(t, IdleTimeout, srv.IdleTimeout)
	assert.Equal(t, MaxHeaderBytes, srv.MaxHeaderBytes)
}

// TestServeGraceful cancels the context while a request is in flight:
// the request still completes, new connections are refused, and Serve
// returns nil.
func TestServeGraceful(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	ln := listen(t)
	url := "http://" + ln.Addr().String() + "/"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-entered
	cancel()
	// Once the listener is closed, new connections fail.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	close(release)
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, "done", r.body)
	assert.NoError(t, wait(t, done))
}

// TestServeForced: a handler that outlives the grace period has its
// connection closed, and Serve says so.
func TestServeForced(t *testing.T) {
	entered := make(chan struct{})
	srv := NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // ends when the server closes the connection
	}))
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeGrace(ctx, srv, ln, 50*time.Millisecond) }()
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-entered
	cancel()
	err := wait(t, done)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "httpserve: shutdown ")
	assert.Error(t, <-clientErr)
}

func TestServeOnShutdown(t *testing.T) {
	stop := make(chan struct{})
	entered := make(chan struct{})
	srv := NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-stop // a stream that ends when the server shuts down
	}))
	srv.RegisterOnShutdown(func() { close(stop) })
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln) }()
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	assert.NoError(t, wait(t, done))
}

func TestServeErrors(t *testing.T) {
	t.Run("closed listener", func(t *testing.T) {
		ln := listen(t)
		ln.Close()
		err := Serve(context.Background(), NewServer("", http.NotFoundHandler()), ln)
		require.Error(t, err)
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.ErrorContains(t, err, "httpserve: serve ")
	})
	t.Run("bad address", func(t *testing.T) {
		err := Serve(context.Background(), NewServer("127.0.0.1:-1", http.NotFoundHandler()), nil)
		require.Error(t, err)
		assert.ErrorContains(t, err, "httpserve: ")
	})
	t.Run("closed by its owner", func(t *testing.T) {
		srv := NewServer("", http.NotFoundHandler())
		ln := listen(t)
		done := make(chan error, 1)
		go func() { done <- Serve(context.Background(), srv, ln) }()
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + ln.Addr().String() + "/")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		}, 10*time.Second, 5*time.Millisecond)
		require.NoError(t, srv.Close())
		assert.NoError(t, wait(t, done))
	})
}

func TestServeListensOnAddr(t *testing.T) {
	// Find a free port, then let Serve listen on it itself.
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	srv := NewServer(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, nil) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	assert.NoError(t, wait(t, done))
}
