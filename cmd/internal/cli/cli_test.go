package cli

import (
	"bytes"
	"flag"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type settings struct {
	port   string
	count  int
	flush  time.Duration
	demo   bool
	factor float64
	seed   uint64
	level  slog.Level
}

func newSet(env map[string]string, out *bytes.Buffer) (*FlagSet, *settings) {
	fs := NewFlagSet("pulse run", "pulse run [flags]", "Runs the roles.", out)
	fs.SetEnv(EnvMap(env))
	var s settings
	fs.String(&s.port, "port", "PORT", "5000", "listen `port`")
	fs.Int(&s.count, "merger-count", "MERGER_COUNT", 1, "number of merger shards")
	fs.Duration(&s.flush, "flush-interval", "FLUSH_INTERVAL", time.Second, "flush every `interval`")
	fs.Bool(&s.demo, "demo", "DEMO", false, "run the generator")
	fs.Float64(&s.factor, "factor", "", 1.5, "no environment variable")
	fs.Uint64(&s.seed, "seed", "SEED", 1, "generator `seed`")
	fs.Text(&s.level, "log-level", "LOG_LEVEL", slog.LevelInfo, "log `level`")
	return fs, &s
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want settings
	}{
		{"defaults", nil, nil, settings{"5000", 1, time.Second, false, 1.5, 1, slog.LevelInfo}},
		{"environment", map[string]string{"PORT": "8080", "MERGER_COUNT": "3", "FLUSH_INTERVAL": "250ms", "DEMO": "1", "SEED": " 7 ", "LOG_LEVEL": "debug"}, nil,
			settings{"8080", 3, 250 * time.Millisecond, true, 1.5, 7, slog.LevelDebug}},
		{"flags override environment", map[string]string{"PORT": "8080", "MERGER_COUNT": "3", "SEED": "7", "LOG_LEVEL": "debug"},
			[]string{"--port", "9000", "--merger-count=2", "--factor=2", "--seed=9", "--log-level=warn"},
			settings{"9000", 2, time.Second, false, 2, 9, slog.LevelWarn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			fs, s := newSet(tt.env, &out)
			require.NoError(t, fs.Parse(tt.args))
			assert.Equal(t, tt.want, *s)
		})
	}
}

func TestBadEnvironmentNamesTheVariable(t *testing.T) {
	f := func(env map[string]string, want string) {
		t.Helper()
		var out bytes.Buffer
		fs, _ := newSet(env, &out)
		err := fs.Parse(nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
	f(map[string]string{"MERGER_COUNT": "two"}, `MERGER_COUNT="two": not an integer`)
	f(map[string]string{"FLUSH_INTERVAL": "1 second"}, `FLUSH_INTERVAL="1 second": not a duration`)
	f(map[string]string{"DEMO": "yes please"}, `DEMO="yes please": not a boolean`)
	f(map[string]string{"SEED": "-1"}, `SEED="-1": not a non-negative integer`)
	f(map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL="loud": slog: level string "loud": unknown name`)
}

func TestBadFlagPrintsUsage(t *testing.T) {
	f := func(args []string, want string) {
		t.Helper()
		var out bytes.Buffer
		fs, _ := newSet(nil, &out)
		err := fs.Parse(args)
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, out.String(), want)
		assert.Contains(t, out.String(), "usage: pulse run [flags]")
	}
	f([]string{"--nope"}, "flag provided but not defined: -nope")
	f([]string{"--seed", "-1"}, `invalid value "-1" for flag -seed`)
	f([]string{"--log-level", "loud"}, `invalid value "loud" for flag -log-level`)
}

func TestUsageError(t *testing.T) {
	var out bytes.Buffer
	fs, s := newSet(nil, &out)
	require.NoError(t, fs.Parse([]string{"--merger-count", "0"}))
	want := fs.Errorf("merger-count", "must be positive, got %d", s.count)
	err := fs.UsageError(want)
	assert.Same(t, want, err)
	assert.Equal(t, want.Error()+"\n", out.String()[:len(want.Error())+1], "the error, then the usage")
	assert.Contains(t, out.String(), "usage: pulse run [flags]\n\nRuns the roles.\n\nflags:\n  -demo")
}

func TestUsageWithoutFlags(t *testing.T) {
	var out bytes.Buffer
	fs := NewFlagSet("pulse version", "pulse version", "", &out)
	require.ErrorIs(t, fs.Parse([]string{"-h"}), flag.ErrHelp)
	assert.Equal(t, "usage: pulse version\n", out.String())
	require.NoError(t, fs.Parse([]string{"extra"}))
	assert.EqualError(t, fs.NoArgs(), `pulse version: unexpected argument "extra"`)
}

func TestUsageShowsVariables(t *testing.T) {
	var out bytes.Buffer
	fs, _ := newSet(nil, &out)
	err := fs.Parse([]string{"-h"})
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "usage: pulse run [flags]")
	assert.Contains(t, out.String(), "(env MERGER_COUNT)")
	assert.Contains(t, out.String(), "-log-level level\n    \tlog level (env LOG_LEVEL) (default INFO)")
	assert.Equal(t, "MERGER_COUNT", fs.Env("merger-count"))
	assert.Contains(t, fs.Settings(), "--port (PORT)")
	assert.Contains(t, fs.Errorf("merger-count", "must be positive").Error(), "MERGER_COUNT (--merger-count): must be positive")

	out.Reset()
	fs, _ = newSet(map[string]string{"SEED": "7", "LOG_LEVEL": "debug"}, &out)
	require.ErrorIs(t, fs.Parse([]string{"-h"}), flag.ErrHelp)
	assert.Contains(t, out.String(), "generator seed (env SEED) (default 7)", "the environment's value is the default")
	assert.Contains(t, out.String(), "log level (env LOG_LEVEL) (default DEBUG)")
}

func TestHelpers(t *testing.T) {
	u, p, err := UserPass("user:pa:ss")
	require.NoError(t, err)
	assert.Equal(t, "user", u)
	assert.Equal(t, "pa:ss", p)
	_, _, err = UserPass("nopass")
	assert.Error(t, err)
	u, _, err = UserPass("")
	assert.NoError(t, err)
	assert.Empty(t, u)

	for in, want := range map[string]string{"5000": ":5000", "127.0.0.1:80": "127.0.0.1:80", ":0": ":0", "": ""} {
		got, err := ListenAddr(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err = ListenAddr("http")
	assert.Error(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, List("a, b,,c"))
	assert.Equal(t, "redis://:xxxxx@host:6379", RedactURL("redis://:secret@host:6379"))
}
