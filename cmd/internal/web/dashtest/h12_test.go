package dashtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/stretchr/testify/require"
)

// feedDemo posts the demo's generated traffic to base's drain in real
// time, as `pulse run`'s demo writes it, but with an incident episode
// every minute (the generator's shortest) rather than every three, so
// that the H12 burst begins 25 to 31 s in. It returns when ctx ends.
func feedDemo(ctx context.Context, base string, seed uint64) error {
	const step = 100 * time.Millisecond
	began := time.Now()
	g := logfmttest.New(logfmttest.Options{
		Seed: seed, Rate: 500, Start: began.UTC(),
		Format: logfmttest.Drain, IncidentEvery: time.Minute,
	})
	var buf bytes.Buffer
	tick := time.NewTicker(step)
	defer tick.Stop()
	for done := time.Duration(0); ; {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		buf.Reset()
		for done+step <= time.Since(began) {
			if _, err := g.WriteFor(&buf, step); err != nil {
				return err
			}
			done += step
		}
		if buf.Len() > 0 {
			if err := postBody(base, buf.Bytes(), bytes.Count(buf.Bytes(), []byte{'\n'})); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// TestDashboardH12Screenshot writes the README's picture of the page
// during the demo's H12 incident to $PULSE_DASHBOARD_PNG (about two
// minutes):
//
//	PULSE_DASHBOARD_PNG=$PWD/doc/dashboard.png go test ./cmd/internal/web/dashtest -run H12 -v
func TestDashboardH12Screenshot(t *testing.T) {
	out := os.Getenv("PULSE_DASHBOARD_PNG")
	if out == "" {
		t.Skip("set PULSE_DASHBOARD_PNG to the path of the picture to write (doc/dashboard.png), about two minutes")
	}
	base := startPulse(t, "--demo=0")
	ctx, cancel := context.WithCancel(context.Background())
	fed := make(chan error, 1)
	go func() { fed <- feedDemo(ctx, base, 7) }()
	defer func() {
		cancel()
		require.NoError(t, <-fed)
	}()

	b := newBrowser(t, 1600, 1000)
	opened := time.Now()
	b.navigate(base + "/#range=1")
	// The H12 rate per minute crosses crit during the burst; wait until
	// its chart shows a good part of it.
	h12 := `document.querySelector('.tile[data-name="router.H12"]')`
	b.waitJS(h12+` && `+h12+`.classList.contains('crit')`, 100*time.Second, "router.H12 at crit")
	t.Logf("router.H12 at crit %v after the page opened", time.Since(opened).Round(time.Second))
	time.Sleep(30 * time.Second)
	b.waitJS(h12+`.classList.contains('crit')`, time.Second, "router.H12 still at crit")
	t.Logf("H12: %s", eval[string](b, h12+`.querySelector('.value').textContent`))

	path := b.screenshot("dashboard-h12.png")
	png, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	require.NoError(t, os.WriteFile(out, png, 0o644))
	t.Logf("wrote %s (%d bytes)", out, len(png))
	require.Empty(t, b.errors(), "console errors")
}
