package dashtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestDashboardURLScreenshot opens the dashboard of a Pulse that is
// already running, at $PULSE_SCREENSHOT_URL, waits for a few snapshots
// and writes two pictures: what a 1600 × 1000 window shows first
// ($PULSE_SCREENSHOT_PNG) and the whole page (the same name with -full
// before .png). It logs the text of the tiles of the pipeline's own
// stats (pulse.*). bench/load.sh runs it during an overload run to see
// that the drops show:
//
//	go test -c -o dashtest.test ./cmd/internal/web/dashtest
//	PULSE_SCREENSHOT_URL=http://127.0.0.1:5000/ PULSE_SCREENSHOT_PNG=/tmp/over.png ./dashtest.test -test.run URLScreenshot -test.v
func TestDashboardURLScreenshot(t *testing.T) {
	url, out := os.Getenv("PULSE_SCREENSHOT_URL"), os.Getenv("PULSE_SCREENSHOT_PNG")
	if url == "" || out == "" {
		t.Skip("set PULSE_SCREENSHOT_URL to a running dashboard and PULSE_SCREENSHOT_PNG to the picture to write")
	}
	b := newBrowser(t, 1600, 1000)
	b.navigate(url)
	b.waitJS(`document.querySelector('.tile[data-name="pulse.dropped"] .value')`, 60*time.Second, "the pulse.dropped tile")
	// Five snapshots more, so that the charts have points to draw.
	n := eval[int](b, `window.pulseDash ? window.pulseDash.snapshots() : 0`)
	b.waitJS(`window.pulseDash && window.pulseDash.snapshots() >= `+strconv.Itoa(n+5), 60*time.Second, "five more snapshots")
	b.frames(3)
	for _, line := range eval[[]string](b, `Array.from(document.querySelectorAll('.tile[data-name^="pulse."], #alert')).map(e => (e.getAttribute('data-name') || e.id) + ': ' + e.textContent.replace(/\s+/g, ' ').slice(0, 120) + ' [' + e.className + ']')`) {
		t.Log(line)
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	top, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, top, 0o644))
	full := b.screenshot(filepath.Base(strings.TrimSuffix(out, ".png") + "-full.png"))
	png, err := os.ReadFile(full)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(strings.TrimSuffix(out, ".png")+"-full.png", png, 0o644))
	t.Logf("wrote %s and its -full.png", out)
}
