package logfmttest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

func Example() {
	g := logfmttest.New(logfmttest.Options{Seed: 1, Format: logfmttest.Lines})
	var line []byte
	for range 3 {
		line, _ = g.Next(line[:0])
		os.Stdout.Write(line)
	}
	// Output:
	// <158>1 2026-03-14T17:00:00.000882+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=www.silentforest.com request_id=e49c1933-2dab-4297-9032-b025710f8b73 fwd="173.179.117.2" dyno=web.5 connect=0ms service=114ms status=200 bytes=6652 protocol=https
	// <190>1 2026-03-14T17:00:00.004225+00:00 host app web.2 - time=2026-03-14T17:00:00.004Z level=INFO msg=request method=GET path=/assets/application-9b2d77c4.js status=200 duration=4.1ms
	// <190>1 2026-03-14T17:00:00.005360+00:00 host app web.1 - at=info fn=login count#login.calls=1 measure#db.query=9.0ms sample#pool.busy=5
}

// A minute of drain traffic for a test, and a look at what is in it.
func ExampleGenerator_WriteFor() {
	g := logfmttest.New(logfmttest.Options{Seed: 1, Rate: 100})
	var body bytes.Buffer
	if _, err := g.WriteFor(&body, time.Minute); err != nil {
		panic(err)
	}
	router, metrics := 0, 0
	sc := bufio.NewScanner(&body)
	for sc.Scan() {
		switch l := sc.Text(); {
		case strings.Contains(l, " heroku router - "):
			router++
		case strings.Contains(l, "sample#load_avg_1m="):
			metrics++
		}
	}
	fmt.Println("router lines:", router)
	fmt.Println("load samples:", metrics)
	// Output:
	// router lines: 3660
	// load samples: 168
}

// Next appends one drain frame at a time; the octet count covers the
// message and its trailing LF, as Logplex counts it.
func ExampleGenerator_Next() {
	g := logfmttest.New(logfmttest.Options{Seed: 42, Rate: 10, Apps: 3})
	frame, at := g.Next(nil)
	count, msg, _ := strings.Cut(string(frame), " ")
	fmt.Println(at.Format(time.RFC3339Nano))
	fmt.Println(count, len(msg))
	fmt.Print(msg[:60], "…\n")
	// Output:
	// 2026-03-14T17:00:00.015323Z
	// 204 204
	// <45>1 2026-03-14T17:00:00.015323+00:00 host heroku web.6 - s…
}
