package dashtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is the web handler over a History that a test fills, with a way
// to cut every open event stream.
type server struct {
	h   *web.History
	url string

	mu      sync.Mutex
	streams map[*http.Request]context.CancelFunc
}

func newServer(t *testing.T, defs []def.Def, cfg ...web.HistoryConfig) *server {
	t.Helper()
	h, err := web.NewHistory(append(cfg, web.HistoryConfig{})[0])
	require.NoError(t, err)
	s := &server{h: h, streams: map[*http.Request]context.CancelFunc{}}
	hd := web.Handler(h, web.Config{Defs: defs})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stats/stream" {
			ctx, cancel := context.WithCancel(r.Context())
			r = r.WithContext(ctx)
			s.mu.Lock()
			s.streams[r] = cancel
			s.mu.Unlock()
			defer func() {
				s.mu.Lock()
				delete(s.streams, r)
				s.mu.Unlock()
				cancel()
			}()
		}
		hd.ServeHTTP(w, r)
	}))
	srv.Config.RegisterOnShutdown(h.CloseSubscriptions)
	srv.Start()
	t.Cleanup(func() {
		h.CloseSubscriptions()
		srv.Close()
	})
	s.url = srv.URL
	return s
}

// cut ends every open event stream, as a proxy or a restart would, and
// returns how many there were.
func (s *server) cut() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.streams {
		cancel()
	}
	return len(s.streams)
}

func (s *server) add(at time.Time, stats map[string]stat.Value) {
	s.h.Add(0, window.Snapshot{Time: at, Stats: stats})
}

func ptr(f float64) *float64 { return &f }

// A tile turns orange at warn and red at crit, and back when its stat
// falls under them; a top-k list and quantiles are judged by their top
// value.
func TestDashboardCrit(t *testing.T) {
	t.Parallel()
	defs := []def.Def{
		{Name: "router.5xx", Kind: def.KindRate, Per: time.Minute, Label: "Router 5xx/min", Group: "router", Unit: "/min", Warn: ptr(10), Crit: ptr(100)},
		{Name: "router.service", Kind: def.KindQuantiles, Of: "service", Label: "Service time", Group: "router", Unit: "ms", Warn: ptr(1000), Crit: ptr(5000)},
		{Name: "router.hosts.top", Kind: def.KindTopK, Of: "host", Per: time.Second, Label: "Top hosts", Group: "router", Crit: ptr(50)},
	}
	s := newServer(t, defs)
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	sec := 0
	add := func(errs, p99, top float64) {
		sec++
		s.add(start.Add(time.Duration(sec)*time.Second), map[string]stat.Value{
			"router.5xx":       stat.Number(errs),
			"router.service":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 20}, {Q: 0.95, Value: p99 / 2}, {Q: 0.99, Value: p99}}),
			"router.hosts.top": stat.TopValue([]stat.TopValueEntry{{Key: "a.example.com", Value: top}, {Key: "b.example.com", Value: 1}}),
		})
	}
	b := newBrowser(t, 1200, 800)
	add(5, 300, 10)
	b.navigate(s.url + "/")
	level := func(name string) string {
		return fmt.Sprintf(`['ok','warn','crit','plain','none'].find(c => document.querySelector('.tile[data-name=%q]').classList.contains(c))`, name)
	}
	wait := func(name, want string) {
		t.Helper()
		b.waitJS(level(name)+` === '`+want+`'`, 5*time.Second, "%s turns %s", name, want)
	}
	wait("router.5xx", "ok")
	wait("router.service", "ok")
	wait("router.hosts.top", "ok")
	assert.Equal(t, "5/min", eval[string](b, `document.querySelector('.tile[data-name="router.5xx"] .value').textContent`))
	green := eval[string](b, `getComputedStyle(document.querySelector('.tile[data-name="router.5xx"]')).borderLeftColor`)
	assert.Equal(t, "rgb(67, 160, 71)", green)

	add(50, 2000, 10)
	wait("router.5xx", "warn")
	wait("router.service", "warn")
	assert.Equal(t, "rgb(251, 140, 0)", eval[string](b, `getComputedStyle(document.querySelector('.tile[data-name="router.5xx"]')).borderLeftColor`))

	add(500, 9000, 80)
	wait("router.5xx", "crit")
	wait("router.service", "crit")
	wait("router.hosts.top", "crit")
	for _, name := range []string{"router.5xx", "router.service", "router.hosts.top"} {
		style := eval[[]string](b, fmt.Sprintf(`(() => { const e = document.querySelector('.tile[data-name=%q]'), s = getComputedStyle(e); return [s.backgroundColor, s.color, getComputedStyle(e, '::after').borderTopWidth]; })()`, name))
		assert.Equal(t, []string{"rgb(211, 47, 47)", "rgb(255, 255, 255)", "4px"}, style, "%s: red all over, white text, a border around", name)
	}
	// The border blinks.
	b.waitJS(`document.body.classList.contains('blink')`, 2*time.Second, "the border blinks on")
	b.waitJS(`!document.body.classList.contains('blink')`, 2*time.Second, "the border blinks off")
	assert.Equal(t, "500/min", eval[string](b, `document.querySelector('.tile[data-name="router.5xx"] .value').textContent`))
	assert.Equal(t, "9 s", eval[string](b, `document.querySelector('.tile[data-name="router.service"] .value').textContent`))
	b.screenshot("dashboard-crit.png")

	add(0, 100, 1)
	wait("router.5xx", "ok")
	wait("router.service", "ok")
	wait("router.hosts.top", "ok")
	b.waitJS(`!document.body.classList.contains('blink')`, 2*time.Second, "the border stops blinking")
	time.Sleep(time.Second)
	assert.False(t, eval[bool](b, `document.body.classList.contains('blink')`), "no blinking without a tile at crit")
	assert.Empty(t, b.errors(), "console errors")
}

