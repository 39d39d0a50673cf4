package logfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// A logplex drain body: octet-counted frames, one with a wrong count, one
// with a damaged timestamp (as in logplex's own documentation) and one
// that is not a frame at all.
func ExampleReader() {
	body := "" +
		"93 <158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info service=43ms status=200\n" +
		"50 <45>1 2026-03-14T17:04:02.770133+00:00 host heroku worker.1 - Error R14 (Memory quota exceeded)\n" +
		"88 <134>1 2012-12-10T04:05:25Z+00:00 erlang t.d6799f88 console.1 - Logsplat test message 1\n" +
		"11 <999>1 bad\n" +
		"92 <158>1 2026-03-14T17:02:12.000001+00:00 host heroku router - at=info service=7ms status=304\n"
	r := logfmt.NewReader(strings.NewReader(body), nil)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, logfmt.ErrTime) {
			// Complete but for its time: keep it, or skip it as unparsed.
			fmt.Printf("no time in %q: %s/%s pairs=%d\n", ev.Timestamp, ev.App, ev.Proc, ev.Len())
			continue
		}
		var se *logfmt.SyntaxError
		if errors.As(err, &se) {
			fmt.Printf("skipped %q: %s\n", r.Raw(), se.Msg)
			continue
		}
		if err != nil {
			panic(err)
		}
		service, _ := ev.Number("service")
		fmt.Printf("%s %s/%s pairs=%d service=%gms\n", ev.Time.Format("15:04:05.000"), ev.App, ev.Proc, ev.Len(), service)
	}
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// 17:02:11.482 heroku/router pairs=3 service=43ms
	// 17:04:02.770 heroku/worker.1 pairs=5 service=0ms
	// no time in "2012-12-10T04:05:25Z+00:00": t.d6799f88/console.1 pairs=4
	// skipped "11 <999>1 bad": PRI is not 0 to 191 followed by '>'
	// 17:02:12.000 heroku/router pairs=3 service=7ms
	// {Events:3 Unparsed:2 BadTime:1 Mismatches:1 Bytes:395}
}

func ExampleParseLine() {
	var ev logfmt.Event
	err := logfmt.ParseLine([]byte(`2026-03-14T17:02:11.482113+00:00 heroku[router]: sock=client at=warning code=H27 desc="Client Request Interrupted" dyno= service=2207ms`), &ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Form, string(ev.App), string(ev.Proc))
	for p := range ev.Pairs() {
		fmt.Printf("%s=%q\n", p.Key, p.Value)
	}
	// Output:
	// heroku-logs heroku router
	// sock="client"
	// at="warning"
	// code="H27"
	// desc="Client Request Interrupted"
	// dyno=""
	// service="2207ms"
}

// The syslog form: the Dev Center's syslog-drain example as its article
// prints it, without PRI and VERSION, and a line as a syslog receiver
// writes it, with a tag.
func ExampleParseLine_syslog() {
	var ev logfmt.Event
	for _, line := range []string{
		"2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.",
		"2022-01-01T01:01:01.000000+00:00 d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc heroku[router] at=info status=200",
	} {
		if err := logfmt.ParseLine([]byte(line), &ev); err != nil {
			panic(err)
		}
		fmt.Printf("%s %s host=%s app=%s proc=%s msg=%q\n", ev.Form, ev.Time.Format(time.RFC3339), ev.Host, ev.App, ev.Proc, ev.Msg)
	}
	// Output:
	// syslog 2013-04-17T19:04:46Z host=d.1234-drain-identifier-567 app=heroku proc=logplex msg="Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00."
	// syslog 2022-01-01T01:01:01Z host=d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc app=heroku proc=router msg="at=info status=200"
}

func ExampleParseFrame() {
	var ev logfmt.Event
	err := logfmt.ParseFrame([]byte("<158>1 2026-03-14T17:02:11.482113+00:00 d.9173ea1f heroku router - - at=info bytes=5321\n"), &ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Priority, string(ev.Facility), string(ev.Severity), string(ev.Host), string(ev.StructuredData))
	fmt.Println(ev.Time)
	bytes, _ := ev.Number("bytes")
	fmt.Println(bytes)
	// Output:
	// 158 local3 info d.9173ea1f -
	// 2026-03-14 17:02:11.482113 +0000 UTC
	// 5321
}

