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

	"github.com/pulsehq/pulse/cmd/internal/replay"
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

// compareSnapshots holds got, the web's values at T, to want, pulse
// replay's snapshot at T read from set (so that its quantiles carry the
// ranges their rank bound allows), with set.Diff: the kinds that merge
// exactly must be equal, sketches agree within their bounds. The
// self-stats are left out but pulse.events, which receivers and replay
// both count in event time. Then every sketch answer, the web's and
// replay's, is held to its stated bound of the truth. It returns what is
// wrong, and the number of stats compared.
//
// An l2met metric first seen at or after T may be missing from got: a
// live merger makes it when its first delta comes, while replay --at T
// folds the events after T too (into buckets after T) and so holds every
// metric of the input, empty at T.
func compareSnapshots(set *window.Set, got map[string]stat.Value, want window.Snapshot, tr truth) (problems []string, compared int) {
	T := want.Time
	keep := func(m map[string]stat.Value) map[string]stat.Value {
		out := map[string]stat.Value{}
		for name, v := range m {
			if !strings.HasPrefix(name, "pulse.") || name == window.StatEvents {
				out[name] = v
			}
		}
		return out
	}
	a, b := window.Snapshot{Time: T, Stats: keep(got)}, window.Snapshot{Time: T, Stats: keep(want.Stats)}
	var missing []string
	for _, d := range set.Diff(a, b) {
		if d.Bound == "missing in a" {
			if s := tr[d.Name]; s == nil || s.first.IsZero() || s.first.Before(T) {
				missing = append(missing, d.Name)
			}
			continue
		}
		problems = append(problems, fmt.Sprintf("web ≠ replay at %v: %s", T.Format(time.TimeOnly), d))
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d stats have no value in the web's snapshot at %v, such as %q",
			len(missing), len(b.Stats), T.Format(time.TimeOnly), missing[:min(len(missing), 5)]))
	}
	for _, name := range sortedKeys(b.Stats) {
		s, ok := tr[name]
		if !ok {
			if name != window.StatEvents {
				problems = append(problems, name+": in replay's snapshot but no definition makes it")
			}
			continue
		}
		compared++
		if v, ok := a.Stats[name]; ok {
			if msg := checkTruth(s, v); msg != "" {
				problems = append(problems, fmt.Sprintf("%s: the web's %s", name, msg))
			}
		}
		if msg := checkTruth(s, b.Stats[name]); msg != "" {
			problems = append(problems, fmt.Sprintf("%s: replay's %s", name, msg))
		}
	}
	return problems, compared
}

// checkTruth holds one answer of a sketch to the bound its kind states of
// the truth; the kinds that merge exactly are left to Set.Diff. It returns
// what is wrong, or "".
func checkTruth(s *truthStat, v stat.Value) string {
	switch s.c.Kind() {
	case def.KindDistinct:
		return checkDistinct(s, v)
	case def.KindQuantiles:
		return checkQuantiles(s, v)
	case def.KindTopK:
		return checkTopK(s, v)
	}
	return ""
}

// distinctBound is the relative error Distinct's doc comment states its
// accuracy test holds for every seed (standard error 0.81 % at p = 14).
const distinctBound = 0.03

func checkDistinct(s *truthStat, v stat.Value) string {
	n := float64(s.keys.Len())
	x, ok := v.Number()
	if !ok {
		return fmt.Sprintf("%s is not a number", v)
	}
	if math.Abs(x-n) > distinctBound*n {
		return fmt.Sprintf("%v, but %v distinct keys: beyond %v relative", x, n, distinctBound)
	}
	return ""
}

