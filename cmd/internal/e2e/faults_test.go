package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// This file holds the fault scenarios of RELIABILITY.md's Faults section
// that TestMergerRestart, TestMergerStall, TestWebRestart and TestSigterm
// do not: Redis killed and restarted, Redis stuck, a receiver killed, and
// a merger killed with every second of its downtime checked. Each runs a
// cluster of real processes with drain traffic flowing throughout, and
// takes 20–35 s; PULSE_LONG=1 runs them longer, so that one-minute
// windows lie wholly after the fault too.

// longFaults reports whether the long variants run.
func longFaults() bool { return os.Getenv("PULSE_LONG") == "1" }

// faultSpan is the window the tests compare with pulse replay after a
// fault: the stats whose windows are this long or shorter, 10 s (a
// minute, every stat, in the long variants).
func faultSpan() time.Duration {
	if longFaults() {
		return time.Minute
	}
	return 10 * time.Second
}

// totalName names a count of every event of the last hour: the events
// merged in total, read from one snapshot, however late some of them
// came. It is merged by the shard that merges pulse.events, so that it
// and pulse.publish.dropped.events (the pulse.events of the batches
// dropped) count the same batches.
var totalName = func() string {
	for i := 0; ; i++ {
		name := fmt.Sprint("lines.total.", i)
		if fragment.Shard(name, 2) == fragment.Shard(window.StatEvents, 2) {
			return name
		}
	}
}()

// totalDefs is the default set and totalName.
var totalDefs = def.HerokuFile() + "\nname=" + totalName + " kind=rate per=1h window=1h label=\"Events in the last hour\"\n"

// faultSettings are the settings of every cluster here: two workers per
// receiver, so that each receiver is two sources of batches, and the
// web unhealthy 2 s after its newest snapshot.
var faultSettings = []string{"WORKERS=2", "HEALTH_MAX_AGE=2s"}

// faultCluster starts a cluster of faultSettings and totalDefs, over
// redisURL ("" for the shared server).
func faultCluster(t *testing.T, redisURL string) *cluster {
	t.Helper()
	return startCluster(t, clusterOptions{redis: redisURL, all: append([]string{"DEFS=" + writeDefs(t, totalDefs)}, faultSettings...)})
}

// sentBody is a drain body posted by a feed.
type sentBody struct {
	drain  int
	lines  int
	began  time.Time // the POST began
	took   time.Duration
	status int // 0: the request failed
}

// feed posts generated drain traffic, with event times of now, at 100
// lines a second: every 100 ms the lines up to now in one body, to the
// live drains in turn. Every POST is recorded.
type feed struct {
	tr     *traffic
	drains []string
	token  string

	mu      sync.Mutex
	sent    []sentBody
	dead    map[int]bool
	killing int       // a drain to kill after its next body; -1: none
	kill    func()    // run after that body is taken
	killed  time.Time // when kill returned
	stopped bool

	lines atomic.Int64 // lines of the bodies taken (204)
	stopc chan struct{}
	done  chan error
}

// startFeed starts posting to drains until stop is called.
func startFeed(t *testing.T, drains []string, token string, seed uint64) *feed {
	t.Helper()
	f := &feed{tr: &traffic{}, drains: drains, token: token, dead: map[int]bool{}, killing: -1,
		stopc: make(chan struct{}), done: make(chan error, 1)}
	g := logfmttest.New(logfmttest.Options{Seed: seed, Start: time.Now(), Rate: 100})
	t.Cleanup(func() { f.stop() })
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-f.stopc:
				f.done <- nil
				return
			case now := <-tick.C:
				for _, i := range f.tr.generate(g, now) {
					if err := f.post(i, n); err != nil {
						f.done <- err
						return
					}
					n++
				}
			}
		}
	}()
	return f
}

