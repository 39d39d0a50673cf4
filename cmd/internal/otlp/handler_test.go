package otlp

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Date(2026, 3, 14, 17, 2, 11, 482113000, time.UTC)

// sampleRequest has two resources, three scopes and six records: string
// bodies (logfmt, JSON, free text), a map body, an empty body and a
// numeric one.
func sampleRequest() *collogspb.ExportLogsServiceRequest {
	nested := kvlist(kv("method", str("GET")), kv("status", &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 200}}))
	return exportRequest(
		resourceLogs(kvs("service.name", "shop-example", "service.instance.id", "web.1", "cloud.provider", "heroku"),
			scopeLogs("app",
				record(t0, str(`at=info fn=list_orders count#orders.listed=1 measure#db.query=12.4ms`)),
				record(t0.Add(time.Millisecond), str(`{"level":"ERROR","msg":"charge failed","order":{"id":"o_1"}}`),
					kv("code.function", str("charge"))),
			),
			scopeLogs("lib",
				record(t0.Add(2*time.Millisecond), kvlist(kv("http", nested), kv("path", str("/x")))),
				record(time.Time{}, nil, kv("service.instance.id", str("web.2"))), // no time, no body
			),
		),
		resourceLogs(kvs("service.name", "heroku", "heroku.dyno.name", "router"),
			scopeLogs("",
				record(t0.Add(3*time.Millisecond), str(`State changed from starting to up`)),
				record(t0.Add(4*time.Millisecond), &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 1.5}}),
			),
		),
	)
}

func sampleWant(arrival time.Time) []flatEvent {
	res1 := []string{"service.name=shop-example", "service.instance.id=web.1", "cloud.provider=heroku"}
	res2 := []string{"service.name=heroku", "heroku.dyno.name=router"}
	cat := func(a ...[]string) []string {
		var out []string
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	return []flatEvent{
		{Time: t0, App: "shop-example", Proc: "web.1", Msg: `at=info fn=list_orders count#orders.listed=1 measure#db.query=12.4ms`,
			Pairs: cat(res1, []string{"at=info", "fn=list_orders", "count#orders.listed=1", "measure#db.query=12.4ms"})},
		{Time: t0.Add(time.Millisecond), App: "shop-example", Proc: "web.1", Msg: `{"level":"ERROR","msg":"charge failed","order":{"id":"o_1"}}`,
			Pairs: cat(res1, []string{"code.function=charge", "level=ERROR", "msg=charge failed", "order.id=o_1"})},
		{Time: t0.Add(2 * time.Millisecond), App: "shop-example", Proc: "web.1",
			Pairs: cat(res1, []string{"http.method=GET", "http.status=200", "path=/x"})},
		{Time: arrival, App: "shop-example", Proc: "web.2",
			Pairs: cat(res1, []string{"service.instance.id=web.2"})},
		{Time: t0.Add(3 * time.Millisecond), App: "heroku", Proc: "router", Msg: "State changed from starting to up",
			Pairs: cat(res2, []string{"State", "changed", "from", "starting", "to", "up"})},
		{Time: t0.Add(4 * time.Millisecond), App: "heroku", Proc: "router", Msg: "1.5",
			Pairs: cat(res2, []string{"1.5"})},
	}
}

func TestHandlerPayloads(t *testing.T) {
	req := sampleRequest()
	tests := []struct {
		name     string
		body     []byte
		headers  []string
		respType string
	}{
		{"protobuf", marshalProto(t, req), []string{"Content-Type", ctProto}, ctProto},
		{"protobuf gzip", gz(t, marshalProto(t, req)), []string{"Content-Type", ctProto, "Content-Encoding", "gzip"}, ctProto},
		{"json", marshalJSON(t, req), []string{"Content-Type", ctJSON}, ctJSON},
		{"json with charset, gzip", gz(t, marshalJSON(t, req)), []string{"Content-Type", "application/json; charset=utf-8", "Content-Encoding", "GZIP"}, ctJSON},
		{"json with original field names", []byte(protojson.MarshalOptions{UseProtoNames: true}.Format(req)), []string{"Content-Type", ctJSON}, ctJSON},
		{"identity encoding", marshalProto(t, req), []string{"Content-Type", ctProto, "Content-Encoding", "identity"}, ctProto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, q, st := newHandler(Config{}, input.QueueConfig{})
			w := post(h, tt.body, tt.headers...)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tt.respType, w.Header().Get("Content-Type"))
			var resp collogspb.ExportLogsServiceResponse
			if tt.respType == ctJSON {
				require.NoError(t, protojson.Unmarshal(w.Body.Bytes(), &resp))
			} else {
				require.NoError(t, proto.Unmarshal(w.Body.Bytes(), &resp))
			}
			assert.Nil(t, resp.GetPartialSuccess(), "full success leaves partial_success unset")

			require.Equal(t, 1, q.Len())
			j, _ := q.TryGet()
			arrival := j.Arrival
			require.True(t, q.TryPut(j))
			assert.Equal(t, sampleWant(arrival), drainEvents(t, q))
			s := st.Snapshot()
			assert.EqualValues(t, 1, s.Requests)
			assert.EqualValues(t, 1, s.Accepted)
			assert.EqualValues(t, 6, s.Records)
			assert.EqualValues(t, len(tt.body), s.WireBytes)
			assert.Zero(t, s.Rejected)
		})
	}
}

