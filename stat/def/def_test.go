package def

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parseEvent(t testing.TB, line string) *logfmt.Event {
	t.Helper()
	ev := new(logfmt.Event)
	require.NoError(t, logfmt.ParseLine([]byte(line), ev))
	return ev
}

func mustCompile(t testing.TB, d Def) *Compiled {
	t.Helper()
	c, err := Compile(d)
	require.NoError(t, err)
	return c
}

func TestParseAndDefaults(t *testing.T) {
	defs, err := Parse(strings.NewReader(`
# a comment, then a blank line

name=a kind=rate per=1s
name=b kind=rate
name=c kind=quantiles of=service where="proc=router !code"
name=d kind=topk of=host per=1s window=1m
name=e kind=sum of=bytes per=1m label="Bytes per minute" warn=1 crit=2.5
name=f kind=l2met
name=g kind=l2met prefix=app max=50
`), "test.defs")
	require.NoError(t, err)
	require.Len(t, defs, 7)
	assert.Equal(t, Def{Name: "a", Kind: KindRate, Per: time.Second}, defs[0], "Parse returns the definitions as written")
	assert.Equal(t, 50, defs[6].MaxMetrics, "max= is the old name of max-metrics=")

	compiled := func(i int) Def { return mustCompile(t, defs[i]).Def() }
	a, b, c, d, e, f := compiled(0), compiled(1), compiled(2), compiled(3), compiled(4), compiled(5)
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
	assert.Equal(t, DefaultL2metMetrics, f.MaxMetrics)

	// Each definition, as written and with its defaults, prints as a line
	// that parses back to the same.
	for _, d := range defs {
		for _, line := range []string{d.String(), mustCompile(t, d).String()} {
			back, err := Parse(strings.NewReader(line), "back")
			require.NoError(t, err, line)
			require.Len(t, back, 1)
			assert.Equal(t, line, back[0].String())
		}
		back := MustParse(d.String(), "back")[0]
		assert.Equal(t, d, back, "as written: an equal Def")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no name", "kind=rate", `x.defs:1: (unnamed): name is required: bad definition`},
		{"no kind", "name=a", `x.defs:1: a: kind is required: bad definition`},
		{"unknown kind", "name=a kind=quantile of=x", `x.defs:1: a: unknown kind "quantile" (want one of rate, sum, mean, min, max, last, last-sum, last-mean, distinct, quantiles, topk, l2met): bad definition`},
		{"unknown key", "name=a kind=rate colour=red", `x.defs:1: a: unknown key "colour": bad definition`},
		{"flag", "name=a kind=rate oops", `x.defs:1: a: "oops" has no value (want key=value): bad definition`},
		{"twice", "name=a kind=rate kind=sum", `x.defs:1: a: kind given twice: bad definition`},
		{"max twice", "name=a kind=l2met max=1 max-metrics=2", `x.defs:1: a: max-metrics given twice: bad definition`},
		{"duplicate name", "name=a kind=rate\n\nname=a kind=rate", `x.defs:3: a: duplicate name (first at line 1): bad definition`},
		{"needs of", "name=a kind=mean", `x.defs:1: a: kind mean needs of=: bad definition`},
		{"rate takes no of", "name=a kind=rate of=x", `x.defs:1: a: kind rate takes no of=: bad definition`},
		{"of and before", "name=a kind=sum of=x before=y", `x.defs:1: a: of= and before= are two ways to say what is observed: give one: bad definition`},
		{"needs by", "name=a kind=last-sum of=x", `x.defs:1: a: kind last-sum needs by=: bad definition`},
		{"by misplaced", "name=a kind=sum of=x by=y", `x.defs:1: a: by= goes with last-sum and last-mean only: bad definition`},
		{"by list", "name=a kind=last-sum of=x by=a,,b", `x.defs:1: a: by="a,,b": want keys separated by commas: bad definition`},
		{"bad window", "name=a kind=rate window=soon", `x.defs:1: a: window: "soon" is not a duration (like 1s, 10s, 1m): bad definition`},
		{"fractional window", "name=a kind=rate window=1500ms", `x.defs:1: a: per and window must be whole numbers of seconds: bad definition`},
		{"window too long", "name=a kind=rate window=1000000h", `x.defs:1: a: window=1000000h is longer than the limit of 12h: bad definition`},
		{"bad q", "name=a kind=quantiles of=x q=0.5,high", `x.defs:1: a: q: "high" is not a number: bad definition`},
		{"q out of range", "name=a kind=quantiles of=x q=1", `x.defs:1: a: quantile 1 out of range (0, 1): bad definition`},
		{"q misplaced", "name=a kind=mean of=x q=0.5", `x.defs:1: a: q= goes with quantiles and l2met only: bad definition`},
		{"bad k", "name=a kind=topk of=x k=0", `x.defs:1: a: k: "0" is not a positive integer: bad definition`},
		{"k too big", "name=a kind=topk of=x k=5000", `x.defs:1: a: k=5000 out of range 1..1000: bad definition`},
		{"k misplaced", "name=a kind=rate k=5", `x.defs:1: a: k= goes with topk only: bad definition`},
		{"per misplaced", "name=a kind=mean of=x per=1s", `x.defs:1: a: per= goes with rate, sum and topk only: bad definition`},
		{"bad where", `name=a kind=rate where="service>fast"`, `x.defs:1: a: where: column 1: term "service>fast": "fast" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages): bad definition`},
		{"where not a unit", `name=a kind=rate where="status>=5xx"`, `x.defs:1: a: where: column 1: term "status>=5xx": "5xx" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages): bad definition`},
		{"bad warn", "name=a kind=rate warn=high", `x.defs:1: a: warn: "high" is not a finite number: bad definition`},
		{"infinite warn", "name=a kind=rate warn=inf", `x.defs:1: a: warn: "inf" is not a finite number: bad definition`},
		{"prefix misplaced", "name=a kind=rate prefix=x", `x.defs:1: a: prefix= and max-metrics= go with l2met only: bad definition`},
		{"before misplaced", "name=a kind=distinct before=x", `x.defs:1: a: before= goes with numeric kinds only: bad definition`},
		{"long name", "name=" + strings.Repeat("n", 300) + " kind=rate", `x.defs:1: "` + strings.Repeat("n", 40) + `": name is 300 bytes, longer than 256: bad definition`},
		{"reserved name", "name=pulse.events kind=rate", `x.defs:1: pulse.events: names beginning with "pulse." are reserved for the pipeline's self-stats: bad definition`},
		{"reserved prefix", "name=p kind=l2met prefix=pulse", `x.defs:1: p: prefix "pulse" would derive names beginning with "pulse.", reserved for the pipeline's self-stats: bad definition`},
		{"reserved l2met name", "name=pulse kind=l2met", `x.defs:1: pulse: prefix "pulse" would derive names beginning with "pulse.", reserved for the pipeline's self-stats: bad definition`},
		{"unterminated quote", `name=a kind=rate where="proc=router`, `x.defs:1: unterminated quote at column 24: bad definition`},
		{"unterminated escaped quote", `name=a kind=rate label="a \"b\"`, `x.defs:1: unterminated quote at column 24: bad definition`},
		{"invalid UTF-8 name", "name=a\xff kind=rate", `x.defs:1: "a\xff": name "a\xff" is not valid UTF-8: bad definition`},
		{"invalid UTF-8 label", "name=a kind=rate label=\xc3", `x.defs:1: a: label "\xc3" is not valid UTF-8: bad definition`},
		{"invalid UTF-8 where", "name=a kind=rate where=proc=\xc3", `x.defs:1: a: where: column 1: pattern "\xc3" is not valid UTF-8: bad definition`},
		{"control character", "name=a kind=rate label=\"x\\ny\"", `x.defs:1: a: label "x\ny" holds a control character: bad definition`},
		{"over budget", "name=a kind=l2met max-metrics=100000000", `x.defs:1: a: over budget: it costs 200000000 stats, and the definitions before it 1, over the budget of 10000 (see def.Budget): bad definition`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs, err := Parse(strings.NewReader("name=ok kind=rate\n"+tt.in), "x.defs")
			require.Error(t, err)
			assert.Nil(t, defs, "no partial load")
			require.ErrorIs(t, err, ErrDefinition)
			var le *LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, "x.defs", le.File)
			// The valid first line shifts every line number by one.
			assert.Equal(t, shiftLine(tt.want), err.Error())
		})
	}
}

