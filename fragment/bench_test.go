package fragment

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat/def"
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

// receiverBatches folds one second of generated traffic (about 1000
// lines) into each of n receivers of the default stat set and cuts each
// through a Sender to shards shards: what a merger fleet receives in a
// second. It returns the batches by shard.
func receiverBatches(b *testing.B, n, shards int) (start time.Time, byShard [][][]byte) {
	start = time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)
	byShard = make([][][]byte, shards)
	for r := range n {
		var traffic bytes.Buffer
		g := logfmttest.New(logfmttest.Options{Seed: uint64(r + 1), Start: start})
		if _, err := g.WriteFor(&traffic, time.Second); err != nil {
			b.Fatal(err)
		}
		set, err := window.NewDefSet(def.Heroku(), &window.SetOptions{Clock: window.ManualClock})
		if err != nil {
			b.Fatal(err)
		}
		if err := set.Advance(start); err != nil {
			b.Fatal(err)
		}
		rd := logfmt.NewReader(&traffic, nil)
		for {
			ev, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err == nil {
				set.Fold(ev)
			}
		}
		out, err := NewSender(fmt.Sprintf("web.%d/42/1700000000", r), shards, nil).Cut(set, start.Add(time.Second), nil)
		if err != nil {
			b.Fatal(err)
		}
		for sh := range out {
			byShard[sh] = append(byShard[sh], out[sh])
		}
	}
	return start, byShard
}

// BenchmarkApplySecond is a merger's work for one second: applying the
// batches of 16 receivers of the default stat set, all into one merger
// (one shard holds every stat, the worst case). The live system's target
// is under 10 ms of CPU: cpu-ns/op is the process's CPU time per op.
func BenchmarkApplySecond(b *testing.B) {
	start, byShard := receiverBatches(b, 16, 1)
	batches := byShard[0]
	size, frags := 0, 0
	for _, wire := range batches {
		size += len(wire)
		var bt Batch
		if err := bt.UnmarshalBinary(wire); err != nil {
			b.Fatal(err)
		}
		frags += len(bt.Fragments)
	}
	merger, err := window.NewDefSet(def.Heroku(), &window.SetOptions{Clock: window.ManualClock})
	if err != nil {
		b.Fatal(err)
	}
	if err := merger.Advance(start.Add(2 * time.Second)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0, cpuOK := processCPU()
	n := 0
	for b.Loop() {
		a := NewApplier(merger, nil, nil) // a fresh Seen: the same batches again are new
		for _, wire := range batches {
			if _, err := a.Apply(wire); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	if cpu1, ok := processCPU(); ok && cpuOK && n > 0 {
		// CPU time, GC included, per op: the target's measure, and steady
		// on a loaded machine where ns/op is not.
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
	b.ReportMetric(float64(len(batches)), "batches/op")
	b.ReportMetric(float64(frags), "fragments/op")
}
