package web

import (
	"encoding/json"
	"math"
	"net/http"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// SelfGroup is the group of the pipeline's own stats (pulse.*) on the
// page.
const SelfGroup = "pulse"

// L2metGroup is the group of the stats an l2met definition derives when
// the definition gives none.
const L2metGroup = "l2met"

// statMeta describes one stat, or a family of stats, for the page: how
// to label, group, format and color it. Exactly one of Name, Prefix and
// Pattern is set.
type statMeta struct {
	// Name is the stat's name.
	Name string `json:"name,omitempty"`
	// Prefix, for an l2met definition, begins the names of the stats it
	// derives (Prefix + "." + metric): this entry describes all of them.
	Prefix string `json:"prefix,omitempty"`
	// Pattern describes the stats whose names match it, where one "*"
	// stands for one dot-free segment (a merger's shard number); the
	// segment replaces "*" in Label.
	Pattern string   `json:"pattern,omitempty"`
	Kind    def.Kind `json:"kind"`
	Label   string   `json:"label,omitempty"`
	Group   string   `json:"group"`
	Unit    string   `json:"unit,omitempty"`
	Warn    *float64 `json:"warn,omitempty"`
	Crit    *float64 `json:"crit,omitempty"`
	// Per is the rate unit of rates, sums and top-k, in seconds.
	Per float64 `json:"per,omitempty"`
	// Window is the span each snapshot reads, in seconds.
	Window float64 `json:"window,omitempty"`
	// Q are the quantiles of a quantiles or l2met definition, and QNames
	// their names in a value (p50, p99, p999).
	Q      []float64 `json:"q,omitempty"`
	QNames []string  `json:"qnames,omitempty"`
	// K is the length of a top-k list.
	K int `json:"k,omitempty"`
}

// fromDef describes d, with its defaults applied when it compiles.
func fromDef(d def.Def) statMeta {
	if c, err := def.Compile(d); err == nil {
		d = c.Def()
	}
	m := statMeta{
		Name: d.Name, Kind: d.Kind, Label: d.Label, Group: d.Group, Unit: d.Unit,
		Warn: finite(d.Warn), Crit: finite(d.Crit), Per: d.Per.Seconds(), Window: d.Window.Seconds(), K: d.K,
	}
	if d.Kind == def.KindQuantiles || d.Kind == def.KindL2met {
		for _, q := range d.Q {
			if q > 0 && q < 1 {
				m.Q = append(m.Q, q)
				m.QNames = append(m.QNames, stat.QuantileName(q))
			}
		}
	}
	if d.Kind == def.KindL2met {
		m.Name, m.Prefix = "", d.Prefix+"."
		if d.Prefix == "" {
			m.Prefix = d.Name + "."
		}
		if m.Group == "" {
			m.Group = L2metGroup
		}
	}
	return m
}

// finite returns p, or nil when *p is not finite (JSON has no such
// numbers; Compile refuses them anyway).
func finite(p *float64) *float64 {
	if p == nil || math.IsInf(*p, 0) || math.IsNaN(*p) {
		return nil
	}
	return p
}

// selfMeta describes the pipeline's own stats: the self-stats of every
// definitions set (package window), the receivers' (package selfstat),
// the web's lag and the mergers' per-shard figures (package merger, as
// pulse.merger.<shard>.<figure>).
func selfMeta() []statMeta {
	ptr := func(f float64) *float64 { return &f }
	rate := func(name, label string) statMeta {
		return statMeta{Name: name, Kind: def.KindRate, Label: label, Group: SelfGroup, Unit: "/s", Per: 1, Window: 10}
	}
	out := []statMeta{
		rate(window.StatEvents, "Events/s"),
		rate(window.StatUnparsed, "Unparsed/s"),
		rate(window.StatSkipped, "Skipped observations/s"),
		rate(window.StatLate, "Late observations/s"),
		rate(window.StatRejected, "Rejected observations/s"),
		rate(window.StatOverflow, "l2met overflow/s"),
		rate(window.StatFuture, "Future events dropped/s"),
		{Name: selfstat.Lag, Kind: def.KindLast, Label: "Snapshot lag", Group: SelfGroup, Unit: "ms", Warn: ptr(5000), Crit: ptr(15000)},
		{Name: selfstat.Shards, Kind: def.KindLast, Label: "Merger shards", Group: SelfGroup},
	}
	for _, d := range selfstat.Defs() {
		m := fromDef(d)
		m.Group = SelfGroup
		switch d.Name {
		case selfstat.Dropped, selfstat.PublishDropped, selfstat.PublishDroppedEvents, selfstat.PublishErrors:
			m.Warn, m.Crit = ptr(0.1), ptr(10)
		}
		out = append(out, m)
	}
	for _, f := range []struct{ name, label string }{
		{"late", "Merger * late fragments/s"},
		{"republished", "Merger * republished/s"},
		{"duplicates", "Merger * duplicate batches/s"},
		{"failed", "Merger * failed batches/s"},
		{"missing", "Merger * missing batches/s"},
	} {
		m := rate("", f.label)
		m.Pattern = "pulse.merger.*." + f.name
		if f.name == "failed" || f.name == "missing" {
			m.Warn, m.Crit = ptr(0.1), ptr(10)
		}
		out = append(out, m)
	}
	out = append(out, statMeta{Pattern: "pulse.merger.*.sources", Kind: def.KindLast, Label: "Merger * receiver sources", Group: SelfGroup})
	return out
}

// metaJSON returns the body of GET /stats/meta: {"stats":[...]}, the
// definitions in their order and then the self-stats.
func metaJSON(defs []def.Def) []byte {
	all := make([]statMeta, 0, len(defs)+24)
	for _, d := range defs {
		all = append(all, fromDef(d))
	}
	all = append(all, selfMeta()...)
	b, err := json.Marshal(struct {
		Stats []statMeta `json:"stats"`
	}{all})
	if err != nil {
		panic(err) // strings, finite numbers and slices of them only
	}
	return append(b, '\n')
}

// meta serves GET /stats/meta.
func (s *server) meta(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.metaJSON)
}