// post sends body i, the n-th, to the next live drain (or the one to
// kill), and records it.
func (f *feed) post(i, n int) error {
	f.mu.Lock()
	drain := f.killing
	if drain < 0 {
		for k := range f.drains {
			if d := (n + k) % len(f.drains); !f.dead[d] {
				drain = d
				break
			}
		}
	}
	f.mu.Unlock()
	if drain < 0 {
		return errors.New("feed: every drain is dead")
	}
	f.tr.mu.Lock()
	d := drainPost{body: f.tr.bodies[i], msgCount: fmt.Sprint(f.tr.frames[i]), frameID: fmt.Sprintf("%s-%06d", f.token, i), token: f.token}
	lines := f.tr.frames[i]
	f.tr.mu.Unlock()
	began := time.Now()
	status, err := d.post(context.Background(), f.drains[drain])
	s := sentBody{drain: drain, lines: lines, began: began, took: time.Since(began), status: status}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, s)
	if status == http.StatusNoContent {
		f.lines.Add(int64(lines))
	}
	if drain == f.killing && f.kill != nil {
		f.kill()
		f.killed = time.Now()
		f.dead[drain], f.killing, f.kill = true, -1, nil
	}
	if err != nil {
		return fmt.Errorf("POST body %d to drain %d: %w", i, drain, err)
	}
	return nil
}

// killAfterNext makes the feed post its next body to drain, then call kill
// once the drain has answered, and post to the other drains from then
// on. It returns when kill has returned.
func (f *feed) killAfterNext(t *testing.T, drain int, kill func()) time.Time {
	t.Helper()
	f.mu.Lock()
	f.killing, f.kill = drain, kill
	f.mu.Unlock()
	var at time.Time
	poll(t, 5*time.Second, "the drain killed after a body", func() (bool, string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		at = f.killed
		return !at.IsZero(), "not yet"
	})
	return at
}

// stop stops the feed and returns its error.
func (f *feed) stop() error {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return nil
	}
	f.stopped = true
	f.mu.Unlock()
	close(f.stopc)
	return <-f.done
}

// bodies returns what was posted.
func (f *feed) bodies() []sentBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// taken returns the lines of the bodies drain took (204); -1 for all.
func (f *feed) taken(drain int) int {
	n := 0
	for _, s := range f.bodies() {
		if s.status == http.StatusNoContent && (drain < 0 || s.drain == drain) {
			n += s.lines
		}
	}
	return n
}

// checkAllTaken fails t unless every body was answered 204 within limit.
func (f *feed) checkAllTaken(t *testing.T, limit time.Duration) {
	t.Helper()
	var slowest time.Duration
	for _, s := range f.bodies() {
		if s.status != http.StatusNoContent {
			t.Errorf("a body to drain %d at %v: status %d, want 204", s.drain, s.began.Format(time.TimeOnly), s.status)
		}
		slowest = max(slowest, s.took)
	}
	if slowest > limit {
		t.Errorf("the slowest drain POST took %v, over %v", slowest, limit)
	}
	t.Logf("%d bodies, %d lines, every one 204; the slowest POST took %v", len(f.bodies()), f.taken(-1), slowest.Round(time.Millisecond))
}

// healthz returns the status code of p's /healthz and its JSON.
func healthz(p *proc) (int, map[string]any, error) {
	code, body, err := get(p.url("/healthz"))
	if err != nil {
		return 0, nil, err
	}
	var h map[string]any
	if err := json.Unmarshal(body, &h); err != nil {
		return code, nil, fmt.Errorf("/healthz %d: %w: %s", code, err, body)
	}
	return code, h, nil
}

// checkFields flattens /healthz's checks into one map of numbers, and
// joins their errors.
func checkFields(h map[string]any) (map[string]float64, string) {
	out := map[string]float64{}
	var errs []string
	checks, _ := h["checks"].(map[string]any)
	for _, name := range sortedKeys(checks) {
		fields, _ := checks[name].(map[string]any)
		for k, v := range fields {
			if f, ok := v.(float64); ok {
				out[k] = f
			}
		}
		if e, ok := fields["error"].(string); ok {
			errs = append(errs, e)
		}
	}
	return out, strings.Join(errs, "; ")
}

// sumField sums a /healthz field over ps.
func sumField(t *testing.T, ps []*proc, field string) float64 {
	t.Helper()
	total := 0.0
	for _, p := range ps {
		_, h, err := healthz(p)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		f, _ := checkFields(h)
		v, ok := f[field]
		if !ok {
			t.Fatalf("%s /healthz has no %s: %v", p.name, field, h)
		}
		total += v
	}
	return total
}

