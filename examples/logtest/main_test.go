package main

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// The stats the test derives from the service's log lines. Durations are
// read in milliseconds, whatever unit slog wrote (1.2ms, 850µs, 1.5s).
const testDefs = `
name=requests kind=rate where=path
name=duration kind=quantiles of=duration q=0.5,0.99
name=slowest  kind=max of=duration
name=errors   kind=rate where=level=ERROR
`

// The service level the test holds the service to.
const (
	maxP99   = 50.0 // ms
	maxError = 0    // level=ERROR lines
)

// logStats returns a logger whose lines are folded into the test
// definitions, and the LogWriter to read the stats from.
func logStats(t *testing.T) (*slog.Logger, *window.LogWriter) {
	t.Helper()
	defs, err := def.Parse(strings.NewReader(testDefs), "logtest.defs")
	require.NoError(t, err)
	set, err := window.NewDefSet(defs, nil)
	require.NoError(t, err)
	lw := window.NewLogWriter(set)
	return slog.New(slog.NewTextHandler(lw, nil)), lw
}

// violations returns what in snap breaks the service level, one line each.
func violations(snap window.Snapshot) []string {
	var out []string
	if p99, ok := snap.Quantile("duration", 0.99); ok && p99 >= maxP99 {
		out = append(out, fmt.Sprintf("p99 duration %.1fms ≥ %.0fms", p99, maxP99))
	}
	if n, _ := snap.Number("errors"); n > maxError {
		out = append(out, fmt.Sprintf("%.0f level=ERROR lines", n))
	}
	return out
}

// drive sends n requests to each path through a real server, 8 at a time.
func drive(t *testing.T, svc *Service, paths map[string]int) {
	t.Helper()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	reqs := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range reqs {
				resp, err := srv.Client().Get(srv.URL + p)
				if assert.NoError(t, err) {
					resp.Body.Close()
				}
			}
		}()
	}
	for p, n := range paths {
		for range n {
			reqs <- p
		}
	}
	close(reqs)
	wg.Wait()
}

func TestServiceLevel(t *testing.T) {
	tests := []struct {
		name      string
		paths     map[string]int
		wantErrs  float64
		wantSlow  bool // p99 over maxP99
		violating int
	}{
		{"healthy", map[string]int{"/orders": 200}, 0, false, 0},
		{"slow report", map[string]int{"/orders": 95, "/report": 5}, 0, true, 1},
		{"failing", map[string]int{"/orders": 98, "/fail": 2}, 2, false, 1},
		{"slow and failing", map[string]int{"/orders": 90, "/report": 8, "/fail": 2}, 2, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, lw := logStats(t)
			drive(t, &Service{Log: log, ReportDelay: 80 * time.Millisecond}, tt.paths)

			snap := lw.Snapshot()
			total := 0
			for _, n := range tt.paths {
				total += n
			}
			requests, _ := snap.Number("requests")
			require.Equal(t, float64(total), requests, "every request line folded")
			skipped, _ := snap.Number(window.StatSkipped)
			require.Zero(t, skipped, "every duration read as a number")

			errs, _ := snap.Number("errors")
			assert.Equal(t, tt.wantErrs, errs)
			p99, ok := snap.Quantile("duration", 0.99)
			require.True(t, ok, "duration reports p99")
			slowest, _ := snap.Number("slowest")
			if tt.wantSlow {
				assert.GreaterOrEqual(t, slowest, 80.0, "a report takes its delay")
				assert.GreaterOrEqual(t, p99, maxP99)
			} else {
				assert.Less(t, p99, maxP99)
			}
			got := violations(snap)
			assert.Len(t, got, tt.violating, "violations: %q", got)
			t.Logf("%d requests: p99 %.2fms, slowest %.2fms, %v errors; violations %q", total, p99, slowest, errs, got)
		})
	}
}

// slog writes a time.Duration with Duration.String; the definitions read
// every such form in milliseconds.
func TestDurationForms(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"microseconds", 850 * time.Microsecond},
		{"milliseconds", 12300 * time.Microsecond},
		{"seconds", 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, lw := logStats(t)
			log.Info("request", "path", "/x", "status", 200, "duration", tt.d)
			snap := lw.Snapshot()
			slowest, ok := snap.Number("slowest")
			require.True(t, ok, "duration=%s read", tt.d)
			assert.InDelta(t, float64(tt.d)/float64(time.Millisecond), slowest, 1e-9)
		})
	}
}
