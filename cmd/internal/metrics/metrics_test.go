package metrics_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/metrics"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

var at = time.Date(2026, 3, 14, 17, 2, 1, 0, time.UTC)

// parse reads an exposition back with expfmt's text parser, requiring
// legacy (Prometheus 2) metric names.
func parse(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	require.NoError(t, err, "exposition:\n%s", b)
	return mfs
}

func expose(t *testing.T, defs []def.Def, snap window.Snapshot) []byte {
	t.Helper()
	b, err := metrics.New(defs).Append(nil, snap)
	require.NoError(t, err)
	return b
}

// series is a family's samples as "labels value" strings, in order.
func series(mf *dto.MetricFamily) []string {
	var out []string
	for _, m := range mf.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		switch {
		case m.Gauge != nil:
			out = append(out, fmt.Sprintf("{%s} %g", strings.Join(ls, ","), m.Gauge.GetValue()))
		case m.Summary != nil:
			for _, q := range m.Summary.Quantile {
				out = append(out, fmt.Sprintf("{%s} q%g=%g", strings.Join(ls, ","), q.GetQuantile(), q.GetValue()))
			}
		}
	}
	return out
}

// TestValueForms exposes a snapshot with every form of value and reads it
// back family by family.
func TestValueForms(t *testing.T) {
	defs := def.MustParse(`
name=req kind=rate per=1s label="Requests/s" unit=req/s
name=svc kind=quantiles of=service q=0.5,0.99 label="Service time" unit=ms
name=hosts kind=topk of=host k=2 per=1m label="Top hosts"
name=mem kind=last-sum of=m by=dyno label="Memory" unit=MB
name=gone kind=max of=x label="Empty window"
`, "test.defs")
	snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{
		"req":          stat.Number(412.5),
		"svc":          stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}}),
		"hosts":        stat.TopValue([]stat.TopValueEntry{{Key: "a.example.com", Value: 9}, {Key: "b.example.com", Value: 4}, {Key: "c.example.com", Value: 1}}),
		"mem":          stat.Number(512),
		"gone":         stat.Null(),
		"pulse.events": stat.Number(700),
		"undefined.x":  stat.Number(-3),
	}}
	b := expose(t, defs, snap)
	mfs := parse(t, b)

	type want struct {
		typ    dto.MetricType
		help   string
		series []string
	}
	wants := map[string]want{
		"pulse_req_per_second":             {dto.MetricType_GAUGE, "Requests/s [req; req/s]", []string{"{} 412.5"}},
		"pulse_svc_seconds":                {dto.MetricType_SUMMARY, "Service time [svc; ms, exposed in seconds]", []string{"{} q0.5=0.018", "{} q0.99=0.412"}},
		"pulse_hosts_per_minute":           {dto.MetricType_GAUGE, "Top hosts [hosts]", []string{`{key="a.example.com"} 9`, `{key="b.example.com"} 4`}},
		"pulse_mem_bytes":                  {dto.MetricType_GAUGE, "Memory [mem; MB, exposed in bytes]", []string{"{} 5.36870912e+08"}},
		"pulse_events_per_second":          {dto.MetricType_GAUGE, "Events folded/s [pulse.events; /s]", []string{"{} 700"}},
		"pulse_undefined_x":                {dto.MetricType_GAUGE, "undefined.x", []string{"{} -3"}},
		"pulse_snapshot_timestamp_seconds": {dto.MetricType_GAUGE, "", []string{fmt.Sprintf("{} %g", float64(at.Unix()))}},
		"pulse_exporter_collisions":        {dto.MetricType_GAUGE, "", []string{"{} 0"}},
		"pulse_exporter_omitted":           {dto.MetricType_GAUGE, "", []string{"{} 1"}}, // c.example.com, beyond k=2
	}
	for name, w := range wants {
		mf, ok := mfs[name]
		if !assert.True(t, ok, "family %s missing from\n%s", name, b) {
			continue
		}
		assert.Equal(t, w.typ, mf.GetType(), name)
		if w.help != "" {
			assert.Equal(t, w.help, mf.GetHelp(), name)
		}
		assert.Equal(t, w.series, series(mf), name)
	}
	assert.Len(t, mfs, len(wants), "null is left out, and nothing else is there:\n%s", b)

	// The summary has quantiles only: no _sum or _count that would say 0.
	assert.Nil(t, mfs["pulse_svc_seconds"].Metric[0].Summary.SampleCount)
	assert.NotContains(t, string(b), "pulse_svc_seconds_sum")
	assert.NotContains(t, string(b), "pulse_svc_seconds_count")
	assert.Contains(t, string(b), "# TYPE pulse_svc_seconds summary\n")
}

