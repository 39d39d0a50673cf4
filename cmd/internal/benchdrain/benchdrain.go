// Package benchdrain implements `pulse bench drain`: it posts generated
// Logplex drain bodies to a receiver's drain URL from many keep-alive
// clients and reports throughput, status codes and latency; optionally it
// probes the receiver's /healthz, samples a process's memory and CPU and
// the dashboard's figures, and searches for the highest rate the receiver
// takes without a 503 (Search).
package benchdrain

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "post generated drain bodies to a receiver from many clients and report events/s and latency"

// detail is the paragraph of the usage, under its synopsis.
const detail = `Posts Logplex drain bodies (octet-counted frames of generated Heroku
traffic, pre-generated before the clock starts) to a drain URL from
concurrent keep-alive clients for a duration, and reports requests, events
sent (frames of bodies answered 2xx), events/s, status codes and latency.
Event times start now, and the bodies are generated again every --refresh
with event times from then, so a live receiver takes them however long
the run.

Monitoring: --health probes a URL (a receiver's /healthz) every
--health-every on a new connection each time and reports its latency,
and, when it answers with a receiver's counters, the receiver's own count
of bodies accepted and dropped over the run (read once its queue is empty)
against the 503s seen here. --pid samples a process's RSS and CPU from
/proc every --sample-every, and --stats the figures a web's
/stats/latest shows (pulse.dropped, pulse.events).

--search finds the highest rate with no 503 and no error: steps of
--duration at --rate (or --event-rate), doubling until a step fails, then
bisecting until the rates that passed and failed are within
--search-precision, each step reported.`

// Defaults and limits of Config.
const (
	DefaultURL      = "http://127.0.0.1:5000/logs"
	DefaultDuration = 10 * time.Second
	DefaultFrames   = 100
	DefaultBodies   = 100
	DefaultTimeout  = 30 * time.Second
	DefaultRefresh  = 10 * time.Second
	// MaxClients, MaxFrames and MaxTotalFrames bound the clients and the
	// pre-generated frames (Bodies × Frames, a few hundred bytes each).
	MaxClients     = 10000
	MaxFrames      = 100000
	MaxTotalFrames = 10_000_000
)

// Config is what to post and how. Zero fields mean the defaults given on
// each field.
type Config struct {
	// URL is the drain URL; user:pass in it is sent as basic auth.
	// Empty means DefaultURL.
	URL string
	// Clients is the number of concurrent keep-alive clients. Zero means
	// twice GOMAXPROCS.
	Clients int
	// Duration is how long new requests are started; requests in flight
	// at the end complete. Zero means DefaultDuration (10 s).
	Duration time.Duration
	// Frames is the number of frames per body. Zero means DefaultFrames
	// (100, as Logplex sends at most).
	Frames int
	// Bodies is the number of distinct bodies generated and posted in
	// turn. Zero means DefaultBodies (100).
	Bodies int
	// Rate is the target of bodies per second over all clients; zero
	// means as fast as the server answers. Request i starts no earlier
	// than i/Rate after the start; clients that fall behind catch up
	// without pause.
	Rate float64
	// Seed selects the traffic (logfmttest.Options.Seed).
	Seed uint64
	// GenRate is the generated traffic's request-driven lines per second
	// of event time (logfmttest.Options.Rate), as pulse gen --rate takes
	// it. It sets the mix: periodic metrics and incident lines come on
	// top, so at a higher rate router lines are a larger share, as in the
	// traffic a receiver is compared with (pulse gen --rate 20000). Zero
	// means logfmttest.DefaultRate (1000).
	GenRate float64
	// Start is the event time of the first frame; zero means now.
	Start time.Time
	// Token is the Logplex-Drain-Token header; empty means a d.<uuid>
	// made from Seed.
	Token string
	// Timeout bounds each request. Zero means DefaultTimeout (30 s).
	Timeout time.Duration

	// EventRate is the target in events/s over all clients: when
	// positive, Rate is EventRate / Frames (setting both is an error).
	EventRate float64
	// Refresh is how often the bodies are generated again, with event
	// times starting then (Start plus the time since the run began, when
	// Start is set), so that a long run's events are not late. Zero
	// means DefaultRefresh (10 s).
	Refresh time.Duration

	// HealthURL, when set, is fetched (GET, a new connection each time,
	// user:pass in it sent as basic auth) every HealthEvery during the
	// run, one probe at a time: Result.Health. When it answers a
	// receiver's /healthz (pulse run's, or a receiver role's), its drain
	// counters at the start and at the end give Result.Receiver.
	HealthURL string
	// HealthEvery is the interval between probes; zero means
	// DefaultHealthEvery (100 ms).
	HealthEvery time.Duration
	// HealthSlow is the latency over which a probe counts as slow
	// (HealthResult.Slow); zero means DefaultHealthSlow (100 ms).
	HealthSlow time.Duration
	// Settle bounds the wait, after the load, for the receiver's queue to
	// empty before its counters are read. Zero means DefaultSettle
	// (10 s).
	Settle time.Duration
	// PID, when not zero, is a process whose RSS and CPU time are read
	// from /proc at the start, every SampleEvery and at the end of the
	// load: Result.Samples and Result.Process.
	PID int
	// SampleEvery is the interval between samples; zero means
	// DefaultSampleEvery (10 s).
	SampleEvery time.Duration
	// SampleWarmup is how far into the run the sample is taken from
	// which RSS growth is measured (ProcessResult.RSSBaseKB); zero means
	// the first sample.
	SampleWarmup time.Duration
	// StatsURL, when set, is a web's /stats/latest, read at each sample
	// for the pulse.dropped and pulse.events the dashboard shows.
	StatsURL string
	// Watch posts nothing: the run only probes and samples, for
	// Duration. Run it as a process of its own beside the one that
	// posts, so that the load client's own work does not delay the
	// probes. It needs HealthURL, PID or StatsURL.
	Watch bool
}

