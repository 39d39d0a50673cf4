package benchdrain

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pulserun "github.com/pulsehq/pulse/cmd/internal/run"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startPulse runs `pulse run` in-process (all roles, in-memory bus, no
// demo) on a free loopback port with the given further flags until the
// test ends, waits for its first snapshot and returns its base URL.
func startPulse(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	all := append([]string{"--port=127.0.0.1:0", "--redis-url=", "--role=all", "--demo=0", "--drain-auth=", "--web-auth="}, args...)
	go func() {
		err := pulserun.Main(ctx, "pulse run", "all", all, pw, pw)
		pw.Close()
		done <- err
	}()
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg="dashboard: open (http://[^ /"]+)/`)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, "pulse run")
	})
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("pulse run stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("pulse run did not announce its dashboard within 30 s")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		require.True(t, time.Now().Before(deadline), "no healthy /healthz within 30 s")
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBenchMonitor runs bench drain with every monitoring option against
// a real pulse run whose queue holds one body and whose one worker folds
// slowly enough that some bodies are answered 503: the receiver's own
// counts must agree with the answers the clients saw, and every probe
// and sample must be there.
func TestBenchMonitor(t *testing.T) {
	base := startPulse(t, "--workers=1", "--queue=1", "--flush-interval=100ms", "--grace=100ms")
	cfg := Config{
		URL: base + "/logs", Clients: 8, Duration: 400 * time.Millisecond, Frames: 100, Bodies: 20,
		HealthURL: base + "/healthz", HealthEvery: 20 * time.Millisecond, HealthSlow: time.Hour,
		PID: os.Getpid(), SampleEvery: 100 * time.Millisecond, SampleWarmup: 100 * time.Millisecond,
		StatsURL: base + "/stats/latest",
	}
	var res *Result
	for range 10 { // until a run sees a 503
		var err error
		res, err = Bench(context.Background(), cfg)
		require.NoError(t, err)
		require.NotNil(t, res.Receiver, "the receiver's counters were read")
		rc := res.Receiver
		// The receiver's counts agree with the answers, run by run.
		assert.Equal(t, res.Status[503], rc.Dropped)
		assert.Equal(t, res.Status[204], rc.Accepted)
		assert.Equal(t, res.Requests, rc.Requests)
		assert.Equal(t, rc.Dropped*100, rc.DroppedFrames)
		assert.Zero(t, rc.Duplicates)
		assert.True(t, rc.DroppedAgree)
		assert.True(t, rc.AcceptedAgree)
		assert.Zero(t, rc.Queue, "settled")
		assert.Equal(t, rc.Accepted*100, rc.Events, "every event accepted was folded")
		assert.InDelta(t, float64(res.Requests*100)/res.Elapsed, res.OfferedEventsPerSec, 1e-6)
		if res.Status[503] > 0 {
			break
		}
	}
	require.Positive(t, res.Status[503], "no run of 8 clients filled a queue of one body")

	h := res.Health
	require.NotNil(t, h)
	assert.Equal(t, base+"/healthz", h.URL)
	assert.Positive(t, h.Probes)
	assert.Equal(t, h.Probes, h.Status[200]+h.Status[503]+h.Errors)
	assert.Zero(t, h.Slow, "none slower than an hour")
	assert.Positive(t, h.Latency.P50)
	assert.LessOrEqual(t, h.Latency.P99, h.Latency.Max)
	assert.GreaterOrEqual(t, h.QueueMax, int64(0))
	assert.LessOrEqual(t, h.QueueMax, int64(1), "the queue holds one body")
	assert.Equal(t, 20.0, h.EveryMS)

	// Samples: at the start, every 100 ms and at the end, each with every
	// source.
	require.GreaterOrEqual(t, len(res.Samples), 2)
	assert.InDelta(t, 0, res.Samples[0].T, 0.5, "the first at the start")
	for i, s := range res.Samples {
		assert.Positive(t, s.RSSKB, "sample %d", i)
		require.NotNil(t, s.CPU, "sample %d", i)
		require.NotNil(t, s.Queue, "sample %d", i)
		require.NotNil(t, s.Dropped, "sample %d", i)
		assert.NotNil(t, s.PulseEvents, "sample %d: pulse.events from /stats/latest", i)
		assert.NotNil(t, s.PulseDropped, "sample %d: pulse.dropped from /stats/latest", i)
		if i > 0 {
			assert.GreaterOrEqual(t, s.T, res.Samples[i-1].T)
			assert.GreaterOrEqual(t, *s.CPU, *res.Samples[i-1].CPU)
			assert.GreaterOrEqual(t, *s.Dropped, *res.Samples[i-1].Dropped)
		}
	}
	assert.LessOrEqual(t, *res.Samples[len(res.Samples)-1].Dropped, res.Receiver.Dropped)
	p := res.Process
	require.NotNil(t, p)
	assert.Equal(t, os.Getpid(), p.PID)
	assert.Equal(t, len(res.Samples), p.Samples)
	assert.Positive(t, p.RSSBaseKB)
	assert.GreaterOrEqual(t, p.BaseAtS, 0.1)
	assert.Positive(t, p.CPU, "this process served the load")
	assert.Len(t, res.LoadAvg, 3)
	assert.Len(t, res.LoadAvgEnd, 3)

	// The text shows it all.
	var sb strings.Builder
	require.NoError(t, res.writeText(&sb))
	out := sb.String()
	assert.Contains(t, out, "probes of "+base+"/healthz every 20ms: 200: ")
	assert.Regexp(t, `receiver  drain\.accepted \d+ \(= 2xx here\), drain\.dropped \d+ \(= 503s here\), dropped frames \d+, duplicates 0; events folded \d+\n`, out)
	assert.Regexp(t, `process   pid \d+, \d+ samples: RSS first \d+\.\d MB`, out)
	assert.Contains(t, out, "samples   t_s rss_mb cpu_s runq_wait_s queue dropped pulse.dropped/s pulse.events/s\n")

	// The receiver shows the drops as pulse.dropped, which the dashboard
	// draws: within a few snapshots.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/stats/latest")
		require.NoError(t, err)
		var snap struct {
			Stats map[string]json.RawMessage `json:"stats"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&snap))
		resp.Body.Close()
		if v := number(snap.Stats["pulse.dropped"]); v != nil && *v > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "pulse.dropped stayed 0 after %d bodies answered 503", res.Status[503])
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBenchHealthFailures: probes with no answer are counted as errors,
// slow ones as slow, other statuses by code; a URL that is not a
// receiver's /healthz gives no receiver counts.
func TestBenchHealthFailures(t *testing.T) {
	d := newDrain(t, 2, 0)
	var n int64
	var mu sync.Mutex
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch k % 3 {
		case 0:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 1:
			time.Sleep(30 * time.Millisecond)
			w.Write([]byte(`{"status":"ok"}`))
		default:
			w.Write([]byte(`{"status":"ok"}`))
		}
	}))
	defer health.Close()
	mux := http.NewServeMux()
	mux.Handle("/logs", d)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := Bench(context.Background(), Config{
		URL: srv.URL + "/logs", Clients: 1, Duration: 300 * time.Millisecond, Frames: 2, Bodies: 1,
		HealthURL: health.URL, HealthEvery: 10 * time.Millisecond, HealthSlow: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	h := res.Health
	require.NotNil(t, h)
	assert.GreaterOrEqual(t, h.Probes, int64(3))
	assert.Equal(t, h.Probes, h.Status[200]+h.Status[503])
	assert.Positive(t, h.Status[503])
	assert.GreaterOrEqual(t, h.Slow, h.Status[200]/2, "every other 200 waited 30 ms")
	assert.GreaterOrEqual(t, h.Latency.Max, 30.0)
	assert.Equal(t, int64(-1), h.QueueMax, "no receiver in the answers")
	assert.Nil(t, res.Receiver)
	assert.Nil(t, res.Process)
	assert.Empty(t, res.Samples)

	// Nothing answers: every probe is an error, and the load goes on.
	health.Close()
	res, err = Bench(context.Background(), Config{
		URL: srv.URL + "/logs", Clients: 1, Duration: 100 * time.Millisecond, Frames: 2, Bodies: 1,
		HealthURL: health.URL + "/healthz", HealthEvery: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Positive(t, res.Health.Errors)
	assert.Equal(t, res.Health.Probes, res.Health.Errors)
	assert.NotEmpty(t, res.Health.ErrorSamples)
	assert.Positive(t, res.Status[204])
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, in string
		want     float64
		err      string
	}{
		{name: "plain", in: "42 (pulse) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0", want: 3.25},
		{name: "name with spaces and parentheses", in: "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0", want: 0.03},
		{name: "no name", in: "7 a R 1", err: "benchdrain: /proc stat without a command name"},
		{name: "short", in: "7 (a) R 1 2 3", err: "benchdrain: /proc stat with 4 fields after the command name"},
		{name: "not a number", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", err: `benchdrain: /proc stat: strconv.ParseUint: parsing "x": invalid syntax`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.in))
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestReadProc(t *testing.T) {
	rss, cpu, err := readProc(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, cpu, 0.0)
	_, _, err = readProc(1 << 30)
	require.Error(t, err)
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skipf("no schedstat on this kernel: %v", err)
	}
	w, err := readWait(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, w, 0.0)
	_, err = readWait(1 << 30)
	require.Error(t, err)
}

func TestSummarise(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	series := []Sample{
		{T: 0, RSSKB: 1000, CPU: f(1)},
		{T: 10, RSSKB: 4000, CPU: f(3)},
		{T: 15}, // the process was not read
		{T: 20, RSSKB: 5000, CPU: f(5)},
		{T: 30, RSSKB: 4400, CPU: f(6)},
	}
	series[0].Wait, series[4].Wait = f(2), f(8)
	p := summarise(9, series, 10)
	assert.Equal(t, &ProcessResult{
		PID: 9, Samples: 4, RSSFirstKB: 1000, RSSLastKB: 4400, RSSMinKB: 1000, RSSMaxKB: 5000,
		RSSBaseKB: 4000, BaseAtS: 10, GrowthPct: 10, MaxGrowthPct: 25, CPU: 5, Cores: 5.0 / 30,
		Wait: f(6), WaitPerS: f(0.2),
		// From the base on: 4000 | 5000 4400 (the middle one of three
		// in neither half).
		RSSMedian1KB: 4000, RSSMedian2KB: 4400, MedianGrowthPct: 10,
	}, p)
	p = summarise(9, series, 0)
	assert.Equal(t, int64(1000), p.RSSBaseKB)
	assert.InDelta(t, 340, p.GrowthPct, 1e-9)
	assert.Equal(t, int64(2500), p.RSSMedian1KB, "1000 4000")
	assert.Equal(t, int64(4700), p.RSSMedian2KB, "5000 4400")
	assert.InDelta(t, 88, p.MedianGrowthPct, 1e-9)
	assert.Equal(t, &ProcessResult{PID: 9}, summarise(9, nil, 0))
}

func TestParseHealth(t *testing.T) {
	h := parseHealth([]byte(`{"status":"ok","checks":{"receiver":{"input":{"drain.dropped":3,"drain.accepted":4},"receiver_events":400,"receiver_queue":2},"http":{"conns":1}}}`))
	require.NotNil(t, h)
	assert.Equal(t, &receiverHealth{Input: map[string]int64{"drain.dropped": 3, "drain.accepted": 4}, Events: 400, Queue: 2}, h)
	for _, in := range []string{``, `{}`, `{"checks":{"receiver":{}}}`, `not json`, `{"checks":{"receiver":{"input":{"drain.dropped":"x"}}}}`} {
		assert.Nil(t, parseHealth([]byte(in)), in)
	}
}

// TestRunMonitorFlags: the flags reach Bench and its text.
func TestRunMonitorFlags(t *testing.T) {
	d := newDrain(t, 3, 0)
	srv := httptest.NewServer(d)
	defer srv.Close()
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok","checks":{"receiver":{"input":{"drain.accepted":0},"receiver_queue":0}}}`))
	}))
	defer health.Close()
	out, errOut, err := run(t, "--url", srv.URL+"/logs", "--duration", "200ms", "--frames", "3", "--clients", "1",
		"--event-rate", "300", "--health", health.URL, "--health-every", "50ms", "--pid", strconv.Itoa(os.Getpid()),
		"--sample-every", "100ms", "--json")
	require.NoError(t, err, errOut)
	var res Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, 100.0, res.Rate, "300 events/s of 3 frames")
	assert.Equal(t, 300.0, res.EventRate)
	require.NotNil(t, res.Health)
	assert.Equal(t, 50.0, res.Health.EveryMS)
	assert.Equal(t, int64(0), res.Health.QueueMax)
	require.NotNil(t, res.Receiver, "the health answers carry a receiver")
	assert.False(t, res.Receiver.AcceptedAgree, "this receiver accepted nothing while the drain answered 204")
	require.NotNil(t, res.Process)
	assert.GreaterOrEqual(t, res.Process.Samples, 2)
}

