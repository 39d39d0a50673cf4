package replay

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file is the oracle: it replays generated Heroku traffic through the
// default set and recomputes every stat of the snapshot from the same bytes
// with a separate, deliberately plain implementation (strings and regexp,
// maps and sorted slices, its own reading of heroku.defs). It shares no
// code with logfmt, stat's definitions or window beyond the snapshot it
// checks.

// oracleStart is where the generated traffic begins.
var oracleStart = time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)

// badFrames are injected into the stream: the parser must count them as
// unparsed, at the set's clock when they are read.
var badFrames = []string{
	"<158>1 not-a-timestamp host heroku router - at=info",
	"<999>1 2026-03-14T17:00:00Z host heroku router - at=info",
}

func TestOracle(t *testing.T) {
	rows := []struct {
		name    string
		opts    logfmttest.Options
		seconds int
		known   string // a known failure: the row runs only with PULSE_KNOWN_ISSUES=1
	}{
		{"drain incidents every minute", logfmttest.Options{Seed: 6, Rate: 300, IncidentEvery: time.Minute}, 180, ""},
		{"drain default timeline", logfmttest.Options{Seed: 11, Rate: 200}, 150, ""},
		{"lines syslog drain", logfmttest.Options{Seed: 3, Rate: 150, Format: logfmttest.Lines, SyslogDrain: true, IncidentEvery: time.Minute}, 100, ""},
		// A minute of 1 s buckets merged: 60 small digests, p95 of 9994
		// values 0.31 points off (one Quantiles fed them: 0.08), within the
		// 1 point stated below 10⁴ values.
		{"drain first incident", logfmttest.Options{Seed: 6, Rate: 300, IncidentEvery: time.Minute}, 70, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if row.known != "" && os.Getenv("PULSE_KNOWN_ISSUES") == "" {
				t.Skip("known issue (set PULSE_KNOWN_ISSUES=1 to run): " + row.known)
			}
			if raceEnabled || testing.Short() {
				row.seconds = min(row.seconds, 10)
			}
			row.opts.Start = oracleStart
			drain := row.opts.Format == logfmttest.Drain
			input, records, injected := generate(t, row.opts, time.Duration(row.seconds)*time.Second, drain)

			set, err := window.NewDefSet(def.Heroku(), nil)
			require.NoError(t, err)
			r := Replayer{Set: set}
			require.NoError(t, r.Fold(context.Background(), bytes.NewReader(input)))
			require.Equal(t, int64(injected), r.Unparsed, "only the injected frames are unparsed")
			T := set.End()
			snap, err := set.Snapshot(T)
			require.NoError(t, err)

			o := newOracle(t, def.HerokuFile())
			o.run(t, records)
			require.Equal(t, o.end, T, "the oracle's end of the last event's second")
			require.Equal(t, int64(len(o.events)), r.Events)

			want := o.expect(t)
			for name := range snap.Stats {
				assert.Contains(t, want, name, "stat %s is in the snapshot but not computed by the oracle", name)
			}
			checked := 0
			for name, check := range want {
				got, ok := snap.Stats[name]
				if !assert.True(t, ok, "stat %s is missing from the snapshot", name) {
					continue
				}
				check(t, name, got)
				checked++
			}
			assert.Equal(t, len(snap.Stats), checked, "every stat checked")
			// The traffic must exercise what is checked: not a snapshot of zeros.
			for _, name := range []string{"router.requests", "router.5xx", "router.hosts.top", "router.service",
				"dyno.memory", "dyno.load", "postgres.connections", "l2met.db.query", "pulse.skipped"} {
				v := snap.Stats[name]
				assert.False(t, v.IsNull() || v.String() == "0" || v.String() == "[]", "%s is empty: %s", name, v)
			}
			t.Logf("%d events, %d stats checked, %d l2met metrics", len(o.events), checked, len(o.derived))
		})
	}
}

