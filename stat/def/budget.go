package def

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultMaxStats is the budget of a definitions set whose Budget is zero:
// about five times what the default Heroku set costs (2 046, of which
// 2 000 are its l2met definition's 1 000 metrics).
const DefaultMaxStats = 10000

// Budget bounds what a set of definitions may cost, so that a definitions
// file cannot ask for more memory than a host has: Parse and CompileSet
// (and so window.NewDefSet and `pulse defs --check`) reject a set whose
// cost is over it, naming the definition that crossed it.
//
// The cost is counted in stats, each weighed by its window: a stat counts
// once per minute of its window, rounded up (1 for a 10 s or 1 min window,
// 60 for 1 h), because a window keeps a bucket per second. A definition
// makes one stat; an l2met definition may make two per metric (measure#
// makes quantiles and a mean), so it counts MaxMetrics × 2. The default
// Heroku set costs 2 046.
//
// What a stat costs in memory depends on its kind and on the traffic: a
// 1-minute window holds a ring of 366 slots at window's defaults (5.9 KiB
// empty), and each slot in use holds one stat, 8 bytes for a rate and up
// to about 8 KB for quantiles (see the accuracy table of package pulse).
//
// The zero Budget is DefaultMaxStats. To load more, give a larger
// MaxStats to ParseBudget, CompileSet and window.SetOptions (or `pulse
// replay --budget`, `pulse defs --budget`).
type Budget struct {
	// MaxStats is the most the definitions may cost, in stats weighed by
	// their windows as above; 0 means DefaultMaxStats.
	MaxStats int
}

func (b Budget) maxStats() int {
	if b.MaxStats > 0 {
		return b.MaxStats
	}
	return DefaultMaxStats
}

// Cost returns what the definition counts against a Budget: the stats it
// may make (1, or MaxMetrics × 2 for l2met) times its window in minutes,
// rounded up. It saturates at math.MaxInt.
func (c *Compiled) Cost() int {
	stats := 1
	if c.def.Kind == KindL2met {
		stats = mulSat(c.def.MaxMetrics, 2)
	}
	window := time.Minute // what l2met derives when it gives no window
	if c.def.Kind != KindL2met || c.windowGiven {
		window = c.def.Window
	}
	minutes := int((window + time.Minute - 1) / time.Minute)
	return mulSat(stats, max(minutes, 1))
}

func mulSat(a, b int) int {
	if a > 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

// setCheck applies the rules about a set of definitions, the same for a
// file (Parse) and a slice (CompileSet): unique names, ReservedPrefix,
// and the Budget.
type setCheck struct {
	budget Budget
	first  map[string]string // name → where it was defined
	cost   int
}

func newSetCheck(b Budget) *setCheck {
	return &setCheck{budget: b, first: map[string]string{}}
}

// add checks c, defined at pos ("line 3", "defs[2]"), against the set so far.
func (s *setCheck) add(c *Compiled, pos string) error {
	d := &c.def
	if strings.HasPrefix(d.Name, ReservedPrefix) {
		return fmt.Errorf("%s: names beginning with %q are reserved for the pipeline's self-stats: %w", d.Name, ReservedPrefix, ErrDefinition)
	}
	if d.Kind == KindL2met && strings.HasPrefix(d.Prefix+".", ReservedPrefix) {
		return fmt.Errorf("%s: prefix %q would derive names beginning with %q, reserved for the pipeline's self-stats: %w", d.Name, d.Prefix, ReservedPrefix, ErrDefinition)
	}
	if prev, dup := s.first[d.Name]; dup {
		return fmt.Errorf("%s: duplicate name (first at %s): %w", d.Name, prev, ErrDefinition)
	}
	s.first[d.Name] = pos
	cost := c.Cost()
	if cost > s.budget.maxStats()-s.cost {
		return fmt.Errorf("%s: over budget: it costs %d stats, and the definitions before it %d, over the budget of %d (see def.Budget): %w",
			d.Name, cost, s.cost, s.budget.maxStats(), ErrDefinition)
	}
	s.cost += cost
	return nil
}

// CompileSet compiles defs as one set, for window.NewDefSet: each
// definition as Compile does, then the rules of a set: names unique, none
// beginning with ReservedPrefix, and the total cost within b (the zero
// Budget is DefaultMaxStats). Errors wrap ErrDefinition and name the
// definition by its index.
func CompileSet(defs []Def, b Budget) ([]*Compiled, error) {
	out := make([]*Compiled, len(defs))
	sc := newSetCheck(b)
	for i, d := range defs {
		c, err := compile(d)
		if err == nil {
			err = sc.add(c, fmt.Sprintf("defs[%d]", i))
		}
		if err != nil {
			return nil, fmt.Errorf("def: defs[%d]: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}