// mergedTotal waits until the web's latest snapshot counts in
// totalName every line the receivers published, as far as it can tell:
// its time at least 2 s past after, and the same value in two snapshots
// a second apart. It returns the value.
func mergedTotal(t *testing.T, web *proc, after time.Time, watch ...*proc) float64 {
	t.Helper()
	var v, prev float64
	var at time.Time
	poll(t, 15*time.Second, totalName+" steady", func() (bool, string) {
		snap, err := latest(web)
		if err != nil {
			return false, err.Error()
		}
		n, ok := snap.Stats[totalName].Number()
		if !ok || snap.Time.Before(after.Add(2*time.Second)) {
			return false, fmt.Sprintf("%s %s at %v", totalName, snap.Stats[totalName], snap.Time.Format(time.TimeOnly))
		}
		if snap.Time.Equal(at) {
			return false, "no newer snapshot"
		}
		steady := n == prev && snap.Time.Sub(at) >= time.Second
		if !steady {
			prev, at = n, snap.Time
		}
		v = n
		return steady, fmt.Sprintf("%v at %v", n, snap.Time.Format(time.TimeOnly))
	}, append(watch, web)...)
	return v
}

// compareShort compares got, the web's values at T, with pulse replay at
// T on file, as compareAt does, for the stats whose windows are at most
// span (and pulse.events): the stats a fault before T − span leaves
// whole. It returns how many it compared.
func compareShort(t *testing.T, got map[string]stat.Value, file string, T time.Time, span time.Duration) int {
	t.Helper()
	cmdSnap, _ := replayAt(t, file, T, "")
	set, want := replaySet(t, file, T)
	if c, w := string(cmdSnap.AppendJSON(nil)), string(want.AppendJSON(nil)); c != w {
		t.Fatalf("pulse replay --at %v and package replay disagree:\n%s\n%s", T, c, w)
	}
	tr := computeTruth(t, def.Heroku(), readFile(t, file), T)
	keep := func(m map[string]stat.Value) map[string]stat.Value {
		out := map[string]stat.Value{}
		for name, v := range m {
			if s := tr[name]; name == window.StatEvents || s != nil && s.c.Window() <= span {
				out[name] = v
			}
		}
		return out
	}
	problems, n := compareSnapshots(set, keep(got), window.Snapshot{Time: T, Stats: keep(want.Stats)}, tr)
	for _, p := range problems {
		t.Error(p)
	}
	return n
}

// pointsAt returns the web's values at T.
func pointsAt(t *testing.T, web *proc, T time.Time) map[string]stat.Value {
	t.Helper()
	h, err := history(web, T.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]stat.Value{}
	for name, points := range h {
		if v, ok := points[T.UnixMilli()]; ok {
			got[name] = v
		}
	}
	return got
}

// waitUntil waits until at, failing t if one of ps exits meanwhile.
func waitUntil(t *testing.T, at time.Time, what string, ps ...*proc) {
	t.Helper()
	poll(t, time.Until(at)+time.Second, what, func() (bool, string) { return !time.Now().Before(at), "" }, ps...)
}

// outage is what the processes answered while Redis was away.
type outage struct {
	webCodes      map[int]int // /healthz status: count
	webErrors     []string    // /healthz errors seen
	statsFailed   []string    // /stats or /stats/latest answers but 200
	receiverCodes map[int]int
	receiverError string // a /healthz error of a receiver
	queueMax      int    // the deepest publish queue seen
	queueCap      int
}

// watchOutage polls the web (/healthz, /stats, /stats/latest) and the
// receivers (/healthz) every 100 ms for d, failing t if a process exits
// or a publish queue goes over its cap.
func watchOutage(t *testing.T, c *cluster, d time.Duration) *outage {
	t.Helper()
	o := &outage{webCodes: map[int]int{}, receiverCodes: map[int]int{}}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, p := range append(slices.Concat(c.receivers, c.mergers), c.web) {
			if p.exited() {
				t.Fatalf("%s exited during the outage (%s)", p.name, p.cmd.ProcessState)
			}
		}
		code, h, err := healthz(c.web)
		if err != nil {
			t.Fatalf("web /healthz during the outage: %v", err)
		}
		o.webCodes[code]++
		if errs, ok := h["errors"].([]any); ok {
			for _, e := range errs {
				if s := fmt.Sprint(e); !slices.Contains(o.webErrors, s) && len(o.webErrors) < 10 {
					o.webErrors = append(o.webErrors, s)
				}
			}
		}
		for _, path := range []string{"/stats?names=pulse.events", "/stats/latest"} {
			code, body, err := get(c.web.url(path))
			if err != nil || code != http.StatusOK {
				o.statsFailed = append(o.statsFailed, fmt.Sprintf("%s: %d %v %.100s", path, code, err, body))
			}
		}
		for _, r := range c.receivers {
			code, h, err := healthz(r)
			if err != nil {
				t.Fatalf("%s /healthz during the outage: %v", r.name, err)
			}
			o.receiverCodes[code]++
			f, e := checkFields(h)
			if e != "" {
				o.receiverError = e
			}
			q, qcap := int(f["receiver_publish_queue"]), int(f["receiver_publish_queue_cap"])
			if q > qcap {
				t.Errorf("%s: publish queue %d over its cap %d", r.name, q, qcap)
			}
			o.queueMax, o.queueCap = max(o.queueMax, q), qcap
		}
		time.Sleep(100 * time.Millisecond)
	}
	return o
}

