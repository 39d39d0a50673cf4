package benchdrain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Defaults of the monitoring fields of Config.
const (
	DefaultHealthEvery = 100 * time.Millisecond
	DefaultHealthSlow  = 100 * time.Millisecond
	DefaultSampleEvery = 10 * time.Second
	DefaultSettle      = 10 * time.Second
	// HealthTimeout bounds each probe of Config.HealthURL and each read
	// of Config.StatsURL; a probe with no answer by then is a failure.
	HealthTimeout = 5 * time.Second
	// clockTicks is the unit of utime and stime in /proc/PID/stat
	// (sysconf(_SC_CLK_TCK)), 100 on every Linux Pulse runs on.
	clockTicks = 100
	// maxHealthBody bounds what is read of a probe's answer.
	maxHealthBody = 1 << 20
)

// HealthResult is what the probes of Config.HealthURL saw.
type HealthResult struct {
	// URL is the URL probed, without its password.
	URL string `json:"url"`
	// EveryMS is the interval between probes and SlowMS the latency over
	// which a probe counts in Slow, in milliseconds.
	EveryMS float64 `json:"every_ms"`
	SlowMS  float64 `json:"slow_ms"`
	// Probes counts the probes made: answered (Status) or not (Errors).
	Probes int64 `json:"probes"`
	// Status counts answers by status code: 200, or 503 when the
	// process says it is unhealthy (a stale snapshot, no cut).
	Status map[int]int64 `json:"status"`
	// Errors counts probes with no answer within HealthTimeout;
	// ErrorSamples holds up to five distinct messages.
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Slow counts answered probes that took longer than SlowMS.
	Slow int64 `json:"slow"`
	// Latency is of answered probes, from sending the request on a new
	// connection to reading the whole answer.
	Latency Latency `json:"latency_ms"`
	// QueueMax is the largest receiver_queue the answers showed (jobs
	// waiting for a worker), -1 when they did not show one.
	QueueMax int64 `json:"queue_max"`
}

// ReceiverCounts are a receiver's drain counters over a run, as its
// /healthz (Config.HealthURL) shows them: the difference between the
// start and the end, read once the receiver's queue was empty or
// Config.Settle had passed. They count every sender's requests: compare
// them with the run's own figures only when nothing else posts to the
// receiver.
type ReceiverCounts struct {
	// Requests, Accepted, Dropped, DroppedFrames and Duplicates are
	// drain.requests, drain.accepted (queued, answered 204),
	// drain.dropped (answered 503, the queue being full),
	// drain.dropped_frames and drain.duplicates.
	Requests      int64 `json:"drain_requests"`
	Accepted      int64 `json:"drain_accepted"`
	Dropped       int64 `json:"drain_dropped"`
	DroppedFrames int64 `json:"drain_dropped_frames"`
	Duplicates    int64 `json:"drain_duplicates"`
	// Events counts the events the receiver folded (receiver_events).
	Events int64 `json:"events"`
	// Queue is receiver_queue when the counters were read: 0 unless
	// Config.Settle passed first.
	Queue int64 `json:"queue"`
	// DroppedAgree reports whether Dropped equals the run's 503 answers,
	// and AcceptedAgree whether Accepted + Duplicates equals its 2xx
	// answers; both are false in a Watch run.
	DroppedAgree  bool `json:"dropped_agree"`
	AcceptedAgree bool `json:"accepted_agree"`
}

