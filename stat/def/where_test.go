package def

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routerLine is a Heroku router frame from shared/HEROKU-LOGS.md §3.9.
const routerLine = `<158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https`

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
	f("bytes>5kB", true) // units other than durations are dropped: 5321 > 5
	f("service<1m30s", true)
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
		{"service>fast", `column 1: term "service>fast": "fast" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages)`},
		{"status>=5xx", `column 1: term "status>=5xx": "5xx" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages)`},
		{"service>5e", `column 1: term "service>5e": "5e" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages)`},
		{"service>1xx30s", `column 1: term "service>1xx30s": "1xx30s" is not a number`},
		{"service>0x10", `column 1: term "service>0x10": "0x10" is not a number`},
		{"service>1e308s", `column 1: term "service>1e308s": "1e308s" is out of range`},
		{"service>", `column 1: term "service>": no number after the operator`},
		{"a~b", `column 1: term "a~b": unexpected '~' after key`},
		{"a=\xff", `column 1: pattern "\xff" is not valid UTF-8`},
		{`path="/x`, `column 1: term "path=\"/x": unterminated quote`},
		{`path="/x"y`, `column 1: term "path=\"/x\"y": text after closing quote`},
		{`a"b`, `column 1: term "a\"b": unexpected '"' after key`},
	} {
		t.Run(tt.where, func(t *testing.T) {
			_, err := ParseWhere(tt.where)
			require.ErrorIs(t, err, ErrDefinition)
			assert.Equal(t, tt.msg, err.Error())
		})
	}
}

func TestWhereStringRoundTrip(t *testing.T) {
	for _, s := range []string{"proc=router !code", `path="/a b" status>=500`, "a!=b* x<=1.5 y>2 z<3 w>=4", `q="a\"b"`, "level~=error a!~=\"x y\""} {
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
		assert.Equal(t, want, matchGlob(p, []byte(v), false), "%q ~ %q", p, v)
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
// matches as the parsed one does, through a compiled Def and directly.
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
			c, err := Compile(Def{Name: "x", Kind: KindRate, Where: row.where})
			require.NoError(t, err)
			assert.Equal(t, row.want, c.Match(ev), "Compiled.Match")
			parsed, err := ParseWhere(row.where.String())
			require.NoError(t, err)
			assert.Equal(t, row.want, parsed.Match(ev), "ParseWhere(%q)", row.where.String())
		})
	}
	bad := Def{Name: "x", Kind: KindRate, Where: Where{{Op: OpPresent}}}
	assert.ErrorContains(t, bad.Validate(), "x: where: term \"\" has no key")
	bad = Def{Name: "y", Kind: KindRate, Where: Where{{Key: "a", Op: 42}}}
	assert.ErrorContains(t, bad.Validate(), "y: where: term on \"a\": unknown operator 42")
	assert.False(t, bad.Where.Match(ev), "an unknown operator never matches")
	bad = Def{Name: "z", Kind: KindRate, Where: Where{{Key: "a b", Op: OpPresent}}}
	assert.ErrorContains(t, bad.Validate(), `z: where: term key "a b" holds a space`)
}

// TestWhereCase: matching is case-sensitive, as documented, and the ~=
// forms fold ASCII letters. Before, nothing matched slog's level=ERROR but
// the exact case, and no form could.
func TestWhereCase(t *testing.T) {
	slog := parseEvent(t, `time=2026-03-14T17:02:11Z level=ERROR msg="Payment Failed" path=/Checkout city=ÉVRY`)
	f := func(where string, want bool) {
		t.Helper()
		w, err := ParseWhere(where)
		require.NoError(t, err, where)
		assert.Equal(t, want, w.Match(slog), "where %q", where)
		c, err := Compile(Def{Name: "x", Kind: KindRate, Where: w})
		require.NoError(t, err)
		assert.Equal(t, want, c.Match(slog), "compiled where %q", where)
	}
	f("level=error", false) // case-sensitive
	f("level=ERROR", true)
	f("level~=error", true)
	f("level~=Error", true)
	f("level~=err*", true)
	f("level~=*RoR", true)
	f("level~=e*o*r", true)
	f("level~=warn", false)
	f("level!~=error", false)
	f("level!~=warn", true)
	f("absent!~=x", true)
	f("absent~=*", false)
	f(`msg~="payment failed"`, true)
	f(`msg~="payment*"`, true)
	f("path~=/checkout", true)
	f("city~=évry", false) // ASCII letters only: É is not é
	f("city~=ÉvRY", true)
	f("LEVEL~=error", false) // keys are case-sensitive
}

func TestMatchGlobFold(t *testing.T) {
	f := func(p, v string, want bool) {
		t.Helper()
		assert.Equal(t, want, matchGlob(p, []byte(v), true), "%q ~ %q", p, v)
	}
	f("abc", "ABC", true)
	f("a*c", "AxxC", true)
	f("*B*", "abc", true)
	f("a[", "A[", true)
	f("@", "`", false) // '@' and '`' differ by 0x20 but are not letters
	f("[", "{", false)
	f("a*a*a*a*b", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)
}

// TestWhereMatchAllocs: Where.Match and Compiled.Match do not allocate.
func TestWhereMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ev := parseEvent(t, routerLine)
	w, err := ParseWhere(`proc=router status<500 path~="/API/*" !code host!=x* service>=10ms`)
	require.NoError(t, err)
	c, err := Compile(Def{Name: "x", Kind: KindRate, Where: w})
	require.NoError(t, err)
	require.True(t, w.Match(ev))
	assert.Zero(t, testing.AllocsPerRun(100, func() { w.Match(ev) }), "Where.Match")
	assert.Zero(t, testing.AllocsPerRun(100, func() { c.Match(ev) }), "Compiled.Match")
}
