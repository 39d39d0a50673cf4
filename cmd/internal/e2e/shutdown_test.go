package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// linesDefs is a definitions file with one stat: every event of the last
// minute.
const linesDefs = "name=lines kind=rate per=1m window=1m label=\"Lines/min\"\n"

// writeDefs writes a definitions file and returns its path.
func writeDefs(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "e2e.defs")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// receiverPublished reads the batches a receiver has published, from its
// /healthz.
func receiverPublished(t *testing.T, p *proc) int {
	t.Helper()
	code, body, err := get(p.url("/healthz"))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Checks map[string]map[string]any `json:"checks"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("%s /healthz %d: %v: %s", p.name, code, err, body)
	}
	n, ok := h.Checks["receiver"]["receiver_published"].(float64)
	if !ok {
		t.Fatalf("%s /healthz: no receiver_published: %s", p.name, body)
	}
	return int(n)
}

// TestSigterm stops every role with SIGTERM: each exits 0 within a few
// seconds, and the receivers publish their last cut first, so events
// posted just before the signal are in the merged snapshot. The receivers
// flush every minute, so their last cut is the only one.
func TestSigterm(t *testing.T) {
	defs := writeDefs(t, linesDefs)
	c := startCluster(t, clusterOptions{all: []string{"DEFS=" + defs}, receiver: []string{"FLUSH_INTERVAL=1m"}})
	now := time.Now()
	g := logfmttest.New(logfmttest.Options{Seed: 9, Start: now.Add(-2 * time.Second), Rate: 100})
	tr := &traffic{}
	tr.generate(g, now)
	tr.postSplit(t, c.drains(), "d.e2e-sigterm", allBodies(tr))
	for _, r := range c.receivers {
		if n := receiverPublished(t, r); n != 0 {
			t.Fatalf("%s published %d batches before SIGTERM: its periodic cut came first", r.name, n)
		}
	}
	for _, r := range c.receivers {
		r.stop(t, 5*time.Second)
	}
	want := fmt.Sprint(tr.lines())
	poll(t, 10*time.Second, "the posted lines in the merged snapshot", func() (bool, string) {
		snap, err := latest(c.web)
		if err != nil {
			return false, err.Error()
		}
		got := snap.Stats["lines"].String()
		return got == want, fmt.Sprintf("lines = %s at %v, want %s", got, snap.Time.Format(time.TimeOnly), want)
	}, slices.Concat(c.mergers, []*proc{c.web})...)
	for _, m := range c.mergers {
		m.stop(t, 5*time.Second)
	}
	c.web.stop(t, 5*time.Second)
}
