package benchcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulsehq/pulse/cmd/internal/benchdrain"
	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/window"
)

// Usage is the one-line summary for pulse bench's list of tools.
const Usage = "start receivers, merger shards and a web over one Redis, load them, and report events/s, CPU, Redis bytes and freshness"

// detail is the paragraph of the usage, under its synopsis.
const detail = `Starts a fleet on loopback, each process "pulse run --role ..." of the
pulse binary: R receivers, M merger shards and a web over one Redis (a
redis-server started on a free port unless --redis-url is given). Drives
every receiver with pulse bench drain's load, then reports events accepted,
folded, published and merged, the CPU time of every process, the bytes
through Redis and per shard, and pulse.lag. Receivers stamp events with
their arrival time. Every process is stopped on exit, error or interrupt.`

// Defaults and limits of Config.
const (
	DefaultReceivers    = 2
	DefaultMergers      = 1
	DefaultWorkers      = 1
	DefaultClients      = 4
	DefaultDuration     = 30 * time.Second
	DefaultStartTimeout = time.Minute
	DefaultSettle       = time.Minute
	// MaxProcs bounds the receivers and the mergers.
	MaxProcs = 64
)

// Config is what to start and how to load it. Zero fields mean the
// defaults given on each field.
type Config struct {
	// Bin is the pulse binary the processes run. Empty means this
	// program (os.Executable).
	Bin string
	// Receivers and Mergers are the numbers of receiver processes and of
	// merger shards (MERGER_COUNT). Zero means DefaultReceivers (2) and
	// DefaultMergers (1).
	Receivers, Mergers int
	// Workers is each receiver's WORKERS and GOMAXPROCS. Zero means
	// DefaultWorkers (1).
	Workers int
	// Duration is how long the load starts requests. Zero means
	// DefaultDuration (30 s).
	Duration time.Duration
	// Rate is the target of events per second over all receivers, shared
	// evenly; zero means as fast as the receivers answer.
	Rate float64
	// Clients is the number of keep-alive load clients per receiver.
	// Zero means DefaultClients (4).
	Clients int
	// Frames, Bodies and GenRate are bench drain's (see
	// benchdrain.Config); zero means its defaults.
	Frames, Bodies int
	GenRate        float64
	// RedisURL is the Redis the fleet uses; keys go under a prefix of
	// their own. Empty means a redis-server started for the run, which
	// must be in PATH.
	RedisURL string
	// StartTimeout bounds the wait for every process's /healthz. Zero
	// means DefaultStartTimeout (1 min).
	StartTimeout time.Duration
	// Settle bounds the wait, after the load, for the queues to empty
	// and the web to show a snapshot past the last event. Zero means
	// DefaultSettle (1 min).
	Settle time.Duration
	// Progress, when not nil, gets a line as each phase begins.
	Progress io.Writer
}

// Result is what a run measured. Its JSON form is what --json prints.
type Result struct {
	Receivers int     `json:"receivers"`
	Mergers   int     `json:"mergers"`
	Workers   int     `json:"workers_per_receiver"`
	Clients   int     `json:"clients_per_receiver"`
	Frames    int     `json:"frames_per_body"`
	Rate      float64 `json:"rate_events_per_s"` // the target, 0 for none
	// Redis is the Redis URL without its password, and its version.
	Redis        string `json:"redis"`
	RedisVersion string `json:"redis_version"`
	// Started is when the load started.
	Started time.Time `json:"started"`
	// Duration is the time the load started requests for; Elapsed until
	// its last request completed; Window the time CPU and bytes are
	// measured over, from the load's start to the end of the settle.
	// Seconds.
	Duration float64 `json:"duration_s"`
	Elapsed  float64 `json:"elapsed_s"`
	Window   float64 `json:"window_s"`
	// LoadStart and LoadEnd are /proc/loadavg's three figures.
	LoadStart string `json:"load_average_start"`
	LoadEnd   string `json:"load_average_end"`

	Events    Events             `json:"events"`
	Requests  int64              `json:"requests"`
	Status    map[int]int64      `json:"status"`
	Errors    int64              `json:"errors"`
	Latency   benchdrain.Latency `json:"latency_ms"`
	CPU       CPU                `json:"cpu"`
	RedisIO   RedisIO            `json:"redis_io"`
	Merger    Merger             `json:"merger"`
	Freshness Freshness          `json:"freshness"`
	// Notes are what went wrong or could not be measured.
	Notes []string `json:"notes,omitempty"`
}

