package stat

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDefsDefaults(t *testing.T) {
	defs, err := ParseDefs(strings.NewReader(`
# a comment, then a blank line

name=a kind=rate per=1s
name=b kind=rate
name=c kind=quantiles of=service where="proc=router !code"
name=d kind=topk of=host per=1s window=1m
name=e kind=sum of=bytes per=1m label="Bytes per minute" warn=1 crit=2.5
name=f kind=l2met
`), "test.defs")
	require.NoError(t, err)
	require.Len(t, defs, 6)
	a, b, c, d, e, f := defs[0], defs[1], defs[2], defs[3], defs[4], defs[5]
	assert.Equal(t, 10*time.Second, a.Window, "per=1s gives a 10s window")
	assert.Equal(t, time.Second, a.Per)
	assert.Equal(t, time.Minute, b.Window)
	assert.Equal(t, time.Minute, b.Per, "per defaults to the window")
	assert.Equal(t, []float64{0.5, 0.95, 0.99}, c.Q)
	assert.Equal(t, "proc=router !code", c.Where.String())
	assert.Equal(t, 10, d.K)
	assert.Equal(t, time.Minute, d.Window)
	assert.Equal(t, "Bytes per minute", e.Label)
	require.NotNil(t, e.Warn)
	require.NotNil(t, e.Crit)
	assert.Equal(t, 1.0, *e.Warn)
	assert.Equal(t, 2.5, *e.Crit)
	assert.Equal(t, "f", f.Prefix)
	assert.Equal(t, DefaultL2metMetrics, f.Max)
	// Each definition prints as a line that parses back to the same.
	for _, d := range defs {
		back, err := ParseDefs(strings.NewReader(d.String()), "back")
		require.NoError(t, err, d.String())
		require.Len(t, back, 1)
		assert.Equal(t, d.String(), back[0].String())
	}
}

func TestParseDefsErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no name", "kind=rate", `x.defs:1: (unnamed): name is required: bad definition`},
		{"no kind", "name=a", `x.defs:1: a: kind is required: bad definition`},
		{"unknown kind", "name=a kind=quantile of=x", `x.defs:1: a: unknown kind "quantile" (want one of rate, sum, mean, min, max, last, last-sum, last-mean, distinct, quantiles, topk, l2met): bad definition`},
		{"unknown key", "name=a kind=rate colour=red", `x.defs:1: a: unknown key "colour": bad definition`},
		{"flag", "name=a kind=rate oops", `x.defs:1: a: "oops" has no value (want key=value): bad definition`},
		{"twice", "name=a kind=rate kind=sum", `x.defs:1: a: kind given twice: bad definition`},
		{"duplicate name", "name=a kind=rate\n\nname=a kind=rate", `x.defs:3: a: duplicate name (first on line 1): bad definition`},
		{"needs of", "name=a kind=mean", `x.defs:1: a: kind mean needs of=: bad definition`},
		{"rate takes no of", "name=a kind=rate of=x", `x.defs:1: a: kind rate takes no of=: bad definition`},
		{"needs by", "name=a kind=last-sum of=x", `x.defs:1: a: kind last-sum needs by=: bad definition`},
		{"by misplaced", "name=a kind=sum of=x by=y", `x.defs:1: a: by= goes with last-sum and last-mean only: bad definition`},
		{"bad window", "name=a kind=rate window=soon", `x.defs:1: a: window: "soon" is not a duration (like 1s, 10s, 1m): bad definition`},
		{"fractional window", "name=a kind=rate window=1500ms", `x.defs:1: a: per and window must be whole numbers of seconds: bad definition`},
		{"bad q", "name=a kind=quantiles of=x q=0.5,high", `x.defs:1: a: q: "high" is not a number: bad definition`},
		{"q out of range", "name=a kind=quantiles of=x q=1", `x.defs:1: a: quantile 1 out of range (0, 1): bad definition`},
		{"q misplaced", "name=a kind=mean of=x q=0.5", `x.defs:1: a: q= goes with quantiles and l2met only: bad definition`},
		{"bad k", "name=a kind=topk of=x k=0", `x.defs:1: a: k: "0" is not a positive integer: bad definition`},
		{"k too big", "name=a kind=topk of=x k=5000", `x.defs:1: a: k=5000 out of range 1..1000: bad definition`},
		{"k misplaced", "name=a kind=rate k=5", `x.defs:1: a: k= goes with topk only: bad definition`},
		{"per misplaced", "name=a kind=mean of=x per=1s", `x.defs:1: a: per= goes with rate, sum and topk only: bad definition`},
		{"bad where", `name=a kind=rate where="service>fast"`, `x.defs:1: a: where: column 1: term "service>fast": "fast" is not a number: bad definition`},
		{"bad warn", "name=a kind=rate warn=high", `x.defs:1: a: warn: "high" is not a number: bad definition`},
		{"prefix misplaced", "name=a kind=rate prefix=x", `x.defs:1: a: prefix= and max= go with l2met only: bad definition`},
		{"before misplaced", "name=a kind=distinct before=x", `x.defs:1: a: before= goes with numeric kinds only: bad definition`},
		{"long name", "name=" + strings.Repeat("n", 300) + " kind=rate", `x.defs:1: ` + strings.Repeat("n", 300) + `: name is 300 bytes, longer than 256: bad definition`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs, err := ParseDefs(strings.NewReader("name=ok kind=rate\n"+tt.in), "x.defs")
			require.Error(t, err)
			assert.Nil(t, defs, "no partial load")
			assert.True(t, errors.Is(err, ErrDefinition))
			want := strings.Replace(tt.want, "x.defs:", "x.defs:", 1)
			// The valid first line shifts every line number by one.
			assert.Equal(t, shiftLine(want), err.Error())
		})
	}
}