// shiftLine adds one to the line number after "x.defs:" and to a "first at
// line N".
func shiftLine(s string) string {
	r := strings.NewReplacer("x.defs:1:", "x.defs:2:", "x.defs:3:", "x.defs:4:", "first at line 1", "first at line 2")
	return r.Replace(s)
}

// TestParseLongLine: a line over MaxLineLen is an error with its line
// number. Before, a 1 MB line gave "bufio.Scanner: token too long".
func TestParseLongLine(t *testing.T) {
	for _, n := range []int{MaxLineLen + 1, 1 << 20} {
		in := "name=a kind=rate\n# a comment\nname=b kind=rate label=" + strings.Repeat("x", n) + "\nname=c kind=rate\n"
		_, err := Parse(strings.NewReader(in), "long.defs")
		require.ErrorIs(t, err, ErrDefinition)
		assert.Equal(t, "long.defs:3: line longer than 65536 bytes: bad definition", err.Error())
		// The same at the end of the file, with no newline.
		_, err = Parse(strings.NewReader(in[:strings.LastIndex(in, "\nname=c")]), "long.defs")
		assert.EqualError(t, err, "long.defs:3: line longer than 65536 bytes: bad definition")
	}
	// A line of exactly MaxLineLen bytes is read.
	line := "name=b kind=rate label="
	line += strings.Repeat("x", MaxLineLen-len(line))
	defs, err := Parse(strings.NewReader("name=a kind=rate\n"+line+"\n"), "ok.defs")
	require.NoError(t, err)
	assert.Len(t, defs, 2)
}

