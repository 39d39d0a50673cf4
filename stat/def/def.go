package def

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Kind is what a definition reports. It is not always the kind of stat
// that holds it: a rate is held by a [stat.Count] (see [Kind.StatKind]).
type Kind string

// The definition kinds, as a definitions file names them.
const (
	KindRate      Kind = "rate"      // matching events per Per (held by a Count)
	KindSum       Kind = "sum"       // sum of Of, per Per when given (a Sum)
	KindMean      Kind = "mean"      // mean of Of (a Mean)
	KindMin       Kind = "min"       // smallest Of (a Min)
	KindMax       Kind = "max"       // largest Of (a Max)
	KindLast      Kind = "last"      // latest Of by event time (a Last)
	KindLastSum   Kind = "last-sum"  // sum over By partitions of their latest Of (a LastBy)
	KindLastMean  Kind = "last-mean" // mean over By partitions of their latest Of (a LastBy)
	KindDistinct  Kind = "distinct"  // distinct values of Of (a Distinct)
	KindQuantiles Kind = "quantiles" // quantiles Q of Of (a Quantiles)
	KindTopK      Kind = "topk"      // the K most frequent values of Of, per Per (a TopK)
	KindL2met     Kind = "l2met"     // a stat for every l2met metric met (count#, measure#, sample#, unique#)
)

var kinds = []Kind{KindRate, KindSum, KindMean, KindMin, KindMax, KindLast, KindLastSum, KindLastMean,
	KindDistinct, KindQuantiles, KindTopK, KindL2met}

// Kinds returns every definition kind, in the order of the list above.
func Kinds() []Kind { return slices.Clone(kinds) }

// Valid reports whether k is one of the definition kinds.
func (k Kind) Valid() bool { return slices.Contains(kinds, k) }

// StatKind returns the kind of stat that holds a definition of kind k, or
// stat.KindInvalid for l2met (which holds no stat itself: it derives
// definitions) and for a kind that is not valid.
func (k Kind) StatKind() stat.Kind {
	switch k {
	case KindRate:
		return stat.KindCount
	case KindSum:
		return stat.KindSum
	case KindMean:
		return stat.KindMean
	case KindMin:
		return stat.KindMin
	case KindMax:
		return stat.KindMax
	case KindLast:
		return stat.KindLast
	case KindLastSum, KindLastMean:
		return stat.KindLastBy
	case KindDistinct:
		return stat.KindDistinct
	case KindQuantiles:
		return stat.KindQuantiles
	case KindTopK:
		return stat.KindTopK
	}
	return stat.KindInvalid
}

// numeric reports whether the kind observes Of as a number.
func (k Kind) numeric() bool {
	switch k {
	case KindSum, KindMean, KindMin, KindMax, KindLast, KindLastSum, KindLastMean, KindQuantiles:
		return true
	}
	return false
}

// Limits of a definition.
const (
	// MaxNameLen is the longest definition name in bytes, the fragment wire
	// format's limit. It holds for the names an l2met definition derives
	// too: a longer metric name is counted as an overflow, not kept.
	MaxNameLen = 256
	// MaxTopK is the largest K of a topk definition.
	MaxTopK = 1000
	// DefaultL2metMetrics is the cap on distinct metric names of an l2met
	// definition whose MaxMetrics is 0.
	DefaultL2metMetrics = 1000
	// MaxWindow is the longest Window. A window keeps a bucket per second
	// of its span (plus the lateness and skew of package window), so this
	// bounds a window's ring at about 43 500 slots at window's defaults,
	// under its limit of 65 536.
	MaxWindow = 12 * time.Hour
	// ReservedPrefix begins the names of the self-stats that package window
	// adds to every set (pulse.events, pulse.skipped, ...). A set's
	// definitions may not use it, nor an l2met Prefix that would derive
	// such names.
	ReservedPrefix = "pulse."
)

// ErrDefinition is wrapped by every error about a definition, a where
// filter or a definitions file; match it with errors.Is.
var ErrDefinition = errors.New("bad definition")