// Result is what a run measured. Its JSON form is what --json prints.
type Result struct {
	// URL is the drain URL without its password.
	URL     string `json:"url"`
	Clients int    `json:"clients"`
	Frames  int    `json:"frames_per_body"`
	// Rate is the target rate in bodies/s, 0 for none.
	Rate float64 `json:"rate"`
	// Duration is the time requests were started for, Elapsed until the
	// last one completed, in seconds.
	Duration float64 `json:"duration_s"`
	Elapsed  float64 `json:"elapsed_s"`
	// Requests counts requests sent: answered with a status or failed
	// (Errors).
	Requests int64 `json:"requests"`
	// Events counts the frames of bodies answered 2xx, Bytes their body
	// bytes.
	Events int64 `json:"events"`
	Bytes  int64 `json:"bytes"`
	// RequestsPerSec and EventsPerSec are over Elapsed.
	RequestsPerSec float64 `json:"requests_per_s"`
	EventsPerSec   float64 `json:"events_per_s"`
	// Status counts answers by status code.
	Status map[int]int64 `json:"status"`
	// Errors counts requests with no answer (connection refused or reset,
	// timeout); ErrorSamples holds up to five distinct messages.
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Latency is of answered requests, from sending the request to
	// reading the whole answer, in milliseconds: the median and 99th
	// percentile (exact up to 512 requests, then within stat.Quantiles'
	// bound) and the maximum.
	Latency Latency `json:"latency_ms"`

	// EventRate is the target rate in events/s (Rate × Frames), 0 for
	// none.
	EventRate float64 `json:"event_rate"`
	// OfferedEventsPerSec counts the frames of every request sent,
	// whatever its answer, over Elapsed.
	OfferedEventsPerSec float64 `json:"offered_events_per_s"`
	// LoadAvg and LoadAvgEnd are the machine's 1, 5 and 15-minute load
	// averages at the start and at the end (/proc/loadavg).
	LoadAvg    []float64 `json:"loadavg,omitempty"`
	LoadAvgEnd []float64 `json:"loadavg_end,omitempty"`
	// Watch reports a run that posted nothing (Config.Watch).
	Watch bool `json:"watch,omitempty"`
	// Health is what the probes of Config.HealthURL saw.
	Health *HealthResult `json:"health,omitempty"`
	// Receiver is the receiver's own count of the run, when
	// Config.HealthURL shows it.
	Receiver *ReceiverCounts `json:"receiver,omitempty"`
	// Process sums up the samples of Config.PID, and Samples holds every
	// sample taken.
	Process *ProcessResult `json:"process,omitempty"`
	Samples []Sample       `json:"samples,omitempty"`
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Run parses args (the flags after "bench drain"), runs the benchmark and
// writes its result to stdout. It returns flag.ErrHelp for -h, an error
// for bad flags (after printing the usage to stderr), an error when no
// request was answered, and ctx.Err() when ctx ends first (after printing
// what was measured until then). stdin is not read.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse bench drain", "pulse bench drain [flags]", detail, stderr)
	var (
		cfg    Config
		sc     SearchConfig
		search bool
		start  string
		asJSON bool
	)
	fs.String(&cfg.URL, "url", "", DefaultURL, "drain `URL`; user:pass in it is sent as basic auth")
	fs.Int(&cfg.Clients, "clients", "", 2*runtime.GOMAXPROCS(0), "concurrent keep-alive `clients`")
	fs.Duration(&cfg.Duration, "duration", "", DefaultDuration, "how long to start requests for")
	fs.Int(&cfg.Frames, "frames", "", DefaultFrames, "`frames` per body")
	fs.Int(&cfg.Bodies, "bodies", "", DefaultBodies, "distinct `bodies` to generate and post in turn")
	fs.Float64(&cfg.Rate, "rate", "", 0, "target `bodies/s` over all clients; 0 posts as fast as the server answers")
	fs.Uint64(&cfg.Seed, "seed", "", 1, "`seed` of the generated traffic")
	fs.Float64(&cfg.GenRate, "gen-rate", "", logfmttest.DefaultRate, "request-driven `lines` per second of event time in the generated traffic, as pulse gen --rate (it sets the mix of lines)")
	fs.String(&start, "start", "", "now", "event `time` of the first frame, RFC 3339, or now")
	fs.String(&cfg.Token, "token", "", "", "Logplex-Drain-Token `header` (default a d.<uuid> made from the seed)")
	fs.Duration(&cfg.Timeout, "timeout", "", DefaultTimeout, "bound on each request")
	fs.Bool(&asJSON, "json", "", false, "print the result as JSON")
	fs.Float64(&cfg.EventRate, "event-rate", "", 0, "target `events/s` over all clients: sets --rate to this / --frames")
	fs.Duration(&cfg.Refresh, "refresh", "", DefaultRefresh, "generate the bodies again, with event times from then, this often")
	fs.String(&cfg.HealthURL, "health", "", "", "probe this `URL` (a receiver's /healthz) during the run and report its latency and the receiver's drain counters")
	fs.Duration(&cfg.HealthEvery, "health-every", "", DefaultHealthEvery, "interval between probes of --health")
	fs.Duration(&cfg.HealthSlow, "health-slow", "", DefaultHealthSlow, "count probes slower than this")
	fs.Duration(&cfg.Settle, "settle", "", DefaultSettle, "after the load, wait at most this for the receiver's queue to empty before reading its counters")
	fs.Int(&cfg.PID, "pid", "", 0, "sample this process's RSS and CPU from /proc (`pid`)")
	fs.Duration(&cfg.SampleEvery, "sample-every", "", DefaultSampleEvery, "interval between samples of --pid and --stats")
	fs.Duration(&cfg.SampleWarmup, "sample-warmup", "", 0, "measure RSS growth from the first sample this far into the run")
	fs.String(&cfg.StatsURL, "stats", "", "", "read pulse.dropped and pulse.events from this web's /stats/latest `URL` at each sample")
	fs.Bool(&cfg.Watch, "watch", "", false, "post nothing: only probe and sample for --duration (run it beside the process that posts)")
	fs.Bool(&search, "search", "", false, "find the highest rate with no 503 and no error, in steps of --duration from --rate or --event-rate")
	fs.Float64(&sc.Precision, "search-precision", "", DefaultPrecision, "stop when the rates that passed and failed are within this `fraction`")
	fs.Int(&sc.MaxSteps, "search-steps", "", DefaultMaxSteps, "the most `steps` of a search")
	fs.Duration(&sc.Pause, "search-pause", "", DefaultPause, "rest between steps (after the receiver's queue is empty)")
	fs.Float64(&sc.MinOffered, "search-min-offered", "", DefaultMinOffered, "a step fails when it posts less than this `fraction` of its target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.UsageError(fmt.Errorf("benchdrain: unexpected argument %q", fs.Arg(0)))
	}
	if start != "now" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return fs.UsageError(fmt.Errorf("benchdrain: --start %q is not an RFC 3339 time", start))
		}
		cfg.Start = t
	}
	if err := cfg.check(); err != nil {
		return fs.UsageError(err)
	}
	if search {
		if err := sc.check(); err != nil {
			return fs.UsageError(err)
		}
		return runSearch(ctx, cfg, sc, asJSON, stdout)
	}
	res, err := Bench(ctx, cfg)
	if err != nil && res == nil {
		return err
	}
	if asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		_, werr := fmt.Fprintf(stdout, "%s\n", b)
		err = cmpErr(err, werr)
	} else {
		err = cmpErr(err, res.writeText(stdout))
	}
	if err == nil && res.Requests > 0 && res.Requests == res.Errors {
		err = fmt.Errorf("benchdrain: no request was answered: %s", res.ErrorSamples[0])
	}
	return err
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// check validates cfg with its defaults applied.
func (cfg *Config) check() error {
	cfg.defaults()
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		// url.Error quotes the URL, password and all.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("benchdrain: --url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("benchdrain: --url %q must be an http or https URL", u.Redacted())
	case cfg.Clients < 1 || cfg.Clients > MaxClients:
		return fmt.Errorf("benchdrain: --clients %d must be between 1 and %d", cfg.Clients, MaxClients)
	case cfg.Duration <= 0:
		return fmt.Errorf("benchdrain: --duration %v must be positive", cfg.Duration)
	case cfg.Frames < 1 || cfg.Frames > MaxFrames:
		return fmt.Errorf("benchdrain: --frames %d must be between 1 and %d", cfg.Frames, MaxFrames)
	case cfg.Bodies < 1 || cfg.Bodies > MaxTotalFrames || cfg.Bodies*cfg.Frames > MaxTotalFrames:
		return fmt.Errorf("benchdrain: --bodies %d × --frames %d must be between 1 and %d frames", cfg.Bodies, cfg.Frames, MaxTotalFrames)
	case !(cfg.Rate >= 0) || math.IsInf(cfg.Rate, 1):
		return fmt.Errorf("benchdrain: --rate %v must be 0 or a positive number", cfg.Rate)
	case !(cfg.GenRate >= 0) || cfg.GenRate > logfmttest.MaxRate:
		return fmt.Errorf("benchdrain: --gen-rate %v must be between 0 and %v", cfg.GenRate, float64(logfmttest.MaxRate))
	case cfg.Timeout <= 0:
		return fmt.Errorf("benchdrain: --timeout %v must be positive", cfg.Timeout)
	case strings.ContainsAny(cfg.Token, "\r\n"):
		return fmt.Errorf("benchdrain: --token must be one line")
	case !(cfg.EventRate >= 0) || math.IsInf(cfg.EventRate, 1):
		return fmt.Errorf("benchdrain: --event-rate %v must be 0 or a positive number", cfg.EventRate)
	case cfg.EventRate > 0 && cfg.Rate > 0 && cfg.Rate != cfg.EventRate/float64(cfg.Frames):
		return fmt.Errorf("benchdrain: --rate %v and --event-rate %v disagree; give one", cfg.Rate, cfg.EventRate)
	case cfg.Refresh <= 0:
		return fmt.Errorf("benchdrain: --refresh %v must be positive", cfg.Refresh)
	case cfg.HealthEvery <= 0:
		return fmt.Errorf("benchdrain: --health-every %v must be positive", cfg.HealthEvery)
	case cfg.HealthSlow <= 0:
		return fmt.Errorf("benchdrain: --health-slow %v must be positive", cfg.HealthSlow)
	case cfg.Settle <= 0:
		return fmt.Errorf("benchdrain: --settle %v must be positive", cfg.Settle)
	case cfg.PID < 0:
		return fmt.Errorf("benchdrain: --pid %d must be a process id", cfg.PID)
	case cfg.SampleEvery <= 0:
		return fmt.Errorf("benchdrain: --sample-every %v must be positive", cfg.SampleEvery)
	case cfg.SampleWarmup < 0:
		return fmt.Errorf("benchdrain: --sample-warmup %v must not be negative", cfg.SampleWarmup)
	case cfg.Watch && cfg.HealthURL == "" && cfg.PID == 0 && cfg.StatsURL == "":
		return fmt.Errorf("benchdrain: --watch needs --health, --pid or --stats")
	}
	for _, f := range []struct{ name, url string }{{"health", cfg.HealthURL}, {"stats", cfg.StatsURL}} {
		if f.url == "" {
			continue
		}
		if err := checkURL(f.name, f.url); err != nil {
			return err
		}
	}
	if cfg.PID != 0 {
		if _, _, err := readProc(cfg.PID); err != nil {
			return fmt.Errorf("benchdrain: --pid %d: %w", cfg.PID, err)
		}
	}
	if cfg.EventRate > 0 {
		cfg.Rate = cfg.EventRate / float64(cfg.Frames)
	}
	return nil
}

