package dashtest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testDefs is the default Heroku set and one definition whose crit the
// demo traffic crosses at once: router requests at 1/s.
const testDefs = `
name=test.requests kind=rate per=1s where="proc=router" label="Router requests/s (crit 1)" group=test unit=req/s warn=0.5 crit=1
`

// tileNames lists the tiles' stat names, in page order.
const tileNames = `Array.from(document.querySelectorAll('#groups .tile'), t => t.getAttribute('data-name'))`

// tileValues maps each tile's stat name to its value text.
const tileValues = `Object.fromEntries(Array.from(document.querySelectorAll('#groups .tile'), t => [t.getAttribute('data-name'), t.querySelector('.value').textContent]))`

// The dashboard against `pulse run` with the demo traffic: it loads,
// renders a tile for every stat, fills its charts from the history, moves
// within 3 s, turns a tile red over crit, shows one group or one tile by
// its URL, and writes nothing to the console.
func TestDashboardLive(t *testing.T) {
	t.Parallel()
	defsFile := filepath.Join(t.TempDir(), "test.defs")
	require.NoError(t, os.WriteFile(defsFile, []byte(def.HerokuFile()+testDefs), 0o644))
	base := startPulse(t, "--demo=1", "--defs="+defsFile)

	// The page and its policy.
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, csp, "unsafe-eval")

	// Let the history hold a few seconds, so that the page opens late.
	waitFor(t, 20*time.Second, "three seconds of history", func() bool {
		var h map[string][][2]json.RawMessage
		getJSON(t, base+"/stats?names=pulse.events", &h)
		return len(h["pulse.events"]) >= 3
	})

	b := newBrowser(t, 1600, 1000)
	start := time.Now()
	b.navigate(base + "/")

	// Every stat of /stats/latest has its tile, and no other.
	var names []string
	var want []string
	waitFor(t, 10*time.Second, "a tile for every stat of /stats/latest", func() bool {
		names = eval[[]string](b, tileNames)
		want = want[:0]
		for name := range getLatest(t, base).Stats {
			want = append(want, name)
		}
		got := slices.Sorted(slices.Values(names))
		slices.Sort(want)
		return len(want) > 100 && slices.Equal(got, want)
	})
	t.Logf("%d tiles rendered %v after the page was opened", len(names), time.Since(start).Round(time.Millisecond))
	assert.Equal(t, len(want), eval[int](b, `document.querySelectorAll('#groups .tile').length`))

	// In the definitions' order: groups as they first appear, then pulse.
	groups := eval[[]string](b, `Array.from(document.querySelectorAll('#groups section'), s => s.getAttribute('data-group'))`)
	assert.Equal(t, []string{"router", "router-errors", "dynos", "logplex", "addons", "platform", "l2met", "test", "pulse"}, groups)
	routerTiles := eval[[]string](b, `Array.from(document.querySelectorAll('section[data-group="router"] .tile'), t => t.getAttribute('data-name'))`)
	assert.Equal(t, []string{"router.requests", "router.5xx", "router.service", "router.service.max", "router.connect", "router.bytes", "router.hosts.top", "router.hosts"}, routerTiles)
	labels := eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll('.tile'), t => [t.getAttribute('data-name'), t.querySelector('.label').textContent]))`)
	assert.Equal(t, "H12 Request timeout/min", labels["router.H12"])
	assert.Equal(t, "Events/s", labels["pulse.events"])
	assert.Equal(t, "Snapshot lag", labels["pulse.lag"])
	assert.Equal(t, "Merger 0 late fragments/s", labels["pulse.merger.0.late"])

	// Every tile shows a value, and the kinds their own body: quantiles a
	// chart with a legend, top-k a ranked list.
	values := eval[map[string]string](b, tileValues)
	for _, name := range names {
		assert.NotEmpty(t, values[name], name)
	}
	assert.Regexp(t, `^[0-9.]+(k)? req/s$`, values["router.requests"])
	assert.Regexp(t, `^[0-9.]+ [kMG]?B/s$`, values["router.bytes"])
	assert.Equal(t, []string{"p50", "p95", "p99"}, eval[[]string](b,
		`Array.from(document.querySelectorAll('.tile[data-name="router.service"] .legend span'), s => s.textContent.split(' ')[0])`))
	assert.True(t, eval[bool](b, `!!document.querySelector('.tile[data-name="router.service"] canvas')`))
	b.waitJS(`document.querySelectorAll('.tile[data-name="router.hosts.top"] .topk li').length >= 3`, 5*time.Second, "top hosts listed")

	// The charts were filled from /stats before the stream added to them.
	assert.GreaterOrEqual(t, eval[int](b, `pulseDash.points('pulse.events')`), 3, "points of pulse.events")

	// Values change within 3 s.
	before := eval[map[string]string](b, tileValues)
	snaps := eval[int](b, `pulseDash.snapshots()`)
	changed := ""
	waitFor(t, 3*time.Second, "a value changes within 3 s", func() bool {
		for name, v := range eval[map[string]string](b, tileValues) {
			if before[name] != "" && v != before[name] {
				changed = name + ": " + before[name] + " → " + v
				return true
			}
		}
		return false
	})
	t.Logf("changed: %s; snapshots received: %d", changed, eval[int](b, `pulseDash.snapshots()`)-snaps)

	// The demo's router traffic is far over test.requests' crit of 1/s:
	// the whole tile turns red.
	b.waitJS(`document.querySelector('.tile[data-name="test.requests"]').classList.contains('crit')`, 10*time.Second, "test.requests turns red")
	assert.Equal(t, "rgb(211, 47, 47)", eval[string](b, `getComputedStyle(document.querySelector('.tile[data-name="test.requests"]')).backgroundColor`))
	assert.Equal(t, "4px", eval[string](b, `getComputedStyle(document.querySelector('.tile[data-name="test.requests"]'), '::after').borderTopWidth`), "a border around")
	b.waitJS(`document.body.classList.contains('blink')`, 2*time.Second, "the border blinks")
	assert.True(t, eval[bool](b, `document.querySelector('.tile[data-name="pulse.dropped"]').classList.contains('ok')`), "pulse.dropped is green")

	// The whole page, then one group and one tile by their bookmarkable URLs.
	b.screenshot("dashboard-live.png")
	visible := `Array.from(document.querySelectorAll('#groups .tile'), t => t).filter(t => t.offsetParent !== null).map(t => t.getAttribute('data-name'))`
	b.navigate("about:blank")
	b.navigate(base + "/#group=router&range=1")
	b.waitJS(`document.querySelectorAll('#groups .tile').length > 100`, 10*time.Second, "tiles after a reload")
	assert.Equal(t, routerTiles, eval[[]string](b, visible), "#group=router shows the router group only")
	assert.Equal(t, "true", eval[string](b, `document.querySelector('#range button[data-range="1"]').getAttribute('aria-pressed')`))
	assert.Equal(t, "router", eval[string](b, `document.getElementById('viewname').textContent`))
	b.screenshot("dashboard-live-router.png")
	eval[bool](b, `location.hash = '#stat=router.service'; true`)
	b.waitJS(`document.body.getAttribute('data-view') === 'stat'`, 2*time.Second, "the stat view")
	assert.Equal(t, []string{"router.service"}, eval[[]string](b, visible), "#stat=router.service shows one tile")
	b.waitJS(`document.querySelector('.tile.focus canvas').getBoundingClientRect().height > 300`, 2*time.Second, "the tile large")
	b.screenshot("dashboard-live-router-service.png")
	eval[bool](b, `location.hash = ''; true`)
	b.waitJS(`document.body.getAttribute('data-view') === 'all'`, 2*time.Second, "back to every stat")

	// A hover over a chart shows its value and time.
	box := eval[[]float64](b, `(() => { const c = document.querySelector('.tile[data-name="pulse.events"] canvas'); c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect(); return [r.right - 3, r.top + r.height / 2]; })()`)
	require.NoError(t, mouseMove(b, box[0], box[1]))
	b.waitJS(`!document.getElementById('tip').hidden`, 2*time.Second, "the tooltip")
	tip := eval[string](b, `document.getElementById('tip').textContent`)
	assert.Regexp(t, `^Events/s\n[0-9.]+k?/s\n\d\d:\d\d:\d\d$`, tip)

	assert.Empty(t, b.errors(), "console errors")
	assert.Empty(t, b.opened(), "dialogs")
	if t.Failed() {
		t.Logf("tiles: %s", strings.Join(names, " "))
	}
}