// The page shows a banner once no snapshot came for 5 s, and after a cut
// stream reconnects by itself, fetches the snapshots it missed from
// /stats?since= and takes the banner down.
func TestDashboardStaleAndReconnect(t *testing.T) {
	t.Parallel()
	s := newServer(t, []def.Def{{Name: "a", Kind: def.KindRate, Per: time.Second, Label: "A/s", Group: "g"}})
	var b *browser
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i := range 30 {
		if i == 29 {
			// The last just before the page opens: the History stops
			// sending a shard it has not heard from for 10 s.
			b = newBrowser(t, 1000, 700)
		}
		s.add(start.Add(time.Duration(i)*time.Second), map[string]stat.Value{"a": stat.Number(float64(i))})
	}
	b.navigate(s.url + "/")
	b.waitJS(`pulseDash.points('a') === 30`, 5*time.Second, "the history of a")
	assert.True(t, eval[bool](b, `document.getElementById('stale').hidden`), "no banner at first")

	// No snapshot for 5 s: stale.
	b.waitJS(`!document.getElementById('stale').hidden`, 8*time.Second, "the stale banner")
	// (On a machine so busy that the page took over 10 s to open, the
	// History no longer sent the shard, and the page shows its history.)
	assert.Regexp(t, `^Stale: no (snapshot for \d+ s|live snapshot; the history ends at \d\d:\d\d:\d\d)$`, eval[string](b, `document.getElementById('stale').textContent`))
	assert.True(t, eval[bool](b, `document.body.classList.contains('stale')`))
	b.screenshot("dashboard-stale.png")

	// The stream is cut, three snapshots come while the page is away, and
	// the stream only ever sends the latest: the two before it come from
	// the backfill.
	require.Equal(t, 1, s.cut(), "open streams")
	for i := 30; i < 33; i++ {
		s.add(start.Add(time.Duration(i)*time.Second), map[string]stat.Value{"a": stat.Number(float64(i))})
	}
	b.waitJS(`pulseDash.points('a') === 33`, 8*time.Second, "the missed points")
	b.waitJS(`document.getElementById('stale').hidden`, 2*time.Second, "the banner gone")
	assert.Equal(t, "32/s", eval[string](b, `document.querySelector('.tile[data-name="a"] .value').textContent`))
	assert.False(t, eval[bool](b, `document.getElementById('status').classList.contains('error')`), "status: %s", eval[string](b, `document.getElementById('status').textContent`))
	// A cut stream is an error of the network to the browser; nothing else is.
	assert.Empty(t, b.errors(), "console errors")
}

// A page opened while no merger is live (the History sends no snapshot)
// shows the newest points of the history, under the stale banner.
func TestDashboardHistoryOnly(t *testing.T) {
	t.Parallel()
	s := newServer(t, []def.Def{{Name: "a", Kind: def.KindRate, Per: time.Second, Label: "A/s", Group: "g"}},
		web.HistoryConfig{ShardTimeout: time.Millisecond})
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i := range 20 {
		s.add(start.Add(time.Duration(i)*time.Second), map[string]stat.Value{"a": stat.Number(float64(i)), "b": stat.Number(1)})
	}
	waitFor(t, time.Second, "no live shard", func() bool { return len(s.h.Latest().Stats) == 0 })
	b := newBrowser(t, 1000, 700)
	b.navigate(s.url + "/")
	b.waitJS(`document.querySelectorAll('.tile').length === 2`, 5*time.Second, "tiles from the history")
	assert.Equal(t, "19/s", eval[string](b, `document.querySelector('.tile[data-name="a"] .value').textContent`))
	assert.Equal(t, 0, eval[int](b, `pulseDash.snapshots()`))
	b.waitJS(`!document.getElementById('stale').hidden`, 8*time.Second, "the stale banner")
	assert.Equal(t, "Stale: no live snapshot; the history ends at "+start.Add(19*time.Second).Local().Format("15:04:05"),
		eval[string](b, `document.getElementById('stale').textContent`))
	assert.Empty(t, b.errors(), "console errors")
}