// check asserts that the web kept serving and said it was degraded, and
// that the receivers said their cuts were not published.
func (o *outage) check(t *testing.T) {
	t.Helper()
	t.Logf("during the outage: web /healthz %v %q; receivers /healthz %v %q; publish queue at most %d of %d",
		o.webCodes, o.webErrors, o.receiverCodes, o.receiverError, o.queueMax, o.queueCap)
	if len(o.statsFailed) > 0 {
		t.Errorf("the web did not serve its history during the outage: %q", o.statsFailed)
	}
	if o.webCodes[http.StatusServiceUnavailable] == 0 || !slices.ContainsFunc(o.webErrors, func(e string) bool { return strings.Contains(e, "newest snapshot is") }) {
		t.Errorf("the web's /healthz never said its snapshots were stale: %v %q", o.webCodes, o.webErrors)
	}
	if o.receiverCodes[http.StatusServiceUnavailable] == 0 || !strings.Contains(o.receiverError, "were not published") {
		t.Errorf("no receiver's /healthz said its cuts were not published: %v %q", o.receiverCodes, o.receiverError)
	}
}

// accounting is what the receivers took, folded, dropped and reported,
// and what was merged, over the whole traffic.
type accounting struct {
	sent, merged               float64           // lines the drains took; totalName merged
	droppedEvents, cutsDropped float64           // receiver_events_dropped, receiver_cuts_dropped
	failures, missing          float64           // receiver_publish_failures; the mergers' merger_missing
	reported                   map[string]uint64 // pulse.publish.* counts in the batches on the bus
}

// The receivers' counts of the publisher's failures, as self-stats and as
// /healthz fields.
var publishCounts = []struct{ stat, field string }{
	{"pulse.publish.dropped", "receiver_cuts_dropped"},
	{"pulse.publish.dropped.events", "receiver_events_dropped"},
	{"pulse.publish.errors", "receiver_publish_failures"},
}

// account waits until the receivers have folded every line taken, and the
// counts of their failures to publish are all in batches on the bus, and
// returns the figures.
func account(t *testing.T, c *cluster, f *feed, end time.Time) accounting {
	t.Helper()
	everyone := slices.Concat(c.receivers, c.mergers, []*proc{c.web})
	a := accounting{sent: float64(f.taken(-1))}
	poll(t, 10*time.Second, "the receivers to fold every line sent", func() (bool, string) {
		n := sumField(t, c.receivers, "receiver_events")
		return n == a.sent, fmt.Sprintf("%v folded, %v sent", n, a.sent)
	}, everyone...)
	poll(t, 20*time.Second, "every count of a failure to publish in a batch on the bus", func() (bool, string) {
		a.reported, _ = busCounts(t, c, "")
		var diffs []string
		for _, pc := range publishCounts {
			if h := sumField(t, c.receivers, pc.field); float64(a.reported[pc.stat]) != h {
				diffs = append(diffs, fmt.Sprintf("%s %v on the bus, %s %v", pc.stat, a.reported[pc.stat], pc.field, h))
			}
		}
		return len(diffs) == 0, strings.Join(diffs, "; ")
	}, everyone...)
	a.droppedEvents = sumField(t, c.receivers, "receiver_events_dropped")
	a.cutsDropped = sumField(t, c.receivers, "receiver_cuts_dropped")
	a.failures = sumField(t, c.receivers, "receiver_publish_failures")
	a.merged = mergedTotal(t, c.web, end, everyone...)
	a.missing = sumField(t, c.mergers, "merger_missing")
	t.Logf("accounting: %+v", a)
	return a
}

