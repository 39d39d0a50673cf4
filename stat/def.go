package stat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// DefKind is the kind of a definition: what it reports, which is not always
// the stat kind that holds it (a rate is held by a Count).
type DefKind string

// The definition kinds.
const (
	DefRate      DefKind = "rate"      // matching events per Per (a Count)
	DefSum       DefKind = "sum"       // sum of Of, per Per when given (a Sum)
	DefMean      DefKind = "mean"      // mean of Of (a Mean)
	DefMin       DefKind = "min"       // smallest Of (a Min)
	DefMax       DefKind = "max"       // largest Of (a Max)
	DefLast      DefKind = "last"      // latest Of by event time (a Last)
	DefLastSum   DefKind = "last-sum"  // sum over By partitions of their latest Of (a LastBy)
	DefLastMean  DefKind = "last-mean" // mean over By partitions of their latest Of (a LastBy)
	DefDistinct  DefKind = "distinct"  // distinct values of Of (a Distinct)
	DefQuantiles DefKind = "quantiles" // quantiles Q of Of (a Quantiles)
	DefTopK      DefKind = "topk"      // the K most frequent values of Of, per Per (a TopK)
	DefL2met     DefKind = "l2met"     // a stat for every l2met metric met (count#, measure#, sample#, unique#)
)

var defKinds = []DefKind{DefRate, DefSum, DefMean, DefMin, DefMax, DefLast, DefLastSum, DefLastMean, DefDistinct, DefQuantiles, DefTopK, DefL2met}

// numeric reports whether the kind observes Of as a number.
func (k DefKind) numeric() bool {
	switch k {
	case DefSum, DefMean, DefMin, DefMax, DefLast, DefLastSum, DefLastMean, DefQuantiles:
		return true
	}
	return false
}

// Limits of definitions.
const (
	// MaxDefNameLen is the longest definition name, the wire format's limit.
	MaxDefNameLen = 256
	// MaxTopK is the largest K of a topk definition.
	MaxTopK = 1000
	// DefaultL2metMetrics is the default cap of distinct metric names per
	// l2met definition.
	DefaultL2metMetrics = 1000
)

// ErrDefinition is wrapped by every error about a definition.
var ErrDefinition = errors.New("bad definition")

// Def is one stat definition: which events it matches, what it observes and
// how the snapshot reports it. Build one in code or read a file with
// ParseDefs, then call Validate (ParseDefs does) before use: it applies the
// defaults and prepares the lookups. A validated Def is read-only and safe
// for concurrent use.
type Def struct {
	Name   string        // unique; required
	Kind   DefKind       // required
	Of     string        // the field observed: a number for numeric kinds, bytes for distinct and topk
	By     string        // the partition key of last-sum and last-mean
	Before string        // read Of from free text: the number in the word just before this word
	Per    time.Duration // rate unit; 0 means the window
	Window time.Duration // span read at each snapshot; 0 means 10s when Per is 1s, else 1m
	Q      []float64     // quantiles in (0, 1); nil means 0.5, 0.95, 0.99
	K      int           // top-k size; 0 means 10
	Where  Where         // the filter; nil matches every event
	Prefix string        // l2met: the prefix of the stats' names; "" means Name
	Max    int           // l2met: cap on distinct metric names; 0 means DefaultL2metMetrics

	// Display keys, for the dashboard.
	Label, Group, Unit string
	Warn, Crit         *float64

	of, by      field
	byProc      bool // l2met sample#: partition by the header's proc when By is absent
	windowGiven bool // Window was given, not defaulted (l2met passes it on)
	perGiven    bool
	validated   bool
}

