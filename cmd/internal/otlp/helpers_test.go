package otlp

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Builders of requests with the official generated types.

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: v}
}

func kvs(pairs ...string) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, kv(pairs[i], str(pairs[i+1])))
	}
	return out
}

func kvlist(members ...*commonpb.KeyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: members}}}
}

func resourceLogs(attrs []*commonpb.KeyValue, scopes ...*logspb.ScopeLogs) *logspb.ResourceLogs {
	return &logspb.ResourceLogs{Resource: &resourcepb.Resource{Attributes: attrs}, ScopeLogs: scopes}
}

func scopeLogs(name string, recs ...*logspb.LogRecord) *logspb.ScopeLogs {
	return &logspb.ScopeLogs{Scope: &commonpb.InstrumentationScope{Name: name}, LogRecords: recs}
}

func record(t time.Time, body *commonpb.AnyValue, attrs ...*commonpb.KeyValue) *logspb.LogRecord {
	r := &logspb.LogRecord{Body: body, Attributes: attrs}
	if !t.IsZero() {
		r.TimeUnixNano = uint64(t.UnixNano())
	}
	return r
}

func exportRequest(rls ...*logspb.ResourceLogs) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: rls}
}

func marshalProto(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

func marshalJSON(t testing.TB, m proto.Message) []byte {
	b, err := protojson.Marshal(m)
	require.NoError(t, err)
	return b
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// post sends body to h and returns the recorded answer. headers are
// name, value pairs.
func post(h http.Handler, body []byte, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const (
	ctProto = "application/x-protobuf"
	ctJSON  = "application/json"
)

// newHandler returns a handler on a fresh queue.
func newHandler(cfg Config, qc input.QueueConfig) (http.Handler, *input.Queue, *Stats) {
	q := input.NewQueue(qc)
	st := new(Stats)
	return NewHandler(cfg, q, st, nil), q, st
}

// flat renders an event as one comparable string: its header fields,
// time, message and pairs.
type flatEvent struct {
	Time                 time.Time
	App, Proc, Host, Sev string
	Msg                  string
	Pairs                []string
}

func flatten(ev *logfmt.Event) flatEvent {
	f := flatEvent{Time: ev.Time, App: string(ev.App), Proc: string(ev.Proc), Host: string(ev.Host), Sev: string(ev.Severity), Msg: string(ev.Msg)}
	for p := range ev.Pairs() {
		if p.Flag {
			f.Pairs = append(f.Pairs, string(p.Key))
			continue
		}
		f.Pairs = append(f.Pairs, string(p.Key)+"="+string(p.Value))
	}
	return f
}

// drainEvents takes every queued job and maps its records.
func drainEvents(t testing.TB, q *input.Queue) []flatEvent {
	var out []flatEvent
	var m Mapper
	for {
		j, ok := q.TryGet()
		if !ok {
			return out
		}
		b, ok := j.Batch.(*Batch)
		require.True(t, ok, "job carries a *Batch")
		n := 0
		for ev := range m.Events(b, j.Arrival) {
			out = append(out, flatten(ev))
			n++
		}
		require.Equal(t, b.Records, n)
		j.Release()
	}
}
