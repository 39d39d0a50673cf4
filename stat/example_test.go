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