// TestEmptySnapshot: before the first snapshot, only the exporter's own
// families, and no timestamp.
func TestEmptySnapshot(t *testing.T) {
	mfs := parse(t, expose(t, nil, window.Snapshot{}))
	assert.Len(t, mfs, 2)
	assert.Contains(t, mfs, metrics.NameCollisions)
	assert.Contains(t, mfs, metrics.NameOmitted)

	// An empty quantiles value or top-k list has no series either.
	mfs = parse(t, expose(t, nil, window.Snapshot{Time: at, Stats: map[string]stat.Value{
		"q": stat.QuantilesValue(nil), "top": stat.TopValue(nil),
	}}))
	assert.Len(t, mfs, 3)
}

// TestCollisions: stats that map to one name are all exported, the later
// in claim order with the hash of their stat name, and counted.
func TestCollisions(t *testing.T) {
	snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{
		"a.b":               stat.Number(1),
		"a_b":               stat.Number(2),
		"A.B":               stat.Number(3),
		"events":            stat.Number(4), // pulse_events, as the self-stat would be without its unit
		"pulse.x":           stat.Number(5), // a self-stat claims before "x"
		"x":                 stat.Number(6),
		"exporter.omitted":  stat.Number(7), // the exporter's own names come first
		"pulse_exporter_xx": stat.Number(8),
	}}
	b := expose(t, nil, snap)
	mfs := parse(t, b)
	value := func(name string) float64 {
		t.Helper()
		mf, ok := mfs[name]
		require.True(t, ok, "family %s missing from\n%s", name, b)
		return mf.Metric[0].Gauge.GetValue()
	}
	// Byte order: "A.B" < "a.b" < "a_b".
	assert.Equal(t, 3.0, value("pulse_a_b"))
	assert.Equal(t, 1.0, value("pulse_a_b"+hash("a.b")))
	assert.Equal(t, 2.0, value("pulse_a_b"+hash("a_b")))
	assert.Equal(t, 5.0, value("pulse_x"))
	assert.Equal(t, 6.0, value("pulse_x"+hash("x")))
	assert.Equal(t, 7.0, value("pulse_exporter_omitted"+hash("exporter.omitted")))
	assert.Equal(t, 4.0, value("pulse_events"))
	assert.Equal(t, 8.0, value("pulse_pulse_exporter_xx"))
	assert.Equal(t, 4.0, value(metrics.NameCollisions))
	assert.Equal(t, 0.0, value(metrics.NameOmitted))

	// A renamed stat keeps its name when other stats come and go.
	delete(snap.Stats, "a_b")
	snap.Stats["a.b.c"] = stat.Number(9)
	mfs = parse(t, expose(t, nil, snap))
	assert.Contains(t, mfs, "pulse_a_b"+hash("a.b"))

	// A stat whose plain name is another's renamed name is renamed again:
	// y claims pulse_y_<hash y> before y_<hash y> claims anything.
	snap = window.Snapshot{Time: at}
	snap.Stats = map[string]stat.Value{
		"pulse.y":       stat.Number(1),
		"y":             stat.Number(2), // claims pulse_y, then pulse_y_<hash y>
		"y" + hash("y"): stat.Number(3), // its plain name is taken, its renamed one is free
	}
	mfs = parse(t, expose(t, nil, snap))
	assert.Equal(t, 2.0, mfs["pulse_y"+hash("y")].Metric[0].Gauge.GetValue())
	assert.Equal(t, 3.0, mfs["pulse_y"+hash("y")+hash("y"+hash("y"))].Metric[0].Gauge.GetValue())
	assert.Equal(t, 2.0, mfs[metrics.NameCollisions].Metric[0].Gauge.GetValue())

	snap.Stats = map[string]stat.Value{
		"pulse.z":             stat.Number(1),
		"pulse.z" + hash("z"): stat.Number(2), // a self-stat, so it claims pulse_z_<hash z> before z does
		"z":                   stat.Number(3), // pulse_z taken, pulse_z_<hash z> taken: left out
	}
	mfs = parse(t, expose(t, nil, snap))
	assert.Equal(t, 1.0, mfs["pulse_z"].Metric[0].Gauge.GetValue())
	assert.Equal(t, 2.0, mfs["pulse_z"+hash("z")].Metric[0].Gauge.GetValue())
	assert.Len(t, mfs, 5)
	assert.Equal(t, 1.0, mfs[metrics.NameCollisions].Metric[0].Gauge.GetValue())
	assert.Equal(t, 1.0, mfs[metrics.NameOmitted].Metric[0].Gauge.GetValue())
}

// hash is the suffix the package documentation gives a renamed stat.
func hash(stat string) string {
	h := uint32(2166136261)
	for i := 0; i < len(stat); i++ {
		h ^= uint32(stat[i])
		h *= 16777619
	}
	return fmt.Sprintf("_%08x", h)
}

