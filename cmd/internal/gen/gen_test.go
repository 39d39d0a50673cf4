package gen

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// want is what the library writes for opts over d.
func want(t *testing.T, opts logfmttest.Options, d time.Duration) string {
	t.Helper()
	var buf bytes.Buffer
	_, err := logfmttest.New(opts).WriteFor(&buf, d)
	require.NoError(t, err)
	return buf.String()
}

func TestRun(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		args []string
		opts logfmttest.Options
		d    time.Duration
	}{
		{name: "defaults", args: []string{"--seconds", "3"}, opts: logfmttest.Options{Seed: 1}, d: 3 * time.Second},
		{name: "lines", args: []string{"--seconds", "2.5", "--rate", "300", "--format", "lines", "--seed", "9"},
			opts: logfmttest.Options{Seed: 9, Rate: 300, Format: logfmttest.Lines}, d: 2500 * time.Millisecond},
		{name: "heroku-logs", args: []string{"-seconds=2", "-format=heroku-logs", "-apps=3", "-start=2026-05-01T12:00:00Z"},
			opts: logfmttest.Options{Seed: 1, Apps: 3, Format: logfmttest.HerokuLogs, Start: start}, d: 2 * time.Second},
		{name: "no incidents", args: []string{"--seconds", "2", "--incidents", "0", "--syslog-drain"},
			opts: logfmttest.Options{Seed: 1, IncidentEvery: -1, SyslogDrain: true}, d: 2 * time.Second},
		{name: "short episodes", args: []string{"--seconds", "2", "--incidents", "1m", "--rate", "50"},
			opts: logfmttest.Options{Seed: 1, IncidentEvery: time.Minute, Rate: 50}, d: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, tt.args...)
			require.NoError(t, err)
			assert.Empty(t, errOut)
			require.NotEmpty(t, out)
			assert.Equal(t, want(t, tt.opts, tt.d), out)
		})
	}
}

func TestRunStartNow(t *testing.T) {
	before := time.Now().UTC()
	out, _, err := run(t, "--seconds", "1", "--rate", "10", "--format", "lines", "--start", "now")
	require.NoError(t, err)
	f := strings.Fields(out)
	require.GreaterOrEqual(t, len(f), 2)
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	require.NoError(t, err)
	assert.False(t, ts.Before(before.Truncate(time.Second)), "first line at %s, before the command started at %s", ts, before)
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{name: "zero rate", args: []string{"--rate", "0"}, msg: "gen: --rate 0 must be above 0 and at most 1e+09"},
		{name: "NaN rate", args: []string{"--rate", "NaN"}, msg: "gen: --rate NaN must be above 0 and at most 1e+09"},
		{name: "negative seconds", args: []string{"--seconds", "-1"}, msg: "gen: --seconds -1 must be between 0 and 1e9"},
		{name: "apps", args: []string{"--apps", "0"}, msg: "gen: --apps 0 must be between 1 and 10000"},
		{name: "incidents", args: []string{"--incidents", "30s"}, msg: "gen: --incidents 30s must be 0 or at least 1m"},
		{name: "format", args: []string{"--format", "json"}, msg: `gen: --format: logfmttest: format "json" (want drain, lines or heroku-logs): unknown format`},
		{name: "start", args: []string{"--start", "yesterday"}, msg: `gen: --start "yesterday" is not an RFC 3339 time`},
		{name: "argument", args: []string{"extra"}, msg: `gen: unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"--nope"}, msg: "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, tt.args...)
			require.Error(t, err)
			assert.EqualError(t, err, tt.msg)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "usage: pulse gen")
		})
	}
	_, _, err := run(t, "--format", "json")
	assert.ErrorIs(t, err, logfmttest.ErrFormat)
}

func TestRunHelp(t *testing.T) {
	out, errOut, err := run(t, "-h")
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: pulse gen")
	assert.Contains(t, errOut, "-rate lines")
}

func TestRunCancel(t *testing.T) {
	for _, realtime := range []bool{false, true} {
		name := "fast"
		if realtime {
			name = "realtime"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			w := &cancelAfter{n: 3, cancel: cancel}
			args := []string{"--seconds", "0", "--rate", "100"}
			if realtime {
				args = append(args, "--realtime")
			}
			done := make(chan error, 1)
			go func() { done <- Run(ctx, args, nil, w, io.Discard) }()
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.Canceled)
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not stop after its context was cancelled")
			}
			assert.GreaterOrEqual(t, w.writes, 3)
		})
	}
}

// cancelAfter cancels a context after n writes.
type cancelAfter struct {
	n, writes int
	cancel    func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == c.n {
		c.cancel()
	}
	return len(p), nil
}

type failWriter struct{}

var errBroken = errors.New("broken pipe")

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

func TestRunWriteError(t *testing.T) {
	err := Run(context.Background(), []string{"--seconds", "5"}, nil, failWriter{}, io.Discard)
	require.ErrorIs(t, err, errBroken)
	assert.ErrorContains(t, err, "gen: write: ")
}
