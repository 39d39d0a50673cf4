package window_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

func ExampleWindow() {
	w, _ := window.New("requests", stat.KindCount, window.Options{}) // 1 s buckets
	t0 := time.Unix(1_700_000_000, 0)
	w.Advance(t0.Add(3 * time.Second)) // the owner's clock: here, the largest event time so far
	for _, ms := range []int{0, 400, 1200, 2100, 2500, 2900, 3100} {
		if s := w.At(t0.Add(time.Duration(ms) * time.Millisecond)); s != nil {
			s.(*stat.Count).Observe()
		}
	}
	var c stat.Count
	_ = w.Read(t0.Add(3500*time.Millisecond), 3500*time.Millisecond, &c) // [t0, t0+3 s): bucket t0+3 s is filling
	fmt.Println(c.Count(), "requests in the complete buckets")
	// Output: 6 requests in the complete buckets
}

func ExampleWindow_Cut() {
	opts := window.Options{}
	t0 := time.Unix(1_700_000_000, 0)
	recv, _ := window.New("bytes", stat.KindSum, opts)   // a receiver's: delta
	merger, _ := window.New("bytes", stat.KindSum, opts) // a merger's: cumulative
	recv.Advance(t0)
	merger.Advance(t0)
	for flush, size := range []float64{512, 2048} {
		recv.At(t0).(*stat.Sum).Observe(size)
		for _, d := range recv.Cut(nil) {
			fmt.Printf("flush %d: %s at %s\n", flush, d.Stat, d.Start.Format(time.TimeOnly))
			_ = merger.Apply(d)
		}
	}
	var total stat.Sum
	_ = merger.Read(t0.Add(time.Second), time.Second, &total)
	fmt.Println("merged:", total.Sum())
	// Output:
	// flush 0: sum 512 at 22:13:20
	// flush 1: sum 2048 at 22:13:20
	// merged: 2560
}

// ExampleSet_Settled is a merger's clock: its own, set before it applies,
// and a snapshot time flush + grace behind it.
func ExampleSet_Settled() {
	t0 := time.Unix(1_700_000_000, 0).UTC()
	w, _ := window.New("requests", stat.KindCount, window.Options{})
	merger, _ := window.NewSet(w) // a ManualClock set
	c := new(stat.Count)
	c.Add(7)
	d := window.Delta{Name: "requests", Kind: stat.KindCount, Start: t0, Width: time.Second, Stat: c}

	err := merger.Apply(d)
	fmt.Println("before Advance:", errors.Is(err, window.ErrClock))
	_ = merger.Advance(t0.Add(3200 * time.Millisecond)) // the wall clock, each tick
	_ = merger.Apply(d)
	T := merger.Settled(time.Second + time.Second) // flush + grace
	var n stat.Count
	_ = merger.Window("requests").Read(T, time.Minute, &n)
	fmt.Println("snapshot at", T.Format(time.TimeOnly), "holds", n.Count())
	// Output:
	// before Advance: true
	// snapshot at 22:13:21 holds 7
}

// routerSet folds a few router lines through three definitions: 20
// requests in the second from 17:02:00, with service times of 10 to 200
// ms, two of them H12 timeouts.
func routerSet() *window.Set {
	defs := def.MustParse(`
name=router.requests kind=rate
name=router.H12      kind=rate where="proc=router code=H12"
name=router.service  kind=quantiles of=service q=0.5,0.99 where=proc=router
`, "example.defs")
	set, err := window.NewDefSet(defs, nil)
	if err != nil {
		panic(err)
	}
	var ev logfmt.Event
	for i := range 20 {
		line := fmt.Sprintf("<158>1 2026-03-14T17:02:00.%02dZ host heroku router - at=info service=%dms status=200", i*5, (i+1)*10)
		if i%10 == 9 {
			line = fmt.Sprintf("<158>1 2026-03-14T17:02:00.%02dZ host heroku router - at=error code=H12 service=30000ms status=503", i*5)
		}
		if err := logfmt.ParseLine([]byte(line), &ev); err != nil {
			panic(err)
		}
		set.Fold(&ev)
	}
	return set
}

func ExampleSnapshot_Number() {
	set := routerSet()
	snap, _ := set.Snapshot(set.End())

	n, _ := snap.Number("router.requests") // per window (1 min)
	h12, _ := snap.Number("router.H12")
	p99, _ := snap.Quantile("router.service", 0.99)
	fmt.Println(n, h12, p99)
	_, ok := snap.Number("router.service") // quantiles, not a number
	fmt.Println(ok)
	// Output:
	// 20 2 30000
	// false
}

// ExampleSet_Diff holds snapshots to each stat's stated bound: a snapshot
// and its JSON agree, and a count off by one is reported.
func ExampleSet_Diff() {
	set := routerSet()
	snap, _ := set.Snapshot(set.End())

	b, _ := json.Marshal(snap)
	var back window.Snapshot
	_ = json.Unmarshal(b, &back)
	fmt.Println(len(set.Diff(snap, back)), "differences with its JSON")

	want := window.Snapshot{Time: snap.Time, Stats: maps.Clone(snap.Stats)}
	want.Stats["router.H12"] = stat.Number(3)
	for _, d := range set.Diff(snap, want) {
		fmt.Println(d)
	}
	// Output:
	// 0 differences with its JSON
	// router.H12: 2 ≠ 3 (exact: off by 1)
}