// TestBenchWatch: --watch posts nothing and reports what it saw of the
// receiver, whose drain another client posts to meanwhile.
func TestBenchWatch(t *testing.T) {
	base := startPulse(t)
	type out struct {
		res *Result
		err error
	}
	watched := make(chan out, 1)
	go func() {
		res, err := Bench(context.Background(), Config{
			URL: base + "/logs", Duration: 600 * time.Millisecond, Watch: true,
			HealthURL: base + "/healthz", HealthEvery: 20 * time.Millisecond,
			PID: os.Getpid(), SampleEvery: 200 * time.Millisecond,
		})
		watched <- out{res, err}
	}()
	time.Sleep(100 * time.Millisecond)
	load, err := Bench(context.Background(), Config{URL: base + "/logs", Clients: 2, Duration: 200 * time.Millisecond, Frames: 10, Bodies: 5})
	require.NoError(t, err)
	w := <-watched
	require.NoError(t, w.err)
	res := w.res
	assert.True(t, res.Watch)
	assert.Zero(t, res.Requests)
	assert.Empty(t, res.Status)
	require.NotNil(t, res.Health)
	assert.Positive(t, res.Health.Probes)
	require.NotNil(t, res.Receiver)
	assert.Equal(t, load.Status[204], res.Receiver.Accepted, "the other client's bodies")
	assert.Equal(t, load.Events, res.Receiver.Events)
	assert.False(t, res.Receiver.AcceptedAgree)
	require.NotNil(t, res.Process)
	assert.GreaterOrEqual(t, res.Process.Samples, 3)

	var sb strings.Builder
	require.NoError(t, res.writeText(&sb))
	assert.True(t, strings.HasPrefix(sb.String(), "pulse bench drain --watch: posting nothing for 0.6s\nload      "), sb.String())
	assert.Regexp(t, `\nreceiver  drain\.requests \d+, drain\.accepted \d+, drain\.dropped 0, dropped frames 0, duplicates 0; events folded \d+\n`, sb.String())
}
