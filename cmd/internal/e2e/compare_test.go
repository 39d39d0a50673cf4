package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// This file compares what the web served at T with what pulse replay
// computed at T from the same input. Exact kinds must be equal. For the
// sketches, merging receivers' fragments may give other answers than one
// process folding everything, within the bound each kind states; those
// are checked against the truth, recomputed here from the input: every
// value a quantiles stat observed in its window, and every key (with its
// count) a distinct or topk stat observed.

// truthStat is one stat's definition and, for the sketches, what it
// observed in its window [T − window, T).
type truthStat struct {
	c      *def.Compiled
	first  time.Time  // l2met metrics: the time of the first event that derived it
	values []float64  // quantiles: every value, sorted
	keys   *stat.TopK // distinct and topk: every key with its count (exact: capacity MaxTopKCapacity)
}

// truth is every stat a definitions set makes from an input, by name.
type truth map[string]*truthStat

// computeTruth reads input and observes, for each definition (and each
// metric an l2met definition derives), what falls in its window at T.
func computeTruth(t *testing.T, defs []def.Def, input []byte, T time.Time) truth {
	t.Helper()
	compiled, err := def.CompileSet(defs, def.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	tr := truth{}
	add := func(c *def.Compiled) *truthStat {
		if s, ok := tr[c.Name()]; ok {
			return s // the first definition of a name keeps it, as in window.Set
		}
		s := &truthStat{c: c}
		if k := c.Kind(); k == def.KindDistinct || k == def.KindTopK {
			s.keys, _ = stat.NewTopK(stat.TopKConfig{K: stat.MaxTopKCapacity, Capacity: stat.MaxTopKCapacity})
		}
		tr[c.Name()] = s
		return s
	}
	for _, c := range compiled {
		if c.Kind() != def.KindL2met {
			add(c)
		}
	}
	derived := map[string][]*truthStat{}
	var q stat.Quantiles
	observe := func(s *truthStat, ev *logfmt.Event) {
		if ev.Time.Before(T.Add(-s.c.Window())) || !ev.Time.Before(T) {
			return
		}
		switch s.c.Kind() {
		case def.KindQuantiles:
			q.Reset()
			if s.c.Observe(&q, ev) == def.Observed {
				v, _ := q.Min()
				s.values = append(s.values, v)
			}
		case def.KindDistinct, def.KindTopK:
			s.c.Observe(s.keys, ev)
		}
	}
	r := logfmt.NewReader(bytes.NewReader(input), nil)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the traffic: %v", err)
		}
		for _, c := range compiled {
			if !c.Match(ev) {
				continue
			}
			if c.Kind() != def.KindL2met {
				observe(tr[c.Name()], ev)
				continue
			}
			for p := range ev.Pairs() {
				if p.Flag || !def.IsL2metKey(p.Key) {
					continue
				}
				ss, ok := derived[string(p.Key)]
				if !ok {
					ds, err := c.DeriveL2met(p.Key)
					if err != nil {
						continue
					}
					for _, d := range ds {
						if _, taken := tr[d.Name()]; !taken {
							s := add(d)
							s.first = ev.Time
							ss = append(ss, s)
						}
					}
					derived[string(p.Key)] = ss
				}
				for _, s := range ss {
					observe(s, ev)
				}
			}
		}
	}
	for _, s := range tr {
		slices.Sort(s.values)
	}
	return tr
}

