package stat

import (
	"testing"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routerLine is a Heroku router frame from shared/HEROKU-LOGS.md §3.9.
const routerLine = `<158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https`

func parseEvent(t *testing.T, line string) *logfmt.Event {
	t.Helper()
	ev := new(logfmt.Event)
	require.NoError(t, logfmt.ParseLine([]byte(line), ev))
	return ev
}

func TestWhereMatch(t *testing.T) {
	ev := parseEvent(t, routerLine)
	f := func(where string, want bool) {
		t.Helper()
		w, err := ParseWhere(where)
		require.NoError(t, err, where)
		assert.Equal(t, want, w.Match(ev), "where %q", where)
	}
	f("", true)
	f("proc=router", true)
	f("proc=web", false)
	f("proc=rout*", true)
	f("proc=*ter", true)
	f("proc=r*t*r", true)
	f("proc=*", true)
	f("proc!=router", false)
	f("proc!=web*", true)
	f("nope!=x", true) // absent key: != holds
	f("code", false)
	f("!code", true)
	f("!status", false)
	f("status", true)
	f("proc=router !code", true)
	f("proc=router code", false)
	// A message field shadows the header field of the same name.
	f("host=shop-example.herokuapp.com", true)
	f("host=host", false)
	f("syslog.host=host", true)
	f("syslog.app=heroku", true)
	f("app=heroku", true) // no message field app: the header answers
	f("facility=local3 severity=info", true)
	f(`msg="at=info method=GET *"`, true)
	f(`path="/api/orders?page=2"`, true)
	// Numbers with units, on both sides.
	f("service>42", true)
	f("service>43", false)
	f("service>=43", true)
	f("service>=43ms", true)
	f("service<1s", true)
	f("service<=0.043s", true)
	f("service<43", false)
	f("bytes>5kB", true) // units other than durations are stripped: 5321 > 5
	f("status>=500", false)
	f("status<500", true)
	f("method>1", false) // not a number: a comparison fails
	f("absent>1", false)
}

func TestWhereEmptyValues(t *testing.T) {
	ev := parseEvent(t, `<158>1 2026-03-14T17:03:05.114220+00:00 host heroku router - at=error code=H10 desc="App crashed" method=GET path="/" host=shop-example.herokuapp.com dyno= connect= service= status=503 bytes= protocol=https`)
	for _, tt := range []struct {
		where string
		want  bool
	}{
		{"dyno", true},
		{"dyno=", true},
		{`dyno=""`, true},
		{"dyno=*", true},
		{"dyno=web*", false},
		{"service>=0", false},
		{"code=H10 status>=500", true},
	} {
		t.Run(tt.where, func(t *testing.T) {
			w, err := ParseWhere(tt.where)
			require.NoError(t, err)
			assert.Equal(t, tt.want, w.Match(ev))
		})
	}
}

func TestParseWhereErrors(t *testing.T) {
	for _, tt := range []struct{ where, msg string }{
		{"=x", `column 1: term "=x" has no key`},
		{"a b !", `column 5: term "!" has no key`},
		{"!a=b", `column 1: term "!a=b": '!' goes with a bare key only`},
		{"service>fast", `column 1: term "service>fast": "fast" is not a number`},
		{`path="/x`, `column 1: term "path=\"/x": unterminated quote`},
		{`path="/x"y`, `column 1: term "path=\"/x\"y": text after closing quote`},
		{`a"b`, `column 1: term "a\"b": unexpected '"' after key`},
	} {
		t.Run(tt.where, func(t *testing.T) {
			_, err := ParseWhere(tt.where)
			require.Error(t, err)
			assert.Equal(t, tt.msg, err.Error())
		})
	}
}

func TestWhereStringRoundTrip(t *testing.T) {
	for _, s := range []string{"proc=router !code", `path="/a b" status>=500`, "a!=b* x<=1.5 y>2 z<3 w>=4", `q="a\"b"`} {
		w, err := ParseWhere(s)
		require.NoError(t, err)
		w2, err := ParseWhere(w.String())
		require.NoError(t, err)
		assert.Equal(t, w.String(), w2.String())
		assert.Equal(t, len(w), len(w2))
	}
}

func TestMatchGlob(t *testing.T) {
	f := func(p, v string, want bool) {
		t.Helper()
		assert.Equal(t, want, matchGlob(p, []byte(v)), "%q ~ %q", p, v)
	}
	f("", "", true)
	f("", "a", false)
	f("*", "", true)
	f("a*", "a", true)
	f("a*b", "ab", true)
	f("a*b", "axxb", true)
	f("a*b", "axxbx", false)
	f("*ab*ab", "abxabab", true)
	f("**", "x", true)
	f("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)
	f("H1?", "H1?", true)
}

// TestWhereBuiltInCode: a Where built as a struct literal (no ParseWhere)
// matches as the parsed one does, through a validated Def and directly.
// Before the fix its terms had no lookup prepared and never matched.
func TestWhereBuiltInCode(t *testing.T) {
	ev := parseEvent(t, routerLine)
	rows := []struct {
		name  string
		where Where
		want  bool
	}{
		{"literal header", Where{{Key: "proc", Op: OpGlob, Glob: "router"}}, true},
		{"literal field", Where{{Key: "status", Op: OpGlob, Glob: "200"}}, true},
		{"syslog header", Where{{Key: "syslog.host", Op: OpGlob, Glob: "host"}}, true},
		{"glob prefix", Where{{Key: "path", Op: OpGlob, Glob: "/api/*"}}, true},
		{"glob prefix and suffix", Where{{Key: "path", Op: OpGlob, Glob: "/api/*page=2"}}, true},
		{"glob overlapping ends", Where{{Key: "dyno", Op: OpGlob, Glob: "web.2*web.2"}}, false},
		{"glob two stars", Where{{Key: "path", Op: OpGlob, Glob: "/*/ord*"}}, true},
		{"not glob", Where{{Key: "proc", Op: OpNotGlob, Glob: "rout*"}}, false},
		{"number", Where{{Key: "service", Op: OpGE, Num: 43}}, true},
		{"absent", Where{{Key: "code", Op: OpAbsent}}, true},
		{"present and wrong literal", Where{{Key: "code", Op: OpPresent}, {Key: "proc", Op: OpGlob, Glob: "router"}}, false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			assert.Equal(t, row.want, row.where.Match(ev), "Where.Match")
			d := Def{Name: "x", Kind: DefRate, Where: row.where}
			require.NoError(t, d.Validate())
			assert.Equal(t, row.want, d.Match(ev), "Def.Match")
			parsed, err := ParseWhere(row.where.String())
			require.NoError(t, err)
			assert.Equal(t, row.want, parsed.Match(ev), "ParseWhere(%q)", row.where.String())
		})
	}
	bad := Def{Name: "x", Kind: DefRate, Where: Where{{Op: OpPresent}}}
	assert.ErrorContains(t, bad.Validate(), "x: where: term \"\" has no key")
	bad = Def{Name: "y", Kind: DefRate, Where: Where{{Key: "a", Op: 42}}}
	assert.ErrorContains(t, bad.Validate(), "y: where: term on \"a\": unknown operator 42")
}
