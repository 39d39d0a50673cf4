package e2e

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
)

// mergerBatches reads the batches a merger process has read, from its
// /healthz.
func mergerBatches(p *proc, shard int) (int, error) {
	code, body, err := get(p.url("/healthz"))
	if err != nil {
		return 0, err
	}
	var h struct {
		Checks map[string]map[string]any `json:"checks"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return 0, fmt.Errorf("/healthz %d: %w: %s", code, err, body)
	}
	n, ok := h.Checks[fmt.Sprintf("merger%d", shard)]["merger_batches"].(float64)
	if !ok {
		return 0, fmt.Errorf("/healthz %d: no merger_batches: %s", code, body)
	}
	return int(n), nil
}

// TestMergerRestart kills merger 0 mid-stream and starts it again: read
// back from its shard's stream, its per-minute windows are whole, so at a
// T after the traffic every stat equals pulse replay's.
func TestMergerRestart(t *testing.T) {
	t.Parallel() // with TestMergerStall: both mostly wait on traffic in wall time
	c := startCluster(t, clusterOptions{})
	const span = 10 * time.Second
	tr, posted, done := stream(t, c.drains(), 3, span)

	m := c.mergers[0]
	var before int
	poll(t, span, "traffic applied by merger 0", func() (bool, string) {
		n, err := mergerBatches(m, 0)
		if err != nil {
			return false, err.Error()
		}
		before = n
		return posted.Load() >= 300 && n > 0, fmt.Sprintf("%d lines posted, merger 0 read %d batches", posted.Load(), n)
	}, m)
	m.signal(t, syscall.SIGKILL)
	if code := m.wait(t, 5*time.Second); code != -1 {
		t.Fatalf("merger 0 exited with code %d, want killed", code)
	}
	killedAt := posted.Load()
	m.restart(t)
	waitHealthy(t, m, startupTimeout, nil)
	// Read back from the stream: at least what the killed merger had read.
	poll(t, 5*time.Second, "merger 0 reading its stream back", func() (bool, string) {
		n, err := mergerBatches(m, 0)
		if err != nil {
			return false, err.Error()
		}
		return n >= before, fmt.Sprintf("read %d batches, the killed merger had read %d", n, before)
	}, m)
	t.Logf("merger 0 killed after %d lines, having read %d batches; restarted", killedAt, before)

	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if posted.Load() <= killedAt {
		t.Fatalf("no traffic after the restart: %d lines, %d before the kill", posted.Load(), killedAt)
	}
	checkAgainstReplay(t, c.web, tr, time.Now().Truncate(time.Second).Add(2*time.Second))
}

// stream posts traffic with event times of now, at 100 lines/s, for span:
// every 100 ms the lines up to now, each body to the next drain in turn.
// It returns the traffic, the lines posted so far, and a channel that
// gets nil when the traffic ended or the first error.
func stream(t *testing.T, drains []string, seed uint64, span time.Duration) (*traffic, *atomic.Int64, <-chan error) {
	begin := time.Now()
	g := logfmttest.New(logfmttest.Options{Seed: seed, Start: begin, Rate: 100})
	tr := &traffic{}
	posted := &atomic.Int64{}
	done := make(chan error, 1)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-stop:
				done <- nil
				return
			case now := <-tick.C:
				end := now
				if end.After(begin.Add(span)) {
					end = begin.Add(span)
				}
				for _, i := range tr.generate(g, end) {
					if err := tr.post(drains[n%len(drains)], fmt.Sprintf("d.e2e-%d", seed), i); err != nil {
						done <- err
						return
					}
					n++
					posted.Add(int64(tr.frames[i]))
				}
				if !end.Before(begin.Add(span)) {
					done <- nil
					return
				}
			}
		}
	}()
	return tr, posted, done
}

// TestMergerStall stops merger 1 (SIGSTOP) while traffic flows, as a long
// pause or a starved CPU would, until it is two seconds behind merger 0,
// then lets it go on (SIGCONT):
// every second around the stall must be published, with the numbers
// pulse replay gives for it.
func TestMergerStall(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	tr, posted, done := stream(t, c.drains(), 11, 7*time.Second)
	m := c.mergers[1]
	poll(t, 5*time.Second, "traffic", func() (bool, string) {
		return posted.Load() >= 150, fmt.Sprintf("%d lines posted", posted.Load())
	}, m)
	stopped := time.Now()
	m.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { m.cmd.Process.Signal(syscall.SIGCONT) })
	// Stopped until merger 0 has published two seconds that merger 1 has
	// not.
	names := shardNames(2)
	poll(t, 10*time.Second, "merger 1 two seconds behind merger 0", func() (bool, string) {
		h, err := history(c.web, stopped.Add(-2*time.Second))
		if err != nil {
			return false, err.Error()
		}
		newest := func(name string) (n int64) {
			for ms := range h[name] {
				n = max(n, ms)
			}
			return n
		}
		ahead := time.Duration(newest(names[0])-newest(names[1])) * time.Millisecond
		return ahead >= 2*time.Second, fmt.Sprintf("merger 0 ahead by %v", ahead)
	}, c.web)
	m.signal(t, syscall.SIGCONT)
	resumed := time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Every second from the one before the stall to the one after the
	// traffic, compared with replay.
	file := tr.write(t)
	from := stopped.Truncate(time.Second).Add(-time.Second)
	to := time.Now().Truncate(time.Second).Add(time.Second)
	want, _ := replayAt(t, file, to, "")
	_, _ = firstSnapshot(t, c.web, to, sortedKeys(want.Stats), 10*time.Second)
	h, err := history(c.web, from.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for T := from; !T.After(to); T = T.Add(time.Second) {
		got := map[string]stat.Value{}
		for name, points := range h {
			if v, ok := points[T.UnixMilli()]; ok {
				got[name] = v
			}
		}
		t.Run(T.Format("15:04:05"), func(t *testing.T) { compareAt(t, got, file, T) })
	}
	t.Logf("merger 1 stopped %v to %v; seconds %v to %v compared", stopped.Format(time.TimeOnly), resumed.Format(time.TimeOnly), from.Format(time.TimeOnly), to.Format(time.TimeOnly))
}

// shardNames returns, for each of n shards, the name of a stat of the
// default set that the shard merges.
func shardNames(n int) []string {
	out := make([]string, n)
	for _, d := range def.Heroku() {
		if i := fragment.Shard(d.Name, n); out[i] == "" {
			out[i] = d.Name
		}
	}
	return out
}

// TestWebRestart stops the web and starts it again: read back from the
// snapshots' stream, its history holds the points from before the restart,
// with the same values.
func TestWebRestart(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	tr, target := recentTraffic(logfmttest.Options{Seed: 7, Rate: 100}, 8*time.Second)
	tr.postSplit(t, c.drains(), "d.e2e-web", allBodies(tr))
	checkPostedBefore(t, target)
	T, _, _ := checkAgainstReplay(t, c.web, tr, target)
	before, err := history(c.web, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	c.web.stop(t, 5*time.Second)
	stopped := time.Now()
	c.web.restart(t)
	waitHealthy(t, c.web, startupTimeout, webReady(2))
	after, err := history(c.web, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	points := 0
	oldest := time.Now()
	for _, name := range sortedKeys(before) {
		if name == selfstat.Lag {
			continue // the web's own lag, measured when a snapshot reaches it
		}
		for ms, v := range before[name] {
			w, ok := after[name][ms]
			if !ok {
				t.Errorf("%s: the point at %v is gone after the restart", name, time.UnixMilli(ms).UTC())
				continue
			}
			if w.String() != v.String() {
				t.Errorf("%s at %v: %s before the restart, %s after", name, time.UnixMilli(ms).UTC(), v, w)
			}
			points++
			if at := time.UnixMilli(ms); at.Before(oldest) {
				oldest = at
			}
		}
	}
	if _, ok := after["router.requests"][T.UnixMilli()]; !ok {
		t.Errorf("no router.requests point at T after the restart")
	}
	t.Logf("%d points of %d stats from before the restart (from %v; stopped at %v) served again",
		points, len(before), oldest.UTC().Format(time.TimeOnly), stopped.UTC().Format(time.TimeOnly))
}
