//go:build unix

package receiver

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/benchdrain"
	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/replay"
	"github.com/pulsehq/pulse/window"
)

// benchBus is a bus that takes every batch and keeps none.
type benchBus struct{}

func (benchBus) PublishBatch(context.Context, int, []byte) error { return nil }

// benchProcessCPU returns the CPU time (user and system) the process has used:
// the shared machine's other jobs inflate wall time, much less this.
func benchProcessCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchReportCPU reports events/s and the process's CPU time per event since
// cpu0, garbage collection included.
func benchReportCPU(b *testing.B, cpu0 time.Duration, events int) {
	cpu := benchProcessCPU(b) - cpu0
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
}

// BenchmarkFold is a worker's path with the default set, on the bodies
// pulse bench drain posts (100 bodies of 100 frames from the generator,
// starting now). One op is one body: copied into a pooled buffer as the
// drain handler reads it, queued, taken and folded as one job, with a cut
// every 2000 bodies (200 000 events: a flush a second at 200 000
// events/s). The "replay" row folds the same frames through one reader
// into a set of its own, as pulse replay does, so the difference between
// the rows is what a job costs beyond the fold. Both report the process's
// CPU time per event (cpu-ns/event), which the machine's other jobs
// inflate far less than wall time.
func BenchmarkFold(b *testing.B) {
	d, err := defs.Load("")
	if err != nil {
		b.Fatal(err)
	}
	bodies := benchdrain.Bodies(benchdrain.Config{Seed: 1})
	const frames = benchdrain.DefaultFrames

	b.Run("worker", func(b *testing.B) {
		r, err := New(Config{Defs: d}, benchBus{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		go func() { // the publisher takes the cuts
			for range r.pub.q {
			}
		}()
		defer close(r.pub.q)
		w := r.ws[0]
		_ = w.set.Advance(time.Now())
		b.ReportAllocs()
		cpu0 := benchProcessCPU(b)
		i := 0
		for b.Loop() {
			body := bodies[i%len(bodies)]
			j := input.NewJob(input.InputDrain, body)
			j.MsgCount = frames
			if !r.q.TryPut(j) {
				b.Fatal("queue full")
			}
			j, _ = r.q.TryGet()
			w.fold(j)
			if i++; i%2000 == 0 {
				w.cut(time.Now())
			}
		}
		benchReportCPU(b, cpu0, b.N*frames)
	})

	b.Run("replay", func(b *testing.B) {
		set, err := window.NewDefSet(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		rp := replay.Replayer{Set: set}
		stream := bytes.Join(bodies, nil)
		var rd bytes.Reader
		ctx := context.Background()
		b.ReportAllocs()
		cpu0 := benchProcessCPU(b)
		for b.Loop() { // one op: every body, through one reader
			rd.Reset(stream)
			if err := rp.Fold(ctx, &rd); err != nil {
				b.Fatal(err)
			}
		}
		benchReportCPU(b, cpu0, b.N*len(bodies)*frames)
	})
}