// checkURL checks the http or https URL of flag name.
func checkURL(name, s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("benchdrain: --%s: %w", name, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("benchdrain: --%s %q must be an http or https URL", name, u.Redacted())
	}
	return nil
}

func (cfg *Config) defaults() {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.Clients == 0 {
		cfg.Clients = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Frames == 0 {
		cfg.Frames = DefaultFrames
	}
	if cfg.Bodies == 0 {
		cfg.Bodies = DefaultBodies
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.HealthEvery == 0 {
		cfg.HealthEvery = DefaultHealthEvery
	}
	if cfg.HealthSlow == 0 {
		cfg.HealthSlow = DefaultHealthSlow
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.SampleEvery == 0 {
		cfg.SampleEvery = DefaultSampleEvery
	}
	if cfg.Token == "" {
		r := mrand.New(mrand.NewPCG(cfg.Seed, 0x70756c7365))
		a, b := r.Uint64(), r.Uint64()
		cfg.Token = fmt.Sprintf("d.%08x-%04x-4%03x-%04x-%012x",
			a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
	}
}

// Bodies returns the drain bodies Bench posts for cfg (with its defaults
// applied): Bodies bodies of Frames octet-counted frames each, in the
// order the generator writes them.
func Bodies(cfg Config) [][]byte {
	cfg.defaults()
	start := cfg.Start
	if start.IsZero() {
		start = time.Now().UTC()
	}
	g := logfmttest.New(logfmttest.Options{Seed: cfg.Seed, Start: start, Rate: cfg.GenRate, Format: logfmttest.Drain})
	bodies := make([][]byte, cfg.Bodies)
	var buf []byte
	for i := range bodies {
		buf = buf[:0]
		for range cfg.Frames {
			buf, _ = g.Next(buf)
		}
		bodies[i] = slices.Clone(buf)
	}
	return bodies
}

// Bench runs the benchmark cfg describes. It returns an error for a bad
// Config; when ctx ends first, it returns what was measured until then
// with ctx.Err().
func Bench(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.URL)
	user := u.User
	u.User = nil
	target := u.String()
	var bodies [][]byte
	if !cfg.Watch {
		bodies = Bodies(cfg)
	}
	var prefix [8]byte
	rand.Read(prefix[:])
	b := &bench{
		cfg: cfg, target: target, user: user,
		frameID:  strings.ToUpper(hex.EncodeToString(prefix[:])),
		msgCount: strconv.Itoa(cfg.Frames),
		client: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        cfg.Clients,
			MaxIdleConnsPerHost: cfg.Clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}},
		stop: make(chan struct{}),
	}
	b.bodies.Store(&bodies)
	defer b.client.CloseIdleConnections()
	mon := newMonitor(cfg)
	if mon != nil {
		mon.start(ctx)
	}
	load := loadAvg()

	began := time.Now()
	b.began = began
	timer := time.AfterFunc(cfg.Duration, func() { close(b.stop) })
	defer timer.Stop()
	var bg sync.WaitGroup
	loadDone := make(chan struct{})
	if !cfg.Watch {
		bg.Add(1)
		go func() {
			defer bg.Done()
			b.refresh(ctx, loadDone)
		}()
	}
	if mon != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			mon.run(ctx, began, loadDone)
		}()
	}
	clients := cfg.Clients
	if cfg.Watch {
		clients = 0
		select {
		case <-b.stop:
		case <-ctx.Done():
		}
	}
	tallies := make([]*tally, clients)
	var wg sync.WaitGroup
	for i := range tallies {
		tallies[i] = &tally{status: map[int]int64{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.client1(ctx, tallies[i])
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(loadDone)
	bg.Wait()

	res := &Result{
		URL: u.Redacted(), Clients: cfg.Clients, Frames: cfg.Frames, Rate: cfg.Rate,
		Duration: cfg.Duration.Seconds(), Elapsed: elapsed.Seconds(), Status: map[int]int64{},
		EventRate: cfg.Rate * float64(cfg.Frames), LoadAvg: load, Watch: cfg.Watch,
	}
	if user != nil {
		u.User = user
		res.URL = u.Redacted()
	}
	var lat stat.Quantiles
	for _, t := range tallies {
		res.Requests += t.requests
		res.Events += t.events
		res.Bytes += t.bytes
		res.Errors += t.errors
		for code, n := range t.status {
			res.Status[code] += n
		}
		for _, e := range t.samples {
			if len(res.ErrorSamples) < maxSamples && !slices.Contains(res.ErrorSamples, e) {
				res.ErrorSamples = append(res.ErrorSamples, e)
			}
		}
		_ = lat.Merge(&t.latency) // same kind and compression: never fails
	}
	if s := elapsed.Seconds(); s > 0 {
		res.RequestsPerSec = float64(res.Requests) / s
		res.EventsPerSec = float64(res.Events) / s
		res.OfferedEventsPerSec = float64(res.Requests*int64(cfg.Frames)) / s
	}
	if lat.Count() > 0 {
		res.Latency.P50, _ = lat.Quantile(0.5)
		res.Latency.P99, _ = lat.Quantile(0.99)
		res.Latency.Max, _ = lat.Max()
	}
	if mon != nil {
		mon.fill(res, mon.settle(ctx))
	}
	res.LoadAvgEnd = loadAvg()
	return res, ctx.Err()
}

// refresh generates the bodies again every Refresh until done is closed
// or ctx ends.
func (b *bench) refresh(ctx context.Context, done <-chan struct{}) {
	t := time.NewTicker(b.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			cfg := b.cfg
			if cfg.Start.IsZero() {
				cfg.Start = now.UTC()
			} else {
				cfg.Start = cfg.Start.Add(now.Sub(b.began))
			}
			bodies := Bodies(cfg)
			b.bodies.Store(&bodies)
		case <-done:
			return
		case <-ctx.Done():
			return
		}
	}
}

const maxSamples = 5

type bench struct {
	cfg      Config
	target   string
	user     *url.Userinfo
	bodies   atomic.Pointer[[][]byte] // generated again every Refresh
	frameID  string                   // random prefix of every Logplex-Frame-Id of the run
	msgCount string
	client   *http.Client
	began    time.Time
	next     atomic.Int64 // the next request's number
	stop     chan struct{}
}

// tally is one client's counts, merged at the end.
type tally struct {
	requests, events, bytes, errors int64
	status                          map[int]int64
	samples                         []string
	latency                         stat.Quantiles
}

// client1 is one client: it posts bodies until the duration is over or
// ctx ends.
func (b *bench) client1(ctx context.Context, t *tally) {
	for {
		select {
		case <-b.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		n := b.next.Add(1) - 1
		if b.cfg.Rate > 0 {
			at := b.began.Add(time.Duration(float64(n) / b.cfg.Rate * 1e9))
			if d := time.Until(at); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-timer.C:
				case <-b.stop:
					timer.Stop()
					return
				case <-ctx.Done():
					timer.Stop()
					return
				}
			}
		}
		if time.Since(b.began) >= b.cfg.Duration {
			return // the timer's goroutine may not have run yet on a busy machine
		}
		b.post(ctx, n, t)
	}
}

