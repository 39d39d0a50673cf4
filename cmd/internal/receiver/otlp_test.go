package receiver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/otlp"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// otlpBody turns a drain body into the OTLP request that says the same:
// a resource per source (host.name, service.name and service.instance.id
// for HOSTNAME, APP-NAME and PROCID), each record's body the frame's
// message, its time the frame's.
func otlpBody(t *testing.T, drain []byte) []byte {
	t.Helper()
	req := &collogspb.ExportLogsServiceRequest{}
	scopes := map[string]*logspb.ScopeLogs{}
	rd := logfmt.NewReader(bytes.NewReader(drain), nil)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		src := string(ev.Host) + " " + string(ev.App) + " " + string(ev.Proc)
		sl := scopes[src]
		if sl == nil {
			sl = &logspb.ScopeLogs{}
			scopes[src] = sl
			attr := func(k string, v []byte) *commonpb.KeyValue {
				return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(v)}}}
			}
			req.ResourceLogs = append(req.ResourceLogs, &logspb.ResourceLogs{
				Resource:  &resourcepb.Resource{Attributes: []*commonpb.KeyValue{attr("host.name", ev.Host), attr("service.name", ev.App), attr("service.instance.id", ev.Proc)}},
				ScopeLogs: []*logspb.ScopeLogs{sl},
			})
		}
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			TimeUnixNano: uint64(ev.Time.UnixNano()),
			Body:         &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(ev.Msg)}},
		})
	}
	b, err := proto.Marshal(req)
	require.NoError(t, err)
	return b
}

// postOTLP sends a protobuf body to r's OTLP handler and returns the
// status.
func postOTLP(r *Receiver, body []byte, headers ...string) int {
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	r.OTLPHandler().ServeHTTP(w, req)
	return w.Code
}

// TestReceiverOTLP posts the same traffic over OTLP that
// TestReceiverPublishesEveryCut posts as drain bodies: what reaches the
// bus adds up, stat by stat, to what one set folding the drain bodies
// holds; and the OTLP input's figures arrive as pulse.* stats.
func TestReceiverOTLP(t *testing.T) {
	const bodies, frames = 10, 100
	m := newMemory(t)
	r, err := New(Config{Defs: def.Heroku(), Workers: 2, Flush: 50 * time.Millisecond,
		OTLP: otlp.Config{Token: "t0k"}, Queue: input.QueueConfig{Jobs: bodies}}, m, nil)
	require.NoError(t, err)
	start := time.Now().Add(-3 * time.Second)
	var all [][]byte
	for i := range bodies {
		b := drainBody(uint64(i+1), start, frames)
		all = append(all, b)
		require.Equal(t, http.StatusOK, postOTLP(r, otlpBody(t, b), "Authorization", "Bearer t0k"), "body %d", i)
	}
	assert.Equal(t, http.StatusUnauthorized, postOTLP(r, otlpBody(t, all[0])))
	assert.Equal(t, http.StatusBadRequest, postOTLP(r, []byte{0x0a, 0x80}, "Authorization", "Bearer t0k"))
	assert.Equal(t, http.StatusServiceUnavailable, postOTLP(r, otlpBody(t, drainBody(99, start, 7)), "Authorization", "Bearer t0k"), "the queue holds 10 jobs")
	assert.EqualValues(t, bodies*frames, r.OTLPStats().Records)

	stop := run(t, r)
	require.Eventually(t, func() bool {
		c := counts(t, m, 1)
		return c[window.StatEvents] == bodies*frames && c[selfstat.OTLPRecords] == bodies*frames &&
			c[selfstat.InputRejected] == 1 && c[window.StatUnparsed] == 1 && c[selfstat.Dropped] == 7
	}, 10*time.Second, 10*time.Millisecond, "every record and the OTLP figures published")

	require.NoError(t, stop())
	want := foldCounts(t, all, false)
	got := counts(t, m, 1)
	for name, n := range want {
		assert.Equal(t, n, got[name], "%s", name)
	}
	assert.Zero(t, got[selfstat.OTLPRejected])
}