// perfDefs are 150 definitions in six groups: rates, with thresholds on
// some, quantiles every fifteenth and top-k lists every fifteenth.
func perfDefs() []def.Def {
	groups := []string{"router", "router-errors", "dynos", "logplex", "addons", "app"}
	defs := make([]def.Def, 150)
	for i := range defs {
		d := def.Def{Name: fmt.Sprintf("s%03d", i), Group: groups[i*len(groups)/len(defs)], Label: fmt.Sprintf("Stat %d", i)}
		switch i % 15 {
		case 7:
			d.Kind, d.Of, d.Unit = def.KindQuantiles, "service", "ms"
		case 11:
			d.Kind, d.Of, d.Per, d.K = def.KindTopK, "host", time.Second, 10
		default:
			d.Kind, d.Per, d.Unit = def.KindRate, time.Second, "/s"
			if i%3 == 0 {
				d.Warn, d.Crit = ptr(150), ptr(195)
			}
		}
		defs[i] = d
	}
	return defs
}

// perfSnapshot is the value of every perfDefs stat at second sec.
func perfSnapshot(defs []def.Def, sec int) map[string]stat.Value {
	out := make(map[string]stat.Value, len(defs))
	for i, d := range defs {
		x := 100 + 99*math.Sin(float64(sec)/17+float64(i))
		switch d.Kind {
		case def.KindQuantiles:
			out[d.Name] = stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: x}, {Q: 0.95, Value: 3 * x}, {Q: 0.99, Value: 7 * x}})
		case def.KindTopK:
			top := make([]stat.TopValueEntry, 10)
			for k := range top {
				top[k] = stat.TopValueEntry{Key: fmt.Sprintf("host-%d-%d.example.com", i, k), Value: x / float64(k+1)}
			}
			out[d.Name] = stat.TopValue(top)
		default:
			out[d.Name] = stat.Number(x)
		}
	}
	return out
}

// The page keeps up with 150 tiles updating every second. The CPU time
// each update costs the page is measured and logged, not asserted: in the
// page (performance.now() around the message handler and the animation
// frame that writes the DOM and draws the charts) and by Chromium's
// Performance domain (ScriptDuration, TaskDuration: all main-thread work,
// with layout, style and paint).
//
// It runs alone: the others run in parallel after it.
func TestDashboardPerformance(t *testing.T) {
	const updates = 10
	defs := perfDefs()
	s := newServer(t, defs)
	b := newBrowser(t, 1920, 1080)
	// Ten minutes of history, so that every chart is full.
	now := time.Now().Truncate(time.Second)
	for sec := -600; sec <= 0; sec++ {
		s.add(now.Add(time.Duration(sec)*time.Second), perfSnapshot(defs, sec))
	}

	b.navigate(s.url + "/#range=10")
	b.waitJS(`document.querySelectorAll('#groups .tile').length === 150`, 10*time.Second, "150 tiles")
	b.waitJS(`pulseDash.points('s000') >= 600`, 10*time.Second, "the history")
	// A wall screen tall enough to show every tile, so every chart is drawn.
	height := eval[int64](b, `document.documentElement.scrollHeight`)
	require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(1920, height)))
	b.frames(3)
	hidden := eval[int](b, `Array.from(document.querySelectorAll('#groups .tile')).filter(t => { const r = t.getBoundingClientRect(); return r.bottom > innerHeight; }).length`)
	require.Zero(t, hidden, "tiles below the viewport")
	b.frames(3)

	_, err := chromedp.Call(b.ctx, performance.Enable, performance.EnableParams{})
	require.NoError(t, err)
	metrics := func() map[string]float64 {
		r, err := chromedp.Call(b.ctx, performance.GetMetrics, cdp.Empty{})
		require.NoError(t, err)
		m := map[string]float64{}
		for _, x := range r.Metrics {
			m[x.Name] = x.Value
		}
		return m
	}
	type pagePerf struct {
		Messages, Frames, Draws                int
		MessageMs, FrameMs, MaxFrameMs, DrawMs float64
	}
	readPerf := func() pagePerf { return eval[pagePerf](b, `pulseDash.perf`) }
	eval[bool](b, `pulseDash.perf.maxFrameMs = 0; true`)
	r0, all0, cpuOK := chromiumCPU(b)
	p0, m0 := readPerf(), metrics()
	snaps0 := eval[int](b, `pulseDash.snapshots()`)

	// One snapshot a second, as the mergers publish.
	tick := time.NewTicker(time.Second)
	for i := 1; i <= updates; i++ {
		<-tick.C
		s.add(now.Add(time.Duration(i)*time.Second), perfSnapshot(defs, i))
	}
	tick.Stop()
	b.waitJS(fmt.Sprintf(`pulseDash.snapshots() >= %d`, snaps0+updates), 5*time.Second, "every update received")
	b.frames(2)
	p1, m1 := readPerf(), metrics()
	r1, all1, _ := chromiumCPU(b)

	n := float64(p1.Messages - p0.Messages)
	require.InDelta(t, updates, n, 1, "messages")
	pageMs := (p1.MessageMs - p0.MessageMs + p1.FrameMs - p0.FrameMs) / n
	draws := float64(p1.Draws-p0.Draws) / n
	per := func(k string) float64 { return (m1[k] - m0[k]) * 1000 / n }
	t.Logf("150 tiles, %d updates, 1 s apart: per update %.2f ms in the page (message handler %.2f ms, frame %.2f ms of which drawing %.0f charts %.2f ms; longest frame %.1f ms); Chromium's main thread: ScriptDuration %.2f ms, TaskDuration %.2f ms (LayoutDuration %.2f ms, RecalcStyleDuration %.2f ms)",
		updates, pageMs, (p1.MessageMs-p0.MessageMs)/n, (p1.FrameMs-p0.FrameMs)/n, draws, (p1.DrawMs-p0.DrawMs)/n, p1.MaxFrameMs,
		per("ScriptDuration"), per("TaskDuration"), per("LayoutDuration"), per("RecalcStyleDuration"))
	if cpuOK {
		t.Logf("CPU time (/proc, user+system) per update: Chromium's renderer %.1f ms, all of Chromium's processes %.1f ms",
			float64(r1-r0)/float64(time.Millisecond)/n, float64(all1-all0)/float64(time.Millisecond)/n)
	}
	// 140 charts a snapshot (the 10 top-k tiles have none), fewer when a
	// frame comes late and draws two snapshots at once.
	assert.LessOrEqual(t, draws, 140.0, "charts redrawn per update")
	b.screenshot("dashboard-150.png")
	assert.Empty(t, b.errors(), "console errors")
}

