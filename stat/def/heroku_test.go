package def

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realLine returns line n (1-based) of testdata/real.log.
func realLine(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile("testdata/real.log")
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	require.Less(t, n-1, len(lines))
	return lines[n-1]
}

// foldDefaults folds the events of input (any form logfmt reads) through
// the default set, one stat per definition and no windows, and reads each
// over its window.
func foldDefaults(t *testing.T, input string) map[string]stat.Value {
	t.Helper()
	cs, err := CompileSet(Heroku(), Budget{})
	require.NoError(t, err)
	stats := make([]stat.Stat, len(cs))
	for i, c := range cs {
		stats[i] = c.NewStat()
	}
	m := NewMatcher(cs)
	r := logfmt.NewReader(strings.NewReader(input), nil)
	var matches []int
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the fixtures parse")
		matches = m.AppendMatches(matches[:0], ev)
		for _, i := range matches {
			if stats[i] != nil {
				cs[i].Observe(stats[i], ev)
			}
		}
	}
	out := map[string]stat.Value{}
	for i, c := range cs {
		if stats[i] != nil {
			out[c.Name()] = c.Read(stats[i], c.Window())
		}
	}
	return out
}

// TestHerokuRealLogs folds real Heroku lines through the default set.
// Before: Postgres metrics lines without addon= were skipped by
// postgres.connections (by=addon), and L11 written without "Error " was
// not counted.
func TestHerokuRealLogs(t *testing.T) {
	body := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return string(b)
	}
	for _, tt := range []struct {
		name, input, stat, want string
	}{
		{"postgres PINK, no addon", realLine(t, 68), "postgres.connections", "2"},
		{"postgres ROSE, addon", realLine(t, 69), "postgres.connections", "84"},
		{"postgres both", realLine(t, 68) + "\n" + realLine(t, 69), "postgres.connections", "86"},
		{"postgres DATABASE, no addon", body("rwdaigle-postgres.body"), "postgres.connections", "6"},
		{"redis", realLine(t, 66), "redis.connections", "404"},
		{"L11 without Error", realLine(t, 42), "logplex.L11", "1101"},
		{"L11 with Error", strings.Replace(realLine(t, 42), "L11 (", "Error L11 (", 1), "logplex.L11", "1101"},
		{"L10 syslog drain", body("l2met-logplex-l10.body"), "logplex.L10", "500"},
		{"L10 drain, no Error", "<172>1 2026-03-14T17:07:00+00:00 host heroku logplex - L10 (output buffer overflow): 213 messages dropped since 2026-03-14T17:06:58+00:00.", "logplex.L10", "213"},
		{"L10 not from logplex", "<190>1 2026-03-14T17:07:00+00:00 host app web.1 - Error L10 (output buffer overflow): 213 messages dropped", "logplex.L10", "0"},
		{"L12", realLine(t, 43), "logplex.L12", "222"},
		{"L13", realLine(t, 44), "logplex.L13", "111"},
		{"L14 is not L11", realLine(t, 45), "logplex.L11", "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := foldDefaults(t, tt.input+"\n")
			assert.Equal(t, tt.want, got[tt.stat].String())
		})
	}
}

// TestMatcherMatchesEveryFilter: over every real line and generated
// traffic, the Matcher reports exactly the definitions whose filter
// Compiled.Match passes, each once, with zero allocations.
func TestMatcherMatchesEveryFilter(t *testing.T) {
	defs := append(Heroku(), MustParse(`
name=a kind=rate where="proc=router code=H12 status>=500"
name=b kind=rate where="level~=error"
name=c kind=rate where="app=app proc=web.1"
name=d kind=rate where="syslog.proc=router"
name=e kind=rate where="code=H12 code=H13"
name=f kind=rate where="at!=info code=H1*"
name=g kind=rate
`, "extra.defs")...)
	cs, err := CompileSet(defs, Budget{})
	require.NoError(t, err)
	m := NewMatcher(cs)
	real, err := os.ReadFile("testdata/real.log")
	require.NoError(t, err)
	input := string(real) + `<158>1 2026-03-14T17:02:11Z host heroku router - at=error code=H12 desc="Request timeout" status=503 service=30000ms
<190>1 2026-03-14T17:02:11Z host app web.1 - level=ERROR msg=boom
`
	var ev logfmt.Event
	sc := bufio.NewScanner(strings.NewReader(input))
	var got []int
	lines := 0
	for sc.Scan() {
		if logfmt.ParseLine(bytes.TrimSpace(sc.Bytes()), &ev) != nil {
			continue
		}
		lines++
		got = m.AppendMatches(got[:0], &ev)
		var want []int
		for i, c := range cs {
			if c.Match(&ev) {
				want = append(want, i)
			}
		}
		assert.ElementsMatch(t, want, got, "%s", sc.Text())
	}
	assert.Greater(t, lines, 80)
	if !raceEnabled {
		require.NoError(t, logfmt.ParseLine([]byte(realLine(t, 69)), &ev))
		got = m.AppendMatches(got[:0], &ev)
		assert.Zero(t, testing.AllocsPerRun(100, func() { got = m.AppendMatches(got[:0], &ev) }))
	}
}

func TestMatcherNil(t *testing.T) {
	var m *Matcher
	assert.Empty(t, m.AppendMatches(nil, nil), "a nil Matcher matches nothing")
	assert.Empty(t, NewMatcher(nil).AppendMatches(nil, parseEvent(t, "a=b")))
}