// The JSON encoding of OTLP writes trace and span ids in hex, not base64,
// and enums as numbers; neither is mapped, and neither stops a request.
func TestHandlerJSONSpecifics(t *testing.T) {
	body := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
	  "scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"1773507731482113000","severityNumber":17,
	  "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","unknownField":{"x":1},
	  "body":{"stringValue":"at=error code=H12"},"attributes":[{"key":"n","value":{"intValue":"42"}}]}]}]}]}`
	h, q, _ := newHandler(Config{}, input.QueueConfig{})
	w := post(h, []byte(body), "Content-Type", ctJSON)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{}`, w.Body.String())
	evs := drainEvents(t, q)
	require.Len(t, evs, 1)
	assert.Equal(t, flatEvent{Time: t0, App: "shop", Sev: "err", Msg: "at=error code=H12",
		Pairs: []string{"service.name=shop", "n=42", "at=error", "code=H12"}}, evs[0])
}

func TestHandlerPartialSuccess(t *testing.T) {
	deep := str("leaf")
	for range MaxDepth + 1 {
		deep = kvlist(kv("k", deep))
	}
	late := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	lateRec := &logspb.LogRecord{ObservedTimeUnixNano: uint64(late.UnixNano()), Body: str("too late")}
	req := exportRequest(resourceLogs(kvs("service.name", "shop"), scopeLogs("",
		record(t0, str("a=1")),
		lateRec,
		record(t0, deep),
		record(t0, str("b=2"), kv("attr", deep)),
		record(t0, str("c=3")),
	)))
	for _, enc := range []string{ctProto, ctJSON} {
		t.Run(enc, func(t *testing.T) {
			h, q, st := newHandler(Config{}, input.QueueConfig{})
			body := marshalProto(t, req)
			if enc == ctJSON {
				body = marshalJSON(t, req)
			}
			w := post(h, body, "Content-Type", enc)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var resp collogspb.ExportLogsServiceResponse
			if enc == ctJSON {
				require.NoError(t, protojson.Unmarshal(w.Body.Bytes(), &resp))
			} else {
				require.NoError(t, proto.Unmarshal(w.Body.Bytes(), &resp))
			}
			ps := resp.GetPartialSuccess()
			require.NotNil(t, ps)
			assert.EqualValues(t, 3, ps.GetRejectedLogRecords())
			assert.Contains(t, ps.GetErrorMessage(), "3 log records rejected")
			assert.Contains(t, ps.GetErrorMessage(), "1 with a time at or after 2200")
			assert.Contains(t, ps.GetErrorMessage(), "2 with map or array values nested deeper than 32")
			evs := drainEvents(t, q)
			require.Len(t, evs, 2)
			assert.Equal(t, "a=1", evs[0].Msg)
			assert.Equal(t, "c=3", evs[1].Msg)
			s := st.Snapshot()
			assert.EqualValues(t, 2, s.Records)
			assert.EqualValues(t, 3, s.Rejected)
		})
	}
	t.Run("all rejected", func(t *testing.T) {
		h, q, st := newHandler(Config{}, input.QueueConfig{})
		w := post(h, marshalProto(t, exportRequest(resourceLogs(nil, scopeLogs("", lateRec)))), "Content-Type", ctProto)
		require.Equal(t, http.StatusOK, w.Code)
		var resp collogspb.ExportLogsServiceResponse
		require.NoError(t, proto.Unmarshal(w.Body.Bytes(), &resp))
		assert.EqualValues(t, 1, resp.GetPartialSuccess().GetRejectedLogRecords())
		assert.Zero(t, q.Len())
		assert.EqualValues(t, 1, st.Snapshot().Rejected)
	})
}

// status decodes an error answer's google.rpc.Status.
func status(t *testing.T, w *httptest.ResponseRecorder) *statuspb.Status {
	t.Helper()
	var s statuspb.Status
	switch w.Header().Get("Content-Type") {
	case ctProto:
		require.NoError(t, proto.Unmarshal(w.Body.Bytes(), &s))
	case ctJSON:
		require.NoError(t, protojson.Unmarshal(w.Body.Bytes(), &s))
	default:
		s.Message = strings.TrimSpace(w.Body.String())
	}
	return &s
}