// checkShown fails t unless the web's history shows pulse.publish.dropped
// and pulse.publish.errors above zero at some second after since.
func checkShown(t *testing.T, web *proc, since time.Time) {
	t.Helper()
	h, err := history(web, since)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pulse.publish.dropped", "pulse.publish.dropped.events", "pulse.publish.errors"} {
		var most float64
		for _, v := range h[name] {
			if f, ok := v.Number(); ok {
				most = max(most, f)
			}
		}
		if most == 0 {
			t.Errorf("the web's history shows no %s after %v", name, since.Format(time.TimeOnly))
		} else {
			t.Logf("%s on the web after the fault: up to %v/s", name, most)
		}
	}
}

// TestRedisKilled kills redis-server (SIGKILL, as a crash or an OOM kill
// would) under two receivers, two merger shards and a web, with drain
// traffic flowing throughout, and starts it again 3.5 s later, empty: a
// redis-server with the default RDB snapshotting (a snapshot after 60 s
// and 10 000 writes at the soonest) or Heroku Key-Value Store comes back
// from a crash without its last minutes, usually without anything of
// Pulse's, whose batch streams live for 2 minutes.
//
// Every process stays up, the drains answer 204 throughout, and the web
// serves its history while saying on /healthz that it is stale. What was
// lost is counted: every line the drains took is either merged or in
// pulse.publish.dropped.events (the events of the cuts the receivers gave
// up), but for the batches in flight when Redis died (taken by Redis and
// not yet read, or read but never acknowledged): fewer than the lines of
// the 500 ms before the kill (none in the runs so far: the sum is exact).
// The receivers' drops and failed attempts
// reach the mergers as pulse.publish.*, every one, and show on the web;
// the mergers count the batches missing from each receiver's sequence
// (pulse.merger.*.missing), the receivers' drops within the batches in
// flight. A 10 s window wholly after the recovery equals pulse replay's.
func TestRedisKilled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := faultCluster(t, srv.URL())
	f := startFeed(t, c.drains(), "d.e2e-redis-killed", 21)
	everyone := slices.Concat(c.receivers, c.mergers, []*proc{c.web})
	poll(t, 10*time.Second, "traffic", func() (bool, string) {
		n := f.lines.Load()
		return n >= 200, fmt.Sprintf("%d lines taken", n)
	}, everyone...)

	killed := time.Now()
	if err := srv.Stop(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	o := watchOutage(t, c, 3500*time.Millisecond)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	recovered := time.Now()
	o.check(t)
	waitHealthy(t, c.web, 20*time.Second, webReady(2))
	for _, r := range c.receivers {
		waitHealthy(t, r, 10*time.Second, nil)
	}
	t.Logf("Redis killed at %v, back at %v; the web healthy again %v later", killed.Format(time.TimeOnly), recovered.Format(time.TimeOnly), time.Since(recovered).Round(time.Millisecond))

	// Traffic until a window lies wholly after the recovery and the
	// receivers' retried cuts (2 s at most) are in.
	T := recovered.Add(2 * time.Second).Truncate(time.Second).Add(time.Second).Add(faultSpan())
	waitUntil(t, T.Add(100*time.Millisecond), "traffic after the recovery", everyone...)
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	f.checkAllTaken(t, time.Second)

	a := account(t, c, f, end)
	if a.droppedEvents == 0 || a.cutsDropped == 0 {
		t.Errorf("no cut dropped in a 3.5 s outage with a 2 s publish timeout: %+v", a)
	}
	// The batches in flight at the kill, whose fate neither side knows
	// (taken by Redis, and not read by a merger or not acknowledged to the
	// receiver): a receiver publishes one batch at a time, and a merger
	// reads as they come, so they hold at most the lines of the last two
	// flushes (400 ms) before the kill, posted in the 500 ms before it.
	var inFlight float64
	for _, s := range f.bodies() {
		if s.began.After(killed.Add(-500*time.Millisecond)) && s.began.Before(killed) {
			inFlight += float64(s.lines)
		}
	}
	if gap := a.sent - a.merged - a.droppedEvents; math.Abs(gap) > inFlight {
		t.Errorf("%v lines sent, %v merged, %v counted dropped: %v unaccounted for, over the %v lines of the 500 ms before the kill", a.sent, a.merged, a.droppedEvents, gap, inFlight)
	} else {
		t.Logf("%v lines sent = %v merged + %v counted dropped + %v in flight at the kill (at most %v)", a.sent, a.merged, a.droppedEvents, gap, inFlight)
	}
	// Every cut is a batch for each of the 2 shards; in flight, at most one
	// batch per receiver's publisher, and the batches Redis took but the
	// mergers had not read.
	if d := math.Abs(a.missing - a.cutsDropped); d > 8 {
		t.Errorf("the mergers count %v batches missing, the receivers dropped %v", a.missing, a.cutsDropped)
	}
	checkShown(t, c.web, recovered)

	n := compareShort(t, pointsAt(t, c.web, T), f.tr.write(t), T, faultSpan())
	t.Logf("%d stats with windows of %v compared with pulse replay at %v, the window wholly after the recovery", n, faultSpan(), T.Format(time.TimeOnly))
}