// checkQuantiles holds each quantile's rank error against the values the
// stat observed: 0 (exact) up to 512 values, stat.QuantilesRankBound
// beyond.
func checkQuantiles(s *truthStat, v stat.Value) string {
	n := len(s.values)
	if n == 0 {
		if !v.IsNull() {
			return fmt.Sprintf("%s, but no values", v)
		}
		return ""
	}
	bound := stat.QuantilesRankBound(uint64(n))
	for _, q := range s.c.Def().Q {
		x, ok := v.Quantile(q)
		if !ok {
			return fmt.Sprintf("%s has no %s", v, stat.QuantileName(q))
		}
		if e := rankError(s.values, q, x); e > bound {
			return fmt.Sprintf("%s = %v has rank error %.4f over %d values, beyond %v (%s)", stat.QuantileName(q), x, e, n, bound, v)
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

// checkTopK holds a top-k list to the true counts: it shows min(K, keys)
// keys in descending order; each value is its key's rate, over by at most
// N ÷ capacity (and by no more than the bound it carries), never under; no
// key left out occurred more than that bound above a key shown.
func checkTopK(s *truthStat, v stat.Value) string {
	d := s.c.Def()
	proto, _ := s.c.NewStat().(*stat.TopK)
	counts := map[string]uint64{}
	for _, e := range s.keys.Entries() {
		counts[e.Key] = e.Count
	}
	toRate := func(c float64) float64 { return c * float64(d.Per) / float64(d.Window) }
	slack := toRate(float64(s.keys.N()) / float64(proto.Capacity()))
	if b, _ := v.TopBound(); b > slack*(1+1e-12) {
		return fmt.Sprintf("bound %v beyond N ÷ capacity = %v", b, slack)
	}
	top := v.Top()
	if want := min(d.K, len(counts)); len(top) != want {
		return fmt.Sprintf("%d keys, want %d (%s)", len(top), want, v)
	}
	shown := map[string]bool{}
	minShown := math.Inf(1)
	for i, e := range top {
		c, ok := counts[e.Key]
		if !ok {
			return fmt.Sprintf("key %q, never observed", e.Key)
		}
		tv := toRate(float64(c))
		if e.Value < tv*(1-1e-12) || e.Value > (tv+slack)*(1+1e-12) {
			return fmt.Sprintf("%q at %v, true %v, may be over by %v (%s)", e.Key, e.Value, tv, slack, v)
		}
		if i > 0 && e.Value > top[i-1].Value {
			return fmt.Sprintf("not in descending order: %s", v)
		}
		shown[e.Key] = true
		minShown = min(minShown, tv)
	}
	for k, c := range counts {
		if !shown[k] && toRate(float64(c)) > minShown+slack*(1+1e-12) {
			return fmt.Sprintf("leaves out %q at true %v, above a key shown at %v by more than %v (%s)", k, toRate(float64(c)), minShown, slack, v)
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

// replaySet folds file as pulse replay --at T does, in this process
// (package replay's Replayer, a ManualClock set advanced to T), and
// returns the set and its snapshot at T, whose quantile values carry the
// ranges Set.Diff holds another snapshot's answers to.
func replaySet(t *testing.T, file string, T time.Time) (*window.Set, window.Snapshot) {
	t.Helper()
	set, err := window.NewDefSet(def.Heroku(), &window.SetOptions{Clock: window.ManualClock})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Advance(T); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := replay.Replayer{Set: set}
	if err := r.Fold(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	snap, err := set.Snapshot(T)
	if err != nil {
		t.Fatal(err)
	}
	return set, snap
}

// compareAt compares got, the web's values at T, with pulse replay --at T
// on file: the command, whose snapshot must be the one replaySet reads in
// process, and that one through compareSnapshots. Each problem is an
// error of t. It returns replay's snapshot and the events it read.
func compareAt(t *testing.T, got map[string]stat.Value, file string, T time.Time) (window.Snapshot, int64, int) {
	t.Helper()
	cmdSnap, events := replayAt(t, file, T, "")
	set, want := replaySet(t, file, T)
	if c, w := string(cmdSnap.AppendJSON(nil)), string(want.AppendJSON(nil)); c != w {
		t.Fatalf("pulse replay --at %v and package replay disagree:\n%s\n%s", T, c, w)
	}
	problems, n := compareSnapshots(set, got, want, computeTruth(t, def.Heroku(), readFile(t, file), T))
	for _, p := range problems {
		t.Error(p)
	}
	return want, events, n
}

// checkAgainstReplay waits for the web's first snapshot at a time T at or
// after target, and compares it with pulse replay --at T on the traffic
// (compareAt). It returns T, the web's values and the events replay read.
func checkAgainstReplay(t *testing.T, web *proc, tr *traffic, target time.Time) (T time.Time, got map[string]stat.Value, events int64) {
	t.Helper()
	file := tr.write(t)
	// The names a snapshot holds do not depend on its time: every
	// definition, and every metric the l2met definition derived.
	names, _ := replayAt(t, file, target, "")
	T, got = firstSnapshot(t, web, target, sortedKeys(names.Stats), 20*time.Second)
	if !T.Equal(target) {
		t.Logf("the web has no snapshot at %v; comparing at %v", target.Format(time.TimeOnly), T.Format(time.TimeOnly))
	}
	want, events, n := compareAt(t, got, file, T)
	if int(events) != tr.lines() {
		t.Fatalf("pulse replay read %d events, %d were generated", events, tr.lines())
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
	q, _ := want.Stats["router.service"].Count()
	t.Logf("%d stats compared at %v, %d not equal to replay's but within their bounds %v; %d events (router.service: %d values, rank bound %v)",
		n, T.Format(time.RFC3339), len(differ), differ, events, q, stat.QuantilesRankBound(q))
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
	_, _, n := compareAt(t, snap.Stats, tr.write(t), snap.Time)
	t.Logf("/stats/latest at %v: %d stats compared with pulse replay", snap.Time.Format(time.RFC3339), n)
}
