package run

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// TestOpenBusTLS runs openBus against a redis-server that speaks only TLS
// with a certificate from a CA of its own, as Heroku Key-Value Store's do.
// Verification is on by default, and its failure stops the process at
// once with an error that names the settings that fix it; REDIS_TLS_CA
// or REDIS_TLS_SKIP_VERIFY=1 make it work.
func TestOpenBusTLS(t *testing.T) {
	s := redistest.StartTLS(t)
	other := redistest.StartTLS(t)
	open := func(env map[string]string) (bus.Bus, error) {
		t.Helper()
		env["ROLE"], env["REDIS_URL"] = "receiver", s.URL()
		cfg, err := parse(t, "all", env)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		b, err := openBus(ctx, *cfg, nil, slog.New(slog.DiscardHandler))
		require.NoError(t, ctx.Err(), "openBus kept retrying")
		return b, err
	}

	_, err := open(map[string]string{})
	require.ErrorIs(t, err, bus.ErrCertificate)
	assert.Equal(t, "REDIS_URL: bus: redis ping "+s.Addr()+": server certificate not trusted: "+
		"tls: failed to verify certificate: x509: certificate signed by unknown authority; "+
		"set REDIS_TLS_CA to a PEM file of the certificate authority that signed it, "+
		"or REDIS_TLS_SKIP_VERIFY=1 for a server whose certificate cannot be checked (Heroku Key-Value Store's are self-signed)",
		err.Error())

	_, err = open(map[string]string{"REDIS_TLS_CA": other.CAFile()})
	require.ErrorIs(t, err, bus.ErrCertificate)
	assert.Contains(t, err.Error(), "; the certificate authority in REDIS_TLS_CA ("+other.CAFile()+") did not sign it: set REDIS_TLS_CA to the one that did, or REDIS_TLS_SKIP_VERIFY=1")

	for _, env := range []map[string]string{{"REDIS_TLS_CA": s.CAFile()}, {"REDIS_TLS_SKIP_VERIFY": "1"}} {
		b, err := open(env)
		require.NoError(t, err, env)
		require.NoError(t, b.PublishBatch(t.Context(), 0, []byte("x")), env)
		require.NoError(t, b.Close())
	}

	// TLS settings on a redis:// URL are a mistake to report, not to ignore.
	cfg, err := parse(t, "all", map[string]string{"ROLE": "receiver", "REDIS_URL": strings.Replace(s.URL(), "rediss:", "redis:", 1), "REDIS_TLS_SKIP_VERIFY": "1"})
	require.NoError(t, err)
	_, err = openBus(t.Context(), *cfg, nil, slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "REDIS_URL: bus: redis: TLS options need a rediss:// URL")
}