// Def is one stat definition, as a user writes it in a definitions file or
// in code: which events it takes, what it observes, and how a snapshot
// reports it. Zero fields mean defaults, applied by [Compile]; Def itself
// holds nothing but what was written, so it can be copied, compared and
// printed ([Def.String]) freely.
//
// String fields must be valid UTF-8 without control characters.
type Def struct {
	// Name names the stat; required, unique in a set, at most MaxNameLen
	// bytes, and not beginning with ReservedPrefix.
	Name string
	// Kind says what the definition reports; required.
	Kind Kind
	// Of is the field observed: a number (with units, read as
	// logfmt.ParseNumber reads it) for the numeric kinds, any bytes for
	// distinct and topk. Required for every kind but rate and l2met, unless
	// Before is given. Keys are looked up as where filters look them up.
	Of string
	// By is the partition key of last-sum and last-mean (required there,
	// refused elsewhere): one key, or several separated by commas, of which
	// the first present with a non-empty value names the partition
	// ("addon,source": the addon, else the source). An event with none of
	// them is skipped.
	By string
	// Before reads the number from free text instead of Of: the number in
	// the word just before this word ("213 messages dropped" with
	// Before "messages" reads 213). Numeric kinds only.
	Before string
	// Per is the rate unit of rate, sum and topk, in whole seconds; 0 means
	// the window.
	Per time.Duration
	// Window is the span read at each snapshot, in whole seconds up to
	// MaxWindow; 0 means 10 s when Per is 1 s, else 1 min.
	Window time.Duration
	// Q are the quantiles of quantiles and l2met (measure#), each in
	// (0, 1); nil means 0.5, 0.95, 0.99.
	Q []float64
	// K is the size of a topk list, 1 to MaxTopK; 0 means 10.
	K int
	// Where is the filter; nil matches every event.
	Where Where
	// Prefix begins the names of the stats an l2met definition derives
	// (Prefix + "." + metric); "" means Name.
	Prefix string
	// MaxMetrics caps the distinct metric names an l2met definition makes
	// stats for; further ones are counted as overflow. 0 means
	// DefaultL2metMetrics. It counts against a set's Budget at two stats a
	// metric.
	MaxMetrics int

	// Label, Group and Unit are for display (the dashboard).
	Label, Group, Unit string
	// Warn and Crit are display thresholds; nil means none. They must be
	// finite.
	Warn, Crit *float64
}

// Validate reports what is wrong with d, as one definition: the error
// Compile would return, wrapping ErrDefinition. Rules about a set of
// definitions (unique names, ReservedPrefix, the Budget) are checked by
// Parse and CompileSet.
func (d Def) Validate() error {
	_, err := Compile(d)
	return err
}

// String returns d as one line of a definitions file, with the fields
// that are set (non-zero) only. Parse reads the line back to an equal Def.
func (d Def) String() string {
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
	if d.Per != 0 {
		put("per", formatDuration(d.Per))
	}
	if d.Window != 0 {
		put("window", formatDuration(d.Window))
	}
	if d.Q != nil {
		qs := make([]string, len(d.Q))
		for i, q := range d.Q {
			qs[i] = strconv.FormatFloat(q, 'g', -1, 64)
		}
		put("q", strings.Join(qs, ","))
	}
	if d.K != 0 {
		put("k", strconv.Itoa(d.K))
	}
	put("where", d.Where.String())
	put("prefix", d.Prefix)
	if d.MaxMetrics != 0 {
		put("max-metrics", strconv.Itoa(d.MaxMetrics))
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

// formatDuration writes d as time.ParseDuration reads it, without zero
// units: 1m, 1h30m, 10s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if t := strings.TrimSuffix(s, "0s"); t != s && t != "" && (strings.HasSuffix(t, "m") || strings.HasSuffix(t, "h")) {
		s = t
	}
	if t := strings.TrimSuffix(s, "0m"); t != s && strings.HasSuffix(t, "h") {
		s = t
	}
	return s
}

// formatNum formats f as the shortest decimal that reads back as f.
func formatNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
