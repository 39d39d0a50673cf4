package logfmttest

import (
	"bufio"
	"bytes"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// light reports whether the race detector or -short makes the long tests
// too slow; they then check less traffic.
func light() bool { return raceEnabled || testing.Short() }

// generate returns d of traffic for opts.
func generate(t testing.TB, opts Options, d time.Duration) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := New(opts).WriteFor(&buf, d)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

// frames splits a drain body into its messages, checking every octet count.
func frames(t testing.TB, body []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for off := 0; off < len(body); {
		sp := bytes.IndexByte(body[off:], ' ')
		require.Positive(t, sp, "frame at offset %d has no count", off)
		n, err := strconv.Atoi(string(body[off : off+sp]))
		require.NoError(t, err, "frame at offset %d", off)
		start := off + sp + 1
		require.LessOrEqual(t, start+n, len(body), "frame at offset %d: count %d runs past the body", off, n)
		msg := body[start : start+n]
		require.Equal(t, byte('\n'), msg[n-1], "frame at offset %d: count %d does not end at its LF", off, n)
		require.NotContains(t, string(msg[:n-1]), "\n", "frame at offset %d: count %d spans two lines", off, n)
		out = append(out, msg)
		off = start + n
	}
	return out
}

func TestDeterministic(t *testing.T) {
	for _, f := range []Format{Drain, Lines, HerokuLogs} {
		t.Run(f.String(), func(t *testing.T) {
			opts := Options{Seed: 7, Rate: 300, Format: f, IncidentEvery: 2 * time.Minute}
			d := 3 * time.Minute
			if light() {
				opts.Rate = 30
			}
			a := generate(t, opts, d)
			b := generate(t, opts, d)
			require.NotEmpty(t, a)
			assert.True(t, bytes.Equal(a, b), "same options gave different bytes")

			opts.Seed = 8
			c := generate(t, opts, d)
			assert.False(t, bytes.Equal(a, c), "different seeds gave the same bytes")
		})
	}
}

func TestWriteForContinues(t *testing.T) {
	opts := Options{Seed: 3, Rate: 200}
	whole := generate(t, opts, time.Minute)

	var parts bytes.Buffer
	g := New(opts)
	for range 60 {
		_, err := g.WriteFor(&parts, time.Second)
		require.NoError(t, err)
	}
	assert.True(t, bytes.Equal(whole, parts.Bytes()), "60 × 1 s differs from 1 min")

	// Next gives the same lines as WriteFor.
	g = New(opts)
	var next []byte
	end := opts.Start
	if end.IsZero() {
		end = DefaultStart
	}
	end = end.Add(time.Minute)
	for g.Peek().Before(end) {
		peek := g.Peek()
		var ts time.Time
		next, ts = g.Next(next)
		require.Equal(t, peek, ts)
	}
	assert.True(t, bytes.Equal(whole, next), "Next differs from WriteFor")
}

var (
	rfc5424 = regexp.MustCompile(`^<(\d+)>1 (\S+) host (heroku|app) (\S+) - \S`)
	classic = regexp.MustCompile(`^(\S+) (heroku|app)\[([^\]]+)\]: \S`)
	microTS = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)
	secTS   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
)

// checkHeaders asserts that each message has a valid header with a known
// PRI for its source and timestamps that never go back.
func checkHeaders(t *testing.T, msgs [][]byte) {
	t.Helper()
	pri := map[string]string{"router": "158", "api": "134", "heroku-postgres": "134", "heroku-redis": "134", "logplex": "172"}
	var last time.Time
	for i, m := range msgs {
		s := rfc5424.FindSubmatch(m)
		if s == nil {
			require.Failf(t, "bad header", "message %d: %q", i, m)
		}
		proc := string(s[4])
		want, ok := pri[proc]
		switch {
		case ok:
		case string(s[3]) == "app":
			want = "190"
		default:
			want = "45"
		}
		if want != string(s[1]) {
			assert.Failf(t, "wrong PRI", "message %d: PRI of %s is %s, want %s", i, proc, s[1], want)
		}
		secOnly := proc == "heroku-postgres" || proc == "heroku-redis" || proc == "logplex"
		tsRE := microTS
		if secOnly {
			tsRE = secTS
		}
		if !tsRE.Match(s[2]) {
			require.Failf(t, "bad timestamp", "message %d: %q", i, m)
		}
		ts, err := time.Parse(time.RFC3339Nano, string(s[2]))
		require.NoError(t, err)
		if !secOnly {
			if ts.Before(last) {
				require.Failf(t, "out of order", "message %d goes back in time: %s after %s", i, ts, last)
			}
			last = ts
		}
	}
}