// post sends request n and records its outcome.
func (b *bench) post(ctx context.Context, n int64, t *tally) {
	bodies := *b.bodies.Load()
	body := bodies[n%int64(len(bodies))]
	rctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, b.target, bytes.NewReader(body))
	if err != nil {
		panic(err) // the URL was parsed by check
	}
	h := req.Header
	h.Set("Content-Type", "application/logplex-1")
	h.Set("Logplex-Msg-Count", b.msgCount)
	h.Set("Logplex-Frame-Id", b.frameID+fmt.Sprintf("%016X", n))
	h.Set("Logplex-Drain-Token", b.cfg.Token)
	h.Set("User-Agent", "pulse-bench-drain")
	if b.user != nil {
		pass, _ := b.user.Password()
		req.SetBasicAuth(b.user.Username(), pass)
	}
	began := time.Now()
	resp, err := b.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	took := time.Since(began)
	if err != nil && ctx.Err() != nil {
		return // interrupted, not a failure of the server
	}
	t.requests++
	if resp == nil {
		t.errors++
		if msg := err.Error(); len(t.samples) < maxSamples && !slices.Contains(t.samples, msg) {
			t.samples = append(t.samples, msg)
		}
		return
	}
	t.status[resp.StatusCode]++
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		t.events += int64(b.cfg.Frames)
		t.bytes += int64(len(body))
	}
	t.latency.Observe(float64(took.Nanoseconds()) / 1e6)
}