// ProcessResult summarises the samples of Config.PID.
type ProcessResult struct {
	PID int `json:"pid"`
	// Samples counts the samples that read the process.
	Samples int `json:"samples"`
	// RSS of the first, last, smallest and largest samples, in KiB.
	RSSFirstKB int64 `json:"rss_first_kb"`
	RSSLastKB  int64 `json:"rss_last_kb"`
	RSSMinKB   int64 `json:"rss_min_kb"`
	RSSMaxKB   int64 `json:"rss_max_kb"`
	// RSSBaseKB is the RSS of the first sample at or after
	// Config.SampleWarmup, from which growth is measured: GrowthPct to
	// the last sample, MaxGrowthPct to the largest sample from then on.
	RSSBaseKB    int64   `json:"rss_base_kb"`
	BaseAtS      float64 `json:"base_at_s"`
	GrowthPct    float64 `json:"growth_pct"`
	MaxGrowthPct float64 `json:"max_growth_pct"`
	// RSSMedian1KB and RSSMedian2KB are the medians of the first and the
	// second half of the samples from the base on, and MedianGrowthPct
	// the second against the first: a trend that a receiver's queue
	// filling and emptying between two samples does not move. Zero with
	// fewer than two samples from the base on.
	RSSMedian1KB    int64   `json:"rss_median_1_kb"`
	RSSMedian2KB    int64   `json:"rss_median_2_kb"`
	MedianGrowthPct float64 `json:"median_growth_pct"`
	// CPU is the process's CPU time (user and system) between the first
	// and the last sample, in seconds, and Cores that over the time
	// between them.
	CPU   float64 `json:"cpu_s"`
	Cores float64 `json:"cores"`
	// Wait is the time the process's threads spent runnable but waiting
	// for a CPU between the first and the last sample, in seconds
	// (/proc/PID/task/*/schedstat), and WaitPerS that over the time
	// between them: the number of its threads waiting for a CPU on
	// average, which other processes on a busy machine make large. Both
	// are absent when the kernel keeps no schedstat.
	Wait     *float64 `json:"runq_wait_s,omitempty"`
	WaitPerS *float64 `json:"runq_wait_per_s,omitempty"`
}

// Sample is one reading, every Config.SampleEvery and at the start and
// the end of the load. Fields the run had no source for are absent.
type Sample struct {
	// T is the time since the load started, in seconds.
	T float64 `json:"t_s"`
	// RSSKB and CPU are Config.PID's resident set in KiB and CPU time in
	// seconds (from /proc), when it was read.
	RSSKB int64    `json:"rss_kb,omitempty"`
	CPU   *float64 `json:"cpu_s,omitempty"`
	// Wait is the time the threads of Config.PID have waited for a CPU
	// so far, in seconds, when the kernel keeps schedstat.
	Wait *float64 `json:"runq_wait_s,omitempty"`
	// Queue and Dropped are receiver_queue and drain.dropped (since the
	// start) from the latest probe of Config.HealthURL.
	Queue   *int64 `json:"queue,omitempty"`
	Dropped *int64 `json:"dropped,omitempty"`
	// PulseDropped and PulseEvents are the pulse.dropped and pulse.events
	// rates (per second, over 10 s) of Config.StatsURL's latest snapshot:
	// the figures the dashboard shows.
	PulseDropped *float64 `json:"pulse_dropped,omitempty"`
	PulseEvents  *float64 `json:"pulse_events,omitempty"`
}

// receiverHealth is the part of a receiver's /healthz a run reads.
type receiverHealth struct {
	Input  map[string]int64 `json:"input"`
	Events int64            `json:"receiver_events"`
	Queue  int64            `json:"receiver_queue"`
}

// parseHealth reads the receiver's check from a /healthz answer, or
// returns nil when it has none.
func parseHealth(b []byte) *receiverHealth {
	var h struct {
		Checks struct {
			Receiver *receiverHealth `json:"receiver"`
		} `json:"checks"`
	}
	if json.Unmarshal(b, &h) != nil || h.Checks.Receiver == nil || h.Checks.Receiver.Input == nil {
		return nil
	}
	return h.Checks.Receiver
}

// monitor probes, samples and counts around one run.
type monitor struct {
	cfg    Config
	client *http.Client // one new connection a request
	health *url.URL     // HealthURL without its user info
	stats  *url.URL
	hUser  *url.Userinfo
	sUser  *url.Userinfo

	first  *receiverHealth                // at the start
	latest atomic.Pointer[receiverHealth] // from the latest probe

	began time.Time

	mu       sync.Mutex
	probes   int64
	status   map[int]int64
	errors   int64
	slow     int64
	samples  []string
	latency  stat.Quantiles
	queueMax int64

	series []Sample
}

