package fragment_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// Example is the common path, one call each way: a receiver's Sender cuts
// its set into a batch per merger shard, and a merger's Applier applies
// each batch once.
func Example() {
	t0 := time.Unix(1_700_000_000, 0)
	mkSet := func() *window.Set {
		req, _ := window.New("router.requests", stat.KindCount, window.Options{})
		byt, _ := window.New("router.bytes", stat.KindSum, window.Options{})
		s, _ := window.NewSet(req, byt) // a manual clock
		return s
	}
	recv, merger := mkSet(), mkSet()
	_ = recv.Advance(t0)

	// Receiver: fold, then at the flush one call cuts, encodes and
	// advances the set's clock.
	recv.Window("router.requests").At(t0).(*stat.Count).Add(42)
	recv.Window("router.bytes").At(t0).(*stat.Sum).Observe(8192)
	sender := fragment.NewSender("web.1/4242/1700000000", 1, nil)
	batches, _ := sender.Cut(recv, t0.Add(time.Second), nil)

	// Merger: its own clock first, then one call per batch.
	applier := fragment.NewApplier(merger, nil, nil)
	if _, err := applier.Apply(batches[0]); errors.Is(err, window.ErrClock) {
		fmt.Println("no clock yet:", errors.Is(err, fragment.ErrApply))
	}
	_ = merger.Advance(t0.Add(time.Second))
	for range 2 { // the transport delivers twice
		res, _ := applier.Apply(batches[0])
		fmt.Printf("seq %d: %d applied, duplicate %v\n", res.Seq, res.Applied, res.Duplicate)
	}
	var n stat.Count
	_ = merger.Window("router.requests").Read(t0.Add(time.Second), time.Second, &n)
	fmt.Println(n.Count(), "requests merged")
	// Output:
	// no clock yet: true
	// seq 1: 2 applied, duplicate false
	// seq 1: 0 applied, duplicate true
	// 42 requests merged
}

// ExampleBatches follows a cut through the steps underneath Sender and
// Applier: shard, encode, decode, dedupe, apply.
func ExampleBatches() {
	t0 := time.Unix(1_700_000_000, 0)
	mkSet := func() *window.Set {
		req, _ := window.New("router.requests", stat.KindCount, window.Options{})
		byt, _ := window.New("router.bytes", stat.KindSum, window.Options{})
		s, _ := window.NewSet(req, byt)
		_ = s.Advance(t0)
		return s
	}
	recv, merger := mkSet(), mkSet()

	// Receiver: fold, cut, one batch per merger shard (one shard here).
	recv.Window("router.requests").At(t0).(*stat.Count).Add(42)
	recv.Window("router.bytes").At(t0).(*stat.Sum).Observe(8192)
	batches, _ := fragment.Batches("web.1/4242/1700000000", 1, t0, recv.Cut(nil), 1)
	wire, _ := batches[0].MarshalBinary()

	// Merger: decode, drop a redelivery, apply.
	var seen fragment.Seen
	for range 2 { // the transport delivers twice
		var b fragment.Batch
		if err := b.UnmarshalBinary(wire); err != nil {
			fmt.Println(err)
			return
		}
		if !seen.Add(b.Source, b.Seq) {
			fmt.Println("dropped a duplicate of seq", b.Seq)
			continue
		}
		for _, f := range b.Fragments {
			d, _ := f.Delta()
			_ = merger.Apply(d)
		}
	}
	var n stat.Count
	_ = merger.Window("router.requests").Read(t0.Add(time.Second), time.Second, &n)
	fmt.Println(n.Count(), "requests merged")
	// Output:
	// dropped a duplicate of seq 1
	// 42 requests merged
}

func ExampleShard() {
	for _, name := range []string{"router.requests", "router.bytes", "router.service.p95"} {
		fmt.Println(name, "→ shard", fragment.Shard(name, 4))
	}
	// Output:
	// router.requests → shard 0
	// router.bytes → shard 1
	// router.service.p95 → shard 1
}

func ExampleBatch_UnmarshalBinary() {
	var b fragment.Batch
	err := b.UnmarshalBinary([]byte("PLSB\x02\x00\x00\x00\x00\x00\x00"))
	fmt.Println(err)
	// Output: fragment: format version 2, want 1: unknown format version
}
