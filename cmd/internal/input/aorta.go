package input

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// Defaults of AortaConfig (see also DefaultReadTimeout, DefaultFlushAfter
// and DefaultQueueWait).
const (
	// DefaultDialTimeout is AortaConfig.DialTimeout when zero.
	DefaultDialTimeout = 10 * time.Second
	// DefaultMinBackoff is AortaConfig.MinBackoff when zero.
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff is AortaConfig.MaxBackoff when zero: an aorta
	// that is down for long is tried twice a minute.
	DefaultMaxBackoff = 30 * time.Second
	// aortaHealthy is how long a connection must have lasted for the
	// backoff to start again from MinBackoff.
	aortaHealthy = 10 * time.Second
)

// AortaConfig configures Aorta. Zero fields mean the defaults.
type AortaConfig struct {
	// ReadTimeout drops a connection that sends no complete line (or
	// frame) for this long, and connects again. Zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxFrame is the longest line expected, as SyslogConfig.MaxFrame.
	// Zero means logfmt.DefaultMaxFrame.
	MaxFrame int
	// FlushAfter is the longest that complete lines wait for more before
	// they are handed over as a job. Zero means DefaultFlushAfter.
	FlushAfter time.Duration
	// QueueWait is the longest a job waits for room when the queue is
	// full before it is dropped and counted. Zero means DefaultQueueWait;
	// a negative value drops at once.
	QueueWait time.Duration
	// DialTimeout bounds connecting and sending the secret. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before connecting again:
	// it starts at MinBackoff, doubles after every failed attempt up to
	// MaxBackoff, is drawn at random from its upper half (jitter), and
	// starts again from MinBackoff after a connection that lasted 10 s.
	// Zero means DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// Aorta reads the log stream of an aorta server, the input of the
// original Pulse, into jobs of whole lines (Input InputAorta) on q, as
// syslog does. rawURL is aorta://SECRET@host:port: Aorta connects over TCP,
// sends SECRET and a newline as its first line, and then reads lines.
// When the connection ends or fails, or sends nothing for
// cfg.ReadTimeout, it connects again after a backoff (see AortaConfig),
// until ctx is done. It counts in st what it does; log, which may be nil,
// gets a line for every connection and every failure.
//
// Aorta returns an error at once when rawURL is not a valid aorta URL
// (the error never shows the secret), and nil when ctx is done.
func Aorta(ctx context.Context, rawURL string, cfg AortaConfig, q *Queue, st *Stats, log *slog.Logger) error {
	addr, secret, err := parseAortaURL(rawURL)
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &stream{
		dropLog: logLimit(),
		input:   InputAorta,
		cfg: streamConfig{
			maxFrame:    orDefault(cfg.MaxFrame, logfmt.DefaultMaxFrame),
			readTimeout: orDefault(cfg.ReadTimeout, DefaultReadTimeout),
			flushAfter:  orDefault(cfg.FlushAfter, DefaultFlushAfter),
			queueWait:   queueWait(cfg.QueueWait),
		},
		c: streamCounters{
			jobs: aortaJobs, bytes: aortaBytes, overlong: aortaOverlong,
			dropped: aortaDropped, droppedBytes: aortaDroppedBytes, lines: aortaDroppedLines,
			readTimeouts: aortaReadTimeouts, connErrors: aortaConnErrors,
		},
		q: q, st: st, log: log,
	}
	b := backoff{min: orDefault(cfg.MinBackoff, DefaultMinBackoff), max: orDefault(cfg.MaxBackoff, DefaultMaxBackoff)}
	b.max = max(b.max, b.min)
	dialTimeout := orDefault(cfg.DialTimeout, DefaultDialTimeout)
	log = log.With("addr", addr)
	for {
		start := time.Now()
		conn, err := dialAorta(ctx, addr, secret, dialTimeout)
		if err == nil {
			st.add(aortaConnects, 1)
			log.Info("aorta: connected")
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			err = s.read(ctx, conn)
			stop()
			conn.Close()
			if time.Since(start) >= aortaHealthy {
				b.reset()
			}
		} else if ctx.Err() == nil {
			st.add(aortaDialErrors, 1)
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := b.next()
		st.add(aortaReconnects, 1)
		if err == nil {
			err = errors.New("closed by server")
		}
		log.Warn("aorta: connection ended, connecting again", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// dialAorta connects to addr and sends the secret line.
func dialAorta(ctx context.Context, addr, secret string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(secret + "\n")); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sending secret: %w", err)
	}
	conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

// parseAortaURL checks an aorta URL and returns its host:port and secret.
// Its errors never show the secret.
func parseAortaURL(rawURL string) (addr, secret string, err error) {
	const want = "want aorta://SECRET@host:port"
	scheme, _, ok := strings.Cut(rawURL, "://")
	switch {
	case !ok:
		return "", "", fmt.Errorf("input: aorta URL: no scheme (%s)", want)
	case !strings.EqualFold(scheme, "aorta") && validScheme(scheme):
		return "", "", fmt.Errorf("input: aorta URL: scheme %q is not aorta (%s)", scheme, want)
	case !strings.EqualFold(scheme, "aorta"):
		return "", "", fmt.Errorf("input: aorta URL: scheme is not aorta (%s)", want)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, secret included
		}
		return "", "", fmt.Errorf("input: aorta URL: %w", err)
	}
	shown := redactAorta(u)
	switch {
	case u.User == nil || u.User.String() == "":
		return "", "", fmt.Errorf("input: aorta URL %q: no secret (%s)", shown, want)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return "", "", fmt.Errorf("input: aorta URL %q: unexpected path, query or fragment (%s)", shown, want)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return "", "", fmt.Errorf("input: aorta URL %q: host must be host:port (%s)", shown, want)
	}
	secret = u.User.Username()
	if p, ok := u.User.Password(); ok {
		secret += ":" + p
	}
	return u.Host, secret, nil
}

// validScheme reports whether s is a URL scheme (RFC 3986): nothing that
// could be a secret typed in the wrong place.
func validScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// redactAorta returns u as a string with its user info replaced.
func redactAorta(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("xxxxx")
	}
	return c.String()
}

// backoff is an exponential backoff with jitter.
type backoff struct {
	min, max time.Duration
	cur      time.Duration // the ceiling of the next wait; zero before the first
}

// next returns the next wait: drawn from [cur/2, cur], cur doubling up to
// max from one call to the next.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// reset starts the backoff again from min.
func (b *backoff) reset() { b.cur = 0 }
