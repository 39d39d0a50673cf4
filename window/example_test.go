package window_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulsehq/pulse/stat"
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