// TestRedisStuck stops redis-server's process (SIGSTOP) for 4 s while
// drains are posted continuously, as a Redis stuck in a slow command
// (DEBUG SLEEP, which Redis 7 refuses unless enable-debug-command is set)
// or on a starved host would be: connections stay open and commands go
// unanswered. Every drain POST is answered 204 at once (the drain queues
// for the workers, which never wait for the bus; 503 is for a full
// worker queue, not a slow bus); each receiver's publish queue stays
// within its cap; the publish attempts that time out and the cuts given
// up are counted, and reach the mergers as pulse.publish.* once Redis is
// back, every one, and show on the web. A stuck Redis answers what it was
// sent when it goes on, so a cut a receiver gave up on may still arrive:
// the merged lines are no more than those taken, and no fewer than those
// taken less those counted dropped. A 10 s window wholly after Redis goes
// on equals pulse replay's.
func TestRedisStuck(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := faultCluster(t, srv.URL())
	f := startFeed(t, c.drains(), "d.e2e-redis-stuck", 22)
	everyone := slices.Concat(c.receivers, c.mergers, []*proc{c.web})
	poll(t, 10*time.Second, "traffic", func() (bool, string) {
		n := f.lines.Load()
		return n >= 200, fmt.Sprintf("%d lines taken", n)
	}, everyone...)

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Resume() })
	o := watchOutage(t, c, 4*time.Second)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	o.check(t)
	if o.queueMax == 0 {
		t.Errorf("no cut waited in a publish queue while Redis was stuck")
	}
	waitHealthy(t, c.web, 20*time.Second, webReady(2))
	for _, r := range c.receivers {
		waitHealthy(t, r, 10*time.Second, nil)
	}

	T := resumed.Add(2 * time.Second).Truncate(time.Second).Add(time.Second).Add(faultSpan())
	waitUntil(t, T.Add(100*time.Millisecond), "traffic after Redis went on", everyone...)
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	f.checkAllTaken(t, time.Second)

	a := account(t, c, f, end)
	if a.failures == 0 || a.cutsDropped == 0 {
		t.Errorf("no publish timed out, or no cut dropped, in a 4 s stall with a 2 s publish timeout: %+v", a)
	}
	if a.merged > a.sent || a.sent-a.merged > a.droppedEvents {
		t.Errorf("%v lines sent, %v merged, %v counted dropped: want merged ≤ sent ≤ merged + dropped", a.sent, a.merged, a.droppedEvents)
	}
	if a.missing > a.cutsDropped {
		t.Errorf("the mergers count %v batches missing, over the %v the receivers dropped", a.missing, a.cutsDropped)
	}
	t.Logf("%v lines sent, %v merged, %v in dropped cuts of which %v arrived after all; %v of %v dropped batches missing",
		a.sent, a.merged, a.droppedEvents, a.droppedEvents-(a.sent-a.merged), a.missing, a.cutsDropped)
	checkShown(t, c.web, resumed.Add(-4*time.Second))

	n := compareShort(t, pointsAt(t, c.web, T), f.tr.write(t), T, faultSpan())
	t.Logf("%d stats with windows of %v compared with pulse replay at %v", n, faultSpan(), T.Format(time.TimeOnly))
}