// Events follows the events through the stages. Merged is −1 when the
// web's history lacked a snapshot its sum needs.
type Events struct {
	Accepted  int64 `json:"accepted"`  // frames of bodies answered 2xx
	Folded    int64 `json:"folded"`    // the receivers' receiver_events
	Published int64 `json:"published"` // pulse.events in the batches on Redis
	Merged    int64 `json:"merged"`    // pulse.events at the web
	// MergedAt is the snapshot time the merged total was read at.
	MergedAt       time.Time `json:"merged_at"`
	AcceptedPerSec float64   `json:"accepted_per_s"` // over Elapsed
	MergedPerSec   float64   `json:"merged_per_s"`   // over Elapsed
}

// CPU holds CPU seconds (user + system) over the window, and figures
// derived from them.
type CPU struct {
	Receivers []float64 `json:"receivers_s"`
	Mergers   []float64 `json:"mergers_s"`
	Web       float64   `json:"web_s"`
	Redis     float64   `json:"redis_s"`  // INFO used_cpu_user + used_cpu_sys
	Client    float64   `json:"client_s"` // this process: the load clients
	// ReceiverMicrosPerEvent is the receivers' CPU per event folded, and
	// EventsPerReceiverCPUSecond its inverse: what one receiver core
	// folds when it is busy.
	ReceiverMicrosPerEvent     float64 `json:"receiver_us_per_event"`
	EventsPerReceiverCPUSecond float64 `json:"events_per_receiver_cpu_s"`
	// ReceiverCores is the mean receiver's CPU over the window, in cores.
	ReceiverCores float64 `json:"receiver_cores"`
	// MergerCoresPerReceiver is all the shards' CPU over the window per
	// receiver, in cores; MergerMicrosPerBatch per batch in the window.
	MergerCoresPerReceiver float64 `json:"merger_cores_per_receiver"`
	MergerMicrosPerBatch   float64 `json:"merger_us_per_batch"`
	// RedisMicrosPerBatch is Redis's CPU per batch in the window: its
	// XADD, the merger's read, and its share of everything else Redis did
	// (snapshots, the web's reads, its own housekeeping).
	RedisMicrosPerBatch float64 `json:"redis_us_per_batch"`
	// PeakRSS is each process's VmHWM in bytes: receivers, then mergers,
	// then the web.
	PeakRSS []int64 `json:"peak_rss_bytes"`
}

// RedisIO is the traffic through Redis over the window.
type RedisIO struct {
	InPerSec  float64 `json:"in_bytes_per_s"`  // total_net_input_bytes
	OutPerSec float64 `json:"out_bytes_per_s"` // total_net_output_bytes
	Memory    int64   `json:"used_memory_bytes"`
	Shards    []Shard `json:"shards"`
}

// Shard is one shard's stream of batches.
type Shard struct {
	Shard         int     `json:"shard"`
	Batches       int64   `json:"batches"` // over the whole run
	Bytes         int64   `json:"bytes"`
	BytesPerBatch float64 `json:"bytes_per_batch"`
	// BatchesPerSec and BytesPerSec count entries with IDs in the window.
	BatchesPerSec float64 `json:"batches_per_s"`
	BytesPerSec   float64 `json:"bytes_per_s"`
	Undecodable   int64   `json:"undecodable,omitempty"`
}

// Merger is the shards' counts: from /healthz (batches, duplicates, apply
// errors) and from their self-stats at the web (republished and late
// fragments, totals read like the merged events; −1 when unknown).
type Merger struct {
	Batches     int64 `json:"batches"`
	Duplicates  int64 `json:"duplicates"`
	ApplyErrors int64 `json:"apply_errors"`
	Republished int64 `json:"republished"`
	Late        int64 `json:"late"`
}

// Freshness is pulse.lag over the snapshots of the load, in ms.
type Freshness struct {
	LagP50    float64 `json:"lag_p50_ms"`
	LagP99    float64 `json:"lag_p99_ms"`
	LagMax    float64 `json:"lag_max_ms"`
	Snapshots int     `json:"snapshots"`
}