// TestParseUnterminatedQuote: a quote left open is an error with its line
// and column. Before, the rest of the line was read as the value.
func TestParseUnterminatedQuote(t *testing.T) {
	f := func(line string, col int) {
		t.Helper()
		assert.Equal(t, col, unterminatedQuote([]byte(line)), "%s", line)
	}
	f(`name=a kind=rate`, 0)
	f(`name="a b" kind=rate`, 0)
	f(`name="a \"b\"" kind=rate`, 0)
	f(`label="a\\" kind=rate`, 0)
	f(`name="a`, 6)
	f(`name=a label="x \"`, 14)
	f(`name=a"b kind=rate`, 0) // a quote inside a bare value is a byte of it
	f(`"a=b`, 0)               // a key is never quoted
	f(`a="x"b="y`, 8)
	f(`a= "x`, 0) // '"' starts a bare word here
	_, err := Parse(strings.NewReader("name=a kind=rate\nname=b kind=rate label=\"Requests\n"), "q.defs")
	assert.EqualError(t, err, "q.defs:2: unterminated quote at column 24: bad definition")
	_, err = Parse(strings.NewReader("name=a kind=rate\n\t  name=b kind=rate label=\"Requests\n"), "q.defs")
	assert.EqualError(t, err, "q.defs:2: unterminated quote at column 27: bad definition", "columns count the indent")
}

// TestBudget: a set that costs more than its Budget is refused, by Parse
// and CompileSet alike, and a larger Budget admits it.
func TestBudget(t *testing.T) {
	var quantiles strings.Builder
	for i := range 20000 {
		quantiles.WriteString("name=q" + strconv.Itoa(i) + " kind=quantiles of=service where=proc=router\n")
	}
	_, err := Parse(strings.NewReader(quantiles.String()), "many.defs")
	require.ErrorIs(t, err, ErrDefinition)
	assert.Contains(t, err.Error(), "many.defs:10001: ")
	assert.Contains(t, err.Error(), ": over budget: it costs 1 stats, and the definitions before it 10000, over the budget of 10000 (see def.Budget)")
	defs, err := ParseBudget(strings.NewReader(quantiles.String()), "many.defs", Budget{MaxStats: 20000})
	require.NoError(t, err)
	assert.Len(t, defs, 20000)
	_, err = CompileSet(defs, Budget{})
	require.ErrorIs(t, err, ErrDefinition)
	assert.Contains(t, err.Error(), "def: defs[10000]: ")
	_, err = CompileSet(defs, Budget{MaxStats: 20000})
	require.NoError(t, err)

	// Costs: windows weigh by the minute, l2met by its cap.
	cost := func(line string) int {
		t.Helper()
		return mustCompile(t, MustParse(line, "c")[0]).Cost()
	}
	assert.Equal(t, 1, cost("name=a kind=rate per=1s"))
	assert.Equal(t, 1, cost("name=a kind=rate window=1m"))
	assert.Equal(t, 2, cost("name=a kind=rate window=61s"))
	assert.Equal(t, 60, cost("name=a kind=rate window=1h"))
	assert.Equal(t, 2000, cost("name=a kind=l2met"))
	assert.Equal(t, 100, cost("name=a kind=l2met max-metrics=10 window=5m"))
	total := 0
	for _, d := range Heroku() {
		total += mustCompile(t, d).Cost()
	}
	assert.Equal(t, herokuCost, total, "the cost Budget's doc gives for the default set")
	assert.Less(t, 4*total, DefaultMaxStats)
}

// herokuCost is what the default set costs, as DefaultMaxStats's and
// Budget's doc comments say.
const herokuCost = 2046