func TestFormats(t *testing.T) {
	opts := Options{Seed: 11, Rate: 200}
	if light() {
		opts.Rate = 40
	}
	drain := generate(t, opts, time.Minute)
	msgs := frames(t, drain)
	require.Greater(t, len(msgs), int(opts.Rate*60*0.9))
	checkHeaders(t, msgs)

	t.Run("lines", func(t *testing.T) {
		opts := opts
		opts.Format = Lines
		lines := generate(t, opts, time.Minute)
		assert.True(t, bytes.Equal(bytes.Join(msgs, nil), lines), "lines are not the drain frames without counts")
	})
	t.Run("heroku-logs", func(t *testing.T) {
		opts := opts
		opts.Format = HerokuLogs
		out := generate(t, opts, time.Minute)
		lines := bytes.SplitAfter(out, []byte("\n"))
		lines = lines[:len(lines)-1]
		require.Len(t, lines, len(msgs))
		for i, l := range lines {
			s := classic.FindSubmatch(l)
			if s == nil {
				require.Failf(t, "bad line", "line %d: %q", i, l)
			}
			// Same time, source and message as the drain frame.
			h := rfc5424.FindSubmatch(msgs[i])
			if !bytes.Equal(h[2], s[1]) || !bytes.Equal(h[3], s[2]) || !bytes.Equal(h[4], s[3]) || !bytes.HasSuffix(msgs[i], l[len(s[0])-1:]) {
				require.Failf(t, "lines differ", "line %d: %q\nframe: %q", i, l, msgs[i])
			}
		}
	})
	t.Run("syslog-drain", func(t *testing.T) {
		opts := opts
		opts.SyslogDrain = true
		msgs := frames(t, generate(t, opts, 10*time.Second))
		tok := regexp.MustCompile(`^<\d+>1 \S+ d\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} (heroku|app) \S+ - - \S`)
		for i, m := range msgs {
			if !tok.Match(m) {
				require.Failf(t, "no drain token", "message %d: %q", i, m)
			}
		}
	})
}

// census counts the kinds of lines in 10 minutes of default traffic.
type census struct {
	lines, router, app, status200, status5xx int
	services                                 []int
	hosts                                    map[string]int
	text                                     string
}

var (
	statusRE  = regexp.MustCompile(` status=(\d*) `)
	serviceRE = regexp.MustCompile(` service=(\d+)ms `)
	hostRE    = regexp.MustCompile(` host=(\S+) `)
)

func takeCensus(t *testing.T, body []byte) census {
	c := census{hosts: map[string]int{}, text: string(body)}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		c.lines++
		switch {
		case strings.Contains(l, " heroku router - "):
			c.router++
			st := statusRE.FindStringSubmatch(l)
			require.NotNil(t, st, l)
			switch {
			case st[1] == "200":
				c.status200++
			case strings.HasPrefix(st[1], "5"):
				c.status5xx++
			}
			if strings.Contains(l, " at=info ") && st[1] != "503" {
				sv := serviceRE.FindStringSubmatch(l)
				require.NotNil(t, sv, l)
				n, _ := strconv.Atoi(sv[1])
				c.services = append(c.services, n)
			}
			c.hosts[hostRE.FindStringSubmatch(l)[1]]++
		case strings.HasPrefix(l, "<190>"):
			c.app++
		}
	}
	require.NoError(t, sc.Err())
	return c
}