// Run parses args (the flags after "bench cluster"), runs the benchmark
// and writes its result to stdout, and progress to stderr. It returns
// flag.ErrHelp for -h, an error for bad flags (after printing the usage
// to stderr) or a failed run, and ctx.Err() when ctx ends first.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse bench cluster", "pulse bench cluster [flags]", detail, stderr)
	var (
		cfg    Config
		asJSON bool
	)
	fs.String(&cfg.Bin, "bin", "PULSE_BIN", "", "the pulse `binary` the processes run (default: this one)")
	fs.Int(&cfg.Receivers, "receivers", "", DefaultReceivers, "receiver `processes`")
	fs.Int(&cfg.Mergers, "mergers", "", DefaultMergers, "merger `shards` (MERGER_COUNT)")
	fs.Int(&cfg.Workers, "workers", "", DefaultWorkers, "each receiver's `workers`: its WORKERS and GOMAXPROCS")
	fs.Duration(&cfg.Duration, "duration", "", DefaultDuration, "how long to load the receivers")
	fs.Float64(&cfg.Rate, "rate", "", 0, "target `events/s` over all receivers; 0 posts as fast as they answer")
	fs.Int(&cfg.Clients, "clients", "", DefaultClients, "keep-alive load `clients` per receiver")
	fs.Int(&cfg.Frames, "frames", "", benchdrain.DefaultFrames, "`frames` per body")
	fs.Int(&cfg.Bodies, "bodies", "", benchdrain.DefaultBodies, "distinct `bodies` per receiver, posted in turn")
	fs.Float64(&cfg.GenRate, "gen-rate", "", logfmttest.DefaultRate, "the generated traffic's request-driven `lines` per second of event time (sets the mix, as pulse gen --rate)")
	fs.String(&cfg.RedisURL, "redis-url", "", "", "Redis `URL` for the fleet (default: start a redis-server on a free port)")
	fs.Duration(&cfg.StartTimeout, "start-timeout", "", DefaultStartTimeout, "how long every process has to answer /healthz")
	fs.Duration(&cfg.Settle, "settle", "", DefaultSettle, "how long, after the load, the fleet has to merge it")
	fs.Bool(&asJSON, "json", "", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.UsageError(fmt.Errorf("benchcluster: unexpected argument %q", fs.Arg(0)))
	}
	if err := cfg.check(); err != nil {
		return fs.UsageError(err)
	}
	cfg.Progress = stderr
	res, err := Bench(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return res.WriteText(stdout)
}

// check validates cfg with its defaults applied.
func (cfg *Config) check() error {
	if cfg.Receivers == 0 {
		cfg.Receivers = DefaultReceivers
	}
	if cfg.Mergers == 0 {
		cfg.Mergers = DefaultMergers
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Clients == 0 {
		cfg.Clients = DefaultClients
	}
	if cfg.Frames == 0 {
		cfg.Frames = benchdrain.DefaultFrames
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	switch {
	case cfg.Receivers < 1 || cfg.Receivers > MaxProcs:
		return fmt.Errorf("benchcluster: --receivers %d must be between 1 and %d", cfg.Receivers, MaxProcs)
	case cfg.Mergers < 1 || cfg.Mergers > MaxProcs:
		return fmt.Errorf("benchcluster: --mergers %d must be between 1 and %d", cfg.Mergers, MaxProcs)
	case cfg.Workers < 1 || cfg.Workers > 256:
		return fmt.Errorf("benchcluster: --workers %d must be between 1 and 256", cfg.Workers)
	case cfg.Duration <= 0:
		return fmt.Errorf("benchcluster: --duration %v must be positive", cfg.Duration)
	case !(cfg.Rate >= 0) || math.IsInf(cfg.Rate, 1):
		return fmt.Errorf("benchcluster: --rate %v must be 0 or a positive number", cfg.Rate)
	case cfg.Clients < 1 || cfg.Clients > benchdrain.MaxClients:
		return fmt.Errorf("benchcluster: --clients %d must be between 1 and %d", cfg.Clients, benchdrain.MaxClients)
	case cfg.StartTimeout <= 0 || cfg.Settle <= 0:
		return fmt.Errorf("benchcluster: --start-timeout and --settle must be positive")
	case cfg.Frames < 1 || cfg.Frames > benchdrain.MaxFrames:
		return fmt.Errorf("benchcluster: --frames %d must be between 1 and %d", cfg.Frames, benchdrain.MaxFrames)
	case cfg.Bodies < 0 || cfg.Bodies*cfg.Frames > benchdrain.MaxTotalFrames:
		return fmt.Errorf("benchcluster: --bodies %d × --frames %d must be at most %d frames", cfg.Bodies, cfg.Frames, benchdrain.MaxTotalFrames)
	case !(cfg.GenRate >= 0) || cfg.GenRate > logfmttest.MaxRate:
		return fmt.Errorf("benchcluster: --gen-rate %v must be between 0 and %v", cfg.GenRate, float64(logfmttest.MaxRate))
	}
	return nil
}

// drain returns receiver i's load: its clients, and its share of the
// rate in bodies/s.
func (cfg *Config) drain(i int, url string) benchdrain.Config {
	d := benchdrain.Config{
		URL: url, Clients: cfg.Clients, Duration: cfg.Duration, Frames: cfg.Frames,
		Bodies: cfg.Bodies, GenRate: cfg.GenRate, Seed: uint64(i + 1),
	}
	if cfg.Rate > 0 {
		d.Rate = cfg.Rate / float64(cfg.Frames) / float64(cfg.Receivers)
	}
	return d
}

// fleet is the running processes.
type fleet struct {
	recv []*proc
	mrg  []*proc
	web  *proc
}

func (f *fleet) all() []*proc {
	out := slices.Concat(f.recv, f.mrg)
	if f.web != nil {
		out = append(out, f.web)
	}
	return out
}

// failed returns the first process that has exited, as an error.
func (f *fleet) failed() error {
	for _, p := range f.all() {
		if p.exited() {
			return p.failure()
		}
	}
	return nil
}

func (cfg *Config) progress(format string, a ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "pulse bench cluster: "+format+"\n", a...)
	}
}

