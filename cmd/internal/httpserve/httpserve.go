package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// The bounds NewServer sets and the grace Serve gives requests in flight.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds a response from the end of the request headers.
	// A handler that streams (Server-Sent Events) moves its own deadline
	// with http.ResponseController.SetWriteDeadline before each write.
	WriteTimeout = 30 * time.Second
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes = 64 << 10
	// ShutdownTimeout is how long Serve waits for requests in flight
	// once its context ends, before it closes their connections.
	ShutdownTimeout = 10 * time.Second
)

// NewServer returns a server for h on addr with the bounds above. The
// caller may change any field before Serve.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Serve serves srv on ln (on a new TCP listener at srv.Addr when ln is
// nil) until ctx ends, then shuts srv down gracefully: it stops
// accepting, lets requests in flight finish for up to ShutdownTimeout and
// then closes what remains. Handlers that run until their client leaves,
// such as event streams, should end on srv.RegisterOnShutdown.
//
// Serve returns nil after a shutdown that ctx started and that finished
// in time, an error wrapping context.DeadlineExceeded when it had to close
// connections, or the error that stopped the server. It closes ln.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	return ServeGrace(ctx, srv, ln, ShutdownTimeout)
}

// ServeGrace is Serve with a grace period of its own instead of
// ShutdownTimeout; zero or less closes connections at once.
func ServeGrace(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	if ln == nil {
		addr := srv.Addr
		if addr == "" {
			addr = ":http"
		}
		var err error
		if ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err != nil {
			return fmt.Errorf("httpserve: %w", err)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil // shut down by its owner, not by us
		}
		return fmt.Errorf("httpserve: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(grace, 0))
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("httpserve: shutdown %s after %v: %w", ln.Addr(), grace, err)
	}
	<-served
	return err
}
