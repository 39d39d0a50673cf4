package otlp

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// Drain frames (HEROKU-LOGS.md §3.9) and the OTLP records that say the
// same: the frame's HOSTNAME, APP-NAME and PROCID as host.name,
// service.name and service.instance.id, its time, its severity as the
// severity number of the same level, its message as a string body.
var equivalent = []struct {
	frame string
	sev   logspb.SeverityNumber
}{
	{"277 <158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path=\"/api/orders?page=2\" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd=\"203.0.113.7\" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO},
	{"295 <158>1 2026-03-14T17:02:42.000871+00:00 host heroku router - at=error code=H12 desc=\"Request timeout\" method=POST path=\"/checkout\" host=www.shop-example.com request_id=b7a1f2c3-4d5e-4f60-8a9b-0c1d2e3f4a5b fwd=\"192.0.2.44\" dyno=web.3 connect=0ms service=30000ms status=503 bytes=0 protocol=https\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO},
	{"96 <45>1 2026-03-14T17:04:02.771050+00:00 host heroku worker.1 - Error R14 (Memory quota exceeded)\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO4},
	{"176 <190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - at=info fn=list_orders count#orders.listed=1 measure#db.query=12.4ms sample#pool.busy=3 unique#orders.customer=c_81723\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO},
	{"99 <134>1 2026-03-14T16:58:02.551367+00:00 host app api - Release v42 created by user dev@example.com\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO2},
	{"98 <45>1 2026-03-14T17:06:30.885214+00:00 host heroku web.4 - State changed from starting to crashed\n", logspb.SeverityNumber_SEVERITY_NUMBER_INFO},
}

var sameSecond = regexp.MustCompile(`T\d\d:\d\d:\d\d`)

// equivalentRequest turns the frames into one request: a resource per
// frame, each record's body the frame's message.
func equivalentRequest(t testing.TB) (frames string, req []byte) {
	var rls []*logspb.ResourceLogs
	var ev logfmt.Event
	for _, e := range equivalent {
		// Every frame in one second, so that one snapshot holds them all.
		frame := sameSecond.ReplaceAllString(e.frame, "T17:02:11")
		frames += frame
		require.NoError(t, logfmt.ParseFrame([]byte(strings.TrimSuffix(frame, "\n")), &ev))
		rec := record(ev.Time, str(string(ev.Msg)))
		rec.SeverityNumber = e.sev
		if string(ev.Severity) == "notice" {
			rec.SeverityText = "notice" // no severity number maps to it
		}
		rls = append(rls, resourceLogs(kvs("host.name", string(ev.Host), "service.name", string(ev.App), "service.instance.id", string(ev.Proc)),
			scopeLogs("", rec)))
	}
	return frames, marshalProto(t, exportRequest(rls...))
}

// An OTLP record and the equivalent drain frame give the same event: the
// same header fields, time, severity and message, and the frame's pairs
// after the resource's attributes.
func TestDrainEquivalentEvent(t *testing.T) {
	frames, body := equivalentRequest(t)
	h, q, _ := newHandler(Config{}, input.QueueConfig{})
	require.Equal(t, 200, post(h, body, "Content-Type", ctProto).Code)
	got := drainEvents(t, q)

	rd := logfmt.NewReader(strings.NewReader(frames), nil)
	for i := range equivalent {
		ev, err := rd.Next()
		require.NoError(t, err)
		want := flatten(ev)
		want.Pairs = append([]string{"host.name=" + want.Host, "service.name=" + want.App, "service.instance.id=" + want.Proc}, want.Pairs...)
		assert.Equal(t, want, got[i], "frame %d", i)
	}
}

// ...and the same stats, over the whole default Heroku set.
func TestDrainEquivalentStats(t *testing.T) {
	frames, body := equivalentRequest(t)
	fold := func(events func(yield func(*logfmt.Event) bool)) window.Snapshot {
		set, err := window.NewDefSet(def.Heroku(), nil)
		require.NoError(t, err)
		for ev := range events {
			set.Fold(ev)
		}
		snap, err := set.Snapshot(set.End())
		require.NoError(t, err)
		return snap
	}
	drain := fold(func(yield func(*logfmt.Event) bool) {
		rd := logfmt.NewReader(strings.NewReader(frames), nil)
		for {
			ev, err := rd.Next()
			if err != nil {
				return
			}
			if !yield(ev) {
				return
			}
		}
	})
	h, q, _ := newHandler(Config{}, input.QueueConfig{})
	require.Equal(t, 200, post(h, body, "Content-Type", ctProto).Code)
	j, ok := q.TryGet()
	require.True(t, ok)
	var m Mapper
	otlp := fold(m.Events(j.Batch.(*Batch), j.Arrival))
	assert.Equal(t, drain, otlp)
	// The snapshot holds what the frames make, not only zeros.
	for _, name := range []string{"router.requests", "router.H12", "dyno.R14", "dyno.crashes", "releases", "l2met.orders.listed"} {
		v, ok := drain.Number(name)
		assert.True(t, ok && v > 0, "%s = %v", name, v)
	}
}

func TestMapperHeader(t *testing.T) {
	at := time.Unix(1773507731, 0).UTC()
	tests := []struct {
		name            string
		res             []*commonpb.KeyValue
		rec             *logspb.LogRecord
		app, proc, host string
		sev             string
		time            time.Time
	}{
		{"service attributes", kvs("service.name", "shop", "service.instance.id", "web.1", "host.name", "h1"),
			&logspb.LogRecord{TimeUnixNano: uint64(at.UnixNano())}, "shop", "web.1", "h1", "", at},
		{"heroku names first", kvs("service.name", "svc", "heroku.app.name", "shop", "service.instance.id", "x", "heroku.process.type", "web"),
			&logspb.LogRecord{TimeUnixNano: uint64(at.UnixNano())}, "shop", "web", "", "", at},
		{"record wins over resource", kvs("service.name", "shop", "heroku.dyno.name", "web.1"),
			&logspb.LogRecord{TimeUnixNano: uint64(at.UnixNano()), Attributes: kvs("heroku.dyno.name", "router", "service.name", "other")},
			"other", "router", "", "", at},
		{"record's lesser name does not beat its better one", nil,
			&logspb.LogRecord{TimeUnixNano: uint64(at.UnixNano()), Attributes: kvs("heroku.dyno", "a", "service.instance.id", "b")},
			"", "a", "", "", at},
		{"non-string attribute is not a header", nil,
			&logspb.LogRecord{TimeUnixNano: uint64(at.UnixNano()), Attributes: []*commonpb.KeyValue{kv("service.name", &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}})}},
			"", "", "", "", at},
		{"severity text", nil, &logspb.LogRecord{ObservedTimeUnixNano: uint64(at.UnixNano()), SeverityText: "WARN", SeverityNumber: 13}, "", "", "", "WARN", at},
		{"severity number trace", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 1}, "", "", "", "debug", time.Unix(0, 1).UTC()},
		{"severity number debug4", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 8}, "", "", "", "debug", time.Unix(0, 1).UTC()},
		{"severity number info", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 9}, "", "", "", "info", time.Unix(0, 1).UTC()},
		{"severity number warn", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 16}, "", "", "", "warning", time.Unix(0, 1).UTC()},
		{"severity number error", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 17}, "", "", "", "err", time.Unix(0, 1).UTC()},
		{"severity number fatal", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 24}, "", "", "", "crit", time.Unix(0, 1).UTC()},
		{"severity number unknown", nil, &logspb.LogRecord{TimeUnixNano: 1, SeverityNumber: 25}, "", "", "", "", time.Unix(0, 1).UTC()},
		{"time wins over observed time", nil, &logspb.LogRecord{TimeUnixNano: 5, ObservedTimeUnixNano: 7}, "", "", "", "", time.Unix(0, 5).UTC()},
	}
	arrival := time.Unix(1800000000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Batch{Logs: &logspb.LogsData{ResourceLogs: []*logspb.ResourceLogs{resourceLogs(tt.res, scopeLogs("", tt.rec))}}, Records: 1}
			var m Mapper
			n := 0
			for ev := range m.Events(b, arrival) {
				n++
				f := flatten(ev)
				assert.Equal(t, tt.app, f.App)
				assert.Equal(t, tt.proc, f.Proc)
				assert.Equal(t, tt.host, f.Host)
				assert.Equal(t, tt.sev, f.Sev)
				assert.Equal(t, tt.time, f.Time)
			}
			assert.Equal(t, 1, n)
		})
	}
}

