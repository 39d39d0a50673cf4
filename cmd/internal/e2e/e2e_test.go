package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
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
}

// clusterOptions are settings beyond the common ones, as KEY=value.
type clusterOptions struct {
	all      []string // every process
	receiver []string // receivers only
}

// startCluster starts two receivers, mergers for shards 0 and 1 and a web
// over the shared redis-server, under a REDIS_PREFIX of the test's own,
// and waits until each is healthy and the web hears from both shards.
func startCluster(t *testing.T, opts clusterOptions) *cluster {
	t.Helper()
	url := needRedis(t)
	var id [4]byte
	rand.Read(id[:])
	common := append([]string{
		"REDIS_URL=" + url,
		"REDIS_PREFIX=e2e:" + t.Name() + ":" + hex.EncodeToString(id[:]) + ":",
		"MERGER_COUNT=2",
	}, fast...)
	common = append(common, opts.all...)
	env := func(extra ...string) []string { return append(append([]string{}, common...), extra...) }

	c := &cluster{}
	c.web = start(t, "web", "web", env("PORT="+freePort(t), "DYNO=web.1"))
	for shard := range 2 {
		c.mergers = append(c.mergers, start(t, fmt.Sprintf("merger.%d", shard+1), "merger",
			env("PORT="+freePort(t), fmt.Sprintf("DYNO=merger.%d", shard+1), fmt.Sprintf("SHARD=%d", shard))))
	}
	for i := range 2 {
		e := env("PORT="+freePort(t), fmt.Sprintf("DYNO=receiver.%d", i+1))
		c.receivers = append(c.receivers, start(t, fmt.Sprintf("receiver.%d", i+1), "receiver", append(e, opts.receiver...)))
	}
	for _, p := range append(c.receivers, c.mergers...) {
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

// recentTraffic generates drain traffic whose event times end now and
// begin 9.5 s before T, the whole second at least 2 s after now at which
// the test reads it back: so every event falls in the 10 s windows at T
// (pulse.events among them) and the traffic has arrived well before the
// mergers publish T.
func recentTraffic(seed uint64, rate float64) (*traffic, time.Time) {
	now := time.Now()
	T := now.Truncate(time.Second).Add(3 * time.Second)
	g := logfmttest.New(logfmttest.Options{Seed: seed, Start: T.Add(-9500 * time.Millisecond), Rate: rate})
	tr := &traffic{}
	tr.generate(g, now)
	return tr, T
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
// second before T, so that the mergers publish T after it arrived.
func checkPostedBefore(t *testing.T, T time.Time) {
	t.Helper()
	if left := time.Until(T); left < time.Second {
		t.Fatalf("posting ended %v before T: too late to read T back (a loaded machine?)", left)
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

func TestRedisEndToEnd(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	tr, T := recentTraffic(1, 300)
	tr.postSplit(t, c.drains(), "d.e2e-redis", allBodies(tr))
	checkPostedBefore(t, T)
	_, got, _ := checkAgainstReplay(t, c.web, tr, T)
	checkEventsTotal(t, numbers(got), tr, T)
}

func TestMemoryEndToEnd(t *testing.T) {
	p := start(t, "pulse run", "pulse", append([]string{"PORT=" + freePort(t), "DEMO=0", "MERGER_COUNT=2"}, fast...), "run")
	waitHealthy(t, p, startupTimeout, webReady(2))
	tr, T := recentTraffic(5, 300)
	tr.postSplit(t, []string{p.url("/logs")}, "d.e2e-memory", allBodies(tr))
	checkPostedBefore(t, T)
	_, got, _ := checkAgainstReplay(t, p, tr, T)
	checkEventsTotal(t, numbers(got), tr, T)
	p.stop(t, 5*time.Second)
}