// busCounts reads the batches on every shard's stream of c's Redis whose
// source begins with source, each (shard, source, seq) once, and returns
// the sums of their Count fragments by name and the latest cut time
// among them.
func busCounts(t *testing.T, c *cluster, source string) (map[string]uint64, time.Time) {
	t.Helper()
	opt, err := redis.ParseURL(c.redis)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	counts := map[string]uint64{}
	var last time.Time
	for shard := range 2 {
		seen := map[string]bool{}
		after := "-"
		for {
			xs, err := rc.XRangeN(t.Context(), fmt.Sprintf("%sreceived:%d", c.prefix, shard), after, "+", 1000).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range xs {
				data, _ := x.Values["b"].(string)
				var b fragment.Batch
				if err := b.UnmarshalBinary([]byte(data)); err != nil {
					t.Fatalf("batch %s: %v", x.ID, err)
				}
				key := fmt.Sprintf("%s/%d", b.Source, b.Seq)
				if !strings.HasPrefix(b.Source, source) || seen[key] {
					continue
				}
				seen[key] = true
				if b.Time.After(last) {
					last = b.Time
				}
				for _, fr := range b.Fragments {
					if fr.Kind != stat.KindCount {
						continue
					}
					d, err := fr.Delta()
					if err != nil {
						t.Fatal(err)
					}
					counts[fr.Name] += d.Stat.(*stat.Count).Count()
				}
			}
			if len(xs) < 1000 {
				break
			}
			after = "(" + xs[len(xs)-1].ID
		}
	}
	return counts, last
}

// sourcesAt returns pulse.merger.<shard>.sources at T for both shards,
// or -1 for a shard without a point there.
func sourcesAt(h map[string]map[int64]stat.Value, T time.Time) [2]float64 {
	var out [2]float64
	for shard := range 2 {
		out[shard] = -1
		if v, ok := h[fmt.Sprintf("pulse.merger.%d.sources", shard)][T.UnixMilli()].Number(); ok {
			out[shard] = v
		}
	}
	return out
}

// waitSources waits for a second, at or after from, at which both shards
// report n live sources, and returns it.
func waitSources(t *testing.T, c *cluster, from time.Time, n float64, timeout time.Duration, watch ...*proc) time.Time {
	t.Helper()
	var at time.Time
	poll(t, timeout, fmt.Sprintf("both shards to report %v sources", n), func() (bool, string) {
		h, err := history(c.web, from.Add(-time.Millisecond))
		if err != nil {
			return false, err.Error()
		}
		last := [2]float64{-1, -1}
		for T := from.Truncate(time.Second); T.Before(time.Now()); T = T.Add(time.Second) {
			s := sourcesAt(h, T)
			if s == [2]float64{n, n} {
				at = T
				return true, ""
			}
			if s[0] >= 0 || s[1] >= 0 {
				last = s
			}
		}
		return false, fmt.Sprintf("the latest: %v", last)
	}, watch...)
	return at
}

