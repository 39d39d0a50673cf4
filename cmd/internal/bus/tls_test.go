package bus_test

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// TestRedisTLS runs the bus against a redis-server that speaks only TLS
// with a certificate from a CA of its own, as Heroku Key-Value Store's
// servers do: verification is on by default and fails, naming the cause;
// the CA or skipping verification makes it work end to end.
func TestRedisTLS(t *testing.T) {
	s := redistest.StartTLS(t)
	other := redistest.StartTLS(t) // another CA
	ctx := t.Context()

	t.Run("verified by default", func(t *testing.T) {
		_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: s.URL(), Timeout: 5 * time.Second})
		require.ErrorIs(t, err, bus.ErrCertificate)
		assert.Contains(t, err.Error(), "bus: redis ping "+s.Addr()+": server certificate not trusted: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	})
	t.Run("another CA", func(t *testing.T) {
		_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: s.URL(), TLSCAFile: other.CAFile(), Timeout: 5 * time.Second})
		require.ErrorIs(t, err, bus.ErrCertificate)
	})
	t.Run("plain URL", func(t *testing.T) {
		_, err := bus.NewRedis(ctx, bus.RedisOptions{URL: strings.Replace(s.URL(), "rediss://", "redis://", 1), Timeout: time.Second})
		require.Error(t, err)
		assert.NotErrorIs(t, err, bus.ErrCertificate)
		assert.Contains(t, err.Error(), "if it speaks only TLS, use a rediss:// URL")
	})
	for _, c := range []struct {
		name string
		opt  bus.RedisOptions
	}{
		{"CA file", bus.RedisOptions{TLSCAFile: s.CAFile()}},
		{"skip verify", bus.RedisOptions{TLSSkipVerify: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRedis(t, s, c.opt)
			require.NoError(t, r.PublishBatch(ctx, 0, []byte("over TLS")))
			got, err := r.ReadBatches(ctx, 0, bus.Start, 10, 0)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, "over TLS", string(got[0].Data))
			require.NoError(t, r.PublishSnapshot(ctx, 0, []byte(`{"t":1}`)))
			snaps, err := r.ReadSnapshots(ctx, bus.Start, 10, 0)
			require.NoError(t, err)
			assert.NotEmpty(t, snaps)
		})
	}
}

// TestLogRedisTo checks that the Redis library's own log lines, here its
// pool's failed dials, reach the given logger in logfmt.
func TestLogRedisTo(t *testing.T) {
	s := redistest.StartTLS(t)
	var buf logbuf.Buffer
	bus.LogRedisTo(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { bus.LogRedisTo(slog.New(slog.NewTextHandler(os.Stderr, nil))) })

	_, err := bus.NewRedis(t.Context(), bus.RedisOptions{URL: s.URL(), Timeout: time.Second})
	require.Error(t, err)
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "failed to dial") }, 5*time.Second, 10*time.Millisecond)
	for line := range strings.Lines(buf.String()) {
		assert.Regexp(t, `^time=\S+ level=WARN msg="connection pool: failed to dial`, line)
	}
}
