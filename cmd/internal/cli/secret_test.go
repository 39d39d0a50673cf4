package cli

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUsageHidesCredentials sets credentials in the environment and asks
// for the usage, by -h and by a mistyped flag: the settings still take
// the environment's values, but the usage never shows them.
func TestUsageHidesCredentials(t *testing.T) {
	env := map[string]string{
		"DRAIN_AUTH": "user:s3cret-drain",
		"REDIS_URL":  "redis://:s3cret-redis@redis.example.com:6379",
		"AORTA_URLS": "aorta://s3cret-aorta@aorta.example.com:2000",
		"PORT":       "8080",
	}
	for _, args := range [][]string{{"-h"}, {"--no-such-flag"}} {
		var out bytes.Buffer
		fs := NewFlagSet("pulse run", "pulse run [flags]", "", &out)
		fs.SetEnv(EnvMap(env))
		var auth, redis, aorta, port string
		fs.String(&auth, "drain-auth", "DRAIN_AUTH", "", "`user:pass`")
		fs.String(&redis, "redis-url", "REDIS_URL", "", "Redis `URL`")
		fs.String(&aorta, "aorta-urls", "AORTA_URLS", "", "aorta `URLs`")
		fs.String(&port, "port", "PORT", "5000", "listen `port`")
		err := fs.Parse(args)
		require.Error(t, err)
		if args[0] == "-h" {
			require.ErrorIs(t, err, flag.ErrHelp)
			assert.Equal(t, env["DRAIN_AUTH"], auth, "the setting still comes from the environment")
			assert.Equal(t, env["REDIS_URL"], redis)
		}
		assert.NotContains(t, out.String(), "s3cret", args)
		assert.Contains(t, out.String(), "(env DRAIN_AUTH)", args)
		assert.Contains(t, out.String(), `(default "8080")`, "%v: other settings show the environment's value", args)
	}
}

func TestSensitive(t *testing.T) {
	for _, env := range []string{"DRAIN_AUTH", "WEB_AUTH", "REDIS_URL", "REDIS_TLS_URL", "AORTA_URLS", "TLS_KEY", "X_PASSWORD", "X_SECRET", "X_TOKEN"} {
		assert.True(t, Sensitive(env), env)
	}
	for _, env := range []string{"", "PORT", "MERGER_COUNT", "REDIS_PREFIX", "TLS_CERT", "REDIS_TLS_CA", "LOG_LEVEL"} {
		assert.False(t, Sensitive(env), env)
	}
}