// newMonitor returns the monitor of cfg, or nil when cfg asks for none.
// cfg has been checked.
func newMonitor(cfg Config) *monitor {
	if cfg.HealthURL == "" && cfg.PID == 0 && cfg.StatsURL == "" {
		return nil
	}
	m := &monitor{
		cfg: cfg,
		client: &http.Client{Timeout: HealthTimeout, Transport: &http.Transport{
			DialContext:        (&net.Dialer{Timeout: HealthTimeout}).DialContext,
			DisableKeepAlives:  true,
			DisableCompression: true,
		}},
		status:   map[int]int64{},
		queueMax: -1,
	}
	if cfg.HealthURL != "" {
		m.health, _ = url.Parse(cfg.HealthURL)
		m.hUser, m.health.User = m.health.User, nil
	}
	if cfg.StatsURL != "" {
		m.stats, _ = url.Parse(cfg.StatsURL)
		m.sUser, m.stats.User = m.stats.User, nil
	}
	return m
}

// get fetches u and returns its status, body and latency.
func (m *monitor) get(ctx context.Context, u *url.URL, user *url.Userinfo) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("User-Agent", "pulse-bench-drain")
	if user != nil {
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}
	began := time.Now()
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, nil, time.Since(began), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	return resp.StatusCode, b, time.Since(began), err
}

// start reads the receiver's counters before the load, when HealthURL
// answers with them.
func (m *monitor) start(ctx context.Context) {
	if m.health == nil {
		return
	}
	if _, b, _, err := m.get(ctx, m.health, m.hUser); err == nil {
		m.first = parseHealth(b)
		if m.first != nil {
			m.latest.Store(m.first)
		}
	}
}

// run probes and samples from began until stop is closed or ctx ends.
func (m *monitor) run(ctx context.Context, began time.Time, stop <-chan struct{}) {
	m.began = began
	var wg sync.WaitGroup
	if m.health != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.probeLoop(ctx, stop)
		}()
	}
	if m.cfg.PID != 0 || m.stats != nil {
		m.sample(ctx)
		t := time.NewTicker(m.cfg.SampleEvery)
		defer t.Stop()
	loop:
		for {
			select {
			case <-t.C:
				m.sample(ctx)
			case <-stop:
				break loop
			case <-ctx.Done():
				break loop
			}
		}
		m.mu.Lock()
		last := m.series[len(m.series)-1].T
		m.mu.Unlock()
		if ctx.Err() == nil && time.Since(began).Seconds()-last > 0.1 {
			m.sample(ctx) // the end of the load
		}
	}
	wg.Wait()
}