func TestMix(t *testing.T) {
	opts := Options{Seed: 1, Rate: 150, Format: Lines}
	if light() {
		opts.Rate = 50
	}
	c := takeCensus(t, generate(t, opts, 10*time.Minute))

	requests := float64(c.router + c.app)
	assert.InDelta(t, opts.Rate*600, requests, opts.Rate*600*0.03, "request-driven lines")
	assert.InDelta(t, routerShare, float64(c.router)/requests, 0.03, "router share of request lines")
	assert.InDelta(t, 0.755, float64(c.status200)/float64(c.router), 0.04, "status 200 share")
	fiveXX := float64(c.status5xx) / float64(c.router)
	assert.True(t, fiveXX > 0.003 && fiveXX < 0.06, "5xx share %.4f", fiveXX)

	slices.Sort(c.services)
	median := c.services[len(c.services)/2]
	p99 := c.services[len(c.services)*99/100]
	assert.True(t, median >= 10 && median <= 40, "median service %d ms", median)
	assert.Greater(t, p99, 8*median, "p99 service %d ms for a median of %d: no heavy tail", p99, median)
	assert.Less(t, c.services[len(c.services)-1], 30000, "a successful request reached the timeout")

	counts := make([]int, 0, len(c.hosts))
	for _, n := range c.hosts {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	top := float64(counts[len(counts)-1]) / float64(c.router)
	assert.Len(t, counts, DefaultApps)
	assert.True(t, top > 0.15 && top < 0.4, "top host share %.3f", top)
	assert.Greater(t, counts[len(counts)-1], 10*counts[0], "hosts not Zipf-like: %v", counts)

	for _, want := range []string{
		"sock=client at=warning code=H27", "sock=backend at=error code=H18",
		"code=H10 desc=\"App crashed\"", "dyno= connect= service= status=503 bytes= ",
		"code=H12 desc=\"Request timeout\"", "service=30000ms status=503", "code=H13",
		"code=H80 desc=\"Maintenance mode\"", "at=info code=H80",
		"protocol=http2.0 tls=true tls_version=", "protocol=https",
		"State changed from up to crashed", "State changed from starting to up",
		"Error R10 (Boot timeout)", "Error R14 (Memory quota exceeded)", "Process running mem=",
		"Error L10 (output buffer overflow): ", "Cycling", "Restarting", "Stopping all processes with SIGTERM",
		"app api - Deploy ", "app api - Release v", "app api - Scaled to web@", "config vars by user",
		"sample#load_avg_1m=", "sample#memory_total=", "sample#memory_quota=",
		"app heroku-postgres - source=DATABASE addon=postgresql-", "app heroku-redis - source=REDIS",
		"count#", "measure#db.query=", "sample#pool.busy=", "unique#",
		"level=INFO", "level=ERROR", "Completed 200 OK", "INFO: done",
	} {
		assert.Contains(t, c.text, want)
	}
	// An incident is a burst, not noise: H12s cluster within two minutes.
	first := strings.Index(c.text, "code=H12")
	last := strings.LastIndex(c.text, "code=H12")
	tFirst, tLast := lineTime(t, c.text, first), lineTime(t, c.text, last)
	assert.Less(t, tLast.Sub(tFirst), 2*time.Minute, "H12 burst from %s to %s", tFirst, tLast)
	assert.Greater(t, strings.Count(c.text, "code=H12"), 20)
}

// lineTime returns the timestamp of the line around text[i].
func lineTime(t *testing.T, text string, i int) time.Time {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	f := strings.Fields(text[start : start+100])
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	require.NoError(t, err)
	return ts
}

func TestR14EpisodeEnds(t *testing.T) {
	// Over a few episodes, R14 ends both ways: R15 and a crash, or a restart.
	c := string(generate(t, Options{Seed: 2, Rate: 20, Format: Lines, IncidentEvery: time.Minute * 4}, 40*time.Minute))
	assert.Contains(t, c, "Error R15 (Memory quota vastly exceeded)")
	assert.Contains(t, c, "Process exited with status 137")
	assert.Contains(t, c, "sample#memory_swap=0.00MB")
	assert.Regexp(t, `sample#memory_swap=[1-9]`, c)
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		d     time.Duration // of traffic; 5 s when zero
		check func(t *testing.T, g *Generator, out string)
	}{
		{name: "zero", opts: Options{}, check: func(t *testing.T, g *Generator, out string) {
			o := g.Options()
			assert.Equal(t, DefaultStart, o.Start)
			assert.InDelta(t, DefaultRate, o.Rate, 0)
			assert.Equal(t, DefaultApps, o.Apps)
			assert.Equal(t, 10*time.Minute, o.IncidentEvery)
			first, _, _ := strings.Cut(out, "\n")
			assert.Contains(t, first, ">1 2026-03-14T17:00:00.")
		}},
		{name: "one app", opts: Options{Apps: 1, Rate: 50}},
		{name: "two apps", opts: Options{Apps: 2, Rate: 50}},
		{name: "many apps", opts: Options{Apps: MaxApps + 5, Rate: 50}, check: func(t *testing.T, g *Generator, _ string) {
			assert.Equal(t, MaxApps, g.Options().Apps)
		}},
		{name: "negative rate", opts: Options{Rate: -3}, check: func(t *testing.T, g *Generator, _ string) {
			assert.InDelta(t, DefaultRate, g.Options().Rate, 0)
		}},
		{name: "NaN rate", opts: Options{Rate: math.NaN()}, check: func(t *testing.T, g *Generator, _ string) {
			assert.InDelta(t, DefaultRate, g.Options().Rate, 0)
		}},
		{name: "huge rate", opts: Options{Rate: math.Inf(1)}, d: 10 * time.Microsecond, check: func(t *testing.T, g *Generator, _ string) {
			assert.InDelta(t, MaxRate, g.Options().Rate, 0)
		}},
		{name: "no incidents", opts: Options{Rate: 100, IncidentEvery: -1}, check: func(t *testing.T, _ *Generator, out string) {
			assert.NotContains(t, out, "code=H10")
			assert.NotContains(t, out, "app api - ")
		}},
		{name: "short incidents", opts: Options{Rate: 100, IncidentEvery: time.Second}, check: func(t *testing.T, g *Generator, _ string) {
			assert.Equal(t, time.Minute, g.Options().IncidentEvery)
		}},
		{name: "before 1970", opts: Options{Rate: 100, Start: time.Unix(-1, 500), Seed: 4}, check: func(t *testing.T, _ *Generator, out string) {
			assert.Contains(t, out, " 1969-12-31T23:59:59.")
			assert.Contains(t, out, " 1970-01-01T00:00:00.")
			assert.NotRegexp(t, `time=\S*-\d*Z|\.-`, out) // no negative fractions
		}},
		{name: "bad format", opts: Options{Rate: 100, Format: 9}, check: func(t *testing.T, g *Generator, _ string) {
			assert.Equal(t, Drain, g.Options().Format)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(tt.opts)
			var buf bytes.Buffer
			d := tt.d
			if d == 0 {
				d = 5 * time.Second
			}
			_, err := g.WriteFor(&buf, d)
			require.NoError(t, err)
			if g.Options().Format == Drain {
				checkHeaders(t, frames(t, buf.Bytes()))
			}
			if tt.check != nil {
				tt.check(t, g, buf.String())
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{Drain, Lines, HerokuLogs} {
		got, err := ParseFormat(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := ParseFormat("json")
	require.ErrorIs(t, err, ErrFormat)
	assert.EqualError(t, err, `logfmttest: format "json" (want drain, lines or heroku-logs): unknown format`)
	assert.Equal(t, "Format(7)", Format(7).String())
}

func TestNextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, f := range []Format{Drain, Lines, HerokuLogs} {
		t.Run(f.String(), func(t *testing.T) {
			g := New(Options{Format: f, IncidentEvery: -1})
			buf := make([]byte, 0, 4096)
			allocs := testing.AllocsPerRun(20000, func() { buf, _ = g.Next(buf[:0]) })
			assert.Zero(t, allocs)
		})
	}
}

func TestAppendHelpers(t *testing.T) {
	f := func(got []byte, want string) {
		t.Helper()
		assert.Equal(t, want, string(got))
	}
	f(appendFixed(nil, 412.368, 2), "412.37")
	f(appendFixed(nil, 0.005, 2), "0.01")
	f(appendFixed(nil, -1, 2), "0.00")
	f(appendFixed(nil, 7, 0), "7")
	f(appendTrim(nil, 0.2, 3), "0.2")
	f(appendTrim(nil, 41.27, 2), "41.27")
	f(appendTrim(nil, 3, 2), "3")
	f(appendTrim(nil, 0, 2), "0")
	f(appendPad(nil, 42, 6), "000042")
	f(appendHex(nil, 0xabc, 5), "00abc")
	f(appendUUID(nil, 0, 0), "00000000-0000-4000-8000-000000000000")
}

func TestAliasTable(t *testing.T) {
	tab := newAliasTable([]float64{1, 2, 7})
	r := newRNG(1, 1)
	var n [3]int
	for range 100000 {
		n[tab.pick(r.u64())]++
	}
	assert.InDelta(t, 10000, n[0], 600)
	assert.InDelta(t, 20000, n[1], 800)
	assert.InDelta(t, 70000, n[2], 1000)
}

func TestRandomOptions(t *testing.T) {
	r := newRNG(99, 99)
	n := 8
	if light() {
		n = 2
	}
	for i := range n {
		opts := Options{
			Seed:          r.u64(),
			Rate:          r.between(1, 500),
			Apps:          1 + r.intn(60),
			IncidentEvery: time.Duration(r.between(1, 5) * float64(time.Minute)),
			SyslogDrain:   r.u64()&1 == 0,
			Start:         DefaultStart.Add(time.Duration(r.u64() % uint64(1000*time.Hour))),
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			g := New(opts)
			var buf bytes.Buffer
			_, err := g.WriteFor(&buf, 2*time.Minute)
			require.NoError(t, err)
			for j, m := range frames(t, buf.Bytes()) {
				if len(m) > 2048 || !bytes.HasPrefix(m, []byte("<")) {
					require.Failf(t, "bad frame", "opts %+v, frame %d: %q", opts, j, m)
				}
			}
		})
	}
}

func TestBoundedState(t *testing.T) {
	// Hours of traffic keep the schedule bounded: one pending sample per
	// dyno and add-on, plus at most a few episodes of incidents.
	g := New(Options{Rate: 1, IncidentEvery: time.Minute})
	var buf []byte
	end := DefaultStart.Add(3 * time.Hour)
	peak := 0
	for g.Peek().Before(end) {
		buf, _ = g.Next(buf[:0])
		peak = max(peak, len(g.events))
	}
	assert.Less(t, peak, 2*len(g.dynos)+len(g.addons)+300, "pending events")
}

func TestEveryEpisodeHasIncidents(t *testing.T) {
	// Whatever the seed, each ten minutes holds the whole timeline, with
	// enough lines in each burst to chart.
	seeds := uint64(6)
	if light() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			out := string(generate(t, Options{Seed: seed, Rate: 30, Format: Lines}, 10*time.Minute))
			for _, want := range []struct {
				s   string
				min int
			}{
				{"code=H10 ", 10}, {"code=H12 ", 5}, {"State changed from up to crashed", 1},
				{"Error R10 ", 1}, {"Error R14 ", 5}, {"Error L10 ", 1}, {"app api - Release v", 2},
				{"app api - Deploy ", 1}, {"app api - Scaled to ", 1}, {" - Cycling", 1},
			} {
				assert.GreaterOrEqual(t, strings.Count(out, want.s), want.min, "%q", want.s)
			}
		})
	}
}
