package pulse_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// Example folds a Logplex drain body through four definitions and reads
// the snapshot at the end of the last event's second.
func Example() {
	const drain = `277 <158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https
306 <158>1 2026-03-14T17:02:11.913004+00:00 host heroku router - at=info method=POST path="/api/cart" host=www.shop-example.com request_id=0c9e5d1a-77b2-4f0e-a5f3-91d2c8e4b6aa fwd="198.51.100.23,172.70.1.9" dyno=web.1 connect=0ms service=118ms status=201 bytes=742 protocol=http2.0 tls=true tls_version=tls1.3
295 <158>1 2026-03-14T17:02:42.000871+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=POST path="/checkout" host=www.shop-example.com request_id=b7a1f2c3-4d5e-4f60-8a9b-0c1d2e3f4a5b fwd="192.0.2.44" dyno=web.3 connect=0ms service=30000ms status=503 bytes=0 protocol=https
274 <158>1 2026-03-14T17:03:05.114220+00:00 host heroku router - at=error code=H10 desc="App crashed" method=GET path="/" host=shop-example.herokuapp.com request_id=3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9 fwd="203.0.113.99" dyno= connect= service= status=503 bytes= protocol=https
336 <45>1 2026-03-14T17:03:20.031581+00:00 host heroku web.1 - source=web.1 dyno=heroku.184512937.6d2c1b7e-3f4a-4b5c-9d8e-7f6a5b4c3d2e sample#memory_total=412.37MB sample#memory_rss=398.02MB sample#memory_cache=14.35MB sample#memory_swap=0.00MB sample#memory_pgpgin=153211pages sample#memory_pgpgout=49876pages sample#memory_quota=512.00MB
`
	defs, err := def.Parse(strings.NewReader(`
name=requests kind=rate window=5m where=proc=router
name=errors   kind=rate window=5m where="proc=router at=error"
name=service  kind=quantiles of=service q=0.5,0.99 window=5m where=proc=router
name=memory   kind=last-sum of=sample#memory_total by=source window=5m
`), "example.defs")
	if err != nil {
		panic(err)
	}
	set, err := window.NewDefSet(defs, nil)
	if err != nil {
		panic(err)
	}
	r := logfmt.NewReader(strings.NewReader(drain), nil)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			set.Unparsed(1) // a bad frame is counted, and reading goes on
			continue
		}
		set.Fold(ev)
	}
	snap, err := set.Snapshot(set.End()) // the end of the last event's second
	if err != nil {
		panic(err)
	}
	fmt.Println(snap.Time)
	for _, name := range []string{"requests", "errors", "service", "memory"} {
		fmt.Println(name, snap.Stats[name])
	}
	// Output:
	// 2026-03-14 17:03:21 +0000 UTC
	// requests 4
	// errors 2
	// service {"p50":118,"p99":30000}
	// memory 412.37
}