func TestHandlerStatus(t *testing.T) {
	valid := marshalProto(t, sampleRequest())
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	bomb := gz(t, make([]byte, DefaultMaxDecoded+1)) // 16 MiB of zeros, about 16 KiB gzipped
	tests := []struct {
		name    string
		cfg     Config
		method  string
		body    []byte
		headers []string
		code    int
		msg     string
		counter func(StatsSnapshot) int64
	}{
		{"GET", Config{}, http.MethodGet, nil, []string{"Content-Type", ctProto}, 405, "only POST", func(s StatsSnapshot) int64 { return s.BadMethod }},
		{"no auth", Config{Auth: "u:p"}, "", valid, []string{"Content-Type", ctProto}, 401, "unauthorized", func(s StatsSnapshot) int64 { return s.Unauthorized }},
		{"wrong basic", Config{Auth: "u:p"}, "", valid, []string{"Content-Type", ctProto, "Authorization", basic("u", "x")}, 401, "unauthorized", func(s StatsSnapshot) int64 { return s.Unauthorized }},
		{"basic when only a token is set", Config{Token: "t0k"}, "", valid, []string{"Content-Type", ctProto, "Authorization", basic("u", "t0k")}, 401, "unauthorized", func(s StatsSnapshot) int64 { return s.Unauthorized }},
		{"wrong bearer", Config{Auth: "u:p", Token: "t0k"}, "", valid, []string{"Content-Type", ctProto, "Authorization", "Bearer t0kk"}, 401, "unauthorized", func(s StatsSnapshot) int64 { return s.Unauthorized }},
		{"basic ok", Config{Auth: "u:p", Token: "t0k"}, "", valid, []string{"Content-Type", ctProto, "Authorization", basic("u", "p")}, 200, "", func(s StatsSnapshot) int64 { return s.Accepted }},
		{"bearer ok", Config{Auth: "u:p", Token: "t0k"}, "", valid, []string{"Content-Type", ctProto, "Authorization", "bearer t0k"}, 200, "", func(s StatsSnapshot) int64 { return s.Accepted }},
		{"text/plain", Config{}, "", valid, []string{"Content-Type", "text/plain"}, 415, "Content-Type must be", func(s StatsSnapshot) int64 { return s.BadContentType }},
		{"no content type", Config{}, "", valid, nil, 415, "Content-Type must be", func(s StatsSnapshot) int64 { return s.BadContentType }},
		{"logplex", Config{}, "", valid, []string{"Content-Type", "application/logplex-1"}, 415, "Content-Type must be", func(s StatsSnapshot) int64 { return s.BadContentType }},
		{"brotli", Config{}, "", valid, []string{"Content-Type", ctJSON, "Content-Encoding", "br"}, 415, "Content-Encoding must be", func(s StatsSnapshot) int64 { return s.BadContentType }},
		{"over MaxBody", Config{MaxBody: 100}, "", valid, []string{"Content-Type", ctProto}, 413, "body over 100 bytes", func(s StatsSnapshot) int64 { return s.TooLarge }},
		{"gzip bomb", Config{}, "", bomb, []string{"Content-Type", ctProto, "Content-Encoding", "gzip"}, 413, "decompressed", func(s StatsSnapshot) int64 { return s.TooLarge }},
		{"decoded over MaxDecoded", Config{MaxDecoded: 100}, "", gz(t, valid), []string{"Content-Type", ctProto, "Content-Encoding", "gzip"}, 413, "body over 100 bytes decompressed", func(s StatsSnapshot) int64 { return s.TooLarge }},
		{"not gzip", Config{}, "", valid, []string{"Content-Type", ctProto, "Content-Encoding", "gzip"}, 400, "gzip", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"truncated gzip", Config{}, "", gz(t, valid)[:50], []string{"Content-Type", ctProto, "Content-Encoding", "gzip"}, 400, "gzip", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"not protobuf", Config{}, "", []byte("\xff\xff\xff\xff"), []string{"Content-Type", ctProto}, 400, "decoding protobuf", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"truncated protobuf", Config{}, "", valid[:len(valid)-3], []string{"Content-Type", ctProto}, 400, "decoding protobuf", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"not JSON", Config{}, "", []byte(`{"resourceLogs":[`), []string{"Content-Type", ctJSON}, 400, "decoding JSON", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"protobuf sent as JSON", Config{}, "", valid, []string{"Content-Type", ctJSON}, 400, "decoding JSON", func(s StatsSnapshot) int64 { return s.BadPayload }},
		{"empty body", Config{}, "", nil, []string{"Content-Type", ctProto}, 200, "", func(s StatsSnapshot) int64 { return s.Empty }},
		{"no records", Config{}, "", marshalProto(t, exportRequest(resourceLogs(kvs("a", "b")))), []string{"Content-Type", ctProto}, 200, "", func(s StatsSnapshot) int64 { return s.Empty }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, st := newHandler(tt.cfg, input.QueueConfig{})
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "/v1/logs", bytes.NewReader(tt.body))
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.code, w.Code, w.Body.String())
			if tt.code != http.StatusOK {
				assert.Contains(t, status(t, w).GetMessage(), tt.msg)
			}
			switch tt.code {
			case 401:
				assert.NotEmpty(t, w.Header().Values("WWW-Authenticate"))
			case 405:
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
			assert.EqualValues(t, 1, tt.counter(st.Snapshot()))
			assert.EqualValues(t, 1, st.Snapshot().Requests)
		})
	}
}