func TestAppendText(t *testing.T) {
	arr := func(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
	}
	i := func(n int64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}
	}
	d := func(f float64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
	}
	bo := &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}
	by := &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0, 1, 0xfe}}}
	f := func(v *commonpb.AnyValue, want string) {
		t.Helper()
		assert.Equal(t, want, string(appendText(nil, v, 0)))
	}
	f(nil, "")
	f(&commonpb.AnyValue{}, "")
	f(str("a b"), "a b")
	f(i(-42), "-42")
	f(d(1.5), "1.5")
	f(d(1e21), "1e+21")
	f(bo, "true")
	f(by, "AAH+")
	f(arr(), "[]")
	f(arr(str("a\"\n\x01é"), i(1), d(math.NaN()), d(math.Inf(-1)), bo, by, nil, &commonpb.AnyValue{}), `["a\"\n\u0001é",1,"NaN","-Inf",true,"AAH+",null,null]`)
	f(kvlist(), "{}")
	f(kvlist(kv("a", arr(i(1))), kv("b", kvlist(kv("c", str("d"))))), `{"a":[1],"b":{"c":"d"}}`)
	deep := str("x")
	for range MaxDepth + 3 {
		deep = arr(deep)
	}
	assert.Contains(t, string(appendText(nil, deep, 0)), "null", "nesting past MaxDepth is cut")
}

