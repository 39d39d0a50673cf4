package fragment

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/require"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

// fillers make a non-empty stat of a kind from a random source. Kinds
// join the mixed-kind tests and benchmarks by being added here.
var fillers = map[stat.Kind]func(r *rand.Rand) stat.Stat{
	stat.KindCount: func(r *rand.Rand) stat.Stat { c := new(stat.Count); c.Add(r.Uint64N(100_000)); return c },
	stat.KindSum: func(r *rand.Rand) stat.Stat {
		s := new(stat.Sum)
		for range 1 + r.IntN(20) {
			s.Observe(float64(r.IntN(1 << 20)))
		}
		return s
	},
	stat.KindMean: func(r *rand.Rand) stat.Stat {
		m := new(stat.Mean)
		for range 1 + r.IntN(20) {
			m.Observe(float64(r.IntN(5000)))
		}
		return m
	},
	stat.KindMin: func(r *rand.Rand) stat.Stat { m := new(stat.Min); m.Observe(float64(r.IntN(1000))); return m },
	stat.KindMax: func(r *rand.Rand) stat.Stat { m := new(stat.Max); m.Observe(float64(r.IntN(30000))); return m },
	stat.KindLast: func(r *rand.Rand) stat.Stat {
		l := new(stat.Last)
		l.ObserveAt(t0.Add(time.Duration(r.IntN(1000))*time.Millisecond), r.Float64()*100)
		return l
	},
	stat.KindLastBy: func(r *rand.Rand) stat.Stat {
		l := new(stat.LastBy)
		for i := range 1 + r.IntN(8) {
			l.ObserveAt([]byte(fmt.Sprintf("web.%d", i)), t0.Add(time.Duration(r.IntN(1000))*time.Millisecond), float64(r.IntN(512)))
		}
		return l
	},
	stat.KindDistinct: func(r *rand.Rand) stat.Stat {
		d := new(stat.Distinct)
		for range 1 + r.IntN(50) {
			d.ObserveKey([]byte(fmt.Sprintf("app-%d.herokuapp.com", r.IntN(200))))
		}
		return d
	},
	stat.KindQuantiles: func(r *rand.Rand) stat.Stat {
		q := new(stat.Quantiles)
		for range 1 + r.IntN(100) {
			q.Observe(float64(1 + r.IntN(400)))
		}
		return q
	},
	stat.KindTopK: func(r *rand.Rand) stat.Stat {
		t := new(stat.TopK)
		for range 1 + r.IntN(50) {
			t.ObserveKey([]byte(fmt.Sprintf("app-%d.herokuapp.com", r.IntN(30))))
		}
		return t
	},
}

// fillerKinds lists the kinds in fillers in tag order.
func fillerKinds() []stat.Kind {
	var ks []stat.Kind
	for _, k := range stat.Kinds() {
		if fillers[k] != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// realisticDeltas returns a receiver's cut: names stats whose names look
// like the default definitions, each with buckets buckets ending at the
// cut time, kinds cycling through fillerKinds, in name order as
// window.Set.Cut gives them.
func realisticDeltas(names, buckets int, seed uint64) []window.Delta {
	prefixes := []string{"router.requests", "router.bytes", "router.service", "app.web.errors", "heroku.dyno.load"}
	ns := make([]string, names)
	for i := range ns {
		ns[i] = fmt.Sprintf("%s.%d", prefixes[i%len(prefixes)], i)
	}
	return deltasNamed(ns, buckets, seed)
}

// unrelatedDeltas is realisticDeltas with random names of 12 to 20
// lower-case letters, which share almost no prefix: the worst case for
// the front-coded name table.
func unrelatedDeltas(names, buckets int, seed uint64) []window.Delta {
	r := rand.New(rand.NewPCG(seed, 2))
	ns := make([]string, names)
	for i := range ns {
		b := make([]byte, 12+r.IntN(9))
		for j := range b {
			b[j] = 'a' + byte(r.IntN(26))
		}
		ns[i] = string(b)
	}
	return deltasNamed(ns, buckets, seed)
}

func deltasNamed(names []string, buckets int, seed uint64) []window.Delta {
	r := rand.New(rand.NewPCG(seed, 1))
	kinds := fillerKinds()
	var ds []window.Delta
	for i, name := range names {
		k := kinds[i%len(kinds)]
		for b := range buckets {
			ds = append(ds, window.Delta{
				Name: name, Kind: k, Width: time.Second,
				Start: t0.Add(-time.Duration(buckets-b) * time.Second),
				Stat:  fillers[k](r),
			})
		}
	}
	slices.SortStableFunc(ds, func(a, b window.Delta) int { return strings.Compare(a.Name, b.Name) })
	return ds
}

// mustBatch encodes deltas as one batch.
func mustBatch(t testing.TB, source string, seq uint64, at time.Time, ds []window.Delta) Batch {
	t.Helper()
	bs, err := Batches(source, seq, at, ds, 1)
	require.NoError(t, err)
	return bs[0]
}

// goldenBatch is the batch in testdata/batch-v1.bin.
func goldenBatch(t testing.TB) Batch {
	count := func(n int64) stat.Stat { c := new(stat.Count); c.Add(uint64(n)); return c }
	sum := func(vs ...float64) stat.Stat {
		s := new(stat.Sum)
		for _, v := range vs {
			s.Observe(v)
		}
		return s
	}
	return mustBatch(t, "web.1/4242/1700000000", 7, t0.Add(250*time.Millisecond), []window.Delta{
		{Name: "router.requests", Kind: stat.KindCount, Start: t0.Add(-time.Second), Width: time.Second, Stat: count(120)},
		{Name: "router.requests", Kind: stat.KindCount, Start: t0, Width: time.Second, Stat: count(3)},
		{Name: "router.bytes", Kind: stat.KindSum, Start: t0.Add(-70 * time.Second), Width: time.Second, Stat: sum(512, 2048, 4096)},
		{Name: "router.requests.10s", Kind: stat.KindCount, Start: t0.Add(-10 * time.Second), Width: 10 * time.Second, Stat: count(1)},
		{Name: "", Kind: stat.KindSum, Start: t0.Add(time.Second), Width: time.Second, Stat: sum(-1.5)},
	})
}
