package metrics

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// builtin are the self-stats that no definitions file holds: window's,
// which every set keeps, the receivers' (selfstat.Defs), and the two the
// web adds to the snapshots it follows.
func builtin() []def.Def {
	rate := func(name, label string) def.Def {
		return def.Def{Name: name, Kind: def.KindRate, Per: time.Second, Window: 10 * time.Second, Label: label, Group: "pulse", Unit: "/s"}
	}
	ds := []def.Def{
		rate(window.StatEvents, "Events folded/s"),
		rate(window.StatUnparsed, "Unparsed input/s"),
		rate(window.StatSkipped, "Skipped observations/s"),
		rate(window.StatLate, "Late observations/s"),
		rate(window.StatRejected, "Rejected observations and deltas/s"),
		rate(window.StatOverflow, "l2met metrics not created/s"),
		rate(window.StatFuture, "Events from the future dropped/s"),
		{Name: selfstat.Lag, Kind: def.KindMax, Of: "ms", Label: "Snapshot lag at the web", Group: "pulse", Unit: "ms"},
		{Name: selfstat.Shards, Kind: def.KindLast, Of: "shards", Label: "Merger shards heard from", Group: "pulse"},
	}
	return append(ds, selfstat.Defs()...)
}

// info is what the exposition needs of a stat's definition.
type info struct {
	label string
	unit  unit
	k     int // the most top-k series
}

// lookup finds the definition of a snapshot's stat: by name, else as a
// metric of an l2met definition, else none.
type lookup struct {
	byName map[string]info
	l2met  []l2metDef // longest prefix first
}

type l2metDef struct {
	prefix string // Prefix + "."
	unit   unit
}

// newLookup compiles defs, then the built-in self-stats that defs do not
// name, so their defaults (Per, K, Prefix) are known. A definition that
// does not compile is used as written.
func newLookup(defs []def.Def) *lookup {
	l := &lookup{byName: map[string]info{}}
	for _, d := range append(slices.Clip(defs), builtin()...) {
		if c, err := def.Compile(d); err == nil {
			d = c.Def()
		}
		if d.Kind == def.KindL2met {
			prefix := d.Prefix
			if prefix == "" {
				prefix = d.Name
			}
			l.l2met = append(l.l2met, l2metDef{prefix: prefix + ".", unit: unitOf(d, false)})
			continue
		}
		if _, ok := l.byName[d.Name]; ok {
			continue // the caller's definition wins over a built-in one
		}
		k := d.K
		if k <= 0 {
			k = stat.DefaultTopK
		}
		rated := d.Kind == def.KindRate || d.Kind == def.KindSum || d.Kind == def.KindTopK
		l.byName[d.Name] = info{label: d.Label, unit: unitOf(d, rated), k: k}
	}
	slices.SortStableFunc(l.l2met, func(a, b l2metDef) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return l
}

// find returns the info of stat name.
func (l *lookup) find(name string) info {
	if in, ok := l.byName[name]; ok {
		return in
	}
	for _, d := range l.l2met {
		if rest, ok := strings.CutPrefix(name, d.prefix); ok && rest != "" {
			return info{label: "l2met metric " + rest, unit: d.unit, k: stat.DefaultTopK}
		}
	}
	return info{unit: unit{mul: 1, div: 1}, k: stat.DefaultTopK}
}