// shiftLine adds one to the line number after "x.defs:" and to a "first on
// line N".
func shiftLine(s string) string {
	r := strings.NewReplacer("x.defs:1:", "x.defs:2:", "x.defs:3:", "x.defs:4:", "first on line 1", "first on line 2")
	return r.Replace(s)
}

func TestHerokuDefaults(t *testing.T) {
	defs := HerokuDefaults()
	require.NotEmpty(t, defs)
	names := map[string]bool{}
	for _, d := range defs {
		names[d.Name] = true
	}
	for _, want := range []string{"router.requests", "router.5xx", "router.service", "router.H12", "router.H99", "router.H12.apps", "dyno.R14", "dyno.crashes", "dyno.memory", "logplex.L10", "postgres.connections", "releases", "l2met"} {
		assert.True(t, names[want], want)
	}
}

func TestDefBuiltInCode(t *testing.T) {
	ev := parseEvent(t, `<190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - time=2026-03-14T17:02:11Z level=ERROR msg=boom duration=12.3ms`)
	d := Def{Name: "errors", Kind: DefRate, Where: Where{{Key: "level", Op: OpGlob, Glob: "ERROR"}}}
	assert.True(t, d.Where.Match(ev), "a Where built in code matches before Validate")
	require.NoError(t, d.Validate())
	assert.True(t, d.Match(ev))
	bad := Def{Name: "x", Kind: DefRate, Window: 1500 * time.Millisecond}
	require.ErrorIs(t, bad.Validate(), ErrDefinition, "whole seconds, as in files")
	noKey := Def{Name: "x", Kind: DefRate, Where: Where{{Op: OpPresent}}}
	require.ErrorIs(t, noKey.Validate(), ErrDefinition)
}

func TestWhereMsg(t *testing.T) {
	slogLine := parseEvent(t, `level=INFO msg=request path=/orders`)
	freeText := parseEvent(t, `<45>1 2026-03-14T17:06:30.885214+00:00 host heroku web.4 - State changed from starting to crashed`)
	f := func(ev string, where string, want bool) {
		t.Helper()
		e := slogLine
		if ev == "free" {
			e = freeText
		}
		w, err := ParseWhere(where)
		require.NoError(t, err)
		assert.Equal(t, want, w.Match(e), "%s: %s", ev, where)
	}
	f("slog", "msg=request", true)            // the message field msg wins
	f("slog", "syslog.msg=level=INFO*", true) // the raw message
	f("free", `msg="State changed from * to crashed"`, true)
	f("free", `syslog.msg="State changed*"`, true)
}
