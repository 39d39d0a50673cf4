package def

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
)

// Compiled is a definition checked, with its defaults applied and its
// lookups prepared: the form that folds events. Make one with [Compile] or
// [CompileSet]. A Compiled never changes, and is safe for concurrent use;
// the stats it observes into are not (see package stat).
//
// Most programs hand Defs to window.NewDefSet and never hold a Compiled.
// Its methods NewStat, Observe and Read, and DeriveL2met and L2metKey, are
// the hooks package window folds and reads through.
type Compiled struct {
	def         Def    // as written, with the defaults applied
	where       []term // def.Where, prepared
	of          field
	by          []field
	windowGiven bool // Window was written, not defaulted (l2met passes it on)
}

// Compile checks d, applies its defaults and prepares it. Errors wrap
// ErrDefinition and begin with the definition's name.
func Compile(d Def) (*Compiled, error) {
	c, err := compile(d)
	if err != nil {
		return nil, fmt.Errorf("def: %w", err)
	}
	return c, nil
}

// compile is Compile without the package prefix on errors, for Parse,
// which prefixes the file and line.
func compile(d Def) (*Compiled, error) {
	if err := check(&d); err != nil {
		name := d.Name
		if name == "" || checkText("", name) != nil || len(name) > MaxNameLen {
			name = "(unnamed)"
			if d.Name != "" {
				name = fmt.Sprintf("%.40q", d.Name)
			}
		}
		return nil, fmt.Errorf("%s: %w: %w", name, err, ErrDefinition)
	}
	c := &Compiled{windowGiven: d.Window != 0}
	d.Q = slices.Clone(d.Q)
	d.Where = slices.Clone(d.Where)
	if d.Window == 0 {
		d.Window = time.Minute
		if d.Per == time.Second {
			d.Window = 10 * time.Second
		}
	}
	if d.Per == 0 && (d.Kind == KindRate || d.Kind == KindSum || d.Kind == KindTopK) {
		d.Per = d.Window
	}
	if d.Kind == KindQuantiles || d.Kind == KindL2met {
		if d.Q == nil {
			d.Q = []float64{0.5, 0.95, 0.99}
		}
		slices.Sort(d.Q)
		d.Q = slices.Compact(d.Q)
	}
	if d.Kind == KindTopK && d.K == 0 {
		d.K = 10
	}
	if d.Kind == KindL2met {
		if d.Prefix == "" {
			d.Prefix = d.Name
		}
		if d.MaxMetrics == 0 {
			d.MaxMetrics = DefaultL2metMetrics
		}
	}
	c.def = d
	c.where = make([]term, len(d.Where))
	for i, t := range d.Where {
		c.where[i] = compileTerm(t)
	}
	c.of = fieldFor(d.Of)
	if d.By != "" {
		for _, k := range strings.Split(d.By, ",") {
			c.by = append(c.by, fieldFor(k))
		}
	}
	return c, nil
}

// check reports what is wrong with one definition.
func check(d *Def) error {
	switch {
	case d.Name == "":
		return fmt.Errorf("name is required")
	case len(d.Name) > MaxNameLen:
		return fmt.Errorf("name is %d bytes, longer than %d", len(d.Name), MaxNameLen)
	case d.Kind == "":
		return fmt.Errorf("kind is required")
	case !d.Kind.Valid():
		return fmt.Errorf("unknown kind %q (want one of %s)", d.Kind, joinKinds())
	case d.Per < 0 || d.Window < 0:
		return fmt.Errorf("per and window must be positive")
	case d.Window%time.Second != 0 || d.Per%time.Second != 0:
		return fmt.Errorf("per and window must be whole numbers of seconds")
	case d.Window > MaxWindow:
		return fmt.Errorf("window=%s is longer than the limit of %s", formatDuration(d.Window), formatDuration(MaxWindow))
	case d.K < 0 || d.K > MaxTopK:
		return fmt.Errorf("k=%d out of range 1..%d", d.K, MaxTopK)
	case d.MaxMetrics < 0:
		return fmt.Errorf("max-metrics=%d must be positive", d.MaxMetrics)
	}
	for _, s := range []struct{ what, v string }{{"name", d.Name}, {"of", d.Of}, {"by", d.By}, {"before", d.Before},
		{"prefix", d.Prefix}, {"label", d.Label}, {"group", d.Group}, {"unit", d.Unit}} {
		if err := checkText(s.what, s.v); err != nil {
			return err
		}
	}
	needOf := d.Kind != KindRate && d.Kind != KindL2met
	if needOf && d.Of == "" && d.Before == "" {
		return fmt.Errorf("kind %s needs of=", d.Kind)
	}
	if !needOf && (d.Of != "" || d.Before != "") {
		return fmt.Errorf("kind %s takes no of=", d.Kind)
	}
	if d.Of != "" && d.Before != "" {
		return fmt.Errorf("of= and before= are two ways to say what is observed: give one")
	}
	if (d.Kind == KindLastSum || d.Kind == KindLastMean) != (d.By != "") {
		if d.By == "" {
			return fmt.Errorf("kind %s needs by=", d.Kind)
		}
		return fmt.Errorf("by= goes with last-sum and last-mean only")
	}
	for _, k := range strings.Split(d.By, ",") {
		if d.By != "" && (k == "" || strings.ContainsAny(k, " \t")) {
			return fmt.Errorf("by=%q: want keys separated by commas", d.By)
		}
	}
	if d.Before != "" && !d.Kind.numeric() {
		return fmt.Errorf("before= goes with numeric kinds only")
	}
	if d.K != 0 && d.Kind != KindTopK {
		return fmt.Errorf("k= goes with topk only")
	}
	if d.Q != nil && d.Kind != KindQuantiles && d.Kind != KindL2met {
		return fmt.Errorf("q= goes with quantiles and l2met only")
	}
	for _, q := range d.Q {
		if !(q > 0 && q < 1) {
			return fmt.Errorf("quantile %v out of range (0, 1)", q)
		}
	}
	if (d.Prefix != "" || d.MaxMetrics != 0) && d.Kind != KindL2met {
		return fmt.Errorf("prefix= and max-metrics= go with l2met only")
	}
	if d.Kind == KindL2met && len(d.Prefix) > MaxNameLen-2 {
		return fmt.Errorf("prefix is %d bytes: derived names would be longer than %d", len(d.Prefix), MaxNameLen)
	}
	if d.Per != 0 && d.Kind != KindRate && d.Kind != KindSum && d.Kind != KindTopK {
		return fmt.Errorf("per= goes with rate, sum and topk only")
	}
	for _, f := range []*float64{d.Warn, d.Crit} {
		if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return fmt.Errorf("warn and crit must be finite numbers")
		}
	}
	for _, t := range d.Where {
		if err := t.validate(); err != nil {
			return fmt.Errorf("where: %w", err)
		}
	}
	return nil
}

