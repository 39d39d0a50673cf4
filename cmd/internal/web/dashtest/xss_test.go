package dashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Markup that would run if the page ever wrote log text as HTML.
const (
	scriptHost = `<script>alert(1)</script>`
	imgHost    = `"><img src=x onerror=alert(1)>`
	// l2met metric names end at "=" and spaces, so their markup has none.
	scriptMetric = `<script>alert(1)</script>`
	imgMetric    = `"><img/src/onerror>`
)

// hostileTraffic is one drain body's messages at t: requests for the two
// hostile hosts and a plain one, and app lines with hostile l2met metric
// names.
func hostileTraffic(t time.Time) []string {
	ts := t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
	router := func(host string) string {
		return fmt.Sprintf(`<158>1 %s host heroku router - at=info method=GET path="/" host=%s request_id=r1 fwd="10.0.0.1" dyno=web.1 connect=0ms service=12ms status=200 bytes=512 protocol=https`,
			ts, quote(host))
	}
	return []string{
		router(scriptHost), router(scriptHost), router(scriptHost),
		router(imgHost), router(imgHost),
		router("plain.example.com"),
		fmt.Sprintf(`<190>1 %s host app web.1 - count#%s=1 count#%s=2`, ts, scriptMetric, imgMetric),
	}
}

// quote writes a logfmt value, quoted when it needs to be.
func quote(s string) string {
	if !strings.ContainsAny(s, " =\"") {
		return s
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// Hosts and l2met metric names come from logs. Hostile ones render as
// text, in tiles, lists, links, tooltips and the one-stat view, and run
// nothing: not with the page's Content-Security-Policy, and not without it
// either (the escaping alone holds).
func TestDashboardXSS(t *testing.T) {
	t.Parallel()
	base := startPulse(t, "--demo=0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	posted := make(chan error, 1)
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if err := postDrain(base, hostileTraffic(time.Now())); err != nil {
				posted <- err
				return
			}
			select {
			case <-ctx.Done():
				posted <- nil
				return
			case <-tick.C:
			}
		}
	}()

	b := newBrowser(t, 1400, 1000)
	// A page that runs injected markup calls alert: record it, and keep the
	// dialog listener as a second net.
	_, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__alerts = []; window.alert = (m) => { window.__alerts.push(String(m)); };`,
	})
	require.NoError(t, err)

	scriptStat := "l2met." + scriptMetric
	imgStat := "l2met." + imgMetric
	check := func(pass string) {
		t.Helper()
		b.navigate(base + "/")
		keys := `Array.from(document.querySelectorAll('.tile[data-name="router.hosts.top"] .topk .key'), k => k.textContent)`
		b.waitJS(keys+`.length >= 3`, 15*time.Second, "%s: the hostile hosts listed", pass)
		assert.Subset(t, eval[[]string](b, keys), []string{scriptHost, imgHost, "plain.example.com"}, pass)
		titles := eval[[]string](b, `Array.from(document.querySelectorAll('.tile[data-name="router.hosts.top"] .topk .key'), k => k.getAttribute('title'))`)
		assert.Subset(t, titles, []string{scriptHost, imgHost}, pass)

		// l2met tiles by their hostile names, labelled with them as text.
		labels := `Object.fromEntries(Array.from(document.querySelectorAll('section[data-group="l2met"] .tile'), t => [t.getAttribute('data-name'), t.querySelector('.label').textContent]))`
		b.waitJS(fmt.Sprintf(`Object.keys(%s).length >= 2`, labels), 10*time.Second, "%s: the hostile l2met tiles", pass)
		got := eval[map[string]string](b, labels)
		assert.Equal(t, scriptMetric, got[scriptStat], pass)
		assert.Equal(t, imgMetric, got[imgStat], pass)

		// The one-stat view of a hostile name, and a hover on a hostile key.
		name, _ := json.Marshal(imgStat)
		eval[bool](b, `location.hash = '#stat=' + encodeURIComponent(`+string(name)+`); true`)
		b.waitJS(`document.body.getAttribute('data-view') === 'stat'`, 2*time.Second, "%s: the stat view", pass)
		assert.Equal(t, imgMetric, eval[string](b, `document.getElementById('viewname').textContent`), pass)
		assert.Equal(t, 1, eval[int](b, `Array.from(document.querySelectorAll('.tile')).filter(t => t.offsetParent !== null).length`), pass)
		eval[bool](b, `location.hash = '#stat=router.hosts.top'; true`)
		b.waitJS(`document.body.getAttribute('data-view') === 'stat'`, 2*time.Second, "%s: the top-k view", pass)
		box := eval[[]float64](b, `(() => { const r = document.querySelector('.tile.focus .topk li').getBoundingClientRect(); return [r.left + 40, r.top + 5]; })()`)
		require.NoError(t, mouseMove(b, box[0], box[1]))
		b.waitJS(`!document.getElementById('tip').hidden`, 2*time.Second, "%s: the tooltip of a key", pass)
		tip := eval[string](b, `document.getElementById('tip').textContent`)
		assert.True(t, strings.HasPrefix(tip, scriptHost+"\n") || strings.HasPrefix(tip, imgHost+"\n") || strings.HasPrefix(tip, "plain.example.com\n"), "%s: tooltip %q", pass, tip)
		b.frames(2)

		// Nothing ran, and nothing was injected: no element the page does
		// not make, no inline handler, no script but the page's own.
		assert.Empty(t, eval[[]string](b, `window.__alerts`), pass)
		assert.Empty(t, b.opened(), "%s: dialogs", pass)
		assert.Equal(t, 0, eval[int](b, `document.querySelectorAll('img, iframe, svg, object, embed, b').length`), "%s: injected elements", pass)
		assert.Equal(t, []string{"format.js", "app.js"}, eval[[]string](b, `Array.from(document.scripts, s => s.getAttribute('src'))`), pass)
		assert.Equal(t, 0, eval[int](b, `Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length`), "%s: inline handlers", pass)
		assert.Empty(t, b.errors(), "%s: console errors (a CSP violation is one)", pass)
	}

	check("with the CSP")
	b.screenshot("dashboard-xss.png")
	_, err = chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
	require.NoError(t, err)
	check("without the CSP")

	cancel()
	require.NoError(t, <-posted)
}