// Errors come as a google.rpc.Status in the request's encoding.
func TestHandlerStatusEncoding(t *testing.T) {
	h, _, _ := newHandler(Config{}, input.QueueConfig{})
	w := post(h, []byte("{"), "Content-Type", ctJSON)
	require.Equal(t, 400, w.Code)
	assert.Equal(t, ctJSON, w.Header().Get("Content-Type"))
	s := status(t, w)
	assert.EqualValues(t, 3, s.GetCode())
	assert.Contains(t, s.GetMessage(), "decoding JSON")

	w = post(h, []byte{0xff}, "Content-Type", ctProto)
	require.Equal(t, 400, w.Code)
	assert.Equal(t, ctProto, w.Header().Get("Content-Type"))
	assert.EqualValues(t, 3, status(t, w).GetCode())
}

func TestHandlerQueueFull(t *testing.T) {
	h, q, st := newHandler(Config{}, input.QueueConfig{Jobs: 1})
	body := marshalProto(t, sampleRequest())
	require.Equal(t, 200, post(h, body, "Content-Type", ctProto).Code)
	w := post(h, body, "Content-Type", ctProto)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, status(t, w).GetMessage(), "queue full")
	s := st.Snapshot()
	assert.EqualValues(t, 1, s.Dropped)
	assert.EqualValues(t, 6, s.DroppedRecords)
	assert.EqualValues(t, 6, s.Records)
	assert.Equal(t, 1, q.Len())

	// The byte budget counts a decoded request by its size.
	j, _ := q.TryGet()
	assert.Equal(t, len(body)*memPerByte, j.Size)
	j.Release()
	assert.Equal(t, 200, post(h, body, "Content-Type", ctProto).Code, "room again")
}

func TestHandlerStreamedBodyOverMaxBody(t *testing.T) {
	h, _, st := newHandler(Config{MaxBody: 1 << 10}, input.QueueConfig{})
	r := httptest.NewRequest(http.MethodPost, "/v1/logs", strings.NewReader(strings.Repeat("x", 4<<10)))
	r.ContentLength = -1 // chunked: only the reader knows
	r.Header.Set("Content-Type", ctProto)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.EqualValues(t, 1, st.Snapshot().TooLarge)
}

// The answer to a successful request is what the official type encodes.
func TestResponseEncoding(t *testing.T) {
	for _, tc := range []struct {
		rejected int
		msg      string
	}{{0, ""}, {3, "3 log records rejected: x"}, {0, "a warning"}, {7, ""}, {1, "quote \" and \\ and \n and é"}} {
		want := &collogspb.ExportLogsServiceResponse{}
		if tc.rejected != 0 || tc.msg != "" {
			want.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: int64(tc.rejected), ErrorMessage: tc.msg}
		}
		wantProto, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(wantProto, appendResponse(nil, tc.rejected, tc.msg)), "%+v", tc)
		var got collogspb.ExportLogsServiceResponse
		require.NoError(t, protojson.Unmarshal(appendResponseJSON(nil, tc.rejected, tc.msg), &got))
		assert.True(t, proto.Equal(want, &got), "%+v: %v", tc, &got)
	}
	for _, tc := range []struct {
		code int
		msg  string
	}{{3, "bad"}, {14, "queue full, retry"}, {0, ""}, {16, `"quoted"`}} {
		want := &statuspb.Status{Code: int32(tc.code), Message: tc.msg}
		wantProto, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(wantProto, appendStatus(nil, tc.code, tc.msg)), "%+v", tc)
		var got statuspb.Status
		require.NoError(t, protojson.Unmarshal(appendStatusJSON(nil, tc.code, tc.msg), &got))
		assert.True(t, proto.Equal(want, &got))
	}
}
