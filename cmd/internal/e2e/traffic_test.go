package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// traffic is generated logplex traffic: drain bodies of octet-counted
// frames, as Logplex posts them.
type traffic struct {
	mu     sync.Mutex
	bodies [][]byte
	frames []int
	first  time.Time // event time of the first frame
	last   time.Time // of the last
}

// framesPerBody is how many frames a body carries (Logplex sends at most
// 100).
const framesPerBody = 100

// generate appends the lines of g whose event time is before end, in
// bodies of at most framesPerBody frames, and returns the new bodies'
// indices.
func (tr *traffic) generate(g *logfmttest.Generator, end time.Time) []int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var added []int
	var body []byte
	n := 0
	flush := func() {
		if n > 0 {
			added = append(added, len(tr.bodies))
			tr.bodies = append(tr.bodies, body)
			tr.frames = append(tr.frames, n)
			body, n = nil, 0
		}
	}
	for g.Peek().Before(end) {
		var at time.Time
		body, at = g.Next(body)
		if tr.first.IsZero() {
			tr.first = at
		}
		tr.last = at
		if n++; n == framesPerBody {
			flush()
		}
	}
	flush()
	return added
}

// lines returns the number of frames generated.
func (tr *traffic) lines() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	total := 0
	for _, n := range tr.frames {
		total += n
	}
	return total
}

// post sends body i to url, as Logplex would, and returns an error
// unless the receiver answers 204.
func (tr *traffic) post(url, token string, i int) error {
	tr.mu.Lock()
	d := drainPost{body: tr.bodies[i], msgCount: strconv.Itoa(tr.frames[i]), frameID: fmt.Sprintf("%s-%06d", token, i), token: token}
	tr.mu.Unlock()
	code, err := d.post(context.Background(), url)
	if err != nil {
		return fmt.Errorf("POST body %d to %s: %w", i, url, err)
	}
	if code != http.StatusNoContent {
		return fmt.Errorf("POST body %d to %s: status %d, want 204", i, url, code)
	}
	return nil
}

// postSplit posts the bodies idx, the i-th to urls[i % len(urls)], one
// goroutine per URL, and fails t on any answer but 204.
func (tr *traffic) postSplit(t *testing.T, urls []string, token string, idx []int) {
	t.Helper()
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for u, url := range urls {
		wg.Go(func() {
			for k, i := range idx {
				if k%len(urls) == u {
					if err := tr.post(url, token, i); err != nil {
						errs[u] = err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// write writes every body, in order, to a file for pulse replay and
// returns its path.
func (tr *traffic) write(t *testing.T) string {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	path := filepath.Join(t.TempDir(), "traffic.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range tr.bodies {
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayAt runs `pulse replay --at T` (with --defs when defs is not
// empty) on the file and returns its snapshot and the events it read.
func replayAt(t *testing.T, file string, T time.Time, defs string) (window.Snapshot, int64) {
	t.Helper()
	args := []string{"replay", "--at", T.UTC().Format(time.RFC3339Nano)}
	if defs != "" {
		args = append(args, "--defs", defs)
	}
	args = append(args, file)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin("pulse"), args...)
	cmd.Env = baseEnv()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pulse %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var snap window.Snapshot
	if err := snap.UnmarshalJSON(out); err != nil {
		t.Fatalf("pulse replay's snapshot: %v\n%s", err, out)
	}
	if !snap.Time.Equal(T) {
		t.Fatalf("pulse replay --at %v: snapshot at %v", T, snap.Time)
	}
	var events, unparsed int64
	if _, err := fmt.Sscanf(strings.TrimSpace(stderr.String()), "events=%d unparsed=%d", &events, &unparsed); err != nil {
		t.Fatalf("pulse replay's summary %q: %v", stderr.String(), err)
	}
	if unparsed != 0 {
		t.Fatalf("pulse replay: %d unparsed", unparsed)
	}
	return snap, events
}

// history fetches the web's /stats points after since and returns, by
// stat name, the values by Unix millisecond.
func history(web *proc, since time.Time) (map[string]map[int64]stat.Value, error) {
	url := web.url("/stats")
	if !since.IsZero() {
		url += "?since=" + strconv.FormatInt(since.UnixMilli(), 10)
	}
	code, body, err := get(url)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /stats: %d %s", code, body)
	}
	var raw map[string][][2]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("GET /stats: %w", err)
	}
	out := make(map[string]map[int64]stat.Value, len(raw))
	for name, points := range raw {
		m := make(map[int64]stat.Value, len(points))
		for _, p := range points {
			var ms int64
			if err := json.Unmarshal(p[0], &ms); err != nil {
				return nil, fmt.Errorf("GET /stats: %s: time %s: %w", name, p[0], err)
			}
			var v stat.Value
			if err := v.UnmarshalJSON(p[1]); err != nil {
				return nil, fmt.Errorf("GET /stats: %s: value %s: %w", name, p[1], err)
			}
			m[ms] = v
		}
		out[name] = m
	}
	return out, nil
}

// latest fetches the web's /stats/latest.
func latest(web *proc) (window.Snapshot, error) {
	code, body, err := get(web.url("/stats/latest"))
	if err != nil {
		return window.Snapshot{}, err
	}
	if code != http.StatusOK {
		return window.Snapshot{}, fmt.Errorf("GET /stats/latest: %d %s", code, body)
	}
	var snap window.Snapshot
	err = snap.UnmarshalJSON(body)
	return snap, err
}

// firstSnapshot waits until the web holds, for every name of names, a
// point at one time T at or after target, and returns the earliest such T
// with the web's values at T for every name that has a point there.
// (Mergers publish every second; one that fell behind by more than a
// second skips to the latest, so T may be a little after target.)
func firstSnapshot(t *testing.T, web *proc, target time.Time, names []string, timeout time.Duration) (time.Time, map[string]stat.Value) {
	t.Helper()
	var T time.Time
	var got map[string]stat.Value
	poll(t, timeout, fmt.Sprintf("the web's first snapshot at or after %v", target.Format(time.RFC3339)), func() (bool, string) {
		h, err := history(web, target.Add(-time.Millisecond))
		if err != nil {
			return false, err.Error()
		}
		times := map[int64]int{} // how many of names have a point at each time
		for _, name := range names {
			for ms := range h[name] {
				times[ms]++
			}
		}
		best := int64(-1)
		for ms, n := range times {
			if n == len(names) && (best < 0 || ms < best) {
				best = ms
			}
		}
		if best < 0 {
			var missing []string
			for _, name := range names {
				if len(h[name]) == 0 {
					missing = append(missing, name)
				}
			}
			return false, fmt.Sprintf("no time with a point for all %d names (%d without any, such as %v)", len(names), len(missing), missing[:min(len(missing), 3)])
		}
		T = time.UnixMilli(best).UTC()
		got = map[string]stat.Value{}
		for name, points := range h {
			if v, ok := points[best]; ok {
				got[name] = v
			}
		}
		return true, ""
	}, web)
	return T, got
}