// generate writes the traffic, with badFrames injected at the start, in
// the middle and near the end, and returns the bytes, the records (frames
// without count and newline) in order, and how many were injected.
func generate(t *testing.T, opts logfmttest.Options, d time.Duration, drain bool) ([]byte, []string, int) {
	t.Helper()
	var buf bytes.Buffer
	g := logfmttest.New(opts)
	_, err := g.WriteFor(&buf, d)
	require.NoError(t, err)
	var recs []string
	s := buf.String()
	for s != "" {
		var rec string
		if drain {
			count, rest, ok := strings.Cut(s, " ")
			require.True(t, ok, "drain frame without a count")
			n, err := strconv.Atoi(count)
			require.NoError(t, err)
			require.LessOrEqual(t, n, len(rest))
			rec, s = rest[:n], rest[n:]
			rec = strings.TrimSuffix(rec, "\n")
		} else {
			var ok bool
			rec, s, ok = strings.Cut(s, "\n")
			require.True(t, ok, "line without a newline")
		}
		recs = append(recs, rec)
	}
	require.Greater(t, len(recs), 100)
	all := []string{badFrames[0]}
	for i, r := range recs {
		all = append(all, r)
		if i == len(recs)/2 {
			all = append(all, badFrames[1])
		}
		if i == len(recs)-20 {
			all = append(all, badFrames[0])
		}
	}
	var out strings.Builder
	for _, r := range all {
		if drain {
			fmt.Fprintf(&out, "%d %s\n", len(r)+1, r)
		} else {
			out.WriteString(r + "\n")
		}
	}
	return []byte(out.String()), all, len(all) - len(recs)
}

// oPair is one pair of a message: a flag has no value.
type oPair struct {
	key, val string
	flag     bool
}

// oEvent is one record read by the oracle.
type oEvent struct {
	t      time.Time
	header map[string]string
	msg    string
	pairs  []oPair
	clock  time.Time // the set's clock after this event: the latest second so far
}

// lookup finds key as where filters and definitions read it.
func (e *oEvent) lookup(key string) (string, bool) {
	if key == "msg" || key == "syslog.msg" {
		return e.msg, true
	}
	if h, ok := strings.CutPrefix(key, "syslog."); ok {
		v, ok := e.header[h]
		return v, ok
	}
	for i := len(e.pairs) - 1; i >= 0; i-- {
		if e.pairs[i].key == key {
			return e.pairs[i].val, true
		}
	}
	v, ok := e.header[key]
	return v, ok
}

var facilities = strings.Fields("kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security console solaris-cron local0 local1 local2 local3 local4 local5 local6 local7")
var severities = strings.Fields("emerg alert crit err warning notice info debug")

// parseRecord reads "<PRI>1 TS HOST APP PROC MSGID MSG", or reports false.
func parseRecord(rec string) (*oEvent, bool) {
	f := strings.SplitN(rec, " ", 7)
	if len(f) < 6 || !strings.HasPrefix(f[0], "<") || !strings.HasSuffix(f[0], ">1") {
		return nil, false
	}
	pri, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f[0], "<"), ">1"))
	if err != nil || pri > 191 {
		return nil, false
	}
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	if err != nil {
		return nil, false
	}
	e := &oEvent{t: ts.UTC(), header: map[string]string{
		"facility": facilities[pri/8], "severity": severities[pri%8],
		"host": f[2], "app": f[3], "proc": f[4], "msgid": f[5],
	}}
	if len(f) == 7 {
		e.msg = f[6]
	}
	// The structured-data NILVALUE of syslog drains is not the message.
	if e.msg == "-" {
		e.msg = ""
	}
	e.msg = strings.TrimPrefix(e.msg, "- ")
	e.pairs = parsePairs(e.msg)
	return e, true
}

// parsePairs splits a logfmt body: key=value, key="quoted \" value", and
// bare words, which are flags.
func parsePairs(s string) []oPair {
	var ps []oPair
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return ps
		}
		end := strings.IndexAny(s, " \t=")
		if end < 0 {
			end = len(s)
		}
		key := s[:end]
		if end == len(s) || s[end] != '=' {
			ps = append(ps, oPair{key: key, flag: true})
			s = s[end:]
			continue
		}
		s = s[end+1:]
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			ps = append(ps, oPair{key: key, val: b.String()})
			s = s[min(i+1, len(s)):]
			continue
		}
		vend := strings.IndexAny(s, " \t")
		if vend < 0 {
			vend = len(s)
		}
		ps = append(ps, oPair{key: key, val: s[:vend]})
		s = s[vend:]
	}
}

