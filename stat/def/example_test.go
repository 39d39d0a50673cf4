package def_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
)

// ExampleParse reads a definitions file. Parse returns the definitions as
// written; Compile shows them with their defaults.
func ExampleParse() {
	defs, err := def.Parse(strings.NewReader(`
# Router traffic and errors.
name=router.requests kind=rate per=1s where=proc=router
name=router.5xx kind=rate per=1m where="proc=router status>=500" warn=10
name=router.service kind=quantiles of=service where="proc=router !code" unit=ms
`), "router.defs")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range defs {
		c, err := def.Compile(d)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c)
	}
	// Output:
	// name=router.requests kind=rate per=1s window=10s where=proc=router
	// name=router.5xx kind=rate per=1m window=1m where="proc=router status>=500" warn=10
	// name=router.service kind=quantiles of=service window=1m q=0.5,0.95,0.99 where="proc=router !code" unit=ms
}

// ExampleParse_error shows an error with its file and line.
func ExampleParse_error() {
	_, err := def.Parse(strings.NewReader(`name=ok kind=rate
name=router.5xx kind=rate where="proc=router status>=5xx"
`), "router.defs")
	fmt.Println(err)
	var le *def.LineError
	fmt.Println(errors.As(err, &le), le.Line, errors.Is(err, def.ErrDefinition))
	// Output:
	// router.defs:2: router.5xx: where: column 13: term "status>=5xx": "5xx" is not a number with a unit (units: ns, us, µs, ms, s, m, h, %, B, bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages): bad definition
	// true 2 true
}

// ExampleParseWhere filters events: matching is case-sensitive, ~= folds
// ASCII case, and numbers compare with their units.
func ExampleParseWhere() {
	var ev logfmt.Event
	logfmt.ParseBody([]byte(`time=2026-03-14T17:02:11Z level=ERROR msg="payment failed" duration=1.2s`), &ev)
	for _, s := range []string{
		"level=error",
		"level~=error",
		"level~=err* duration>=1s",
		`msg="payment *" duration<1000ms`,
	} {
		w, err := def.ParseWhere(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-32s %v\n", w, w.Match(&ev))
	}
	// Output:
	// level=error                      false
	// level~=error                     true
	// level~=err* duration>=1000       true
	// msg="payment *" duration<1000    false
}

// ExampleCompile builds a definition in code and folds events into its
// stat by hand, as package window does for every bucket.
func ExampleCompile() {
	c, err := def.Compile(def.Def{
		Name:  "checkout.p99",
		Kind:  def.KindQuantiles,
		Of:    "duration",
		Q:     []float64{0.99},
		Where: def.Where{{Key: "path", Op: def.OpGlob, Glob: "/checkout*"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := c.NewStat()
	var ev logfmt.Event
	for _, line := range []string{
		"path=/checkout duration=120ms",
		"path=/checkout/pay duration=1.5s",
		"path=/ duration=3ms",
		"path=/checkout duration=1e308s",
	} {
		logfmt.ParseBody([]byte(line), &ev)
		if c.Match(&ev) {
			fmt.Println(line, "→", c.Observe(s, &ev))
		}
	}
	fmt.Println(c.Name(), c.Read(s, c.Window()))
	// Output:
	// path=/checkout duration=120ms → observed
	// path=/checkout/pay duration=1.5s → observed
	// path=/checkout duration=1e308s → skipped: overflow
	// checkout.p99 {"p99":1500}
}

// ExampleBudget shows what definitions cost and how a Budget refuses a
// set over it.
func ExampleBudget() {
	defs := []def.Def{
		{Name: "requests", Kind: def.KindRate, Per: time.Second},
		{Name: "requests.hourly", Kind: def.KindRate, Window: time.Hour},
		{Name: "app", Kind: def.KindL2met, MaxMetrics: 5000},
	}
	for _, d := range defs {
		c, _ := def.Compile(d)
		fmt.Println(c.Name(), c.Cost())
	}
	_, err := def.CompileSet(defs, def.Budget{})
	fmt.Println(err)
	_, err = def.CompileSet(defs, def.Budget{MaxStats: 20000})
	fmt.Println(err)
	// Output:
	// requests 1
	// requests.hourly 60
	// app 10000
	// def: defs[2]: app: over budget: it costs 10000 stats, and the definitions before it 61, over the budget of 10000 (see def.Budget): bad definition
	// <nil>
}

// ExampleHeroku lists a few definitions of the default set.
func ExampleHeroku() {
	for _, d := range def.Heroku() {
		if strings.HasPrefix(d.Name, "postgres.") || d.Name == "logplex.L11" {
			fmt.Println(d.Name, d.Kind, d.By, d.Where)
		}
	}
	// Output:
	// logplex.L11 sum  syslog.proc=logplex msg="*L11 (*"
	// postgres.connections last-sum addon,source syslog.proc=heroku-postgres sample#active-connections
}
