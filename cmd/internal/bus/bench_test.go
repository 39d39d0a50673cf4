package bus_test

import (
	"math/rand/v2"
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/bus"
)

// benchmarkRoundTrip publishes a 16 KiB batch and reads it back, as a
// receiver and its merger do once per flush.
func benchmarkRoundTrip(b *testing.B, bs bus.Bus) {
	ctx := b.Context()
	batch := make([]byte, 16<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range batch {
		batch[i] = byte(rng.Uint32())
	}
	after := bus.Start
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := bs.PublishBatch(ctx, 0, batch); err != nil {
			b.Fatal(err)
		}
		msgs, err := bs.ReadBatches(ctx, 0, after, 1, 0)
		if err != nil || len(msgs) != 1 || len(msgs[0].Data) != len(batch) {
			b.Fatalf("read %d messages: %v", len(msgs), err)
		}
		after = msgs[0].ID
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("bus=memory", func(b *testing.B) {
		m, err := bus.NewMemory(bus.MemoryOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		benchmarkRoundTrip(b, m)
	})
	b.Run("bus=redis", func(b *testing.B) {
		benchmarkRoundTrip(b, newRedis(b, sharedRedis(b), bus.RedisOptions{}))
	})
}