var numberRE = regexp.MustCompile(`^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z%/µ]*)$`)

// number reads "43ms", "412.37MB", "0.99": durations in milliseconds.
func number(s string) (float64, bool) {
	m := numberRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	scale := map[string]float64{"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1, "s": 1e3, "m": 60e3, "h": 3600e3}[m[2]]
	if scale == 0 {
		scale = 1
	}
	return f * scale, true
}

// oTerm is one where condition.
type oTerm struct {
	key, op, val string
	glob         *regexp.Regexp
	num          float64
}

var termRE = regexp.MustCompile(`^(!?)([^=!<>]+)(?:(!=|>=|<=|=|>|<)(.*))?$`)

func parseWhereText(t *testing.T, s string) []oTerm {
	var terms []oTerm
	for _, word := range splitOutsideQuotes(s) {
		m := termRE.FindStringSubmatch(word)
		require.NotNil(t, m, "where term %q", word)
		term := oTerm{key: m[2], op: m[3], val: strings.Trim(m[4], `"`)}
		switch {
		case m[1] == "!":
			term.op = "absent"
		case m[3] == "":
			term.op = "present"
		case m[3] == "=" || m[3] == "!=":
			parts := strings.Split(term.val, "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			term.glob = regexp.MustCompile(`(?s)^` + strings.Join(parts, ".*") + `$`)
		default:
			n, ok := number(term.val)
			require.True(t, ok, "where term %q", word)
			term.num = n
		}
		terms = append(terms, term)
	}
	return terms
}

func splitOutsideQuotes(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func matchWhere(terms []oTerm, e *oEvent) bool {
	for _, term := range terms {
		v, ok := e.lookup(term.key)
		var pass bool
		switch term.op {
		case "present":
			pass = ok
		case "absent":
			pass = !ok
		case "=":
			pass = ok && term.glob.MatchString(v)
		case "!=":
			pass = !ok || !term.glob.MatchString(v)
		default:
			n, isNum := number(v)
			if ok && isNum {
				switch term.op {
				case ">":
					pass = n > term.num
				case ">=":
					pass = n >= term.num
				case "<":
					pass = n < term.num
				case "<=":
					pass = n <= term.num
				}
			}
		}
		if !pass {
			return false
		}
	}
	return true
}

// oDef is a definition as the oracle reads heroku.defs.
type oDef struct {
	name, kind, of, by, before, prefix string
	byProc                             bool // l2met sample#: by the header proc when by is absent
	per, window                        time.Duration
	q                                  []float64
	k                                  int
	where                              []oTerm
}

// parseDefsText reads a definitions file with the defaults.
func parseDefsText(t *testing.T, text string) []oDef {
	var defs []oDef
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		kv := map[string]string{}
		for _, p := range parsePairs(line) {
			require.False(t, p.flag, "line %q", line)
			kv[p.key] = p.val
		}
		d := oDef{name: kv["name"], kind: kv["kind"], of: kv["of"], by: kv["by"], before: kv["before"], prefix: kv["prefix"]}
		dur := func(s string) time.Duration {
			if s == "" {
				return 0
			}
			v, err := time.ParseDuration(s)
			require.NoError(t, err)
			return v
		}
		d.per, d.window = dur(kv["per"]), dur(kv["window"])
		if d.window == 0 {
			d.window = time.Minute
			if d.per == time.Second {
				d.window = 10 * time.Second
			}
		}
		if d.per == 0 {
			d.per = d.window
		}
		d.q = []float64{0.5, 0.95, 0.99}
		if kv["q"] != "" {
			d.q = nil
			for _, s := range strings.Split(kv["q"], ",") {
				q, err := strconv.ParseFloat(s, 64)
				require.NoError(t, err)
				d.q = append(d.q, q)
			}
		}
		d.k = 10
		if kv["k"] != "" {
			var err error
			d.k, err = strconv.Atoi(kv["k"])
			require.NoError(t, err)
		}
		if d.prefix == "" {
			d.prefix = d.name
		}
		d.where = parseWhereText(t, kv["where"])
		defs = append(defs, d)
	}
	return defs
}

// oObs is one observation: its time, and a number or a key, with the
// partition key of last-sum and last-mean.
type oObs struct {
	t   time.Time
	v   float64
	key string
	by  string
}

// oStat gathers a definition's matching observations, whatever their time.
type oStat struct {
	def  oDef
	obs  []oObs
	hits []time.Time // rate: matching events
}

type oracle struct {
	defs    []*oStat
	l2met   oDef
	derived map[string]*oStat // by stat name
	byKey   map[string][]string
	events  []*oEvent
	// self-stat occurrences, at their time
	unparsed, skipped, overflow []time.Time
	end                         time.Time
}

func newOracle(t *testing.T, defsText string) *oracle {
	o := &oracle{derived: map[string]*oStat{}, byKey: map[string][]string{}}
	for _, d := range parseDefsText(t, defsText) {
		if d.kind == "l2met" {
			o.l2met = d
			continue
		}
		o.defs = append(o.defs, &oStat{def: d})
	}
	require.NotEmpty(t, o.l2met.name, "the default set has an l2met definition")
	return o
}

func (o *oracle) run(t *testing.T, records []string) {
	var clock time.Time
	pending := 0
	for _, rec := range records {
		e, ok := parseRecord(rec)
		if !ok {
			if clock.IsZero() {
				pending++
			} else {
				o.unparsed = append(o.unparsed, clock)
			}
			continue
		}
		if sec := e.t.Truncate(time.Second); sec.After(clock) {
			clock = sec
		}
		for ; pending > 0; pending-- {
			o.unparsed = append(o.unparsed, clock)
		}
		e.clock = clock
		o.events = append(o.events, e)
		for _, s := range o.defs {
			if matchWhere(s.def.where, e) {
				o.observe(s, e)
			}
		}
		o.foldL2met(t, e)
	}
	o.end = clock.Add(time.Second)
}

// observe records what a matching event gives a definition, or a skip.
func (o *oracle) observe(s *oStat, e *oEvent) {
	d := s.def
	if d.kind == "rate" {
		s.hits = append(s.hits, e.t)
		return
	}
	ob := oObs{t: e.t}
	var ok bool
	switch d.kind {
	case "distinct", "topk":
		ob.key, ok = e.lookup(d.of)
		ok = ok && ob.key != ""
	default:
		var raw string
		if d.before != "" {
			raw, ok = wordBefore(e, d.before)
		} else {
			raw, ok = e.lookup(d.of)
		}
		if ok {
			ob.v, ok = number(raw)
		}
		if ok && d.by != "" {
			// by= names keys in order: the first present and non-empty.
			for _, k := range strings.Split(d.by, ",") {
				if ob.by, ok = e.lookup(k); ok && ob.by != "" {
					break
				}
			}
			if (!ok || ob.by == "") && d.byProc {
				ob.by, ok = e.header["proc"]
			}
			ok = ok && ob.by != ""
		}
	}
	if !ok {
		o.skipped = append(o.skipped, e.t)
		return
	}
	s.obs = append(s.obs, ob)
}

// wordBefore returns the bare word just before the bare word w.
func wordBefore(e *oEvent, w string) (string, bool) {
	for i, p := range e.pairs {
		if p.flag && p.key == w {
			if i == 0 || !e.pairs[i-1].flag {
				return "", false
			}
			return e.pairs[i-1].key, true
		}
	}
	return "", false
}

var l2metRE = regexp.MustCompile(`^(count|measure|sample|unique)#(.+)$`)

// foldL2met derives a stat per l2met metric at its first sighting (the
// first name taken wins; a clash counts as an overflow at the clock) and
// observes every l2met pair.
func (o *oracle) foldL2met(t *testing.T, e *oEvent) {
	if !matchWhere(o.l2met.where, e) {
		return
	}
	for _, p := range e.pairs {
		m := l2metRE.FindStringSubmatch(p.key)
		if p.flag || m == nil {
			continue
		}
		names, ok := o.byKey[p.key]
		if !ok {
			base := oDef{name: o.l2met.prefix + "." + m[2], of: p.key, per: time.Minute, window: time.Minute}
			var defs []oDef
			switch m[1] {
			case "count":
				base.kind, base.per, base.window = "sum", time.Second, 10*time.Second
				defs = append(defs, base)
			case "measure":
				q, mean := base, base
				q.kind, q.q = "quantiles", o.l2met.q
				mean.kind, mean.name = "mean", base.name+".mean"
				defs = append(defs, q, mean)
			case "sample":
				base.kind, base.by, base.byProc = "last-mean", "source", true
				defs = append(defs, base)
			case "unique":
				base.kind = "distinct"
				defs = append(defs, base)
			}
			names = []string{}
			for _, d := range defs {
				if o.derived[d.name] != nil || slices.ContainsFunc(o.defs, func(s *oStat) bool { return s.def.name == d.name }) {
					o.overflow = append(o.overflow, e.clock)
					continue
				}
				o.derived[d.name] = &oStat{def: d}
				names = append(names, d.name)
			}
			o.byKey[p.key] = names
		}
		for _, n := range names {
			o.observe(o.derived[n], e)
		}
	}
}

// checker checks one stat's snapshot value.
type checker func(t *testing.T, name string, got stat.Value)

// in reports whether t falls in a complete bucket of [end−w, end).
func (o *oracle) in(t time.Time, w time.Duration) bool {
	b := t.Truncate(time.Second)
	return !b.Before(o.end.Add(-w)) && b.Before(o.end)
}

func (o *oracle) countIn(ts []time.Time, w time.Duration) int {
	n := 0
	for _, t := range ts {
		if o.in(t, w) {
			n++
		}
	}
	return n
}

func (o *oracle) expect(t *testing.T) map[string]checker {
	want := map[string]checker{}
	selfRate := func(ts []time.Time) checker {
		return wantNumber(float64(o.countIn(ts, 10*time.Second)) / 10)
	}
	var evTimes []time.Time
	for _, e := range o.events {
		evTimes = append(evTimes, e.t)
	}
	want["pulse.events"] = selfRate(evTimes)
	want["pulse.unparsed"] = selfRate(o.unparsed)
	want["pulse.skipped"] = selfRate(o.skipped)
	want["pulse.late"] = selfRate(nil) // the generator writes in event-time order
	want["pulse.rejected"] = selfRate(nil)
	want["pulse.overflow"] = selfRate(o.overflow)
	want["pulse.future"] = selfRate(nil) // nothing is more than the skew ahead
	for _, s := range o.defs {
		want[s.def.name] = o.expectDef(t, s)
	}
	for name, s := range o.derived {
		want[name] = o.expectDef(t, s)
	}
	return want
}

// expectDef computes a definition's exact value over its window.
func (o *oracle) expectDef(t *testing.T, s *oStat) checker {
	d := s.def
	perWindow := float64(d.window) / float64(d.per) // how many "per" in the window
	var obs []oObs
	for _, ob := range s.obs {
		if o.in(ob.t, d.window) {
			obs = append(obs, ob)
		}
	}
	var vals []float64
	for _, ob := range obs {
		vals = append(vals, ob.v)
	}
	switch d.kind {
	case "rate":
		return wantNumber(float64(o.countIn(s.hits, d.window)) / perWindow)
	case "sum":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return wantNumber(sum / perWindow)
	case "mean":
		if len(vals) == 0 {
			return wantNull()
		}
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return wantNumber(sum / float64(len(vals)))
	case "max":
		if len(vals) == 0 {
			return wantNull()
		}
		return wantNumber(slices.Max(vals))
	case "distinct":
		keys := map[string]bool{}
		for _, ob := range obs {
			keys[ob.key] = true
		}
		// Exact while the sketch is sparse and no two keys share a 25-bit
		// hash (Distinct's doc): a few dozen keys here.
		return wantNumber(float64(len(keys)))
	case "last-sum", "last-mean":
		type latest struct {
			t time.Time
			v float64
		}
		parts := map[string]latest{}
		for _, ob := range obs {
			p, ok := parts[ob.by]
			if !ok || ob.t.After(p.t) || ob.t.Equal(p.t) && ob.v > p.v {
				parts[ob.by] = latest{ob.t, ob.v}
			}
		}
		sum := 0.0
		for _, p := range parts {
			sum += p.v
		}
		if d.kind == "last-sum" {
			return wantNumber(sum)
		}
		if len(parts) == 0 {
			return wantNull()
		}
		return wantNumber(sum / float64(len(parts)))
	case "quantiles":
		return wantQuantiles(d.q, vals)
	case "topk":
		counts := map[string]int{}
		for _, ob := range obs {
			counts[ob.key]++
		}
		// Exact while the distinct keys fit TopK's capacity (100 by default).
		require.LessOrEqual(t, len(counts), max(10*d.k, stat.MinTopKCapacity), "%s: the keys fit the capacity", d.name)
		type kc struct {
			k string
			n int
		}
		var all []kc
		for k, n := range counts {
			all = append(all, kc{k, n})
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].n != all[j].n {
				return all[i].n > all[j].n
			}
			return all[i].k < all[j].k
		})
		top := []stat.TopValueEntry{}
		for _, e := range all[:min(d.k, len(all))] {
			top = append(top, stat.TopValueEntry{Key: e.k, Value: float64(e.n) / perWindow})
		}
		return func(t *testing.T, name string, got stat.Value) {
			bound, ok := got.TopBound()
			assert.True(t, ok, "%s: %s is a top-k list", name, got)
			assert.Zero(t, bound, "%s: the keys fit the capacity, so the snapshot says the counts are exact", name)
			gotTop := got.Top()
			require.Len(t, gotTop, len(top), "%s: %s", name, got)
			for i := range top {
				assert.Equal(t, top[i].Key, gotTop[i].Key, "%s[%d]", name, i)
				assert.InEpsilon(t, top[i].Value, gotTop[i].Value, 1e-12, "%s[%d]", name, i)
			}
		}
	}
	t.Fatalf("%s: the oracle has no rule for kind %q", d.name, d.kind)
	return nil
}