// compareSnapshots compares got (the web's values at T) with want
// (pulse replay's) for every stat but the self-stats, and reports each
// difference beyond what the stat's kind allows as an error of t. It
// returns the number of stats compared.
//
// An l2met metric first seen at or after T may be missing from got: a
// live merger makes it when its first delta comes, while replay --at T
// folds the events after T too (into buckets after T) and so holds every
// metric of the input, empty at T.
func compareSnapshots(t *testing.T, got, want map[string]stat.Value, tr truth, T time.Time) int {
	t.Helper()
	var errs, missing []string
	compared := 0
	for _, name := range sortedKeys(want) {
		if strings.HasPrefix(name, "pulse.") {
			continue
		}
		w := want[name]
		s, ok := tr[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: in replay's snapshot but no definition makes it", name))
			continue
		}
		g, ok := got[name]
		if !ok {
			if s.first.IsZero() || s.first.Before(T) {
				missing = append(missing, name)
			}
			continue
		}
		compared++
		if msg := compareStat(s, g, w); msg != "" {
			errs = append(errs, name+": "+msg)
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok && !strings.HasPrefix(name, "pulse.") {
			errs = append(errs, fmt.Sprintf("%s: served by the web (%s) but not in replay's snapshot", name, got[name]))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d stats have no value in the web's snapshot, such as %q", len(missing), len(want), missing[:min(len(missing), 5)])
	}
	for _, e := range errs {
		t.Error(e)
	}
	return compared
}

// compareStat compares the live value g with replay's w, and both with the
// truth, for one stat. It returns what is wrong, or "".
func compareStat(s *truthStat, g, w stat.Value) string {
	switch s.c.Kind() {
	case def.KindRate, def.KindMin, def.KindMax, def.KindLast:
		// Counts, minima, maxima and latest values merge exactly.
		if g.String() != w.String() {
			return fmt.Sprintf("web %s, replay %s (exact kind %s)", g, w, s.c.Kind())
		}
	case def.KindSum, def.KindMean, def.KindLastSum, def.KindLastMean:
		// Exact on integers; on other values the order of additions
		// differs, within 2⁻⁵⁰·Σ|x| (package stat): allow 10⁻¹² relative.
		gv, gok := g.Number()
		wv, wok := w.Number()
		if gok != wok || g.IsNull() != w.IsNull() {
			return fmt.Sprintf("web %s, replay %s", g, w)
		}
		if gok && math.Abs(gv-wv) > 1e-12*max(math.Abs(gv), math.Abs(wv)) {
			return fmt.Sprintf("web %s, replay %s (kind %s, beyond rounding)", g, w, s.c.Kind())
		}
	case def.KindDistinct:
		return compareDistinct(s, g, w)
	case def.KindQuantiles:
		return compareQuantiles(s, g, w)
	case def.KindTopK:
		return compareTopK(s, g, w)
	default:
		return fmt.Sprintf("unexpected kind %s", s.c.Kind())
	}
	return ""
}

// distinctBound is the relative error Distinct's doc comment states its
// accuracy test holds for every seed (standard error 0.81 % at p = 14).
const distinctBound = 0.03

func compareDistinct(s *truthStat, g, w stat.Value) string {
	n := float64(s.keys.Len())
	for _, x := range []struct {
		who string
		v   stat.Value
	}{{"web", g}, {"replay", w}} {
		v, ok := x.v.Number()
		if !ok {
			return fmt.Sprintf("%s %s, want a number", x.who, x.v)
		}
		if math.Abs(v-n) > distinctBound*n {
			return fmt.Sprintf("%s %v, true distinct count %v: beyond %v relative (web %s, replay %s)", x.who, v, n, distinctBound, g, w)
		}
	}
	return ""
}

// compareQuantiles checks each quantile's rank error against the values
// the stat observed: exact (and equal to replay's) up to 512 values,
// within stat.QuantilesRankBound beyond.
func compareQuantiles(s *truthStat, g, w stat.Value) string {
	n := len(s.values)
	if n == 0 {
		if !g.IsNull() || !w.IsNull() {
			return fmt.Sprintf("no values, yet web %s, replay %s", g, w)
		}
		return ""
	}
	bound := stat.QuantilesRankBound(uint64(n))
	if bound == 0 && g.String() != w.String() {
		return fmt.Sprintf("%d values, exact, yet web %s, replay %s", n, g, w)
	}
	for _, q := range s.c.Def().Q {
		for _, x := range []struct {
			who string
			v   stat.Value
		}{{"web", g}, {"replay", w}} {
			v, ok := x.v.Quantile(q)
			if !ok {
				return fmt.Sprintf("%s %s has no %s", x.who, x.v, stat.QuantileName(q))
			}
			if e := rankError(s.values, q, v); e > bound {
				return fmt.Sprintf("%s's %s = %v has rank error %.4f over %d values, beyond %v (web %s, replay %s)",
					x.who, stat.QuantileName(q), v, e, n, bound, g, w)
			}
		}
	}
	return ""
}

// rankError is the distance from q to [F(x−), F(x)], F the empirical CDF
// of the sorted values: 0 when x holds the q-th rank.
func rankError(sorted []float64, q, x float64) float64 {
	n := float64(len(sorted))
	below := float64(sort.SearchFloat64s(sorted, x))                                     // values < x
	upTo := float64(sort.Search(len(sorted), func(i int) bool { return sorted[i] > x })) // values ≤ x
	lo, hi := below/n, upTo/n
	switch {
	case q < lo:
		return lo - q
	case q > hi:
		return q - hi
	}
	return 0
}

// compareTopK checks a top-k list against the true counts: the list holds
// min(K, keys) keys in descending order; each value is its key's rate,
// over by at most N ÷ capacity (counts never under); no key left out
// occurred more than that bound above a key shown.
func compareTopK(s *truthStat, g, w stat.Value) string {
	d := s.c.Def()
	proto, _ := s.c.NewStat().(*stat.TopK)
	counts := map[string]uint64{}
	for _, e := range s.keys.Entries() {
		counts[e.Key] = e.Count
	}
	toRate := func(c float64) float64 { return c * float64(d.Per) / float64(d.Window) }
	slack := toRate(float64(s.keys.N()) / float64(proto.Capacity()))
	wantLen := min(d.K, len(counts))
	for _, x := range []struct {
		who string
		v   stat.Value
	}{{"web", g}, {"replay", w}} {
		top := x.v.Top()
		if len(top) != wantLen {
			return fmt.Sprintf("%s shows %d keys, want %d (web %s, replay %s)", x.who, len(top), wantLen, g, w)
		}
		shown := map[string]bool{}
		minShown := math.Inf(1)
		for i, e := range top {
			c, ok := counts[e.Key]
			if !ok {
				return fmt.Sprintf("%s shows key %q, never observed", x.who, e.Key)
			}
			tv := toRate(float64(c))
			if e.Value < tv*(1-1e-12) || e.Value > (tv+slack)*(1+1e-12) {
				return fmt.Sprintf("%s: %q at %v, true %v, allowed over by %v (web %s, replay %s)", x.who, e.Key, e.Value, tv, slack, g, w)
			}
			if i > 0 && e.Value > top[i-1].Value {
				return fmt.Sprintf("%s: not in descending order: %s", x.who, x.v)
			}
			shown[e.Key] = true
			minShown = min(minShown, tv)
		}
		for k, c := range counts {
			if !shown[k] && toRate(float64(c)) > minShown+slack*(1+1e-12) {
				return fmt.Sprintf("%s leaves out %q at true %v, above a key shown at %v by more than %v (web %s, replay %s)",
					x.who, k, toRate(float64(c)), minShown, slack, g, w)
			}
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// readFile returns a file's bytes or fails t.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkAgainstReplay waits for the web's first snapshot at a time T at or
// after target, runs pulse replay --at T on the traffic and compares every
// stat; pulse.events, counted in event time by receivers and replay alike,
// must be equal too. It returns T, the web's values and the events replay
// read.
func checkAgainstReplay(t *testing.T, web *proc, tr *traffic, target time.Time) (T time.Time, got map[string]stat.Value, events int64) {
	t.Helper()
	file := tr.write(t)
	// The names a snapshot holds do not depend on its time: every
	// definition, and every metric the l2met definition derived.
	want, _ := replayAt(t, file, target, "")
	T, got = firstSnapshot(t, web, target, sortedKeys(want.Stats), 20*time.Second)
	if !T.Equal(target) {
		t.Logf("the web has no snapshot at %v; comparing at %v", target.Format(time.TimeOnly), T.Format(time.TimeOnly))
	}
	want, events = replayAt(t, file, T, "")
	if int(events) != tr.lines() {
		t.Fatalf("pulse replay read %d events, %d were generated", events, tr.lines())
	}
	truth := computeTruth(t, def.Heroku(), readFile(t, file), T)
	n := compareSnapshots(t, got, want.Stats, truth, T)
	if g, w := got[window.StatEvents].String(), want.Stats[window.StatEvents].String(); g != w {
		t.Errorf("%s at T: web %s, replay %s", window.StatEvents, g, w)
	}
	// The traffic must exercise what is compared: not a snapshot of zeros.
	for _, name := range []string{"router.requests", "router.service", "router.hosts.top", "router.hosts", "dyno.memory"} {
		if v := want.Stats[name]; v.IsNull() || v.String() == "0" || v.String() == "[]" {
			t.Errorf("%s is empty at T in replay's snapshot (%s): the traffic does not exercise it", name, v)
		}
	}
	var differ []string
	for _, name := range sortedKeys(want.Stats) {
		if !strings.HasPrefix(name, "pulse.") && got[name].String() != want.Stats[name].String() {
			differ = append(differ, name)
		}
	}
	t.Logf("%d stats compared at %v, %d not byte-equal to replay's but within their bounds %v; %d events (router.service: %d values, rank bound %v)",
		n, T.Format(time.RFC3339), len(differ), differ, events, len(truth["router.service"].values), stat.QuantilesRankBound(uint64(len(truth["router.service"].values))))
	return T, got, events
}

// numbers returns the numeric values of m.
func numbers(m map[string]stat.Value) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if f, ok := v.Number(); ok {
			out[k] = f
		}
	}
	return out
}

// checkLatest compares the web's /stats/latest, the latest snapshot
// merged across shards, with pulse replay --at its time L. It waits until
// every shard's latest is at L (each stat of /stats/latest equal to its
// point at L in /stats), at or after after.
func checkLatest(t *testing.T, web *proc, tr *traffic, after time.Time) {
	t.Helper()
	var snap window.Snapshot
	poll(t, 10*time.Second, "/stats/latest with every shard at its time", func() (bool, string) {
		var err error
		if snap, err = latest(web); err != nil {
			return false, err.Error()
		}
		if snap.Time.Before(after) {
			return false, fmt.Sprintf("latest at %v", snap.Time.Format(time.TimeOnly))
		}
		h, err := history(web, snap.Time.Add(-time.Millisecond))
		if err != nil {
			return false, err.Error()
		}
		for name, v := range snap.Stats {
			if p, ok := h[name][snap.Time.UnixMilli()]; !ok || p.String() != v.String() {
				return false, fmt.Sprintf("%s: %s in /stats/latest at %v, not its point then (%s)", name, v, snap.Time.Format(time.TimeOnly), p)
			}
		}
		return true, ""
	}, web)
	file := tr.write(t)
	want, _ := replayAt(t, file, snap.Time, "")
	n := compareSnapshots(t, snap.Stats, want.Stats, computeTruth(t, def.Heroku(), readFile(t, file), snap.Time), snap.Time)
	t.Logf("/stats/latest at %v: %d stats compared with pulse replay", snap.Time.Format(time.RFC3339), n)
}