// TestCompileSetRules: CompileSet applies the rules of a set that Parse
// applies to a file: the same validation path for window.NewDefSet and
// `pulse defs --check`.
func TestCompileSetRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		defs []Def
		want string
	}{
		{"reserved", []Def{{Name: "pulse.events", Kind: KindRate}}, `def: defs[0]: pulse.events: names beginning with "pulse." are reserved for the pipeline's self-stats: bad definition`},
		{"duplicate", []Def{{Name: "a", Kind: KindRate}, {Name: "a", Kind: KindRate}}, `def: defs[1]: a: duplicate name (first at defs[0]): bad definition`},
		{"window", []Def{{Name: "a", Kind: KindRate, Window: 1000000 * time.Hour}}, `def: defs[0]: a: window=1000000h is longer than the limit of 12h: bad definition`},
		{"invalid UTF-8", []Def{{Name: "\xff", Kind: KindRate}}, `def: defs[0]: "\xff": name "\xff" is not valid UTF-8: bad definition`},
		{"budget", []Def{{Name: "a", Kind: KindL2met, MaxMetrics: 100000000}}, `def: defs[0]: a: over budget: it costs 200000000 stats, and the definitions before it 0, over the budget of 10000 (see def.Budget): bad definition`},
		{"built-in where", []Def{{Name: "a", Kind: KindRate, Where: Where{{Key: "a", Op: 42}}}}, `def: defs[0]: a: where: term on "a": unknown operator 42: bad definition`},
		{"NaN where", []Def{{Name: "a", Kind: KindRate, Where: Where{{Key: "a", Op: OpGT, Num: math.NaN()}}}}, `def: defs[0]: a: where: term "a>NaN": the number must be finite: bad definition`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileSet(tt.defs, Budget{})
			require.ErrorIs(t, err, ErrDefinition)
			assert.Equal(t, tt.want, err.Error())
			// One definition alone: Validate checks it without the set rules.
			if tt.name == "reserved" || tt.name == "duplicate" || tt.name == "budget" {
				assert.NoError(t, tt.defs[0].Validate())
			} else {
				assert.ErrorIs(t, tt.defs[0].Validate(), ErrDefinition)
			}
		})
	}
}

func TestHeroku(t *testing.T) {
	defs := Heroku()
	require.NotEmpty(t, defs)
	names := map[string]bool{}
	for _, d := range defs {
		names[d.Name] = true
	}
	for _, want := range []string{"router.requests", "router.5xx", "router.service", "router.H12", "router.H99", "router.H12.apps", "dyno.R14", "dyno.crashes", "dyno.memory", "logplex.L10", "logplex.L11", "postgres.connections", "releases", "l2met"} {
		assert.True(t, names[want], want)
	}
	_, err := CompileSet(defs, Budget{})
	require.NoError(t, err)
}

func TestDefBuiltInCode(t *testing.T) {
	ev := parseEvent(t, `<190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - time=2026-03-14T17:02:11Z level=ERROR msg=boom duration=12.3ms`)
	d := Def{Name: "errors", Kind: KindRate, Where: Where{{Key: "level", Op: OpGlob, Glob: "ERROR"}}}
	assert.True(t, d.Where.Match(ev), "a Where built in code matches as written")
	c := mustCompile(t, d)
	assert.True(t, c.Match(ev))
	d.Where[0].Glob = "changed"
	assert.True(t, c.Match(ev), "a Compiled keeps its own copy")
	bad := Def{Name: "x", Kind: KindRate, Window: 1500 * time.Millisecond}
	require.ErrorIs(t, bad.Validate(), ErrDefinition, "whole seconds, as in files")
	noKey := Def{Name: "x", Kind: KindRate, Where: Where{{Op: OpPresent}}}
	require.ErrorIs(t, noKey.Validate(), ErrDefinition)
	assert.EqualError(t, noKey.Validate(), `def: x: where: term "" has no key: bad definition`)
}

