package window

import (
	"slices"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
)

// Difference is a stat on which two snapshots disagree beyond the error
// bound its definition states (see Set.Diff).
type Difference struct {
	// Name is the stat's name.
	Name string
	// A and B are its values in the two snapshots, null where a snapshot
	// lacks the stat.
	A, B stat.Value
	// Bound says what the values were held to and how they break it, as
	// def.Compiled.Agree describes it ("exact: off by 1", "rank bound
	// 0.01 of 9994 values ...: p95 167 and 190: ranges ... do not
	// overlap"), or "missing in a" or "missing in b".
	Bound string
}

// String returns "name: a ≠ b (bound)".
func (d Difference) String() string {
	return d.Name + ": " + d.A.String() + " ≠ " + d.B.String() + " (" + d.Bound + ")"
}

// Diff compares two snapshots stat by stat, each within the error bound
// its definition's kind states, and returns the stats on which they
// disagree, in name order; none when they agree. It is what a test holds
// a merged snapshot, or one read from JSON, to against another: stats
// that merge exactly must be equal, and sketches must agree within their
// stated bounds. def.Compiled.Agree gives the rules; in short:
//
//   - rate (and the self-stats), min, max, last: equal;
//   - sum, mean, last-sum, last-mean: within a relative 2⁻⁴⁸, stat.Sum's
//     bound on float sums (so sums of integers below 2⁴⁸ must be equal);
//   - distinct: within three standard errors, 2.4 % at precision 14;
//   - quantiles: the ranges of values that each answer's rank bound
//     (stat.QuantilesRankBound of its count) allows overlap. Only values
//     read from a set carry ranges; a quantiles value decoded from JSON
//     is its answers alone, so two decoded ones must be equal;
//   - topk: within the bounds the values carry (stat.Value.TopBound,
//     N ÷ capacity at most; 0, so equal, while the keys fit the
//     capacity).
//
// Each stat is held to the definition the set has for its name: its own
// definitions, the l2met metrics it has derived (a merger derives them as
// deltas arrive), and the self-stats. A stat the set has no definition
// for, and a stat of a set without definitions, must have equal JSON.
// A stat in only one snapshot is a Difference whose Bound is "missing in
// a" or "missing in b". The snapshots' times are not compared.
//
// Diff only reads the set.
func (s *Set) Diff(a, b Snapshot) []Difference {
	names := make([]string, 0, len(a.Stats))
	for n := range a.Stats {
		names = append(names, n)
	}
	for n := range b.Stats {
		if _, ok := a.Stats[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	defs := s.compiledByName()
	var out []Difference
	for _, n := range names {
		va, inA := a.Stats[n]
		vb, inB := b.Stats[n]
		var bound string
		switch {
		case !inA:
			bound = "missing in a"
		case !inB:
			bound = "missing in b"
		default:
			var ok bool
			if bound, ok = agree(defs[n], va, vb); ok {
				continue
			}
		}
		out = append(out, Difference{Name: n, A: va, B: vb, Bound: bound})
	}
	return out
}

// agree holds va and vb to the bound of c, or to equal JSON when c is nil.
func agree(c *def.Compiled, va, vb stat.Value) (string, bool) {
	if c != nil {
		return c.Agree(va, vb)
	}
	return "exact (no definition)", va.String() == vb.String()
}

// compiledByName returns the definitions of every stat the set reads.
func (s *Set) compiledByName() map[string]*def.Compiled {
	m := make(map[string]*def.Compiled, len(s.byName))
	for _, list := range [][]defWindow{s.defs, s.self} {
		for _, dw := range list {
			m[dw.def.Name] = dw.def.Compiled
		}
	}
	for _, l := range s.l2met {
		for _, dws := range l.metrics {
			for _, dw := range dws {
				m[dw.def.Name] = dw.def.Compiled
			}
		}
	}
	return m
}

// Diff is Set.Diff over the LogWriter's set: it compares two snapshots,
// such as two Snapshot results, or one and a snapshot a test expects,
// within each stat's bound.
func (w *LogWriter) Diff(a, b Snapshot) []Difference {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.set.Diff(a, b)
}
