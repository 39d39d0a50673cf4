package metrics_test

import (
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/metrics"
)

// BenchmarkAppend exposes a realistic snapshot (about 130 families), as
// each scrape does.
func BenchmarkAppend(b *testing.B) {
	defs, snap := realistic(b)
	e := metrics.New(defs)
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = e.Append(buf[:0], snap); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
}