// TestObserveOutcomes: Observe says why it skipped, and a value that
// overflows once its unit is applied is skipped, not observed as +Inf.
func TestObserveOutcomes(t *testing.T) {
	router := func(msg string) *logfmt.Event {
		return parseEvent(t, "<158>1 2026-03-14T17:02:11Z host heroku router - "+msg)
	}
	q := mustCompile(t, Def{Name: "q", Kind: KindQuantiles, Of: "service"})
	for _, tt := range []struct {
		msg  string
		want Outcome
	}{
		{"service=12ms", Observed},
		{"service=1e308", Observed},
		{"service=1e308s", SkippedOverflow}, // 1e311 ms
		{"service=-1e308h", SkippedOverflow},
		{"service=1e400", SkippedNotNumber}, // does not parse
		{"service=fast", SkippedNotNumber},
		{"service=", SkippedMissing},
		{"status=200", SkippedMissing},
	} {
		s := q.NewStat()
		got := q.Observe(s, router(tt.msg))
		assert.Equal(t, tt.want, got, "%s: %v", tt.msg, got)
		if got != Observed {
			assert.Equal(t, uint64(0), s.(*stat.Quantiles).Count(), tt.msg)
		}
	}
	assert.Equal(t, "skipped: overflow", SkippedOverflow.String())
	assert.Equal(t, "Outcome(9)", Outcome(9).String())

	// by= falls back along its keys.
	ls := mustCompile(t, Def{Name: "c", Kind: KindLastSum, Of: "n", By: "addon,source"})
	s := ls.NewStat()
	assert.Equal(t, Observed, ls.Observe(s, router("addon=a source=A n=1")))
	assert.Equal(t, Observed, ls.Observe(s, router("source=B n=2")))
	assert.Equal(t, Observed, ls.Observe(s, router("addon= source=C n=4")), "an empty value falls back too")
	assert.Equal(t, SkippedMissing, ls.Observe(s, router("n=8")))
	assert.Equal(t, "7", ls.Read(s, time.Minute).String())
}

// TestReadRateOverflow: a rate of a finite sum never reads as null. Before,
// v × per overflowed to +Inf for sums above 1.8e299, and the snapshot said
// null.
func TestReadRateOverflow(t *testing.T) {
	sum := func(vs ...float64) *stat.Sum {
		var s stat.Sum
		for _, v := range vs {
			s.Observe(v)
		}
		return &s
	}
	c := mustCompile(t, Def{Name: "s", Kind: KindSum, Of: "x", Per: time.Second, Window: 10 * time.Second})
	assert.Equal(t, "1e+307", c.Read(sum(1e308), 10*time.Second).String())
	assert.Equal(t, "-1e+307", c.Read(sum(-1e308), 10*time.Second).String())
	assert.Equal(t, "0.4", c.Read(sum(4), 10*time.Second).String(), "small values as before: one rounding")
	hourly := mustCompile(t, Def{Name: "h", Kind: KindSum, Of: "x", Per: time.Hour, Window: time.Minute})
	assert.Equal(t, "1.7976931348623157e+308", hourly.Read(sum(1e308), time.Minute).String(), "saturates")
	assert.Equal(t, "-1.7976931348623157e+308", hourly.Read(sum(-1e308), time.Minute).String())
	var n stat.Count
	n.Add(3)
	rate := mustCompile(t, Def{Name: "r", Kind: KindRate, Per: time.Second})
	assert.Equal(t, "0.05", rate.Read(&n, time.Minute).String())
}

func TestKinds(t *testing.T) {
	assert.Len(t, Kinds(), 12)
	for _, k := range Kinds() {
		assert.True(t, k.Valid(), k)
		if k == KindL2met {
			assert.Equal(t, stat.KindInvalid, k.StatKind())
			continue
		}
		d := Def{Name: "x", Kind: k, Of: "v"}
		switch k {
		case KindRate:
			d.Of = ""
		case KindLastSum, KindLastMean:
			d.By = "p"
		}
		c := mustCompile(t, d)
		assert.Equal(t, k.StatKind(), c.NewStat().Kind(), k)
	}
	assert.False(t, Kind("quantile").Valid())
	assert.Nil(t, mustCompile(t, Def{Name: "l", Kind: KindL2met}).NewStat())
}

func TestErrorsWrap(t *testing.T) {
	_, err := Compile(Def{})
	assert.True(t, errors.Is(err, ErrDefinition))
	_, err = ParseWhere("a>b")
	assert.True(t, errors.Is(err, ErrDefinition))
	assert.EqualError(t, err, `column 1: term "a>b": "b" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages)`)
}

func TestLongestWindow(t *testing.T) {
	assert.Zero(t, LongestWindow(nil))
	defs := MustParse(`name=a kind=rate per=1s
name=b kind=rate window=5m
name=c kind=mean of=x`, "test.defs")
	assert.Equal(t, 5*time.Minute, LongestWindow(defs))
	assert.Equal(t, 10*time.Second, LongestWindow(defs[:1]), "per=1s reads 10 s by default")
	assert.Equal(t, time.Minute, LongestWindow(append(defs[:1:1], Def{Name: "bad"}, defs[2])), "a definition that does not compile is left out")
}