// Bench starts the fleet cfg describes, loads it, measures, and stops
// every process it started, whatever happens.
func Bench(ctx context.Context, cfg Config) (res *Result, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Bin == "" {
		if cfg.Bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("benchcluster: the pulse binary: %w", err)
		}
	}
	redisURL := cfg.RedisURL
	if redisURL == "" {
		cfg.progress("starting redis-server")
		var stopRedis func()
		redisURL, _, stopRedis, err = startRedis(ctx)
		if err != nil {
			return nil, err
		}
		defer stopRedis()
	}
	rc, err := newClient(redisURL)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("benchcluster: redis PING: %w", err)
	}
	var tag [4]byte
	rand.Read(tag[:])
	prefix := "pulsebench:" + hex.EncodeToString(tag[:]) + ":"
	defer func() {
		// Leave a Redis given to us as we found it.
		if cfg.RedisURL != "" {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			deleteKeys(dctx, rc, prefix)
		}
	}()

	f := &fleet{}
	stopped := false
	defer func() {
		if !stopped {
			stopAll(f.all(), StopTimeout) // on an error: its report is the error
		}
	}()
	defer func() {
		if ctx.Err() != nil {
			cfg.progress("interrupted: stopping %d processes", len(f.all()))
		}
	}()
	if err := cfg.startFleet(f, redisURL, prefix); err != nil {
		return nil, err
	}
	cfg.progress("waiting for %d processes to be healthy", len(f.all()))
	if err := waitHealthy(ctx, f.all(), cfg.StartTimeout); err != nil {
		return nil, err
	}
	// The merged totals are sums over snapshots back to the load's start,
	// so every shard's snapshots must reach the web before it starts.
	if _, err := waitHistory(ctx, f, &cfg, time.Time{}, cfg.StartTimeout); err != nil {
		return nil, err
	}
	res, err = cfg.measure(ctx, f, rc, redisURL, prefix)
	if err != nil {
		return nil, err
	}
	cfg.progress("stopping")
	stopped = true
	if bad := stopAll(f.all(), StopTimeout); len(bad) > 0 {
		res.Notes = append(res.Notes, "not stopped cleanly by SIGTERM: "+strings.Join(bad, ", "))
	}
	return res, nil
}