// TestReceiverKilled kills one of two receivers (SIGKILL) right after its
// drain took a body, with traffic flowing to both: the other goes on,
// every line it took is merged, and a 10 s window after the kill, which
// holds its lines only, equals pulse replay's. The dead receiver's lines
// since its last published cut are lost, and the loss shows: the mergers'
// pulse.merger.<shard>.sources falls from 4 (two receivers of two
// workers) to 2 within 10 s, and the lines merged are those the live
// receiver took plus those the dead one published (read back from the
// Redis stream), to the line: below the lines the drains took by the
// dead receiver's lines since its last cut.
func TestReceiverKilled(t *testing.T) {
	t.Parallel()
	c := faultCluster(t, "")
	f := startFeed(t, c.drains(), "d.e2e-receiver-killed", 23)
	began := time.Now()
	everyone := slices.Concat(c.receivers, c.mergers, []*proc{c.web})
	poll(t, 10*time.Second, "traffic", func() (bool, string) {
		n := f.lines.Load()
		return n >= 200, fmt.Sprintf("%d lines taken", n)
	}, everyone...)
	waitSources(t, c, began, 4, 10*time.Second, everyone...)

	dead := c.receivers[1]
	killed := f.killAfterNext(t, 1, func() { dead.kill() })
	live := []*proc{c.receivers[0], c.mergers[0], c.mergers[1], c.web}
	gone := waitSources(t, c, killed, 2, 15*time.Second, live...)
	t.Logf("receiver.2 killed at %v; the shards report 2 sources from %v", killed.Format("15:04:05.000"), gone.Format(time.TimeOnly))

	T := killed.Truncate(time.Second).Add(time.Second).Add(faultSpan())
	waitUntil(t, laterOf(T, gone).Add(100*time.Millisecond), "traffic after the kill", live...)
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()

	// What the dead receiver published, from the bus; the bound on what
	// it lost, from the bodies its drain took.
	counts, lastCut := busCounts(t, c, "receiver.2.")
	published := int(counts[window.StatEvents])
	sentA, sentB := f.taken(0), f.taken(1)
	var surely, atMost int // lines of the bodies posted after its last cut; of those whose POST ended after its last cut less a flush
	for _, s := range f.bodies() {
		if s.drain != 1 || s.status != http.StatusNoContent {
			continue
		}
		if s.began.After(lastCut) {
			surely += s.lines
		}
		if s.began.Add(s.took).After(lastCut.Add(-200 * time.Millisecond)) {
			atMost += s.lines
		}
	}
	lost := sentB - published
	t.Logf("receiver.2 took %d lines and published %d, its last cut at %v, %v before the kill: %d lost, within [%d, %d]",
		sentB, published, lastCut.Format("15:04:05.000"), killed.Sub(lastCut).Round(time.Millisecond), lost, surely, atMost)
	if lost < surely || lost > atMost {
		t.Errorf("receiver.2 lost %d lines; its lines since its last cut are %d to %d", lost, surely, atMost)
	}

	poll(t, 10*time.Second, "receiver.1 to fold every line it took", func() (bool, string) {
		n := sumField(t, c.receivers[:1], "receiver_events")
		return n == float64(sentA), fmt.Sprintf("%v folded, %v taken", n, sentA)
	}, live...)
	if merged := mergedTotal(t, c.web, end, live...); merged != float64(sentA+published) {
		t.Errorf("%v lines merged, want the %d receiver.1 took and the %d receiver.2 published", merged, sentA, published)
	} else {
		t.Logf("%v lines merged: %d taken by receiver.1, %d published by receiver.2; %d taken in all", merged, sentA, published, sentA+sentB)
	}

	n := compareShort(t, pointsAt(t, c.web, T), f.tr.write(t), T, faultSpan())
	t.Logf("%d stats with windows of %v compared with pulse replay at %v, a window after the kill", n, faultSpan(), T.Format(time.TimeOnly))
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestMergerKilledNoGap kills merger 1 (SIGKILL) for 3 s while traffic
// flows and starts it again: it reads its stream back and publishes the
// seconds it missed (the fill), so the web's history has a point for
// every second across the restart, for both shards, and every one of
// those seconds equals pulse replay's, one-minute windows included.
func TestMergerKilledNoGap(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{all: faultSettings})
	f := startFeed(t, c.drains(), "d.e2e-merger-killed", 24)
	everyone := slices.Concat(c.receivers, c.mergers, []*proc{c.web})
	poll(t, 10*time.Second, "traffic", func() (bool, string) {
		n := f.lines.Load()
		return n >= 200, fmt.Sprintf("%d lines taken", n)
	}, everyone...)

	m := c.mergers[1]
	killed := time.Now()
	m.signal(t, syscall.SIGKILL)
	if code := m.wait(t, 5*time.Second); code != -1 {
		t.Fatalf("merger 1 exited with code %d, want killed", code)
	}
	others := []*proc{c.receivers[0], c.receivers[1], c.mergers[0], c.web}
	waitUntil(t, killed.Add(3*time.Second), "merger 1 down for 3 s", others...)
	m.restart(t)
	restarted := time.Now()
	waitHealthy(t, m, startupTimeout, nil)
	waitUntil(t, restarted.Add(3*time.Second), "traffic after the restart", everyone...)
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	_, h, err := healthz(m)
	if err != nil {
		t.Fatal(err)
	}
	fields, _ := checkFields(h)
	t.Logf("merger 1 killed at %v, restarted at %v; it filled %v seconds", killed.Format(time.TimeOnly), restarted.Format(time.TimeOnly), fields["merger_filled"])

	from := killed.Truncate(time.Second).Add(-2 * time.Second)
	to := restarted.Truncate(time.Second).Add(2 * time.Second)
	names := shardNames(2)
	poll(t, 10*time.Second, "a point for every second across the restart", func() (bool, string) {
		hist, err := history(c.web, from.Add(-time.Millisecond))
		if err != nil {
			return false, err.Error()
		}
		for T := from; !T.After(to); T = T.Add(time.Second) {
			for _, name := range append(names, "pulse.merger.1.sources") {
				if _, ok := hist[name][T.UnixMilli()]; !ok {
					return false, fmt.Sprintf("%s has no point at %v", name, T.Format(time.TimeOnly))
				}
			}
		}
		return true, ""
	}, everyone...)
	file := f.tr.write(t)
	for T := from; !T.After(to); T = T.Add(time.Second) {
		got := pointsAt(t, c.web, T)
		t.Run(T.Format("15:04:05"), func(t *testing.T) { compareAt(t, got, file, T) })
	}
}
