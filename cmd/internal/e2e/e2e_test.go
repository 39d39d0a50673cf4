package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/window"
)

// Settings every test's processes share: short flush and grace, so that a
// second is published half a second after it ends.
var fast = []string{"FLUSH_INTERVAL=200ms", "GRACE=300ms", "LOG_LEVEL=info"}

// startupTimeout bounds how long a process may take to become healthy.
const startupTimeout = 15 * time.Second

// cluster is the live system over Redis as separate processes: receivers,
// two merger shards and a web.
type cluster struct {
	receivers []*proc
	mergers   []*proc
	web       *proc
	redis     string // REDIS_URL
	prefix    string // REDIS_PREFIX
}

// clusterOptions are settings beyond the common ones, as KEY=value.
type clusterOptions struct {
	all      []string // every process
	receiver []string // receivers only
	redis    string   // a Redis URL of the test's own; "" for the shared server
}

// startCluster starts two receivers, mergers for shards 0 and 1 and a web
// over the shared redis-server, under a REDIS_PREFIX of the test's own,
// and waits until each is healthy and the web hears from both shards.
func startCluster(t *testing.T, opts clusterOptions) *cluster {
	t.Helper()
	url := opts.redis
	if url == "" {
		url = needRedis(t)
	}
	var id [4]byte
	rand.Read(id[:])
	prefix := "e2e:" + t.Name() + ":" + hex.EncodeToString(id[:]) + ":"
	common := append([]string{
		"REDIS_URL=" + url,
		"REDIS_PREFIX=" + prefix,
		"MERGER_COUNT=2",
	}, fast...)
	common = append(common, opts.all...)
	env := func(extra ...string) []string { return append(append([]string{}, common...), extra...) }

	c := &cluster{redis: url, prefix: prefix}
	c.web = start(t, "web", "web", env("PORT="+freePort(t), "DYNO=web.1"))
	for shard := range 2 {
		c.mergers = append(c.mergers, start(t, fmt.Sprintf("merger.%d", shard+1), "merger",
			env("PORT="+freePort(t), fmt.Sprintf("DYNO=merger.%d", shard+1), fmt.Sprintf("SHARD=%d", shard))))
	}
	for i := range 2 {
		e := env("PORT="+freePort(t), fmt.Sprintf("DYNO=receiver.%d", i+1))
		c.receivers = append(c.receivers, start(t, fmt.Sprintf("receiver.%d", i+1), "receiver", append(e, opts.receiver...)))
	}
	for _, p := range slices.Concat(c.receivers, c.mergers) {
		waitHealthy(t, p, startupTimeout, nil)
	}
	waitHealthy(t, c.web, startupTimeout, webReady(2))
	return c
}

// drains returns the receivers' drain URLs.
func (c *cluster) drains() []string {
	var urls []string
	for _, r := range c.receivers {
		urls = append(urls, r.url("/logs"))
	}
	return urls
}

// recentTraffic generates drain traffic for span of event time from 8 s
// before target, the whole second 2 to 3 s after now from which the test
// reads the web back, but not past now: so the traffic has arrived well
// before the mergers publish target, and every event falls in the 10 s
// windows (pulse.events among them) of a snapshot at target, or up to 2 s
// later. opts.Start is set here.
func recentTraffic(opts logfmttest.Options, span time.Duration) (*traffic, time.Time) {
	now := time.Now()
	target := now.Truncate(time.Second).Add(3 * time.Second)
	opts.Start = target.Add(-8 * time.Second)
	end := opts.Start.Add(span)
	if end.After(now) {
		end = now
	}
	tr := &traffic{}
	tr.generate(logfmttest.New(opts), end)
	return tr, target
}

// allBodies returns 0..n-1.
func allBodies(tr *traffic) []int {
	idx := make([]int, len(tr.bodies))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// checkPostedBefore fails t unless the traffic was posted at least a
// second before target, so that the mergers publish target after it
// arrived.
func checkPostedBefore(t *testing.T, target time.Time) {
	t.Helper()
	if left := time.Until(target); left < time.Second {
		t.Fatalf("posting ended %v before %v: too late to read it back (a loaded machine?)", left, target.Format(time.TimeOnly))
	}
}

// checkEventsTotal asserts that pulse.events at T, a rate per second
// over the 10 s before T, which holds every event of the traffic, counts
// each event once: summed over the receivers, what was posted.
func checkEventsTotal(t *testing.T, got map[string]float64, tr *traffic, T time.Time) {
	t.Helper()
	if tr.first.Before(T.Add(-10 * time.Second)) {
		t.Fatalf("traffic begins at %v, before the 10 s window at %v", tr.first, T)
	}
	v, ok := got[window.StatEvents]
	if !ok {
		t.Fatalf("no %s at T", window.StatEvents)
	}
	if n := v * 10; math.Abs(n-float64(tr.lines())) > 1e-6 {
		t.Errorf("%s at T is %v/s: %v events over 10 s, but %d were posted", window.StatEvents, v, n, tr.lines())
	}
}

// TestRedisEndToEnd runs two receivers, two merger shards and a web over
// Redis, posts a burst of traffic split between the receivers and
// compares the web's history at T with pulse replay --at T. The burst
// (about 2400 lines in 2 s, 300 apps) puts more than 512 router lines in
// a second and more hosts than router.hosts.top's capacity (100) in its
// minute, so the quantiles and the top-k are sketches that the mergers
// merge from the receivers' parts, and may differ from replay's within
// their bounds.
func TestRedisEndToEnd(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	tr, target := recentTraffic(logfmttest.Options{Seed: 1, Rate: 1200, Apps: 300}, 2*time.Second)
	tr.postSplit(t, c.drains(), "d.e2e-redis", allBodies(tr))
	checkPostedBefore(t, target)
	T, got, _ := checkAgainstReplay(t, c.web, tr, target)
	checkEventsTotal(t, numbers(got), tr, T)
	checkLatest(t, c.web, tr, T)
}

func TestMemoryEndToEnd(t *testing.T) {
	p := start(t, "pulse run", "pulse", append([]string{"PORT=" + freePort(t), "DEMO=0", "MERGER_COUNT=2"}, fast...), "run")
	waitHealthy(t, p, startupTimeout, webReady(2))
	tr, target := recentTraffic(logfmttest.Options{Seed: 5, Rate: 350}, 8*time.Second)
	tr.postSplit(t, []string{p.url("/logs")}, "d.e2e-memory", allBodies(tr))
	checkPostedBefore(t, target)
	T, got, _ := checkAgainstReplay(t, p, tr, target)
	checkEventsTotal(t, numbers(got), tr, T)
	checkLatest(t, p, tr, T)
	p.stop(t, 5*time.Second)
}