// Validate checks d, applies the defaults and prepares it for Match,
// Observe and Read. Errors wrap ErrDefinition. Once it has succeeded,
// further calls return nil: change a validated Def's fields only on a
// fresh copy of the unvalidated one.
func (d *Def) Validate() error {
	if d.validated {
		return nil
	}
	fail := func(format string, args ...any) error {
		name := d.Name
		if name == "" {
			name = "(unnamed)"
		}
		return fmt.Errorf("%s: %s: %w", name, fmt.Sprintf(format, args...), ErrDefinition)
	}
	switch {
	case d.Name == "":
		return fail("name is required")
	case len(d.Name) > MaxDefNameLen:
		return fail("name is %d bytes, longer than %d", len(d.Name), MaxDefNameLen)
	case d.Kind == "":
		return fail("kind is required")
	case !slices.Contains(defKinds, d.Kind):
		return fail("unknown kind %q (want one of %s)", d.Kind, joinKinds())
	case d.Per < 0 || d.Window < 0:
		return fail("per and window must be positive")
	case d.Window%time.Second != 0 || d.Per%time.Second != 0:
		return fail("per and window must be whole numbers of seconds")
	case d.K < 0 || d.K > MaxTopK:
		return fail("k=%d out of range 1..%d", d.K, MaxTopK)
	case d.Max < 0:
		return fail("max=%d must be positive", d.Max)
	}
	needOf := d.Kind != DefRate && d.Kind != DefL2met
	if needOf && d.Of == "" && d.Before == "" {
		return fail("kind %s needs of=", d.Kind)
	}
	if !needOf && (d.Of != "" || d.Before != "") {
		return fail("kind %s takes no of=", d.Kind)
	}
	if (d.Kind == DefLastSum || d.Kind == DefLastMean) != (d.By != "") {
		if d.By == "" {
			return fail("kind %s needs by=", d.Kind)
		}
		return fail("by= goes with last-sum and last-mean only")
	}
	if d.Before != "" && !d.Kind.numeric() {
		return fail("before= goes with numeric kinds only")
	}
	if d.K != 0 && d.Kind != DefTopK {
		return fail("k= goes with topk only")
	}
	if d.Q != nil && d.Kind != DefQuantiles && d.Kind != DefL2met {
		return fail("q= goes with quantiles and l2met only")
	}
	for _, q := range d.Q {
		if !(q > 0 && q < 1) {
			return fail("quantile %v out of range (0, 1)", q)
		}
	}
	if (d.Prefix != "" || d.Max != 0) && d.Kind != DefL2met {
		return fail("prefix= and max= go with l2met only")
	}
	if d.Per != 0 && d.Kind != DefRate && d.Kind != DefSum && d.Kind != DefTopK {
		return fail("per= goes with rate, sum and topk only")
	}
	if d.Warn != nil && math.IsNaN(*d.Warn) || d.Crit != nil && math.IsNaN(*d.Crit) {
		return fail("warn and crit must be numbers")
	}
	for i := range d.Where {
		if err := d.Where[i].validate(); err != nil {
			return fail("where: %v", err)
		}
	}
	// A copy with every term prepared: a Where built in code has no
	// lookups yet, and the caller's slice is left alone.
	d.Where = slices.Clone(d.Where)
	for i := range d.Where {
		d.Where[i].prepare()
	}
	d.perGiven, d.windowGiven = d.Per != 0, d.Window != 0
	if d.Window == 0 {
		d.Window = time.Minute
		if d.Per == time.Second {
			d.Window = 10 * time.Second
		}
	}
	if d.Per == 0 {
		d.Per = d.Window
	}
	if d.Kind == DefQuantiles && d.Q == nil || d.Kind == DefL2met && d.Q == nil {
		d.Q = []float64{0.5, 0.95, 0.99}
	}
	if d.Kind == DefQuantiles || d.Kind == DefL2met {
		d.Q = slices.Clone(d.Q)
		slices.Sort(d.Q)
		d.Q = slices.Compact(d.Q)
	}
	if d.Kind == DefTopK && d.K == 0 {
		d.K = 10
	}
	if d.Kind == DefL2met {
		if d.Prefix == "" {
			d.Prefix = d.Name
		}
		if d.Max == 0 {
			d.Max = DefaultL2metMetrics
		}
	}
	d.of, d.by = fieldFor(d.Of), fieldFor(d.By)
	d.validated = true
	return nil
}

