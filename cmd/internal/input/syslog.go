package input

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// Defaults of SyslogConfig and AortaConfig.
const (
	// DefaultMaxConns is SyslogConfig.MaxConns when zero. Logplex opens a
	// connection or a few per syslog drain; 256 serves many drains while
	// bounding memory to a 128 KiB buffer and a goroutine each (32 MiB).
	DefaultMaxConns = 256
	// DefaultReadTimeout is the ReadTimeout when zero: a connection that
	// sends no complete frame or line for 5 minutes is closed. A quiet app's drain may well
	// be silent for a minute, and Logplex reconnects when it has something
	// to send, so closing idle connections costs nothing and frees slots
	// held by clients that went away without a word (or a slowloris).
	DefaultReadTimeout = 5 * time.Minute
	// DefaultFlushAfter is the FlushAfter when zero: complete frames and
	// lines wait at most 100 ms for more before they are handed over, so a
	// low-rate stream is not delayed while a busy one still makes jobs of
	// many.
	DefaultFlushAfter = 100 * time.Millisecond
	// DefaultQueueWait is the QueueWait when zero: a job waits up to
	// 100 ms for room in a full queue (pushing back on the sender through
	// TCP meanwhile) before it is dropped, which rides out a short stall
	// of the workers without holding a connection long.
	DefaultQueueWait = 100 * time.Millisecond
	// DefaultHandshakeTimeout is SyslogConfig.HandshakeTimeout when zero.
	DefaultHandshakeTimeout = 10 * time.Second
)

// SyslogConfig configures ServeSyslog. Zero fields mean the defaults.
type SyslogConfig struct {
	// MaxConns is the most connections served at once; one over it is
	// accepted and closed at once, and counted. Zero means
	// DefaultMaxConns.
	MaxConns int
	// ReadTimeout closes a connection that sends no complete frame or line
	// (nor a buffer's worth of one over MaxFrame) for this long: one that
	// sends nothing after connecting, and a slowloris that trickles a byte
	// at a time without ending a frame or line, which a deadline on each
	// read alone would keep open for ever. Zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxFrame is the longest frame or line expected, and must be the
	// workers' logfmt.ReaderOptions.MaxFrame: a longer one is handed over
	// in pieces, which the reader reports. Jobs are up to about 2·MaxFrame
	// bytes. Zero means logfmt.DefaultMaxFrame (64 KiB).
	MaxFrame int
	// FlushAfter is the longest that complete frames and lines wait for
	// more before they are handed over as a job, and how long a stream
	// must be quiet before a frame whose count ends at the end of what was
	// read is taken as whole. Zero means DefaultFlushAfter.
	FlushAfter time.Duration
	// QueueWait is the longest a job waits for room when the queue is
	// full before it is dropped and counted; the connection is not read
	// meanwhile. Zero means DefaultQueueWait; a negative value drops at
	// once.
	QueueWait time.Duration
	// HandshakeTimeout bounds a TLS connection's handshake. Zero means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

func (c SyslogConfig) stream() streamConfig {
	return streamConfig{
		maxFrame:    orDefault(c.MaxFrame, logfmt.DefaultMaxFrame),
		readTimeout: orDefault(c.ReadTimeout, DefaultReadTimeout),
		flushAfter:  orDefault(c.FlushAfter, DefaultFlushAfter),
		queueWait:   queueWait(c.QueueWait),
	}
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// queueWait returns the QueueWait in force: the default for zero, and
// zero (drop at once) for a negative value.
func queueWait(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultQueueWait
	case d < 0:
		return 0
	}
	return d
}

// ServeSyslog serves syslog over TCP, or over TLS when ln is a TLS
// listener (see ListenSyslogTLS): Logplex syslog drains (syslog:// and
// syslog+tls://), which send octet-counted RFC 5424 frames, and any
// other sender of octet-counted frames (RFC 6587, with or without a
// newline between them) or newline-delimited lines. Each connection is
// read by a goroutine of its own into jobs of whole frames and lines
// (Input InputSyslog) on q, as the package comment describes, with at most cfg.MaxConns
// connections at once. It counts in st what it does; log, which may be
// nil, gets a line for each connection at Debug level and for the rare
// events.
//
// ServeSyslog returns nil when ctx is done, after closing ln and every
// connection and handing over what they had read; or the error that
// stopped ln's Accept. It closes ln in either case.
func ServeSyslog(ctx context.Context, ln net.Listener, cfg SyslogConfig, q *Queue, st *Stats, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &stream{
		dropLog: logLimit(),
		input:   InputSyslog,
		cfg:     cfg.stream(),
		c: streamCounters{
			jobs: syslogJobs, bytes: syslogBytes, overlong: syslogOverlong,
			dropped: syslogDropped, droppedBytes: syslogDroppedBytes, lines: syslogDroppedLines,
			readTimeouts: syslogReadTimeouts, connErrors: syslogConnErrors,
		},
		q: q, st: st, log: log,
	}
	maxConns := orDefault(cfg.MaxConns, DefaultMaxConns)
	handshake := orDefault(cfg.HandshakeTimeout, DefaultHandshakeTimeout)

	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	var (
		wg      sync.WaitGroup
		open    atomic.Int64
		backoff time.Duration
	)
	defer wg.Wait()
	rejectLog := logLimit()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("input: syslog accept: %w", err)
			}
			// Anything else (out of file descriptors, a connection
			// aborted before it was accepted) passes: wait a little, as
			// net/http does, and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			log.Warn("syslog: accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		if open.Load() >= int64(maxConns) {
			conn.Close()
			st.add(syslogConnsRejected, 1)
			rejectLog.Do(func() {
				log.Warn("syslog: connection limit reached, closing new connections", "max_conns", maxConns, "remote", conn.RemoteAddr().String())
			})
			continue
		}
		open.Add(1)
		st.add(syslogConnsOpen, 1)
		st.add(syslogConns, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer open.Add(-1)
			defer st.add(syslogConnsOpen, -1)
			s.serve(ctx, conn, handshake)
		}()
	}
}

// serve reads one syslog connection until it ends or ctx is done.
func (s *stream) serve(ctx context.Context, conn net.Conn, handshake time.Duration) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	remote := conn.RemoteAddr().String()
	if tc, ok := conn.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, handshake)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return // shutting down
			}
			s.st.add(syslogTLSErrors, 1)
			s.log.Debug("syslog: TLS handshake", "remote", remote, "err", err)
			return
		}
	}
	s.log.Debug("syslog: connection", "remote", remote)
	err := s.read(ctx, conn)
	s.log.Debug("syslog: connection closed", "remote", remote, "err", err)
}

// ListenSyslogTLS listens on the TCP address addr for TLS connections,
// with the certificate and key of the PEM files certFile and keyFile
// (the certificate file may hold the chain after the leaf), and TLS 1.2 at
// the least. Give the listener to ServeSyslog.
func ListenSyslogTLS(addr, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("input: syslog TLS: %w", err)
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		return nil, fmt.Errorf("input: syslog TLS: %w", err)
	}
	return ln, nil
}