// startFleet starts the web, the mergers and the receivers.
func (cfg *Config) startFleet(f *fleet, redisURL, prefix string) error {
	ports, err := freePorts(cfg.Receivers + cfg.Mergers + 1)
	if err != nil {
		return err
	}
	common := []string{
		"REDIS_URL=" + redisURL, "REDIS_PREFIX=" + prefix,
		"MERGER_COUNT=" + strconv.Itoa(cfg.Mergers), "DEMO=0",
	}
	start := func(name, role string, env ...string) (*proc, error) {
		cfg.progress("starting %s", name)
		return startProc(name, cfg.Bin, slices.Concat(common, env), "run", "--role", role)
	}
	if f.web, err = start("web", "web", "PORT="+ports[0]); err != nil {
		return err
	}
	for i := range cfg.Mergers {
		p, err := start(fmt.Sprintf("merger %d", i), "merger", "PORT="+ports[1+i], "SHARD="+strconv.Itoa(i))
		if err != nil {
			return err
		}
		f.mrg = append(f.mrg, p)
	}
	w := strconv.Itoa(cfg.Workers)
	for i := range cfg.Receivers {
		p, err := start(fmt.Sprintf("receiver %d", i), "receiver",
			"PORT="+ports[1+cfg.Mergers+i], "WORKERS="+w, "GOMAXPROCS="+w,
			"SOURCE=receiver."+strconv.Itoa(i+1), "TIME_SOURCE=arrival")
		if err != nil {
			return err
		}
		f.recv = append(f.recv, p)
	}
	return nil
}

// sample is the CPU of every process and of Redis at one moment.
type sample struct {
	at    time.Time
	procs []time.Duration // f.all() order
	self  time.Duration
	redis redisInfo
}

func takeSample(ctx context.Context, f *fleet, rc *redis.Client) (sample, error) {
	s := sample{at: time.Now()}
	for _, p := range f.all() {
		c, err := cpuTime(p.pid())
		if err != nil && !errors.Is(err, errNoProc) {
			return s, err
		}
		s.procs = append(s.procs, c)
	}
	var err error
	if s.self, err = cpuTime(os.Getpid()); err != nil && !errors.Is(err, errNoProc) {
		return s, err
	}
	s.redis, err = readInfo(ctx, rc)
	return s, err
}