func ExampleParseBody() {
	var ev logfmt.Event
	logfmt.ParseBody([]byte(`Process running mem=563M(110.0%) a=1 a=2`), &ev)
	for i := range ev.Len() {
		p := ev.Pair(i)
		fmt.Printf("%s %v %q\n", p.Key, p.Flag, p.Value)
	}
	a, _ := ev.Lookup("a")
	fmt.Println("a:", string(a))
	// Output:
	// Process true ""
	// running true ""
	// mem false "563M(110.0%)"
	// a false "1"
	// a false "2"
	// a: 2
}

// A body that is a JSON object, as log/slog's JSONHandler writes one, is
// read as fields: nested keys joined with dots, strings unquoted, numbers
// and booleans as written, null empty and arrays as their raw text.
func ExampleParseBody_json() {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.StringValue("2026-03-14T17:02:11.482113Z") // for a stable output
			}
			return a
		},
	}))
	logger.Error("charge failed",
		slog.Group("order", slog.String("id", "o_81723"), slog.Float64("total", 42.5)),
		slog.Bool("retry", false), slog.Any("err", nil), slog.Any("tags", []string{"eu", "card"}),
		slog.Duration("elapsed", 1500*time.Millisecond))

	var ev logfmt.Event
	logfmt.ParseBody(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), &ev)
	for p := range ev.Pairs() {
		fmt.Printf("%s=%s\n", p.Key, p.Value)
	}
	total, _ := ev.Number("order.total")
	fmt.Println("total:", total)
	// Output:
	// time=2026-03-14T17:02:11.482113Z
	// level=ERROR
	// msg=charge failed
	// order.id=o_81723
	// order.total=42.5
	// retry=false
	// err=
	// tags=["eu","card"]
	// elapsed=1500000000
	// total: 42.5
}

func ExampleParseNumber() {
	for _, v := range []string{"43ms", "2.5s", "250us", "412.37MB", "9831245312bytes", "110.0%", "web.1"} {
		n, ok := logfmt.ParseNumber([]byte(v))
		fmt.Println(v, n, ok)
	}
	// Output:
	// 43ms 43 true
	// 2.5s 2500 true
	// 250us 0.25 true
	// 412.37MB 412.37 true
	// 9831245312bytes 9.831245312e+09 true
	// 110.0% 110 true
	// web.1 0 false
}

func ExampleEvent_Header() {
	var ev logfmt.Event
	_ = logfmt.ParseLine([]byte("2011-10-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com key=value"), &ev)
	for _, name := range []string{"app", "proc", "slot", "instance", "cloud", "msgid"} {
		v, ok := ev.Header(name)
		fmt.Printf("%s=%s %v\n", name, v, ok)
	}
	// Output:
	// app=hermes true
	// proc=12345 true
	// slot=hermes true
	// instance=12 true
	// cloud=heroku.com true
	// msgid= false
}

// Building an event from a record that arrives as fields, as an
// OpenTelemetry log record does: header fields and attributes are copied
// into the event, and the message is read as a body would be in a drain
// frame. Pairs appended later override earlier ones of the same key.
func ExampleEvent_AppendBody() {
	msg := []byte(`at=info method=GET path="/api/orders" status=200 service=43ms`)
	var ev logfmt.Event // reused for every record
	ev.Reset()
	ev.Time = time.Date(2026, 3, 14, 17, 2, 11, 482113000, time.UTC)
	ev.SetHeader("app", "shop-example")
	ev.SetHeader("proc", "router")
	ev.AppendPairString("service.name", "shop-example")
	ev.AppendPairString("status", "0") // the body's status comes later, and wins
	ev.Msg = msg
	ev.AppendBody(msg)

	status, _ := ev.Number("status")
	service, _ := ev.Number("service")
	fmt.Printf("%s/%s at %s: status=%g service=%gms pairs=%d\n",
		ev.App, ev.Proc, ev.Time.Format(time.TimeOnly), status, service, ev.Len())
	// Output:
	// shop-example/router at 17:02:11: status=200 service=43ms pairs=7
}
