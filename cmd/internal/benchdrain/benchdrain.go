// Package benchdrain implements `pulse bench drain`: it posts generated
// Logplex drain bodies to a receiver's drain URL from many keep-alive
// clients and reports throughput, status codes and latency.
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
Event times start now, so a live receiver takes them; runs much longer
than a minute repeat bodies whose events a receiver counts as late.`

// Defaults and limits of Config.
const (
	DefaultURL      = "http://127.0.0.1:5000/logs"
	DefaultDuration = 10 * time.Second
	DefaultFrames   = 100
	DefaultBodies   = 100
	DefaultTimeout  = 30 * time.Second
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
	bodies := Bodies(cfg)
	var prefix [8]byte
	rand.Read(prefix[:])
	b := &bench{
		cfg: cfg, target: target, user: user, bodies: bodies,
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
	defer b.client.CloseIdleConnections()

	began := time.Now()
	b.began = began
	timer := time.AfterFunc(cfg.Duration, func() { close(b.stop) })
	defer timer.Stop()
	tallies := make([]*tally, cfg.Clients)
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

	res := &Result{
		URL: u.Redacted(), Clients: cfg.Clients, Frames: cfg.Frames, Rate: cfg.Rate,
		Duration: cfg.Duration.Seconds(), Elapsed: elapsed.Seconds(), Status: map[int]int64{},
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
	}
	if lat.Count() > 0 {
		res.Latency.P50, _ = lat.Quantile(0.5)
		res.Latency.P99, _ = lat.Quantile(0.99)
		res.Latency.Max, _ = lat.Max()
	}
	return res, ctx.Err()
}

const maxSamples = 5

type bench struct {
	cfg      Config
	target   string
	user     *url.Userinfo
	bodies   [][]byte
	frameID  string // random prefix of every Logplex-Frame-Id of the run
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
		b.post(ctx, n, t)
	}
}

// post sends request n and records its outcome.
func (b *bench) post(ctx context.Context, n int64, t *tally) {
	body := b.bodies[n%int64(len(b.bodies))]
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
		rate = fmt.Sprintf("at %g bodies/s", r.Rate)
	}
	fmt.Fprintf(&sb, "pulse bench drain: %d clients posting %d-frame bodies to %s for %gs, %s\n",
		r.Clients, r.Frames, r.URL, r.Duration, rate)
	fmt.Fprintf(&sb, "requests  %d in %.2fs, %.1f/s\n", r.Requests, r.Elapsed, r.RequestsPerSec)
	fmt.Fprintf(&sb, "events    %d, %.1f/s (frames of bodies answered 2xx), %.1f MB/s\n",
		r.Events, r.EventsPerSec, float64(r.Bytes)/1e6/max(r.Elapsed, 1e-9))
	sb.WriteString("status   ")
	if len(r.Status) == 0 {
		sb.WriteString(" none")
	}
	codes := slices.Sorted(func(yield func(int) bool) {
		for c := range r.Status {
			if !yield(c) {
				return
			}
		}
	})
	for _, c := range codes {
		fmt.Fprintf(&sb, " %d: %d", c, r.Status[c])
	}
	fmt.Fprintf(&sb, "\nerrors    %d\n", r.Errors)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(&sb, "          %s\n", e)
	}
	fmt.Fprintf(&sb, "latency   p50 %s  p99 %s  max %s\n", ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max))
	_, err := io.WriteString(w, sb.String())
	return err
}

func ms(v float64) string {
	return time.Duration(v * 1e6).Round(time.Microsecond).String()
}