func wantNull() checker {
	return func(t *testing.T, name string, got stat.Value) {
		assert.True(t, got.IsNull(), "%s = %s, want null", name, got)
	}
}

// wantNumber checks a number to 1e-12 relative (rates are exact counts
// divided by the window's length in units of per).
func wantNumber(want float64) checker {
	return func(t *testing.T, name string, got stat.Value) {
		v, ok := got.Number()
		if !assert.True(t, ok, "%s = %s, want %v", name, got, want) {
			return
		}
		if want == 0 {
			assert.Zero(t, v, name)
			return
		}
		assert.InEpsilon(t, want, v, 1e-12, "%s", name)
	}
}

// wantQuantiles checks each answer against the values' empirical CDF F:
// the rank error, the distance from q to [F(x−), F(x)], is within the
// bound Quantiles states for that many values (stat.QuantilesRankBound:
// 0 up to 64 values); every answer lies in [min, max].
func wantQuantiles(qs []float64, vals []float64) checker {
	sorted := slices.Sorted(slices.Values(vals))
	return func(t *testing.T, name string, got stat.Value) {
		if len(sorted) == 0 {
			assert.True(t, got.IsNull(), "%s = %s, want null", name, got)
			return
		}
		gq := got.Quantiles()
		require.Len(t, gq, len(qs), "%s: %s", name, got)
		n := float64(len(sorted))
		bound := stat.QuantilesRankBound(uint64(len(sorted)))
		for i, q := range qs {
			assert.Equal(t, q, gq[i].Q, name)
			x := gq[i].Value
			below, _ := slices.BinarySearch(sorted, x) // values < x
			atOrBelow := sort.Search(len(sorted), func(j int) bool { return sorted[j] > x })
			lo, hi := float64(below)/n, float64(atOrBelow)/n
			rankErr := math.Max(0, math.Max(lo-q, q-hi))
			assert.LessOrEqual(t, rankErr, bound+1e-12, "%s q=%v: answer %v has ranks [%v, %v] over %d values",
				name, q, x, lo, hi, len(sorted))
			assert.GreaterOrEqual(t, x, sorted[0], name)
			assert.LessOrEqual(t, x, sorted[len(sorted)-1], name)
		}
	}
}
