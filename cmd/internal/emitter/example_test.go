package emitter_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/emitter"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// An emitter sending one snapshot to a listener that stands in for
// Graphite's plaintext port.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	e, err := emitter.New(emitter.Config{URL: "tcp://" + ln.Addr().String()}, nil)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()

	e.Offer(window.Snapshot{
		Time: time.Date(2026, 3, 14, 17, 2, 1, 0, time.UTC),
		Stats: map[string]stat.Value{
			"router.requests":  stat.Number(412.5),
			"router.service":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}}),
			"router.hosts.top": stat.TopValue([]stat.TopValueEntry{{Key: "www.shop-example.com", Value: 31.5}}),
			"router.H12":       stat.Null(),
		},
	})

	c, err := ln.Accept()
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sc := bufio.NewScanner(c)
	for range 4 {
		sc.Scan()
		fmt.Println(sc.Text())
	}
	cancel()
	<-done
	// Output:
	// pulse.router.hosts.top.www_shop-example_com 31.5 1773507721
	// pulse.router.requests 412.5 1773507721
	// pulse.router.service.p50 18 1773507721
	// pulse.router.service.p99 412 1773507721
}