func joinKinds() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Def returns the definition with its defaults applied (Window; Per for
// rate, sum and topk; Q, K, Prefix and MaxMetrics for the kinds that take
// them). Its slices are copies.
func (c *Compiled) Def() Def {
	d := c.def
	d.Q = slices.Clone(d.Q)
	d.Where = slices.Clone(d.Where)
	return d
}

// Name returns the definition's name.
func (c *Compiled) Name() string { return c.def.Name }

// Kind returns the definition's kind.
func (c *Compiled) Kind() Kind { return c.def.Kind }

// Window returns the span the definition reads at each snapshot.
func (c *Compiled) Window() time.Duration { return c.def.Window }

// String returns the definition with its defaults, as a line of a
// definitions file.
func (c *Compiled) String() string { return c.def.String() }

// LongestWindow returns the longest Window of defs once their defaults
// are applied (a rate per second reads 10 s, most others 1 m), or 0 for
// none. Definitions that do not compile are left out. A live merger reads
// its stream back over it after a restart, and the bus keeps that much.
func LongestWindow(defs []Def) time.Duration {
	var longest time.Duration
	for _, d := range defs {
		if c, err := Compile(d); err == nil {
			longest = max(longest, c.Window())
		}
	}
	return longest
}

// Match reports whether ev passes the definition's where filter.
func (c *Compiled) Match(ev *logfmt.Event) bool {
	for i := range c.where {
		if !c.where[i].match(ev) {
			return false
		}
	}
	return true
}

// NewStat returns an empty stat of the kind that holds the definition's
// data ([Kind.StatKind]), with its parameters (a topk's K). It returns nil
// for an l2met definition, which holds no stat itself. For package window.
func (c *Compiled) NewStat() stat.Stat {
	if c.def.Kind == KindTopK {
		if t, err := stat.NewTopK(stat.TopKConfig{K: c.def.K}); err == nil {
			return t
		}
		return nil
	}
	s, err := stat.New(c.def.Kind.StatKind())
	if err != nil {
		return nil
	}
	return s
}

// Outcome is what Observe did with an event: observed it, or skipped it
// for a reason. Package window counts every skip in its pulse.skipped
// self-stat.
type Outcome uint8

// The outcomes of Observe.
const (
	Observed         Outcome = iota // the stat took the event
	SkippedMissing                  // the event lacks the value (Of, the word before Before) or its partition (By), or it is empty
	SkippedNotNumber                // a numeric kind's value is not a number with a unit
	SkippedOverflow                 // the number overflows to ±Inf once its unit is applied (service=1e308s)
)

var outcomeNames = [...]string{"observed", "skipped: missing", "skipped: not a number", "skipped: overflow"}

// String returns the outcome's name, such as "skipped: not a number".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Observe folds ev into s, a stat made by NewStat, and reports the
// outcome. It does not check the where filter (see Match and Matcher). It
// does not allocate, but for what the stat itself keeps (a new distinct
// key, a top-k key, a partition). For package window.
func (c *Compiled) Observe(s stat.Stat, ev *logfmt.Event) Outcome {
	switch c.def.Kind {
	case KindRate:
		if n, ok := s.(*stat.Count); ok {
			n.Observe()
		}
		return Observed
	case KindDistinct, KindTopK:
		v, ok := c.of.lookup(ev)
		if !ok || len(v) == 0 {
			return SkippedMissing
		}
		switch s := s.(type) {
		case *stat.Distinct:
			s.ObserveKey(v)
		case *stat.TopK:
			s.ObserveKey(v)
		}
		return Observed
	}
	v, out := c.number(ev)
	if out != Observed {
		return out
	}
	switch s := s.(type) {
	case *stat.Sum:
		s.Observe(v)
	case *stat.Mean:
		s.Observe(v)
	case *stat.Min:
		s.Observe(v)
	case *stat.Max:
		s.Observe(v)
	case *stat.Quantiles:
		s.Observe(v)
	case *stat.Last:
		s.ObserveAt(ev.Time, v)
	case *stat.LastBy:
		key, ok := c.partition(ev)
		if !ok {
			return SkippedMissing
		}
		s.ObserveAt(key, ev.Time, v)
	}
	return Observed
}

// partition returns the value of the first By key present and non-empty.
func (c *Compiled) partition(ev *logfmt.Event) ([]byte, bool) {
	for i := range c.by {
		if v, ok := c.by[i].lookup(ev); ok && len(v) > 0 {
			return v, true
		}
	}
	return nil, false
}

// number reads the definition's numeric value from ev.
func (c *Compiled) number(ev *logfmt.Event) (float64, Outcome) {
	var raw []byte
	var ok bool
	if c.def.Before != "" {
		raw, ok = wordBefore(ev, c.def.Before)
	} else {
		raw, ok = c.of.lookup(ev)
	}
	if !ok || len(raw) == 0 {
		return 0, SkippedMissing
	}
	v, ok := logfmt.ParseNumber(raw)
	switch {
	case !ok:
		return 0, SkippedNotNumber
	case math.IsInf(v, 0) || math.IsNaN(v):
		return 0, SkippedOverflow
	}
	return v, Observed
}

// wordBefore returns the free-text word just before the word w ("213" in
// "213 messages dropped" for w = "messages").
func wordBefore(ev *logfmt.Event, w string) ([]byte, bool) {
	var prev []byte
	for p := range ev.Pairs() {
		if p.Flag && string(p.Key) == w {
			return prev, prev != nil
		}
		prev = nil
		if p.Flag {
			prev = p.Key
		}
	}
	return nil, false
}

// Read turns a stat that holds the definition's data merged over a window
// of the given span into the value a snapshot reports: a rate or sum per
// Per (v ÷ (span ÷ Per)), quantiles at Q, the top K with their rates per
// Per. An empty stat reads as 0 for rate, sum, distinct and last-sum, []
// for topk, and null for the rest.
//
// Quantiles are read by stat.QuantilesValueOf, so the value carries the
// count and each answer's range for Agree. A top-k value carries the
// TopK's MaxError read as a rate per Per like its entries
// (stat.Value.TopBound): 0 while the keys fit the TopK's capacity, when
// the counts are exact, and otherwise the most any rate shown is over its
// key's true rate, at most N ÷ capacity.
//
// Rates are computed as v × Per ÷ span when v × Per is finite (one
// rounding for a count), else as v ÷ span × Per, so a finite v never
// reads as null; a rate beyond the largest float64 (only for sums near
// it, read per a unit longer than the span) saturates at
// ±math.MaxFloat64. For package window.
func (c *Compiled) Read(s stat.Stat, span time.Duration) stat.Value {
	per := c.def.Per
	switch s := s.(type) {
	case *stat.Count:
		return stat.Number(rate(float64(s.Count()), span, per))
	case *stat.Sum:
		return stat.Number(rate(s.Sum(), span, per))
	case *stat.Mean:
		return valueOK(s.Mean())
	case *stat.Min:
		return valueOK(s.Min())
	case *stat.Max:
		return valueOK(s.Max())
	case *stat.Last:
		_, v, ok := s.Last()
		return valueOK(v, ok)
	case *stat.LastBy:
		if c.def.Kind == KindLastMean {
			return valueOK(s.Mean(time.Time{}))
		}
		return stat.Number(s.Sum(time.Time{}))
	case *stat.Distinct:
		return stat.Number(float64(s.Estimate()))
	case *stat.Quantiles:
		return stat.QuantilesValueOf(s, c.def.Q)
	case *stat.TopK:
		var top []stat.TopValueEntry
		for k, n := range s.Top() {
			top = append(top, stat.TopValueEntry{Key: string(k), Value: rate(float64(n), span, per)})
		}
		return stat.TopValueBound(top, rate(float64(s.MaxError()), span, per))
	}
	return stat.Null()
}

// rate returns v ÷ (span ÷ per), or 0 when either duration is not
// positive, without overflowing for a finite v (see Read).
func rate(v float64, span, per time.Duration) float64 {
	if span <= 0 || per <= 0 {
		return 0
	}
	if x := v * float64(per); !math.IsInf(x, 0) || math.IsInf(v, 0) {
		return x / float64(span)
	}
	x := v / float64(span) * float64(per)
	if math.IsInf(x, 0) {
		return math.Copysign(math.MaxFloat64, v)
	}
	return x
}

func valueOK(v float64, ok bool) stat.Value {
	if !ok {
		return stat.Null()
	}
	return stat.Number(v)
}
