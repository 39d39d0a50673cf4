package fragment

import (
	"fmt"
	"testing"

	"github.com/pulsehq/pulse/window"
)

// benchShapes are cuts of 200 stats of mixed kinds (the kinds in
// fillers): a receiver flushing every second typically holds one or two
// buckets per stat definition.
var benchShapes = []struct {
	name   string
	deltas func() []window.Delta
}{
	{"200stats=100names×2buckets", func() []window.Delta { return realisticDeltas(100, 2, 1) }},
	{"200stats=200names×1bucket", func() []window.Delta { return realisticDeltas(200, 1, 1) }},
	{"200stats=200unrelatednames×1bucket", func() []window.Delta { return unrelatedDeltas(200, 1, 1) }},
}

// overhead returns the encoded size minus the stats' own bytes, per
// fragment.
func overhead(b *Batch, encoded int) float64 {
	statBytes := 0
	for _, f := range b.Fragments {
		statBytes += len(f.Stat)
	}
	return float64(encoded-statBytes) / float64(len(b.Fragments))
}

func BenchmarkEncode(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(sh.name, func(b *testing.B) {
			batch := mustBatch(b, "web.1/4242/1700000000", 1<<20, t0, sh.deltas())
			buf, err := batch.AppendBinary(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = batch.AppendBinary(buf[:0])
			}
			b.ReportMetric(float64(len(buf)), "bytes/batch")
			b.ReportMetric(overhead(&batch, len(buf)), "overhead-B/frag")
		})
	}
}

// BenchmarkCutToBytes is the receiver's side: deltas → shard batches →
// bytes, for one shard.
func BenchmarkCutToBytes(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(sh.name, func(b *testing.B) {
			ds := sh.deltas()
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				bs, err := Batches("web.1", 1, t0, ds, 1)
				if err != nil {
					b.Fatal(err)
				}
				buf, _ = bs[0].AppendBinary(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(sh.name, func(b *testing.B) {
			batch := mustBatch(b, "web.1/4242/1700000000", 1<<20, t0, sh.deltas())
			data, err := batch.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			var got Batch
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := got.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes/batch")
		})
	}
}

// BenchmarkDecodeDeltas is the merger's side: bytes → batch → one decoded
// stat per fragment.
func BenchmarkDecodeDeltas(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(sh.name, func(b *testing.B) {
			batch := mustBatch(b, "web.1", 1, t0, sh.deltas())
			data, err := batch.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			var got Batch
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := got.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
				for _, f := range got.Fragments {
					if _, err := f.Delta(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkSeen(b *testing.B) {
	s := NewSeen(0)
	sources := make([]string, 64)
	for i := range sources {
		sources[i] = fmt.Sprintf("web.%d/4242/1700000000", i)
	}
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		seq++
		s.Add(sources[seq%64], seq/64)
	}
}