// writeText writes r for people.
func (r *Result) writeText(w io.Writer) error {
	var sb strings.Builder
	rate := "as fast as answered"
	if r.Rate > 0 {
		rate = fmt.Sprintf("at %g bodies/s (%g events/s)", r.Rate, r.EventRate)
	}
	if r.Watch {
		fmt.Fprintf(&sb, "pulse bench drain --watch: posting nothing for %gs\n", r.Duration)
		if len(r.LoadAvg) == 3 && len(r.LoadAvgEnd) == 3 {
			fmt.Fprintf(&sb, "load      %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end\n",
				r.LoadAvg[0], r.LoadAvg[1], r.LoadAvg[2], r.LoadAvgEnd[0], r.LoadAvgEnd[1], r.LoadAvgEnd[2])
		}
		r.writeMonitor(&sb)
		_, err := io.WriteString(w, sb.String())
		return err
	}
	fmt.Fprintf(&sb, "pulse bench drain: %d clients posting %d-frame bodies to %s for %gs, %s\n",
		r.Clients, r.Frames, r.URL, r.Duration, rate)
	fmt.Fprintf(&sb, "requests  %d in %.2fs, %.1f/s\n", r.Requests, r.Elapsed, r.RequestsPerSec)
	fmt.Fprintf(&sb, "events    %d, %.1f/s (frames of bodies answered 2xx), %.1f MB/s; offered %.1f/s\n",
		r.Events, r.EventsPerSec, float64(r.Bytes)/1e6/max(r.Elapsed, 1e-9), r.OfferedEventsPerSec)
	sb.WriteString("status   ")
	if len(r.Status) == 0 {
		sb.WriteString(" none")
	}
	for _, c := range slices.Sorted(maps.Keys(r.Status)) {
		fmt.Fprintf(&sb, " %d: %d", c, r.Status[c])
	}
	fmt.Fprintf(&sb, "\nerrors    %d\n", r.Errors)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(&sb, "          %s\n", e)
	}
	fmt.Fprintf(&sb, "latency   p50 %s  p99 %s  max %s\n", ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max))
	if len(r.LoadAvg) == 3 && len(r.LoadAvgEnd) == 3 {
		fmt.Fprintf(&sb, "load      %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end\n",
			r.LoadAvg[0], r.LoadAvg[1], r.LoadAvg[2], r.LoadAvgEnd[0], r.LoadAvgEnd[1], r.LoadAvgEnd[2])
	}
	r.writeMonitor(&sb)
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeMonitor writes what the probes and samples saw, when there were
// any.
func (r *Result) writeMonitor(sb *strings.Builder) {
	if h := r.Health; h != nil {
		fmt.Fprintf(sb, "health    %d probes of %s every %s: %s; errors %d; over %s: %d; p50 %s  p99 %s  max %s",
			h.Probes, h.URL, ms(h.EveryMS), statusText(h.Status), h.Errors, ms(h.SlowMS), h.Slow,
			ms(h.Latency.P50), ms(h.Latency.P99), ms(h.Latency.Max))
		if h.QueueMax >= 0 {
			fmt.Fprintf(sb, "; receiver queue max %d", h.QueueMax)
		}
		sb.WriteString("\n")
		for _, e := range h.ErrorSamples {
			fmt.Fprintf(sb, "          %s\n", e)
		}
	}
	if rc := r.Receiver; rc != nil && r.Watch {
		fmt.Fprintf(sb, "receiver  drain.requests %d, drain.accepted %d, drain.dropped %d, dropped frames %d, duplicates %d; events folded %d\n",
			rc.Requests, rc.Accepted, rc.Dropped, rc.DroppedFrames, rc.Duplicates, rc.Events)
	} else if rc != nil {
		fmt.Fprintf(sb, "receiver  drain.accepted %d (%s 2xx here), drain.dropped %d (%s 503s here), dropped frames %d, duplicates %d; events folded %d",
			rc.Accepted, agree(rc.AcceptedAgree), rc.Dropped, agree(rc.DroppedAgree), rc.DroppedFrames, rc.Duplicates, rc.Events)
		if rc.Queue > 0 {
			fmt.Fprintf(sb, " (queue not empty: %d)", rc.Queue)
		}
		sb.WriteString("\n")
	}
	if p := r.Process; p != nil {
		fmt.Fprintf(sb, "process   pid %d, %d samples: RSS first %s, last %s, min %s, max %s; from %s at %gs: %+.1f %% at the end, %+.1f %% at most; CPU %.1f s, %.2f cores",
			p.PID, p.Samples, mb(p.RSSFirstKB), mb(p.RSSLastKB), mb(p.RSSMinKB), mb(p.RSSMaxKB),
			mb(p.RSSBaseKB), math.Round(p.BaseAtS*10)/10, p.GrowthPct, p.MaxGrowthPct, p.CPU, p.Cores)
		if p.WaitPerS != nil {
			fmt.Fprintf(sb, "; waiting for a CPU %.1f s (%.2f threads on average)", *p.Wait, *p.WaitPerS)
		}
		sb.WriteString("\n")
		if p.RSSMedian1KB > 0 {
			fmt.Fprintf(sb, "          RSS median from %gs, first half %s, second half %s: %+.1f %%\n",
				math.Round(p.BaseAtS*10)/10, mb(p.RSSMedian1KB), mb(p.RSSMedian2KB), p.MedianGrowthPct)
		}
	}
	if len(r.Samples) > 0 {
		sb.WriteString("samples   t_s rss_mb cpu_s runq_wait_s queue dropped pulse.dropped/s pulse.events/s\n")
		for _, s := range r.Samples {
			fmt.Fprintf(sb, "          %.1f %s %s %s %s %s %s %s\n", s.T, mbOrDash(s.RSSKB), optF(s.CPU, 1), optF(s.Wait, 1),
				optI(s.Queue), optI(s.Dropped), optF(s.PulseDropped, 0), optF(s.PulseEvents, 0))
		}
	}
}

func agree(ok bool) string {
	if ok {
		return "="
	}
	return "≠"
}

func statusText(st map[int]int64) string {
	if len(st) == 0 {
		return "no answer"
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(st)) {
		parts = append(parts, fmt.Sprintf("%d: %d", c, st[c]))
	}
	return strings.Join(parts, " ")
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)*1024/1e6) }

func mbOrDash(kb int64) string {
	if kb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(kb)*1024/1e6)
}

func optF(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

func optI(v *int64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatInt(*v, 10)
}

func ms(v float64) string {
	return time.Duration(v * 1e6).Round(time.Microsecond).String()
}
