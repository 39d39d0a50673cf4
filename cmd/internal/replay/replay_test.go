package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"

	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frames are drain frames from shared/HEROKU-LOGS.md §3.9, with one line
// that is not a log line.
const frames = `277 <158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https
306 <158>1 2026-03-14T17:02:11.913004+00:00 host heroku router - at=info method=POST path="/api/cart" host=www.shop-example.com request_id=0c9e5d1a-77b2-4f0e-a5f3-91d2c8e4b6aa fwd="198.51.100.23,172.70.1.9" dyno=web.1 connect=0ms service=118ms status=201 bytes=742 protocol=http2.0 tls=true tls_version=tls1.3
295 <158>1 2026-03-14T17:02:42.000871+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=POST path="/checkout" host=www.shop-example.com request_id=b7a1f2c3-4d5e-4f60-8a9b-0c1d2e3f4a5b fwd="192.0.2.44" dyno=web.3 connect=0ms service=30000ms status=503 bytes=0 protocol=https
274 <158>1 2026-03-14T17:03:05.114220+00:00 host heroku router - at=error code=H10 desc="App crashed" method=GET path="/" host=shop-example.herokuapp.com request_id=3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9 fwd="203.0.113.99" dyno= connect= service= status=503 bytes= protocol=https
98 <45>1 2026-03-14T17:03:06.885214+00:00 host heroku web.4 - State changed from starting to crashed
145 <172>1 2026-03-14T17:03:07+00:00 host heroku logplex - Error L10 (output buffer overflow): 213 messages dropped since 2026-03-14T17:06:58+00:00.
52 <158>1 not-a-timestamp host heroku router - at=info
`

func run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestReplayDefaults(t *testing.T) {
	out, errOut, err := run(t, frames)
	require.NoError(t, err)
	assert.Equal(t, "events=6 unparsed=1\n", errOut)
	var snap window.Snapshot
	require.NoError(t, json.Unmarshal([]byte(out), &snap))
	assert.Equal(t, "2026-03-14T17:03:08Z", snap.Time.Format("2006-01-02T15:04:05Z07:00"), "the end of the last event's second")
	want := map[string]string{
		"router.H10":         "1",
		"router.H10.apps":    "1",
		"router.H12":         "1",
		"router.5xx":         "2",
		"router.requests":    "0.1", // the last 10 s hold the H10 line only
		"router.service.max": "30000",
		"dyno.crashes":       "1",
		"logplex.L10":        "213",
		"router.hosts":       "2",
		"pulse.unparsed":     "0.1",
	}
	for name, v := range want {
		assert.Equal(t, v, snap.Stats[name].String(), name)
	}
}

func TestReplayAtAndDefsFile(t *testing.T) {
	dir := t.TempDir()
	defsFile := filepath.Join(dir, "x.defs")
	require.NoError(t, os.WriteFile(defsFile, []byte("name=req kind=rate where=\"proc=router\"\n"), 0o644))
	logFile := filepath.Join(dir, "x.log")
	require.NoError(t, os.WriteFile(logFile, []byte(frames), 0o644))
	out, _, err := run(t, "", "--defs", defsFile, "--at", "2026-03-14T17:02:43Z", logFile)
	require.NoError(t, err)
	var snap window.Snapshot
	require.NoError(t, json.Unmarshal([]byte(out), &snap))
	assert.Equal(t, "3", snap.Stats["req"].String(), "three router lines in [17:01:43, 17:02:43)")
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.defs")
	require.NoError(t, os.WriteFile(bad, []byte("name=a kind=nope\n"), 0o644))
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad at", []string{"--at", "yesterday"}, `pulse replay: --at: parsing time "yesterday"`},
		{"missing log", []string{filepath.Join(dir, "missing.log")}, "no such file or directory"},
		{"missing defs", []string{"--defs", filepath.Join(dir, "missing.defs")}, "no such file or directory"},
		{"bad defs", []string{"--defs", bad}, "bad.defs:1: a: unknown kind \"nope\""},
		{"bad flag", []string{"--nope"}, "flag provided but not defined"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, "", tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// issueLines is issue 9's stream: 50 router lines at 17:00:10–59 and one
// at 18:00:00, from a dyno with a bad clock.
func issueLines() string {
	var b strings.Builder
	t := time.Date(2026, 3, 14, 17, 0, 10, 0, time.UTC)
	line := func(at time.Time) {
		fmt.Fprintf(&b, "<158>1 %s host heroku router - at=info method=GET path=/ host=a.example.com dyno=web.1 connect=1ms service=20ms status=200 bytes=100\n",
			at.Format(time.RFC3339Nano))
	}
	for i := range 50 {
		line(t.Add(time.Duration(i) * time.Second))
	}
	line(time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC))
	return b.String()
}

// TestReplayOutlier: one line an hour ahead neither moves the clock nor
// empties the windows. Without --at the set follows event time, and the
// line, which nothing after it confirmed, is counted as future; with
// --at it is simply after the snapshot.
func TestReplayOutlier(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		future string
	}{
		{[]string{"--at", "2026-03-14T17:01:00Z"}, "0"},
		{nil, "0.1"},
	} {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			out, errOut, err := run(t, issueLines(), tt.args...)
			require.NoError(t, err)
			assert.Equal(t, "events=51 unparsed=0\n", errOut)
			var snap window.Snapshot
			require.NoError(t, json.Unmarshal([]byte(out), &snap))
			assert.Equal(t, "2026-03-14T17:01:00Z", snap.Time.Format(time.RFC3339))
			assert.Equal(t, "1", snap.Stats["router.requests"].String(), "10 requests over the last 10 s, per second")
			assert.Equal(t, "1", snap.Stats["router.hosts"].String(), "the host of the requests in the minute")
			assert.Equal(t, "20", snap.Stats["router.service.max"].String())
			assert.Equal(t, "0", snap.Stats[window.StatLate].String())
			assert.Equal(t, tt.future, snap.Stats[window.StatFuture].String())
		})
	}
}

// TestReplayGap replays a file with a one-hour gap: the snapshot is
// exactly that of the part after the gap alone.
func TestReplayGap(t *testing.T) {
	gen := func(seed uint64, start time.Time) []byte {
		var b bytes.Buffer
		_, err := logfmttest.New(logfmttest.Options{Seed: seed, Rate: 200, Start: start, IncidentEvery: time.Minute}).WriteFor(&b, 90*time.Second)
		require.NoError(t, err)
		return b.Bytes()
	}
	start := time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)
	after := gen(2, start.Add(time.Hour))
	whole := append(gen(1, start), after...)
	outWhole, _, err := run(t, string(whole))
	require.NoError(t, err)
	outAfter, _, err := run(t, string(after))
	require.NoError(t, err)
	var w, a window.Snapshot
	require.NoError(t, json.Unmarshal([]byte(outWhole), &w))
	require.NoError(t, json.Unmarshal([]byte(outAfter), &a))
	require.Equal(t, a.Time, w.Time)
	for name, v := range a.Stats {
		assert.Equal(t, v.String(), w.Stats[name].String(), name)
	}
	for name, v := range w.Stats { // l2met metrics only the first part derived
		if _, ok := a.Stats[name]; !ok {
			assert.Contains(t, []string{"0", "null", "[]"}, v.String(), name)
		}
	}
	assert.NotEqual(t, "0", w.Stats["router.requests"].String())
}