// TestHostile: names and top-k keys from logs cannot break the
// exposition: it parses, every name is a valid metric name, the keys come
// back as themselves or with U+FFFD for what a label value cannot hold,
// and promtool accepts it.
func TestHostile(t *testing.T) {
	keys := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`a"b\c`,
		"line\nbreak",
		"cr\rlf",
		"nul\x00",
		"bad\xff\xfeutf8",
		"bad\xff\xffutf8", // equal to the one before once cleaned
		`} 1e9` + "\n" + `evil_metric 1`,
		"# HELP x y",
		"",
		strings.Repeat("k", 256),
	}
	var top []stat.TopValueEntry
	for i, k := range keys {
		top = append(top, stat.TopValueEntry{Key: k, Value: float64(100 - i)})
	}
	names := []string{
		"<script>alert(1)</script>",
		`a"b`,
		"new\nline",
		"bad\xffname",
		"# TYPE x counter",
		"x{y=\"z\"}",
		"日本語.stat",
		"l2met.\"q\"\n",
		"CamelCase.Name",
		"a..b",
		"top\n<b>",
	}
	snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{}}
	for i, n := range names {
		snap.Stats[n] = stat.Number(float64(i))
	}
	snap.Stats["top"] = stat.TopValue(top)
	defs := []def.Def{{Name: "l2met", Kind: def.KindL2met, Unit: "ms"}, {Name: "top", Kind: def.KindTopK, Of: "k", K: 100}}
	b := expose(t, defs, snap)
	mfs := parse(t, b)

	valid := regexp.MustCompile(`^pulse_[a-z0-9_]+$`)
	for name := range mfs {
		assert.Regexp(t, valid, name)
	}
	assert.Len(t, mfs, len(names)+1+3, "every stat, the top-k and the exporter's three:\n%s", b)
	assert.Equal(t, "l2met metric \"q\"\ufffd [l2met.\"q\"\ufffd; ms, exposed in seconds]", mfs["pulse_l2met__q___seconds"].GetHelp())

	mf := mfs["pulse_top_per_minute"]
	require.NotNil(t, mf, "%s", b)
	got := map[string]float64{}
	for _, m := range mf.Metric {
		require.Len(t, m.Label, 1)
		assert.Equal(t, metrics.KeyLabel, m.Label[0].GetName())
		got[m.Label[0].GetValue()] = m.Gauge.GetValue()
	}
	assert.Equal(t, map[string]float64{
		`<script>alert(1)</script>`:      100,
		`"><img src=x onerror=alert(1)>`: 99,
		`a"b\c`:                          98,
		"line\ufffdbreak":                97,
		"cr\ufffdlf":                     96,
		"nul\ufffd":                      95,
		"bad\ufffd\ufffdutf8":            94,
		"} 1e9\ufffdevil_metric 1":       92,
		"# HELP x y":                     91,
		"":                               90,
		strings.Repeat("k", 256):         89,
	}, got)
	assert.Equal(t, 1.0, mfs[metrics.NameOmitted].Metric[0].Gauge.GetValue(), "the second bad-utf8 key")
	assert.NotContains(t, mfs, "evil_metric")

	// Valid, though names such as a.b (pulse_a_b, "b" for bytes) break
	// promtool's naming conventions.
	promtool(t, b, false)
}

// TestTopKBound: at most k series whatever the list holds, k from the
// definition, else the default 10.
func TestTopKBound(t *testing.T) {
	var top []stat.TopValueEntry
	for i := range 50 {
		top = append(top, stat.TopValueEntry{Key: fmt.Sprintf("key%02d", i), Value: float64(50 - i)})
	}
	snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{"t3": stat.TopValue(top), "tx": stat.TopValue(top)}}
	mfs := parse(t, expose(t, []def.Def{{Name: "t3", Kind: def.KindTopK, Of: "k", K: 3, Per: time.Second}}, snap))
	assert.Equal(t, []string{`{key="key00"} 50`, `{key="key01"} 49`, `{key="key02"} 48`}, series(mfs["pulse_t3_per_second"]))
	assert.Len(t, mfs["pulse_tx"].Metric, stat.DefaultTopK)
	assert.Equal(t, float64(50-3+50-stat.DefaultTopK), mfs[metrics.NameOmitted].Metric[0].Gauge.GetValue())
}

func TestHandler(t *testing.T) {
	snap := window.Snapshot{Time: at, Stats: map[string]stat.Value{"router.requests": stat.Number(7)}}
	calls := 0
	h := metrics.Handler(func() window.Snapshot { calls++; return snap }, def.Heroku())
	srv := httptest.NewServer(h)
	defer srv.Close()

	do := func(method, enc string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/metrics", nil)
		require.NoError(t, err)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := srv.Client().Transport.RoundTrip(req) // no transparent gzip
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	resp := do(http.MethodGet, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, metrics.ContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, string(expfmt.NewFormat(expfmt.TypeTextPlain)), resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), "\npulse_router_requests_per_second 7\n")

	resp = do(http.MethodGet, "br, gzip;q=0.5")
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, body, unzipped)

	resp = do(http.MethodGet, "gzip;q=0")
	assert.Empty(t, resp.Header.Get("Content-Encoding"))

	resp = do(http.MethodHead, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	assert.Empty(t, b)

	resp = do(http.MethodPost, "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	assert.Equal(t, 4, calls, "latest is called once per GET or HEAD")
}