// measure loads the receivers, waits for the fleet to merge the load,
// and reads every figure.
func (cfg *Config) measure(ctx context.Context, f *fleet, rc *redis.Client, redisURL, prefix string) (*Result, error) {
	res := &Result{
		Receivers: cfg.Receivers, Mergers: cfg.Mergers, Workers: cfg.Workers, Clients: cfg.Clients,
		Frames: cfg.Frames, Rate: cfg.Rate, Redis: cli.RedactURL(redisURL),
		Duration: cfg.Duration.Seconds(), Status: map[int]int64{},
	}
	res.LoadStart, _ = loadAvg()
	before, err := takeSample(ctx, f, rc)
	if err != nil {
		return nil, err
	}
	res.RedisVersion = before.redis.Version
	res.Started = before.at
	rateText := "as fast as answered"
	if cfg.Rate > 0 {
		rateText = fmt.Sprintf("at %g events/s", cfg.Rate)
	}
	cfg.progress("loading %d receivers for %v, %s (load average %s)", cfg.Receivers, cfg.Duration, rateText, res.LoadStart)

	drains := make([]*benchdrain.Result, cfg.Receivers)
	errs := make([]error, cfg.Receivers)
	var wg sync.WaitGroup
	for i, p := range f.recv {
		d := cfg.drain(i, p.url("/logs"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			drains[i], errs[i] = benchdrain.Bench(ctx, d)
		}()
	}
	wg.Wait()
	driveEnd := time.Now()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("benchcluster: load: %w", err)
	}
	if err := f.failed(); err != nil {
		return nil, err
	}
	var lat []benchdrain.Latency
	for _, d := range drains {
		res.Requests += d.Requests
		res.Events.Accepted += d.Events
		res.Errors += d.Errors
		res.Elapsed = max(res.Elapsed, d.Elapsed)
		for c, n := range d.Status {
			res.Status[c] += n
		}
		for _, s := range d.ErrorSamples {
			res.Notes = append(res.Notes, "load error: "+s)
		}
		lat = append(lat, d.Latency)
	}
	// The receivers' latencies are summarised separately; the worst of
	// each figure is reported.
	for _, l := range lat {
		res.Latency.P50 = max(res.Latency.P50, l.P50)
		res.Latency.P99 = max(res.Latency.P99, l.P99)
		res.Latency.Max = max(res.Latency.Max, l.Max)
	}

	cfg.progress("load done: %d events accepted; waiting for the fleet to merge them", res.Events.Accepted)
	mergedAfter, err := cfg.settle(ctx, f, res, driveEnd)
	if err != nil {
		return nil, err
	}
	hist, err := waitHistory(ctx, f, cfg, mergedAfter, cfg.Settle)
	if err != nil {
		return nil, err
	}
	after, err := takeSample(ctx, f, rc)
	if err != nil {
		return nil, err
	}
	res.LoadEnd, _ = loadAvg()
	win := after.at.Sub(before.at)
	res.Window = win.Seconds()

	// Events merged, and the mergers' own counts, from the web.
	since := before.at.Truncate(time.Second)
	res.Events.Merged = -1
	if v, T, ok := hist[window.StatEvents].latestTotal(mergedAfter, since, selfSpan); ok {
		res.Events.Merged, res.Events.MergedAt = int64(math.Round(v)), T
	} else {
		res.Notes = append(res.Notes, "events merged unknown: the web's history of pulse.events lacks a snapshot the sum needs")
	}
	for i := range cfg.Mergers {
		for name, dst := range map[string]*int64{"republished": &res.Merger.Republished, "late": &res.Merger.Late} {
			s := hist[fmt.Sprintf("pulse.merger.%d.%s", i, name)]
			v, _, ok := s.latestTotal(mergedAfter, since, selfSpan)
			switch {
			case *dst < 0:
			case !ok:
				*dst = -1
				res.Notes = append(res.Notes, fmt.Sprintf("merger %s fragments unknown: the web's history of pulse.merger.%d.%s lacks a snapshot the sum needs", name, i, name))
			default:
				*dst += int64(math.Round(v))
			}
		}
	}
	p50, p99, mx, n := hist["pulse.lag"].summary(before.at, driveEnd)
	res.Freshness = Freshness{LagP50: p50, LagP99: p99, LagMax: mx, Snapshots: n}
	if elapsed := res.Elapsed; elapsed > 0 {
		res.Events.AcceptedPerSec = float64(res.Events.Accepted) / elapsed
		if res.Events.Merged >= 0 {
			res.Events.MergedPerSec = float64(res.Events.Merged) / elapsed
		}
	}

	// CPU.
	secs := func(i int) float64 { return (after.procs[i] - before.procs[i]).Seconds() }
	var recvCPU, mrgCPU float64
	k := 0
	for range f.recv {
		res.CPU.Receivers = append(res.CPU.Receivers, secs(k))
		recvCPU += secs(k)
		k++
	}
	for range f.mrg {
		res.CPU.Mergers = append(res.CPU.Mergers, secs(k))
		mrgCPU += secs(k)
		k++
	}
	res.CPU.Web = secs(k)
	res.CPU.Redis = (after.redis.CPU - before.redis.CPU).Seconds()
	res.CPU.Client = (after.self - before.self).Seconds()
	if res.Events.Folded > 0 && recvCPU > 0 {
		res.CPU.ReceiverMicrosPerEvent = recvCPU / float64(res.Events.Folded) * 1e6
		res.CPU.EventsPerReceiverCPUSecond = float64(res.Events.Folded) / recvCPU
	}
	res.CPU.ReceiverCores = recvCPU / win.Seconds() / float64(cfg.Receivers)
	res.CPU.MergerCoresPerReceiver = mrgCPU / win.Seconds() / float64(cfg.Receivers)
	for _, p := range f.all() {
		rss, _ := peakRSS(p.pid())
		res.CPU.PeakRSS = append(res.CPU.PeakRSS, rss)
	}
	if recvCPU == 0 {
		res.Notes = append(res.Notes, "no CPU times: they need Linux's /proc")
	}

	// Redis.
	res.RedisIO.InPerSec = float64(after.redis.In-before.redis.In) / win.Seconds()
	res.RedisIO.OutPerSec = float64(after.redis.Out-before.redis.Out) / win.Seconds()
	res.RedisIO.Memory = after.redis.Memory
	streams, err := readStreams(ctx, rc, prefix, before.at, after.at)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(streams, func(a, b shardStream) int { return a.Shard - b.Shard })
	var winBatches int64
	for _, s := range streams {
		sh := Shard{
			Shard: s.Shard, Batches: s.Batches, Bytes: s.Bytes, Undecodable: s.Bad,
			BatchesPerSec: float64(s.WindowBatches) / win.Seconds(),
			BytesPerSec:   float64(s.WindowBytes) / win.Seconds(),
		}
		if s.Batches > 0 {
			sh.BytesPerBatch = float64(s.Bytes) / float64(s.Batches)
		}
		res.RedisIO.Shards = append(res.RedisIO.Shards, sh)
		res.Events.Published += int64(s.Events)
		winBatches += s.WindowBatches
		if s.Bad > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %d entries did not decode as batches", s.Key, s.Bad))
		}
	}
	if winBatches > 0 {
		res.CPU.MergerMicrosPerBatch = mrgCPU / float64(winBatches) * 1e6
		res.CPU.RedisMicrosPerBatch = res.CPU.Redis / float64(winBatches) * 1e6
	}
	if len(streams) != cfg.Mergers {
		res.Notes = append(res.Notes, fmt.Sprintf("%d batch streams found under %s, for %d shards", len(streams), prefix, cfg.Mergers))
	}

	// The mergers' health.
	for _, p := range f.mrg {
		h, _, err := p.health(ctx)
		if err != nil {
			return nil, fmt.Errorf("benchcluster: %s /healthz: %w", p.name, err)
		}
		for _, c := range h {
			m, _ := c.(map[string]any)
			res.Merger.Batches += num(m["merger_batches"])
			res.Merger.Duplicates += num(m["merger_duplicates"])
			res.Merger.ApplyErrors += num(m["merger_apply_errors"])
		}
	}
	return res, nil
}