// While the receivers drop input (pulse.dropped, pulse.publish.dropped
// above 0), a banner above every group says so and links to the tile;
// it goes when the drops stop.
func TestDashboardDrops(t *testing.T) {
	t.Parallel()
	s := newServer(t, []def.Def{{Name: "a", Kind: def.KindRate, Per: time.Second, Label: "A/s", Group: "g"}})
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	sec := 0
	add := func(dropped, cuts float64) {
		sec++
		s.add(start.Add(time.Duration(sec)*time.Second), map[string]stat.Value{
			"a": stat.Number(1), "pulse.dropped": stat.Number(dropped), "pulse.publish.dropped": stat.Number(cuts),
		})
	}
	b := newBrowser(t, 1000, 700)
	add(0, 0)
	b.navigate(s.url + "/")
	b.waitJS(`document.querySelector('.tile[data-name="pulse.dropped"]')`, 5*time.Second, "the pulse.dropped tile")
	assert.True(t, eval[bool](b, `document.getElementById('drops').hidden`), "no banner without drops")

	add(146000, 0)
	b.waitJS(`!document.getElementById('drops').hidden`, 5*time.Second, "the drops banner")
	assert.Equal(t, "Dropping input: 146k events/s dropped (a receiver's queue was full) over the last 10 s; the figures below leave it out",
		eval[string](b, `document.getElementById('drops').textContent`))
	assert.Equal(t, "#stat=pulse.dropped", eval[string](b, `document.querySelector('#drops a').getAttribute('href')`))
	top := eval[[]float64](b, `(() => { const r = document.getElementById('drops').getBoundingClientRect(), g = document.querySelector('.group').getBoundingClientRect(); return [r.top, r.bottom, g.top]; })()`)
	assert.Less(t, top[0], 100.0, "at the top of the window")
	assert.LessOrEqual(t, top[1], top[2], "above the first group")
	b.screenshot("dashboard-drops.png")

	add(0, 2)
	b.waitJS(`document.getElementById('drops').textContent.includes('cuts')`, 5*time.Second, "the cuts")
	assert.Equal(t, "Dropping input: 2 cuts/s not published over the last 10 s; the figures below leave it out",
		eval[string](b, `document.getElementById('drops').textContent`))
	assert.Equal(t, "#stat=pulse.publish.dropped", eval[string](b, `document.querySelector('#drops a').getAttribute('href')`))

	add(0, 0)
	b.waitJS(`document.getElementById('drops').hidden`, 5*time.Second, "the banner gone")
	assert.Empty(t, b.errors(), "console errors")
}
