package httpserve

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// MaxConns is the connection limit Limit is usually given: the most
// connections a server holds open at once. Each costs a goroutine and
// about 10 KiB of buffers, so 4096 bound them to some 40 MiB. An idle
// connection that never sends a request holds its slot for
// ReadHeaderTimeout (5 s), an idle keep-alive one for IdleTimeout.
const MaxConns = 4096

// ConnStats counts what a Listener saw. Every field but Open only grows.
type ConnStats struct {
	// Open is the number of connections open now.
	Open int64 `json:"conns_open"`
	// Accepted counts the connections handed to the server.
	Accepted uint64 `json:"conns"`
	// Rejected counts the connections closed at once, unserved, because
	// the limit was reached.
	Rejected uint64 `json:"conns_rejected"`
	// Timeouts counts reads that ran into the server's own deadline:
	// a request's headers not in within ReadHeaderTimeout (a slowloris,
	// or a connection that never sends a request), a body not in within
	// ReadTimeout, a keep-alive connection idle for IdleTimeout. The
	// server closes the connection after each.
	Timeouts uint64 `json:"timeouts"`
}

// Listener is a listener that holds at most a number of connections open
// at once and counts what it sees (see ConnStats). A connection over the
// limit is accepted and closed at once, which its client sees as a reset
// and retries (Logplex does), rather than left in the kernel's queue.
// Create it with Limit. A Listener is safe for use by multiple goroutines.
type Listener struct {
	net.Listener
	max                          int64
	log                          *slog.Logger
	open                         atomic.Int64
	accepted, rejected, timeouts atomic.Uint64
	lastLog                      atomic.Int64 // unix ns of the latest rejection logged
}

// Limit returns ln limited to maxConns open connections (MaxConns when
// maxConns ≤ 0). log, which may be nil, gets a warning when connections
// are rejected, at most one every 10 s.
func Limit(ln net.Listener, maxConns int, log *slog.Logger) *Listener {
	if maxConns <= 0 {
		maxConns = MaxConns
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, max: int64(maxConns), log: log}
}

// Accept waits for the next connection under the limit, closing those
// over it.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Load() >= l.max {
			c.Close()
			total := l.rejected.Add(1)
			now := time.Now().UnixNano()
			if last := l.lastLog.Load(); now-last >= int64(10*time.Second) && l.lastLog.CompareAndSwap(last, now) {
				l.log.Warn("http: connection limit reached, closing new connections", "max_conns", l.max, "rejected_total", total)
			}
			continue
		}
		l.open.Add(1)
		l.accepted.Add(1)
		return &conn{Conn: c, l: l}, nil
	}
}

// Stats returns the counters as they are now.
func (l *Listener) Stats() ConnStats {
	return ConnStats{Open: l.open.Load(), Accepted: l.accepted.Load(), Rejected: l.rejected.Load(), Timeouts: l.timeouts.Load()}
}

// conn is a connection of a Listener: it gives its slot back when closed,
// and counts the reads that hit a deadline.
type conn struct {
	net.Conn
	l      *Listener
	closed atomic.Bool
	// abort is set while the read deadline is one in the past: net/http
	// sets such a deadline to end its own background read after each
	// request, which is not a timeout of the client's.
	abort atomic.Bool
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !c.abort.Load() {
		c.l.timeouts.Add(1)
	}
	return n, err
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.abort.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.abort.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetDeadline(t)
}

// CloseWrite half-closes a TCP connection, as net/http does after a 431.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *conn) Close() error {
	if !c.closed.Swap(true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}