// num reads a JSON number decoded into an any.
func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// settle waits until every receiver's queue is empty and its count of
// events folded has stopped moving, fills res.Events.Folded, and returns
// the earliest snapshot time whose merged total covers every event: the
// second after both the load's end and the moment the queues emptied.
func (cfg *Config) settle(ctx context.Context, f *fleet, res *Result, driveEnd time.Time) (time.Time, error) {
	deadline := time.Now().Add(cfg.Settle)
	var last int64 = -1
	for {
		if err := f.failed(); err != nil {
			return time.Time{}, err
		}
		var folded, queued int64
		for _, p := range f.recv {
			h, _, err := p.health(ctx)
			if err != nil {
				return time.Time{}, fmt.Errorf("benchcluster: %s /healthz: %w", p.name, err)
			}
			m, _ := h["receiver"].(map[string]any)
			folded += num(m["receiver_events"])
			queued += num(m["receiver_queue"])
		}
		if queued == 0 && folded == last {
			res.Events.Folded = folded
			end := driveEnd
			if now := time.Now(); now.After(end) {
				end = now
			}
			return end.Truncate(time.Second).Add(time.Second), nil
		}
		last = folded
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("benchcluster: receivers still folding %v after the load: %d queued, %d folded", cfg.Settle, queued, folded)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

// waitHistory waits until the web's history holds, for every stat the
// report reads (pulse.events from its shard, each shard's own
// pulse.merger.<n>.* stats), a snapshot at or after T, then returns the
// histories.
func waitHistory(ctx context.Context, f *fleet, cfg *Config, T time.Time, timeout time.Duration) (map[string]series, error) {
	names := []string{window.StatEvents}
	for i := range cfg.Mergers {
		names = append(names, fmt.Sprintf("pulse.merger.%d.republished", i), fmt.Sprintf("pulse.merger.%d.late", i))
	}
	deadline := time.Now().Add(timeout)
	for {
		if err := f.failed(); err != nil {
			return nil, err
		}
		h, err := readHistory(ctx, f.web, append(names, "pulse.lag"))
		if err != nil {
			return nil, err
		}
		behind := ""
		for _, n := range names {
			if latest := h[n].latest(); latest.IsZero() || latest.Before(T) {
				behind = n
				break
			}
		}
		if behind == "" {
			return h, nil
		}
		if time.Now().After(deadline) {
			if T.IsZero() {
				return nil, fmt.Errorf("benchcluster: no snapshot with %s at the web within %v", behind, timeout)
			}
			return nil, fmt.Errorf("benchcluster: no snapshot of %s with %s at the web within %v (latest %s)",
				T.Format(time.RFC3339), behind, timeout, h[behind].latest().Format(time.RFC3339))
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// deleteKeys deletes the run's keys from a Redis it was given.
func deleteKeys(ctx context.Context, c *redis.Client, prefix string) {
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for _, k := range keys {
		c.Del(ctx, k)
	}
}

// WriteText writes r for people.
func (r *Result) WriteText(w io.Writer) error {
	var sb strings.Builder
	rate := "as fast as answered"
	if r.Rate > 0 {
		rate = fmt.Sprintf("at %g events/s", r.Rate)
	}
	fmt.Fprintf(&sb, "pulse bench cluster: %d receivers (%d workers each), %d merger shards and a web on %s (redis %s)\n",
		r.Receivers, r.Workers, r.Mergers, r.Redis, r.RedisVersion)
	fmt.Fprintf(&sb, "load          %d clients per receiver, %d-frame bodies for %gs, %s; started %s\n",
		r.Clients, r.Frames, r.Duration, rate, r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&sb, "load average  %s at the start, %s at the end\n", r.LoadStart, r.LoadEnd)
	fmt.Fprintf(&sb, "requests      %d in %.2fs; status", r.Requests, r.Elapsed)
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		fmt.Fprintf(&sb, " %d: %d", c, r.Status[c])
	}
	fmt.Fprintf(&sb, "; errors %d; latency p50 %s p99 %s max %s (worst receiver)\n", r.Errors, ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max))
	merged := "unknown"
	if r.Events.Merged >= 0 {
		merged = fmt.Sprintf("%d (%.0f/s)", r.Events.Merged, r.Events.MergedPerSec)
	}
	fmt.Fprintf(&sb, "events        accepted %d (%.0f/s)  folded %d  published %d  merged %s\n",
		r.Events.Accepted, r.Events.AcceptedPerSec, r.Events.Folded, r.Events.Published, merged)
	fmt.Fprintf(&sb, "CPU           seconds over the %.1fs from the load's start to the merge of its last second\n", r.Window)
	rss := func(i int) string {
		if i < len(r.CPU.PeakRSS) && r.CPU.PeakRSS[i] > 0 {
			return fmt.Sprintf(", peak RSS %.1f MB", float64(r.CPU.PeakRSS[i])/1e6)
		}
		return ""
	}
	k := 0
	for i, c := range r.CPU.Receivers {
		fmt.Fprintf(&sb, "  receiver %-3d %7.2f s  %.2f cores%s\n", i, c, c/r.Window, rss(k))
		k++
	}
	for i, c := range r.CPU.Mergers {
		fmt.Fprintf(&sb, "  merger %-5d %7.2f s  %.2f cores%s\n", i, c, c/r.Window, rss(k))
		k++
	}
	fmt.Fprintf(&sb, "  web          %7.2f s  %.2f cores%s\n", r.CPU.Web, r.CPU.Web/r.Window, rss(k))
	fmt.Fprintf(&sb, "  redis        %7.2f s  %.2f cores\n", r.CPU.Redis, r.CPU.Redis/r.Window)
	fmt.Fprintf(&sb, "  load client  %7.2f s  %.2f cores\n", r.CPU.Client, r.CPU.Client/r.Window)
	fmt.Fprintf(&sb, "receiver      %.3f µs CPU per event folded: %.0f events per receiver CPU-second; %.2f cores each\n",
		r.CPU.ReceiverMicrosPerEvent, r.CPU.EventsPerReceiverCPUSecond, r.CPU.ReceiverCores)
	fmt.Fprintf(&sb, "merger        %.4f cores per receiver; %.0f µs CPU per batch; batches %d, duplicates %d, apply errors %d, republished %d, late %d\n",
		r.CPU.MergerCoresPerReceiver, r.CPU.MergerMicrosPerBatch, r.Merger.Batches, r.Merger.Duplicates, r.Merger.ApplyErrors, r.Merger.Republished, r.Merger.Late)
	fmt.Fprintf(&sb, "redis         in %.1f kB/s, out %.1f kB/s; %.0f µs CPU per batch; used memory %.1f MB\n",
		r.RedisIO.InPerSec/1e3, r.RedisIO.OutPerSec/1e3, r.CPU.RedisMicrosPerBatch, float64(r.RedisIO.Memory)/1e6)
	for _, s := range r.RedisIO.Shards {
		fmt.Fprintf(&sb, "  shard %-6d %.2f batches/s, %.0f bytes/batch, %.1f kB/s of batches (%d batches, %d bytes in all)\n",
			s.Shard, s.BatchesPerSec, s.BytesPerBatch, s.BytesPerSec/1e3, s.Batches, s.Bytes)
	}
	fmt.Fprintf(&sb, "freshness     pulse.lag p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d snapshots of the load\n",
		r.Freshness.LagP50, r.Freshness.LagP99, r.Freshness.LagMax, r.Freshness.Snapshots)
	for _, n := range r.Notes {
		fmt.Fprintf(&sb, "note          %s\n", n)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func ms(v float64) string {
	return time.Duration(v * 1e6).Round(time.Microsecond).String()
}
