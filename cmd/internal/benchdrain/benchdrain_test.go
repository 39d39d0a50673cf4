package benchdrain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain is a test drain: it parses every body with logfmt.Reader,
// checks the Logplex headers, answers 503 to every fail-th request (none
// when fail is 0) and 204 to the others, and counts what it saw.
type drain struct {
	t      *testing.T
	fail   int64
	token  string
	user   string // "user:pass" when basic auth is expected
	frames int

	requests, answered2xx, frames2xx, frames503 atomic.Int64
	latest                                      atomic.Int64 // the latest event time seen, Unix ns
	mu                                          sync.Mutex
	ids                                         map[string]bool
	status                                      map[int]int64
	bad                                         []string
}

func newDrain(t *testing.T, frames int, fail int64) *drain {
	return &drain{t: t, frames: frames, fail: fail, ids: map[string]bool{}, status: map[int]int64{}}
}

func (d *drain) problem(format string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.bad) < 10 {
		d.bad = append(d.bad, fmtS(format, a...))
	}
}

func (d *drain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := d.requests.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/logs" {
		d.problem("%s %s", r.Method, r.URL.Path)
	}
	h := r.Header
	if ct := h.Get("Content-Type"); ct != "application/logplex-1" {
		d.problem("Content-Type %q", ct)
	}
	if d.token != "" && h.Get("Logplex-Drain-Token") != d.token {
		d.problem("Logplex-Drain-Token %q", h.Get("Logplex-Drain-Token"))
	}
	if !regexp.MustCompile(`^d\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(h.Get("Logplex-Drain-Token")) && d.token == "" {
		d.problem("Logplex-Drain-Token %q is not d.<uuid>", h.Get("Logplex-Drain-Token"))
	}
	if d.user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u+":"+p != d.user {
			d.problem("basic auth %q:%q", u, p)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	id := h.Get("Logplex-Frame-Id")
	d.mu.Lock()
	if id == "" || d.ids[id] {
		d.bad = append(d.bad, "Logplex-Frame-Id "+strconv.Quote(id)+" empty or repeated")
	}
	d.ids[id] = true
	d.mu.Unlock()

	rd := logfmt.NewReader(r.Body, nil)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			for t := ev.Time.UnixNano(); ; {
				old := d.latest.Load()
				if t <= old || d.latest.CompareAndSwap(old, t) {
					break
				}
			}
		}
		if err != nil {
			d.problem("frame: %v", err)
			if !errors.Is(err, logfmt.ErrSyntax) {
				break
			}
		}
	}
	st := rd.Stats()
	if got := strconv.FormatInt(st.Events, 10); got != h.Get("Logplex-Msg-Count") || st.Events != int64(d.frames) {
		d.problem("Logplex-Msg-Count %q, %d frames parsed, want %d", h.Get("Logplex-Msg-Count"), st.Events, d.frames)
	}
	if st.Unparsed != 0 || st.Mismatches != 0 {
		d.problem("%d unparsed, %d mismatched counts", st.Unparsed, st.Mismatches)
	}
	code := http.StatusNoContent
	if d.fail > 0 && n%d.fail == 0 {
		code = http.StatusServiceUnavailable
		d.frames503.Add(st.Events)
	} else {
		d.answered2xx.Add(1)
		d.frames2xx.Add(st.Events)
	}
	d.mu.Lock()
	d.status[code]++
	d.mu.Unlock()
	w.WriteHeader(code)
}

func fmtS(format string, a ...any) string { return strings.TrimSpace(fmt.Sprintf(format, a...)) }

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestBench(t *testing.T) {
	tests := []struct {
		name    string
		frames  int
		clients int
		fail    int64
		extra   []string
	}{
		{name: "all 2xx", frames: 100, clients: 4},
		{name: "some 503", frames: 100, clients: 3, fail: 3},
		{name: "one frame a body, one client", frames: 1, clients: 1, fail: 5},
		{name: "few bodies repeated", frames: 7, clients: 2, extra: []string{"--bodies", "2", "--seed", "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDrain(t, tt.frames, tt.fail)
			srv := httptest.NewServer(d)
			defer srv.Close()
			args := append([]string{"--url", srv.URL + "/logs", "--duration", "300ms", "--json",
				"--frames", strconv.Itoa(tt.frames), "--clients", strconv.Itoa(tt.clients)}, tt.extra...)
			out, errOut, err := run(t, args...)
			require.NoError(t, err, errOut)
			assert.Empty(t, errOut)
			var res Result
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			assert.Empty(t, d.bad)

			// Every frame is accounted for.
			assert.Positive(t, res.Requests)
			assert.Equal(t, d.requests.Load(), res.Requests)
			assert.Equal(t, d.frames2xx.Load(), res.Events)
			assert.Equal(t, res.Requests*int64(tt.frames), d.frames2xx.Load()+d.frames503.Load())
			assert.Equal(t, d.status, res.Status)
			assert.Zero(t, res.Errors)
			if tt.fail > 0 {
				assert.Equal(t, res.Requests/tt.fail, res.Status[503])
			}
			assert.Equal(t, tt.clients, res.Clients)
			assert.Equal(t, tt.frames, res.Frames)
			assert.Equal(t, srv.URL+"/logs", res.URL)
			assert.Equal(t, 0.3, res.Duration)
			assert.GreaterOrEqual(t, res.Elapsed, 0.3)
			assert.InDelta(t, float64(res.Events)/res.Elapsed, res.EventsPerSec, 1e-6)
			assert.InDelta(t, float64(res.Requests)/res.Elapsed, res.RequestsPerSec, 1e-6)
			assert.Positive(t, res.Latency.P50)
			assert.LessOrEqual(t, res.Latency.P50, res.Latency.P99)
			assert.LessOrEqual(t, res.Latency.P99, res.Latency.Max)
		})
	}
}

func TestBenchText(t *testing.T) {
	d := newDrain(t, 10, 4)
	srv := httptest.NewServer(d)
	defer srv.Close()
	out, _, err := run(t, "--url", srv.URL+"/logs", "--duration", "100ms", "--frames", "10", "--clients", "2")
	require.NoError(t, err)
	assert.Empty(t, d.bad)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 7, out)
	assert.Equal(t, "pulse bench drain: 2 clients posting 10-frame bodies to "+srv.URL+"/logs for 0.1s, as fast as answered", lines[0])
	assert.Regexp(t, `^requests  \d+ in \d+\.\d\ds, \d+\.\d/s$`, lines[1])
	assert.Regexp(t, `^events    \d+, \d+\.\d/s \(frames of bodies answered 2xx\), \d+\.\d MB/s; offered \d+\.\d/s$`, lines[2])
	assert.Regexp(t, `^status    204: \d+ 503: \d+$`, lines[3])
	assert.Equal(t, "errors    0", lines[4])
	assert.Regexp(t, `^latency   p50 \S+  p99 \S+  max \S+$`, lines[5])
	assert.Regexp(t, `^load      \d+\.\d\d \d+\.\d\d \d+\.\d\d at the start, \d+\.\d\d \d+\.\d\d \d+\.\d\d at the end$`, lines[6])
}

func TestBenchAuthAndToken(t *testing.T) {
	d := newDrain(t, 5, 0)
	d.user = "drain:s3cr:et"
	d.token = "d.11111111-2222-4333-8444-555555555555"
	srv := httptest.NewServer(d)
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://drain:s3cr%3Aet@", 1) + "/logs"
	out, _, err := run(t, "--url", u, "--duration", "100ms", "--frames", "5", "--token", d.token, "--json")
	require.NoError(t, err)
	assert.Empty(t, d.bad)
	var res Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, map[int]int64{204: res.Requests}, res.Status)
	assert.NotContains(t, out, "s3cr", "the password is not printed")
	assert.Contains(t, res.URL, "drain:xxxxx@")
}

// TestBenchRate: with a rate, request i starts no earlier than i/rate
// after the start, so a run never sends more than that allows.
func TestBenchRate(t *testing.T) {
	d := newDrain(t, 3, 0)
	srv := httptest.NewServer(d)
	defer srv.Close()
	res, err := Bench(context.Background(), Config{URL: srv.URL + "/logs", Clients: 4, Duration: 300 * time.Millisecond, Frames: 3, Rate: 40})
	require.NoError(t, err)
	assert.Empty(t, d.bad)
	assert.Positive(t, res.Requests)
	// Request i starts at i/40 s or later, and none after 300 ms: at
	// most requests 0 to 12.
	assert.LessOrEqual(t, res.Requests, int64(13))
	assert.Equal(t, 40.0, res.Rate)
}

// TestBenchRefresh: the bodies are generated again every Refresh with
// event times moved on by the time since the start, so a long run does
// not post late events.
func TestBenchRefresh(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{Clients: 1, Duration: 500 * time.Millisecond, Frames: 1, Bodies: 1, Start: start, Rate: 100}
	span := func(cfg Config) time.Duration {
		d := newDrain(t, 1, 0)
		srv := httptest.NewServer(d)
		defer srv.Close()
		cfg.URL = srv.URL + "/logs"
		res, err := Bench(context.Background(), cfg)
		require.NoError(t, err)
		assert.Empty(t, d.bad)
		assert.Positive(t, res.Events)
		return time.Unix(0, d.latest.Load()).Sub(start)
	}
	cfg.Refresh = time.Hour
	assert.Less(t, span(cfg), 100*time.Millisecond, "one body, never generated again: its one event time")
	cfg.Refresh = 50 * time.Millisecond
	assert.GreaterOrEqual(t, span(cfg), 50*time.Millisecond, "the bodies were generated again after 50 ms or later")
}

// TestBenchEventRate: --event-rate sets the rate in bodies/s.
func TestBenchEventRate(t *testing.T) {
	d := newDrain(t, 4, 0)
	srv := httptest.NewServer(d)
	defer srv.Close()
	res, err := Bench(context.Background(), Config{URL: srv.URL + "/logs", Clients: 2, Duration: 300 * time.Millisecond, Frames: 4, EventRate: 160})
	require.NoError(t, err)
	assert.Equal(t, 40.0, res.Rate)
	assert.Equal(t, 160.0, res.EventRate)
	// Request i starts at i/40 s or later, and none after 300 ms.
	assert.LessOrEqual(t, res.Requests, int64(13))
}

func TestBenchErrors(t *testing.T) {
	// Nothing listens: every request fails, and Run says so.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	out, _, err := run(t, "--url", "http://"+addr+"/logs", "--duration", "50ms", "--clients", "1", "--frames", "1", "--bodies", "1", "--json")
	require.Error(t, err)
	assert.ErrorContains(t, err, "benchdrain: no request was answered: ")
	var res Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Positive(t, res.Errors)
	assert.Equal(t, res.Errors, res.Requests)
	assert.Zero(t, res.Events)
	assert.NotEmpty(t, res.ErrorSamples)
	assert.LessOrEqual(t, len(res.ErrorSamples), maxSamples)
	assert.Empty(t, res.Status)
}

func TestBenchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	res, err := Bench(context.Background(), Config{URL: srv.URL, Clients: 2, Duration: 50 * time.Millisecond, Frames: 1, Bodies: 1, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Errors, "one timed-out request per client")
	assert.Contains(t, res.ErrorSamples[0], "deadline exceeded")
}

func TestBenchCancel(t *testing.T) {
	d := newDrain(t, 2, 0)
	srv := httptest.NewServer(d)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--url", srv.URL + "/logs", "--duration", "1h", "--frames", "2", "--json"}, nil, &out, io.Discard)
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop after its context was cancelled")
	}
	var res Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), "what was measured is printed")
	assert.Positive(t, res.Requests)
	assert.Zero(t, res.Errors, "interrupted requests are not errors")
}

func TestBodies(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{Frames: 50, Bodies: 3, Seed: 7, Start: start}
	a, b := Bodies(cfg), Bodies(cfg)
	require.Len(t, a, 3)
	assert.Equal(t, a, b, "deterministic for a seed and start")
	for _, body := range a {
		rd := logfmt.NewReader(bytes.NewReader(body), nil)
		var first time.Time
		for {
			ev, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			if first.IsZero() {
				first = ev.Time
			}
		}
		assert.Equal(t, int64(50), rd.Stats().Events)
		assert.Zero(t, rd.Stats().Mismatches)
		assert.False(t, first.Before(start))
		assert.Regexp(t, `^\d+ <\d+>1 `, string(body), "octet-counted frames")
	}
	assert.NotEqual(t, a, Bodies(Config{Frames: 50, Bodies: 3, Seed: 8, Start: start}))
}

func TestBodiesGenRate(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// span is the event time the frames of cfg's bodies cover.
	span := func(cfg Config) time.Duration {
		t.Helper()
		var first, last time.Time
		for _, body := range Bodies(cfg) {
			rd := logfmt.NewReader(bytes.NewReader(body), nil)
			for {
				ev, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				if first.IsZero() {
					first = ev.Time
				}
				last = ev.Time
			}
		}
		return last.Sub(first)
	}
	cfg := Config{Frames: 100, Bodies: 20, Seed: 1, Start: start}
	slow := span(cfg)
	cfg.GenRate = 20000
	fast := span(cfg)
	assert.Less(t, fast, slow/5, "20 000 lines/s cover less event time than the default 1000 (%v, %v)", fast, slow)
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{name: "url scheme", args: []string{"--url", "ftp://x/logs"}, msg: `benchdrain: --url "ftp://x/logs" must be an http or https URL`},
		{name: "url host", args: []string{"--url", "http:///logs"}, msg: `benchdrain: --url "http:///logs" must be an http or https URL`},
		{name: "url", args: []string{"--url", "http://a b/"}, msg: `benchdrain: --url: invalid character " " in host name`},
		{name: "url with a password", args: []string{"--url", "http://u:s3cret@host:bad/logs"}, msg: `benchdrain: --url: invalid port ":bad" after host`},
		{name: "clients", args: []string{"--clients", "-1"}, msg: "benchdrain: --clients -1 must be between 1 and 10000"},
		{name: "duration", args: []string{"--duration", "-1s"}, msg: "benchdrain: --duration -1s must be positive"},
		{name: "frames", args: []string{"--frames", "-3"}, msg: "benchdrain: --frames -3 must be between 1 and 100000"},
		{name: "bodies", args: []string{"--bodies", "200000", "--frames", "100"}, msg: "benchdrain: --bodies 200000 × --frames 100 must be between 1 and 10000000 frames"},
		{name: "rate", args: []string{"--rate", "-1"}, msg: "benchdrain: --rate -1 must be 0 or a positive number"},
		{name: "rate NaN", args: []string{"--rate", "NaN"}, msg: "benchdrain: --rate NaN must be 0 or a positive number"},
		{name: "gen-rate", args: []string{"--gen-rate", "-5"}, msg: "benchdrain: --gen-rate -5 must be between 0 and 1e+09"},
		{name: "gen-rate NaN", args: []string{"--gen-rate", "NaN"}, msg: "benchdrain: --gen-rate NaN must be between 0 and 1e+09"},
		{name: "timeout", args: []string{"--timeout", "-1s"}, msg: "benchdrain: --timeout -1s must be positive"},
		{name: "start", args: []string{"--start", "yesterday"}, msg: `benchdrain: --start "yesterday" is not an RFC 3339 time`},
		{name: "event-rate", args: []string{"--event-rate", "-1"}, msg: "benchdrain: --event-rate -1 must be 0 or a positive number"},
		{name: "rate and event-rate", args: []string{"--rate", "10", "--event-rate", "500"}, msg: "benchdrain: --rate 10 and --event-rate 500 disagree; give one"},
		{name: "refresh", args: []string{"--refresh", "-1s"}, msg: "benchdrain: --refresh -1s must be positive"},
		{name: "health url", args: []string{"--health", "ftp://x/healthz"}, msg: `benchdrain: --health "ftp://x/healthz" must be an http or https URL`},
		{name: "health url with a password", args: []string{"--health", "http://u:s3cret@host:bad/healthz"}, msg: `benchdrain: --health: invalid port ":bad" after host`},
		{name: "stats url", args: []string{"--stats", "localhost:5000"}, msg: `benchdrain: --stats "localhost:5000" must be an http or https URL`},
		{name: "health-every", args: []string{"--health-every", "-1ms"}, msg: "benchdrain: --health-every -1ms must be positive"},
		{name: "health-slow", args: []string{"--health-slow", "-1ms"}, msg: "benchdrain: --health-slow -1ms must be positive"},
		{name: "settle", args: []string{"--settle", "-1s"}, msg: "benchdrain: --settle -1s must be positive"},
		{name: "pid", args: []string{"--pid", "-2"}, msg: "benchdrain: --pid -2 must be a process id"},
		{name: "pid gone", args: []string{"--pid", "1073741824"}, msg: "benchdrain: --pid 1073741824: open /proc/1073741824/status: no such file or directory"},
		{name: "sample-every", args: []string{"--sample-every", "-1s"}, msg: "benchdrain: --sample-every -1s must be positive"},
		{name: "sample-warmup", args: []string{"--sample-warmup", "-1s"}, msg: "benchdrain: --sample-warmup -1s must not be negative"},
		{name: "search-precision", args: []string{"--search", "--search-precision", "-1"}, msg: "benchdrain: --search-precision -1 must be above 0 and at most 10"},
		{name: "search-steps", args: []string{"--search", "--search-steps", "-1"}, msg: "benchdrain: --search-steps -1 must be between 1 and 1000"},
		{name: "search-pause", args: []string{"--search", "--search-pause", "-1s"}, msg: "benchdrain: --search-pause -1s must not be negative"},
		{name: "search-min-offered", args: []string{"--search", "--search-min-offered", "1.5"}, msg: "benchdrain: --search-min-offered 1.5 must be above 0 and at most 1"},
		{name: "watch alone", args: []string{"--watch"}, msg: "benchdrain: --watch needs --health, --pid or --stats"},
		{name: "argument", args: []string{"extra"}, msg: `benchdrain: unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"--nope"}, msg: "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, tt.args...)
			require.Error(t, err)
			assert.EqualError(t, err, tt.msg)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "usage: pulse bench drain")
		})
	}
}

func TestRunHelp(t *testing.T) {
	out, errOut, err := run(t, "-h")
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: pulse bench drain")
	assert.Contains(t, errOut, "-clients clients")
}

func TestDefaultToken(t *testing.T) {
	a := Config{Seed: 1}
	a.defaults()
	b := Config{Seed: 1}
	b.defaults()
	c := Config{Seed: 2}
	c.defaults()
	assert.Equal(t, a.Token, b.Token)
	assert.NotEqual(t, a.Token, c.Token)
	assert.Regexp(t, `^d\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a.Token)
}