func joinKinds() string {
	s := make([]string, len(defKinds))
	for i, k := range defKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// StatKind returns the kind of stat that holds the definition's data.
func (d *Def) StatKind() Kind {
	switch d.Kind {
	case DefRate:
		return KindCount
	case DefSum:
		return KindSum
	case DefMean:
		return KindMean
	case DefMin:
		return KindMin
	case DefMax:
		return KindMax
	case DefLast:
		return KindLast
	case DefLastSum, DefLastMean:
		return KindLastBy
	case DefDistinct:
		return KindDistinct
	case DefQuantiles:
		return KindQuantiles
	case DefTopK:
		return KindTopK
	}
	return KindInvalid
}

// NewStat returns an empty stat for the definition, with its parameters.
// It returns nil for an l2met definition, which holds no stat itself.
func (d *Def) NewStat() Stat {
	if d.Kind == DefTopK {
		t, err := NewTopK(TopKConfig{K: d.K})
		if err == nil {
			return t
		}
	}
	s, err := New(d.StatKind())
	if err != nil {
		return nil
	}
	return s
}

// Match reports whether ev passes the definition's where filter.
func (d *Def) Match(ev *logfmt.Event) bool { return d.Where.Match(ev) }

// Observe folds ev into s, a stat made by NewStat, and reports whether it
// did: false when the event lacks the Of value, or it is not a number for a
// numeric kind (the caller counts those as skipped). It does not check the
// where filter.
func (d *Def) Observe(s Stat, ev *logfmt.Event) bool {
	if d.Kind == DefRate {
		s.(*Count).Observe()
		return true
	}
	if !d.Kind.numeric() {
		v, ok := d.of.lookup(ev)
		if !ok || len(v) == 0 {
			return false
		}
		switch s := s.(type) {
		case *Distinct:
			s.ObserveKey(v)
		case *TopK:
			s.ObserveKey(v)
		}
		return true
	}
	v, ok := d.number(ev)
	if !ok {
		return false
	}
	switch s := s.(type) {
	case *Sum:
		s.Observe(v)
	case *Mean:
		s.Observe(v)
	case *Min:
		s.Observe(v)
	case *Max:
		s.Observe(v)
	case *Quantiles:
		s.Observe(v)
	case *Last:
		s.ObserveAt(ev.Time, v)
	case *LastBy:
		key, ok := d.by.lookup(ev)
		if (!ok || len(key) == 0) && d.byProc {
			key, ok = ev.Header("proc")
		}
		if !ok || len(key) == 0 {
			return false
		}
		s.ObserveAt(key, ev.Time, v)
	}
	return true
}

// number reads the definition's numeric value from ev.
func (d *Def) number(ev *logfmt.Event) (float64, bool) {
	if d.Before != "" {
		return numberBefore(ev, d.Before)
	}
	v, ok := d.of.lookup(ev)
	if !ok {
		return 0, false
	}
	return logfmt.ParseNumber(v)
}

// numberBefore returns the number in the free-text word just before the
// word w ("213 messages dropped" with w = "messages" gives 213).
func numberBefore(ev *logfmt.Event, w string) (float64, bool) {
	var prev []byte
	for p := range ev.Pairs() {
		if p.Flag && string(p.Key) == w {
			if prev == nil {
				return 0, false
			}
			return logfmt.ParseNumber(prev)
		}
		prev = nil
		if p.Flag {
			prev = p.Key
		}
	}
	return 0, false
}

// Read turns a stat merged over a window of the given span into the value
// the snapshot reports: rates divided by span ÷ Per, quantiles at Q, the
// top K. An empty stat reads as 0 for rate, sum, distinct and last-sum,
// [] for topk, and null for the rest.
func (d *Def) Read(s Stat, span time.Duration) Value {
	switch s := s.(type) {
	case *Count:
		return Number(s.Rate(span, d.Per))
	case *Sum:
		return Number(s.Rate(span, d.Per))
	case *Mean:
		return valueOK(s.Mean())
	case *Min:
		return valueOK(s.Min())
	case *Max:
		return valueOK(s.Max())
	case *Last:
		_, v, ok := s.Last()
		return valueOK(v, ok)
	case *LastBy:
		if d.Kind == DefLastMean {
			return valueOK(s.Mean(time.Time{}))
		}
		return Number(s.Sum(time.Time{}))
	case *Distinct:
		return Number(float64(s.Estimate()))
	case *Quantiles:
		if s.Count() == 0 {
			return Null()
		}
		qs := make([]Quantile, len(d.Q))
		for i, q := range d.Q {
			v, _ := s.Quantile(q)
			qs[i] = Quantile{Q: q, Value: v}
		}
		return QuantilesValue(qs)
	case *TopK:
		var top []TopValueEntry
		for k, n := range s.Top() {
			top = append(top, TopValueEntry{Key: string(k), Value: rate(float64(n), span, d.Per)})
		}
		return TopValue(top)
	}
	return Null()
}

func valueOK(v float64, ok bool) Value {
	if !ok {
		return Null()
	}
	return Number(v)
}

// L2met returns the definitions an l2met definition derives for one metric
// key (count#name, measure#name, sample#name or unique#name), and false for
// any other key: count# is a sum per second, measure# quantiles (at Q) and a
// mean (named ".mean"), sample# a last-mean by source, unique# a distinct
// count. They are named Prefix + "." + name and validated. A sample# line
// with no source field is partitioned by its header's proc (the dyno).
func (d *Def) L2met(key []byte) ([]Def, bool) {
	typ, name, ok := bytes.Cut(key, []byte("#"))
	if !ok || len(name) == 0 || d.Kind != DefL2met {
		return nil, false
	}
	base := Def{Name: d.Prefix + "." + string(name), Of: string(key), Group: d.Group, Unit: d.Unit}
	if d.windowGiven {
		base.Window = d.Window
	}
	var defs []Def
	switch string(typ) {
	case "count":
		base.Kind, base.Per = DefSum, time.Second
		defs = append(defs, base)
	case "measure":
		q, m := base, base
		q.Kind, q.Q = DefQuantiles, d.Q
		m.Kind, m.Name = DefMean, base.Name+".mean"
		defs = append(defs, q, m)
	case "sample":
		// l2met's source names the instance; lines without one (an app's
		// own sample#) are partitioned by the dyno that logged them.
		base.Kind, base.By, base.byProc = DefLastMean, "source", true
		defs = append(defs, base)
	case "unique":
		base.Kind = DefDistinct
		defs = append(defs, base)
	default:
		return nil, false
	}
	for i := range defs {
		if len(defs[i].Name) > MaxDefNameLen {
			return nil, false
		}
		if err := defs[i].Validate(); err != nil {
			return nil, false
		}
	}
	return defs, true
}

// String returns the definition as one line of a definitions file.
func (d *Def) String() string {
	var b strings.Builder
	put := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(v))
	}
	put("name", d.Name)
	put("kind", string(d.Kind))
	put("of", d.Of)
	put("by", d.By)
	put("before", d.Before)
	if d.perGiven || !d.validated && d.Per != 0 {
		put("per", fmtDuration(d.Per))
	}
	if d.windowGiven || !d.validated && d.Window != 0 {
		put("window", fmtDuration(d.Window))
	}
	if d.Q != nil {
		qs := make([]string, len(d.Q))
		for i, q := range d.Q {
			qs[i] = strconv.FormatFloat(q, 'f', -1, 64)
		}
		put("q", strings.Join(qs, ","))
	}
	if d.K != 0 {
		put("k", strconv.Itoa(d.K))
	}
	put("where", d.Where.String())
	if d.Kind == DefL2met {
		if d.Prefix != d.Name {
			put("prefix", d.Prefix)
		}
		if d.Max != DefaultL2metMetrics && d.Max != 0 {
			put("max", strconv.Itoa(d.Max))
		}
	}
	put("label", d.Label)
	put("group", d.Group)
	put("unit", d.Unit)
	if d.Warn != nil {
		put("warn", formatNum(*d.Warn))
	}
	if d.Crit != nil {
		put("crit", formatNum(*d.Crit))
	}
	return b.String()
}

func fmtDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return d.String()
	}
	return s
}

// ParseDefs reads a definitions file: one definition per line, written in
// logfmt; '#' starts a comment; blank lines are skipped. name is the file's
// name, for errors. Every definition is validated and names must be unique.
// The first bad line rejects the whole file with an error naming the file,
// the line and what is wrong, wrapping ErrDefinition.
func ParseDefs(r io.Reader, name string) ([]Def, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var defs []Def
	seen := map[string]int{}
	var ev logfmt.Event
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		fail := func(err error) error { return fmt.Errorf("%s:%d: %w", name, line, err) }
		logfmt.ParseBody(text, &ev)
		d, err := defFromPairs(&ev)
		if err == nil {
			err = d.Validate()
		}
		if err != nil {
			return nil, fail(err)
		}
		if prev, dup := seen[d.Name]; dup {
			return nil, fail(fmt.Errorf("%s: duplicate name (first on line %d): %w", d.Name, prev, ErrDefinition))
		}
		seen[d.Name] = line
		defs = append(defs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return defs, nil
}

// MustParseDefs is ParseDefs on a string that the program itself holds,
// such as an embedded default set. It panics on error.
func MustParseDefs(s, name string) []Def {
	defs, err := ParseDefs(strings.NewReader(s), name)
	if err != nil {
		panic(err)
	}
	return defs
}

// defFromPairs builds an unvalidated Def from one parsed line.
func defFromPairs(ev *logfmt.Event) (Def, error) {
	var d Def
	seen := map[string]bool{}
	nameOf := func() string {
		if d.Name != "" {
			return d.Name
		}
		if v, ok := ev.Lookup("name"); ok {
			return string(v)
		}
		return "(unnamed)"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", nameOf(), fmt.Sprintf(format, args...), ErrDefinition)
	}
	for p := range ev.Pairs() {
		k, v := string(p.Key), string(p.Value)
		if p.Flag {
			return d, fail("%q has no value (want key=value)", k)
		}
		if seen[k] {
			return d, fail("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "name":
			d.Name = v
		case "kind":
			d.Kind = DefKind(v)
		case "of":
			d.Of = v
		case "by":
			d.By = v
		case "before":
			d.Before = v
		case "per":
			d.Per, err = parseDuration(v)
		case "window":
			d.Window, err = parseDuration(v)
		case "q":
			for _, s := range strings.Split(v, ",") {
				q, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if perr != nil {
					err = fmt.Errorf("%q is not a number", s)
					break
				}
				d.Q = append(d.Q, q)
			}
		case "k":
			d.K, err = parsePositiveInt(v)
		case "max":
			d.Max, err = parsePositiveInt(v)
		case "where":
			d.Where, err = ParseWhere(v)
		case "prefix":
			d.Prefix = v
		case "label":
			d.Label = v
		case "group":
			d.Group = v
		case "unit":
			d.Unit = v
		case "warn", "crit":
			f, perr := strconv.ParseFloat(v, 64)
			if perr != nil || math.IsNaN(f) {
				err = fmt.Errorf("%q is not a number", v)
				break
			}
			if k == "warn" {
				d.Warn = &f
			} else {
				d.Crit = &f
			}
		default:
			return d, fail("unknown key %q", k)
		}
		if err != nil {
			return d, fail("%s: %v", k, err)
		}
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 1s, 10s, 1m)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}