// Map values become one pair per member, nested keys joined with dots.
func TestMapperMaps(t *testing.T) {
	rec := record(t0, kvlist(
		kv("msg", str("hi")),
		kv("req", kvlist(kv("method", str("GET")), kv("headers", kvlist(kv("host", str("h")))), kv("empty", kvlist()))),
	), kv("attr", kvlist(kv("a", str("1")), kv("b", kvlist(kv("c", &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{}}))))))
	b := &Batch{Logs: &logspb.LogsData{ResourceLogs: []*logspb.ResourceLogs{resourceLogs(
		[]*commonpb.KeyValue{kv("res", kvlist(kv("x", str("y"))))}, scopeLogs("", rec))}}, Records: 1}
	var m Mapper
	for ev := range m.Events(b, time.Time{}) {
		assert.Equal(t, []string{"res.x=y", "attr.a=1", "attr.b.c=false", "msg=hi", "req.method=GET", "req.headers.host=h", "req.empty={}"}, flatten(ev).Pairs)
		assert.Nil(t, ev.Msg)
		v, ok := ev.Lookup("req.headers.host")
		assert.True(t, ok)
		assert.Equal(t, "h", string(v))
	}
}

func TestMapperAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	_, body := equivalentRequest(t)
	logs, err := decode(body, encProto)
	require.NoError(t, err)
	b := &Batch{Logs: logs, Records: validate(logs).records}
	var m Mapper
	var n int
	run := func() {
		for ev := range m.Events(b, t0) {
			n += ev.Len()
		}
	}
	run()
	assert.LessOrEqual(t, testing.AllocsPerRun(100, run), 1.0, "at most the iterator, per batch")
}
