package otlp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// benchTraffic returns n frames of the generator's Heroku traffic as a
// drain body, and the same lines as an OTLP request: one resource per
// source (HOSTNAME, APP-NAME and PROCID as host.name, service.name and
// service.instance.id, with the three more attributes a Fir resource
// carries), each record's body the frame's message, its time the frame's.
func benchTraffic(n int, start time.Time) (drain []byte, req *collogspb.ExportLogsServiceRequest) {
	g := logfmttest.New(logfmttest.Options{Seed: 1, Start: start})
	req = &collogspb.ExportLogsServiceRequest{}
	bySource := map[string]*logspb.ScopeLogs{}
	var ev logfmt.Event
	for range n {
		start := len(drain)
		drain, _ = g.Next(drain)
		frame := strings.TrimSuffix(string(drain[start:]), "\n")
		if err := logfmt.ParseFrame([]byte(frame), &ev); err != nil {
			panic(err)
		}
		source := string(ev.Host) + " " + string(ev.App) + " " + string(ev.Proc)
		sl := bySource[source]
		if sl == nil {
			sl = &logspb.ScopeLogs{}
			bySource[source] = sl
			req.ResourceLogs = append(req.ResourceLogs, resourceLogs(kvs(
				"host.name", string(ev.Host), "service.name", string(ev.App), "service.instance.id", string(ev.Proc),
				"cloud.provider", "heroku", "heroku.app.id", "2daa2797-e42b-4624-9322-ec3f968df4da", "service.version", "v42"),
				sl))
		}
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			TimeUnixNano:   uint64(ev.Time.UnixNano()),
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
			Body:           &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(ev.Msg)}},
		})
	}
	return drain, req
}

// benchRequest is benchTraffic's OTLP request alone.
func benchRequest(n int, start time.Time) *collogspb.ExportLogsServiceRequest {
	_, req := benchTraffic(n, start)
	return req
}

// benchBody is a request body that can be read again.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkIngest measures records folded per second through each input,
// request to window set, as a receiver does it: the handler reads and
// queues the request, and a worker takes the job and folds its events
// into a set of the default Heroku definitions. "drain" posts 100
// generated frames as a logplex body; "otlp" posts the same 100 lines
// as one protobuf ExportLogsServiceRequest (and "otlp-gzip" gzipped),
// each record's body the frame's message.
func BenchmarkIngest(b *testing.B) {
	const records = 100
	drainBody, req := benchTraffic(records, logfmttest.DefaultStart)
	protoBody := marshalProto(b, req)
	for _, tc := range []struct {
		name    string
		body    []byte
		headers []string
		handler func(*input.Queue) http.Handler
	}{
		{"drain", drainBody, []string{"Content-Type", "application/logplex-1", "Logplex-Msg-Count", "100"},
			func(q *input.Queue) http.Handler {
				return input.NewDrainHandler(input.DrainConfig{}, q, new(input.Stats), nil)
			}},
		{"otlp", protoBody, []string{"Content-Type", ctProto},
			func(q *input.Queue) http.Handler { return NewHandler(Config{}, q, new(Stats), nil) }},
		{"otlp-gzip", gz(b, protoBody), []string{"Content-Type", ctProto, "Content-Encoding", "gzip"},
			func(q *input.Queue) http.Handler { return NewHandler(Config{}, q, new(Stats), nil) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := input.NewQueue(input.QueueConfig{})
			h := tc.handler(q)
			set, err := window.NewDefSet(def.Heroku(), nil)
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			for i := 0; i+1 < len(tc.headers); i += 2 {
				r.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			rb := &benchBody{}
			r.Body = rb
			r.ContentLength = int64(len(tc.body))
			w := &benchWriter{h: http.Header{}}
			rd := logfmt.NewReader(nil, nil)
			var br bytes.Reader
			var m Mapper
			folded := 0
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.body)))
			cpu0, cpuOK := processCPU()
			for b.Loop() {
				rb.Reset(tc.body)
				clear(w.h)
				h.ServeHTTP(w, r)
				j, ok := q.TryGet()
				if !ok {
					b.Fatalf("nothing queued: %d", w.code)
				}
				if batch, ok := j.Batch.(*Batch); ok {
					for ev := range m.Events(batch, j.Arrival) {
						set.Fold(ev)
						folded++
					}
				} else {
					br.Reset(j.Data)
					rd.Reset(&br)
					for {
						ev, err := rd.Next()
						if err == io.EOF {
							break
						}
						if err == nil {
							set.Fold(ev)
							folded++
						}
					}
				}
				j.Release()
			}
			if folded != records*b.N {
				b.Fatalf("folded %d records, want %d", folded, records*b.N)
			}
			b.ReportMetric(float64(folded)/b.Elapsed().Seconds(), "records/s")
			if cpu1, ok := processCPU(); ok && cpuOK {
				// Process CPU, the collector's included.
				b.ReportMetric(float64(folded)/(float64(cpu1-cpu0)/1e9), "records/cpu-s")
			}
		})
	}
}

// BenchmarkDecode is the handler's share alone: decode and validate 100
// records.
func BenchmarkDecode(b *testing.B) {
	body := marshalProto(b, benchRequest(100, logfmttest.DefaultStart))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		logs, err := decode(body, encProto)
		if err != nil {
			b.Fatal(err)
		}
		validate(logs)
	}
}

// BenchmarkMapper is the worker's share before folding: 100 records to
// events.
func BenchmarkMapper(b *testing.B) {
	logs, err := decode(marshalProto(b, benchRequest(100, logfmttest.DefaultStart)), encProto)
	if err != nil {
		b.Fatal(err)
	}
	batch := &Batch{Logs: logs, Records: validate(logs).records}
	var m Mapper
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for ev := range m.Events(batch, time.Time{}) {
			n += ev.Len()
		}
	}
}

// BenchmarkFold folds 100 events into a set of the default definitions:
// the drain's as the reader gives them, and the same lines as OTLP
// records, which carry their resource's attributes as pairs too.
func BenchmarkFold(b *testing.B) {
	drainBody, req := benchTraffic(100, logfmttest.DefaultStart)
	logs, err := decode(marshalProto(b, req), encProto)
	if err != nil {
		b.Fatal(err)
	}
	batch := &Batch{Logs: logs, Records: validate(logs).records}
	b.Run("drain", func(b *testing.B) {
		set, _ := window.NewDefSet(def.Heroku(), nil)
		rd := logfmt.NewReader(nil, nil)
		var br bytes.Reader
		for b.Loop() {
			br.Reset(drainBody)
			rd.Reset(&br)
			for {
				ev, err := rd.Next()
				if err != nil {
					break
				}
				set.Fold(ev)
			}
		}
	})
	b.Run("otlp", func(b *testing.B) {
		set, _ := window.NewDefSet(def.Heroku(), nil)
		var m Mapper
		for b.Loop() {
			for ev := range m.Events(batch, time.Time{}) {
				set.Fold(ev)
			}
		}
	})
}