// probeLoop probes HealthURL every HealthEvery, one probe at a time: a
// probe that takes longer delays the next.
func (m *monitor) probeLoop(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(m.cfg.HealthEvery)
	defer t.Stop()
	for {
		m.probe(ctx)
		select {
		case <-t.C:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// probe makes one probe and records it.
func (m *monitor) probe(ctx context.Context) {
	code, b, took, err := m.get(ctx, m.health, m.hUser)
	if err != nil && ctx.Err() != nil {
		return // interrupted
	}
	var h *receiverHealth
	if err == nil {
		if h = parseHealth(b); h != nil {
			m.latest.Store(h)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.probes++
	if err != nil {
		m.errors++
		if msg := err.Error(); len(m.samples) < maxSamples && !slices.Contains(m.samples, msg) {
			m.samples = append(m.samples, msg)
		}
		return
	}
	m.status[code]++
	if took > m.cfg.HealthSlow {
		m.slow++
	}
	m.latency.Observe(float64(took.Nanoseconds()) / 1e6)
	if h != nil {
		m.queueMax = max(m.queueMax, h.Queue)
	}
}

// sample takes one sample.
func (m *monitor) sample(ctx context.Context) {
	s := Sample{T: time.Since(m.began).Seconds()}
	if m.cfg.PID != 0 {
		if rss, cpu, err := readProc(m.cfg.PID); err == nil {
			s.RSSKB, s.CPU = rss, &cpu
			if w, err := readWait(m.cfg.PID); err == nil {
				s.Wait = &w
			}
		}
	}
	if h := m.latest.Load(); h != nil {
		q, d := h.Queue, h.Input["drain.dropped"]
		if m.first != nil {
			d -= m.first.Input["drain.dropped"]
		}
		s.Queue, s.Dropped = &q, &d
	}
	if m.stats != nil {
		if code, b, _, err := m.get(ctx, m.stats, m.sUser); err == nil && code == http.StatusOK {
			var snap struct {
				Stats map[string]json.RawMessage `json:"stats"`
			}
			if json.Unmarshal(b, &snap) == nil {
				s.PulseDropped = number(snap.Stats["pulse.dropped"])
				s.PulseEvents = number(snap.Stats["pulse.events"])
			}
		}
	}
	m.mu.Lock()
	m.series = append(m.series, s)
	m.mu.Unlock()
}

// number decodes a stat's value when it is a number.
func number(b json.RawMessage) *float64 {
	var v float64
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return &v
}

// settle waits until the receiver's queue is empty (at most Settle) and
// returns its counters then.
func (m *monitor) settle(ctx context.Context) *receiverHealth {
	if m.health == nil || m.first == nil {
		return nil
	}
	deadline := time.Now().Add(m.cfg.Settle)
	var last *receiverHealth
	for {
		if _, b, _, err := m.get(ctx, m.health, m.hUser); err == nil {
			if h := parseHealth(b); h != nil {
				last = h
				if h.Queue == 0 {
					// The job taken last may still be folding: read
					// again after a moment, as the events count when
					// the job is done.
					if !sleep(ctx, 50*time.Millisecond) {
						return last
					}
					if _, b, _, err := m.get(ctx, m.health, m.hUser); err == nil {
						if h := parseHealth(b); h != nil && h.Queue == 0 {
							last = h
						}
					}
					return last
				}
			}
		}
		if time.Now().After(deadline) || !sleep(ctx, 50*time.Millisecond) {
			return last
		}
	}
}

// sleep waits d, or returns false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fill writes what the monitor saw into res; end is the receiver's
// health after settling, or nil.
func (m *monitor) fill(res *Result, end *receiverHealth) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.health != nil {
		u := *m.health
		u.User = m.hUser
		h := &HealthResult{
			URL: u.Redacted(), EveryMS: ms64(m.cfg.HealthEvery), SlowMS: ms64(m.cfg.HealthSlow),
			Probes: m.probes, Status: m.status, Errors: m.errors, ErrorSamples: m.samples,
			Slow: m.slow, QueueMax: m.queueMax,
		}
		if m.latency.Count() > 0 {
			h.Latency.P50, _ = m.latency.Quantile(0.5)
			h.Latency.P99, _ = m.latency.Quantile(0.99)
			h.Latency.Max, _ = m.latency.Max()
		}
		res.Health = h
	}
	if m.first != nil && end != nil {
		d := func(name string) int64 { return end.Input[name] - m.first.Input[name] }
		rc := &ReceiverCounts{
			Requests: d("drain.requests"), Accepted: d("drain.accepted"), Dropped: d("drain.dropped"),
			DroppedFrames: d("drain.dropped_frames"), Duplicates: d("drain.duplicates"),
			Events: end.Events - m.first.Events, Queue: end.Queue,
		}
		var ok int64
		for code, n := range res.Status {
			if code >= 200 && code < 300 {
				ok += n
			}
		}
		if !res.Watch {
			rc.DroppedAgree = rc.Dropped == res.Status[http.StatusServiceUnavailable]
			rc.AcceptedAgree = rc.Accepted+rc.Duplicates == ok
		}
		res.Receiver = rc
	}
	res.Samples = m.series
	if m.cfg.PID != 0 {
		res.Process = summarise(m.cfg.PID, m.series, m.cfg.SampleWarmup.Seconds())
	}
}

// summarise sums up the samples of pid that read it; growth is measured
// from the first at or after warmup seconds.
func summarise(pid int, series []Sample, warmup float64) *ProcessResult {
	p := &ProcessResult{PID: pid}
	var firstT, lastT, firstCPU, lastCPU float64
	var firstWait, lastWait *float64
	var fromBase []int64
	for _, s := range series {
		if s.CPU == nil {
			continue
		}
		if p.Samples == 0 {
			p.RSSFirstKB, p.RSSMinKB, firstT, firstCPU, firstWait = s.RSSKB, s.RSSKB, s.T, *s.CPU, s.Wait
		}
		p.Samples++
		p.RSSLastKB, lastT, lastCPU, lastWait = s.RSSKB, s.T, *s.CPU, s.Wait
		p.RSSMinKB = min(p.RSSMinKB, s.RSSKB)
		p.RSSMaxKB = max(p.RSSMaxKB, s.RSSKB)
		if p.RSSBaseKB == 0 && s.T >= warmup {
			p.RSSBaseKB, p.BaseAtS = s.RSSKB, s.T
		}
		if p.RSSBaseKB > 0 {
			p.MaxGrowthPct = max(p.MaxGrowthPct, growth(p.RSSBaseKB, s.RSSKB))
			fromBase = append(fromBase, s.RSSKB)
		}
	}
	if n := len(fromBase); n >= 2 {
		p.RSSMedian1KB, p.RSSMedian2KB = median(fromBase[:n/2]), median(fromBase[(n+1)/2:])
		p.MedianGrowthPct = growth(p.RSSMedian1KB, p.RSSMedian2KB)
	}
	if p.RSSBaseKB > 0 {
		p.GrowthPct = growth(p.RSSBaseKB, p.RSSLastKB)
	}
	p.CPU = lastCPU - firstCPU
	if firstWait != nil && lastWait != nil {
		// A thread that ended took its wait with it: never below 0.
		w := max(*lastWait-*firstWait, 0)
		p.Wait = &w
	}
	if lastT > firstT {
		p.Cores = p.CPU / (lastT - firstT)
		if p.Wait != nil {
			w := *p.Wait / (lastT - firstT)
			p.WaitPerS = &w
		}
	}
	return p
}

// readWait returns the time the threads of process pid have spent
// waiting for a CPU, in seconds: the second field of each
// /proc/PID/task/TID/schedstat, in nanoseconds, summed.
func readWait(pid int) (float64, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var ns uint64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(dir + "/" + t.Name()); serr != nil {
				continue // the thread ended meanwhile
			}
		}
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, fmt.Errorf("benchdrain: %s/%s/schedstat: %d fields", dir, t.Name(), len(f))
		}
		w, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("benchdrain: %s/%s/schedstat: %w", dir, t.Name(), err)
		}
		ns += w
	}
	return float64(ns) / 1e9, nil
}

