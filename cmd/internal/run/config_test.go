package run

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/cli"
)

func parse(t *testing.T, role string, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	var out bytes.Buffer
	fs := cli.NewFlagSet("pulse run", "pulse run [flags]", "", &out)
	fs.SetEnv(cli.EnvMap(env))
	c := Flags(fs, role)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, c.finish(fs)
}

func TestConfigDefaults(t *testing.T) {
	c, err := parse(t, "all", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{RoleReceiver, RoleMerger, RoleWeb}, c.Roles)
	assert.Equal(t, 1, c.MergerCount)
	assert.Equal(t, 0, c.Shard)
	assert.Equal(t, time.Second, c.Flush)
	assert.Equal(t, time.Second, c.Grace)
	assert.Equal(t, 10*time.Minute, c.History)
	assert.Equal(t, "event", c.TimeSource)
	assert.True(t, c.demo(), "the all-in-one with no input runs the generator")
}

func TestConfigEnvironment(t *testing.T) {
	env := map[string]string{
		"ROLE": "merger", "REDIS_URL": "redis://127.0.0.1:6379", "MERGER_COUNT": "5", "DYNO": "merger.3",
		"FLUSH_INTERVAL": "500ms", "GRACE": "2s", "SYSLOG_ADDR": ":6514", "TIME_SOURCE": "arrival",
	}
	c, err := parse(t, "all", env)
	require.NoError(t, err)
	assert.Equal(t, []string{RoleMerger}, c.Roles)
	assert.Equal(t, 2, c.Shard, "merger.3 is shard 2")
	assert.Equal(t, 500*time.Millisecond, c.Flush)
	assert.False(t, c.demo(), "an input is set")
	assert.Equal(t, "merger.3", c.Source, "the receiver's name defaults to DYNO")

	c, err = parse(t, "all", env, "--shard", "4", "--role", "receiver,web")
	require.NoError(t, err)
	assert.Equal(t, 4, c.Shard, "a flag overrides DYNO and the environment")
	assert.Equal(t, []string{RoleReceiver, RoleWeb}, c.Roles)
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	f := func(env map[string]string, want string) {
		t.Helper()
		_, err := parse(t, "all", env)
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
	redis := "redis://127.0.0.1:6379"
	f(map[string]string{"MERGER_COUNT": "0"}, "MERGER_COUNT (--merger-count): 0 out of range")
	f(map[string]string{"MERGER_COUNT": "2", "SHARD": "2", "REDIS_URL": redis}, "SHARD (--shard): 2 out of range 0..1")
	f(map[string]string{"ROLE": "grapher"}, `ROLE (--role): unknown role "grapher"`)
	f(map[string]string{"ROLE": "emitter", "REDIS_URL": redis}, "GRAPHITE_URL (--graphite-url): the emitter role needs GRAPHITE_URL")
	f(map[string]string{"ROLE": "receiver"}, "REDIS_URL (--redis-url): unset")
	f(map[string]string{"FLUSH_INTERVAL": "0s"}, "FLUSH_INTERVAL (--flush-interval): must be positive")
	f(map[string]string{"TIME_SOURCE": "wall"}, `TIME_SOURCE (--time-source): "wall" is not event or arrival`)
	f(map[string]string{"DRAIN_AUTH": "user:"}, "DRAIN_AUTH (--drain-auth): want user:pass, or a password alone for user pulse")
	f(map[string]string{"WEB_AUTH": ":secret"}, "WEB_AUTH (--web-auth): want user:pass")
	f(map[string]string{"PUBLISH_TIMEOUT": "30s"}, "PUBLISH_TIMEOUT (--publish-timeout): 30s is longer than 10s")
	f(map[string]string{"SYSLOG_TLS_ADDR": ":6515"}, "SYSLOG_TLS_ADDR (--syslog-tls-addr): needs TLS_CERT and TLS_KEY")
	f(map[string]string{"PORT": "http"}, "PORT (--port)")
	f(map[string]string{"GRACE": "soon"}, `GRACE="soon": not a duration`)
}

func TestConfigEmitter(t *testing.T) {
	c, err := parse(t, "all", map[string]string{"GRAPHITE_URL": "tcp://127.0.0.1:2003"})
	require.NoError(t, err)
	assert.Equal(t, []string{RoleReceiver, RoleMerger, RoleWeb, RoleEmitter}, c.Roles, "GRAPHITE_URL turns the emitter on beside the web")
	c, err = parse(t, "all", map[string]string{"GRAPHITE_URL": "tcp://127.0.0.1:2003", "ROLE": "merger", "REDIS_URL": "redis://x:6379"})
	require.NoError(t, err)
	assert.Equal(t, []string{RoleMerger}, c.Roles, "not on a merger")
}

func TestShardFromDyno(t *testing.T) {
	for dyno, want := range map[string]int{"merger.1": 0, "merger.2": 1, "merger.16": 15, "web.1": 0, "": 0, "merger": 0, "merger.x": 0, "merger.0": 0} {
		assert.Equal(t, want, shardFromDyno(dyno), dyno)
	}
}

// TestConfigAuthPasswordAlone checks that DRAIN_AUTH and WEB_AUTH take a
// password alone, as Heroku generates app.json's secrets, for user
// pulse, and that user:pass still works.
func TestConfigAuthPasswordAlone(t *testing.T) {
	c, err := parse(t, "all", map[string]string{"DRAIN_AUTH": "0123abcd", "WEB_AUTH": "admin:s3cret"})
	require.NoError(t, err)
	assert.Equal(t, "pulse:0123abcd", c.DrainAuth)
	assert.Equal(t, "admin:s3cret", c.WebAuth)

	c, err = parse(t, "all", map[string]string{"WEB_AUTH": "0123abcd"}, "--drain-auth", "ops:a:b")
	require.NoError(t, err)
	assert.Equal(t, "pulse:0123abcd", c.WebAuth)
	assert.Equal(t, "ops:a:b", c.DrainAuth, "the password is what follows the first colon")
}
