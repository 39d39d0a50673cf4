package run

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// TestRunOTLP runs `pulse run` in-process on a free port without the
// demo, posts OpenTelemetry logs to /v1/logs as a Fir telemetry drain
// or a Collector would, and finds them in /stats/latest.
func TestRunOTLP(t *testing.T) {
	cfg, err := parse(t, "all", map[string]string{"DEMO": "0"},
		"--port", "127.0.0.1:0", "--otlp-token", "s3cret", "--drain-auth", "u:p", "--flush-interval", "100ms", "--grace", "100ms")
	require.NoError(t, err)
	var logs logbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Start(ctx, *cfg, slog.New(slog.NewTextHandler(&logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("pulse run did not stop within 15 s")
		}
	})

	var base string
	dashboard := regexp.MustCompile(`(?m)url=(http://127\.0\.0\.1:\d+)/$`)
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	require.Eventually(t, func() bool {
		m := dashboard.FindStringSubmatch(logs.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "the dashboard's address in the log")

	client := &http.Client{Timeout: 5 * time.Second}
	send := func(body []byte, auth string) int {
		req, err := http.NewRequest(http.MethodPost, base+"/v1/logs", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-protobuf")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// Router lines and an app line from a Fir-like resource, every
	// 100 ms for a couple of seconds so that /stats/latest's windows
	// hold some whatever second it is taken at.
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	attrs := func(kv ...string) []*commonpb.KeyValue {
		var out []*commonpb.KeyValue
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, &commonpb.KeyValue{Key: kv[i], Value: str(kv[i+1])})
		}
		return out
	}
	request := func(now time.Time) []byte {
		var recs []*logspb.LogRecord
		for i := range 10 {
			recs = append(recs, &logspb.LogRecord{
				TimeUnixNano: uint64(now.Add(time.Duration(i) * time.Millisecond).UnixNano()),
				Body:         str(`at=info method=GET path="/" host=shop.example.com dyno=web.1 connect=1ms service=23ms status=200 bytes=512 protocol=https`),
			})
		}
		b, err := proto.Marshal(&collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{
			{Resource: &resourcepb.Resource{Attributes: attrs("service.name", "heroku", "heroku.dyno.name", "router", "cloud.provider", "heroku")},
				ScopeLogs: []*logspb.ScopeLogs{{LogRecords: recs}}},
			{Resource: &resourcepb.Resource{Attributes: attrs("service.name", "shop", "service.instance.id", "web.1")},
				ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{
					TimeUnixNano: uint64(now.UnixNano()), Body: str("at=info count#orders.placed=1"),
				}}}}},
		}})
		require.NoError(t, err)
		return b
	}
	require.Equal(t, http.StatusUnauthorized, send(request(time.Now()), ""))
	require.Equal(t, http.StatusUnauthorized, send(request(time.Now()), "Bearer wrong"))

	latest := func() map[string]json.RawMessage {
		resp, err := client.Get(base + "/stats/latest")
		if err != nil || resp.StatusCode != http.StatusOK {
			if resp != nil {
				resp.Body.Close()
			}
			return nil
		}
		defer resp.Body.Close()
		var snap struct {
			Stats map[string]json.RawMessage `json:"stats"`
		}
		if json.NewDecoder(resp.Body).Decode(&snap) != nil {
			return nil
		}
		return snap.Stats
	}
	positive := func(raw json.RawMessage) bool {
		var v float64
		return json.Unmarshal(raw, &v) == nil && v > 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		require.Equal(t, http.StatusOK, send(request(time.Now()), "Bearer s3cret"))
		s := latest()
		if positive(s["router.requests"]) && positive(s["pulse.otlp.records"]) && positive(s["l2met.orders.placed"]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OTLP logs never showed in /stats/latest: %v", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Basic auth with DRAIN_AUTH works too.
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/logs", bytes.NewReader(request(time.Now())))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.SetBasicAuth("u", "p")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