func growth(base, v int64) float64 { return 100 * float64(v-base) / float64(base) }

// median returns the median of vs (the mean of the middle two for an
// even count), without changing vs.
func median(vs []int64) int64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// readProc returns the resident set (KiB) and the CPU time (user and
// system, seconds) of process pid, from /proc.
func readProc(pid int) (rssKB int64, cpu float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	rssKB = -1
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				rssKB, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	if rssKB < 0 {
		return 0, 0, fmt.Errorf("benchdrain: /proc/%d/status has no VmRSS", pid)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	cpu, err = parseStatCPU(b)
	return rssKB, cpu, err
}

// parseStatCPU returns utime + stime of a /proc/PID/stat line, in
// seconds. The command name (field 2) is in parentheses and may hold
// spaces and parentheses itself, so fields are counted after the last
// ')'.
func parseStatCPU(b []byte) (float64, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("benchdrain: /proc stat without a command name")
	}
	// After ')': field 3 (state) is f[0], so utime (14) is f[11] and
	// stime (15) f[12].
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("benchdrain: /proc stat with %d fields after the command name", len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("benchdrain: /proc stat: %w", err)
	}
	return float64(u+st) / clockTicks, nil
}

// loadAvg returns the 1, 5 and 15-minute load averages, or nil.
func loadAvg() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	out := make([]float64, 3)
	for i := range out {
		if out[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return nil
		}
	}
	return out
}
