package stat_test

import (
	"fmt"
	"time"

	"github.com/pulsehq/pulse/stat"
)

func ExampleCount() {
	var a, b stat.Count // zero values are ready
	for range 30 {
		a.Observe()
	}
	b.Add(15)
	_ = a.Merge(&b)
	fmt.Println(a.Count(), a.Rate(10*time.Second, time.Second))
	// Output: 45 4.5
}

func ExampleSum() {
	var s stat.Sum
	for _, bytes := range []float64{5321, 742, 0, 4096} {
		s.Observe(bytes)
	}
	fmt.Println(s.Sum(), s.Rate(time.Minute, time.Second))
	// Output: 10159 169.31666666666666
}

func ExampleTopK() {
	var a, b stat.TopK // zero values are ready: k 10, capacity 100
	for _, path := range []string{"/", "/login", "/", "/api", "/", "/api"} {
		a.ObserveKey([]byte(path))
	}
	b.Add([]byte("/login"), 4)
	_ = a.Merge(&b)
	for path, n := range a.Top() {
		fmt.Println(path, n)
	}
	fmt.Println("n", a.N(), "max error", a.MaxError())
	// Output:
	// /login 5
	// / 3
	// /api 2
	// n 10 max error 0
}

func ExampleNewTopK() {
	// A stream with more keys than the capacity 3: counts may
	// overestimate, by at most Err each. d replaced c and inherited its 1.
	tk, err := stat.NewTopK(stat.TopKConfig{K: 3, Capacity: 3})
	if err != nil {
		panic(err)
	}
	for _, k := range []string{"a", "b", "a", "c", "a", "d", "b", "a"} {
		tk.ObserveKey([]byte(k))
	}
	for _, e := range tk.Entries() {
		fmt.Printf("%s %d (true count ≥ %d)\n", e.Key, e.Count, e.Count-e.Err)
	}
	_, err = stat.NewTopK(stat.TopKConfig{Capacity: 1e9})
	fmt.Println(err)
	// Output:
	// a 4 (true count ≥ 4)
	// b 2 (true count ≥ 2)
	// d 2 (true count ≥ 1)
	// stat: new topk: capacity 1000000000 outside [k=10, 65536]: beyond limit
}
