package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get serves a GET of target on hd and returns the response and body.
func get(t *testing.T, hd http.Handler, target string, opts ...func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	hd.ServeHTTP(rec, req)
	resp := rec.Result()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func withAuth(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// filled returns a History with three seconds of two shards: numbers, a
// null, quantiles and a top-k list.
func filled(t *testing.T) (*History, *clock) {
	h, clk := newHistory(t, HistoryConfig{})
	q := stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.999, Value: 412}})
	top := stat.TopValue([]stat.TopValueEntry{{Key: "a.example.com", Value: 4.5}, {Key: `"<b>"`, Value: 1}})
	for s := 1; s <= 3; s++ {
		h.Add(0, snap(at(s), "router.requests", float64(s)*10.5, "router.service", q))
		h.Add(1, snap(at(s), "router.hosts", top, "dyno.load", stat.Null()))
	}
	return h, clk
}

// ms returns the Unix milliseconds of second s after t0, as text.
func ms(s int) string { return strconv.FormatInt(at(s).UnixMilli(), 10) }

func TestStats(t *testing.T) {
	h, _ := filled(t)
	hd := Handler(h, Config{})
	const (
		q   = `{"p50":18,"p99.9":412}`
		top = `[["a.example.com",4.5],["\"\u003cb\u003e\"",1]]`
	)
	p := func(s int, v string) string { return "[" + ms(s) + "," + v + "]" }
	tests := []struct {
		name, query, want string
	}{
		{name: "all", query: "", want: `{"dyno.load":[` + p(1, "null") + `,` + p(2, "null") + `,` + p(3, "null") + `],` +
			`"router.hosts":[` + p(1, top) + `,` + p(2, top) + `,` + p(3, top) + `],` +
			`"router.requests":[` + p(1, "10.5") + `,` + p(2, "21") + `,` + p(3, "31.5") + `],` +
			`"router.service":[` + p(1, q) + `,` + p(2, q) + `,` + p(3, q) + `]}`},
		{name: "since", query: "?since=" + ms(2), want: `{"dyno.load":[` + p(3, "null") + `],"router.hosts":[` + p(3, top) + `],` +
			`"router.requests":[` + p(3, "31.5") + `],"router.service":[` + p(3, q) + `]}`},
		{name: "since just before", query: "?since=" + strconv.FormatInt(at(3).UnixMilli()-1, 10) + "&names=router.requests", want: `{"router.requests":[` + p(3, "31.5") + `]}`},
		{name: "since the newest", query: "?since=" + ms(3), want: `{}`},
		{name: "since long ago", query: "?since=-5&names=router.requests", want: `{"router.requests":[` + p(1, "10.5") + `,` + p(2, "21") + `,` + p(3, "31.5") + `]}`},
		{name: "names", query: "?names=router.requests,dyno.load", want: `{"dyno.load":[` + p(1, "null") + `,` + p(2, "null") + `,` + p(3, "null") + `],` +
			`"router.requests":[` + p(1, "10.5") + `,` + p(2, "21") + `,` + p(3, "31.5") + `]}`},
		{name: "names repeated", query: "?names=router.requests&names=router.requests,,nope&since=" + ms(2), want: `{"router.requests":[` + p(3, "31.5") + `]}`},
		{name: "names unknown", query: "?names=nope", want: `{}`},
		{name: "names empty", query: "?names=", want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, hd, "/stats"+tt.query)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, tt.want+"\n", body)
			assert.True(t, json.Valid([]byte(body)))
		})
	}
}

func TestStatsBadRequest(t *testing.T) {
	h, _ := filled(t)
	hd := Handler(h, Config{})
	for _, q := range []string{"?since=yesterday", "?since=1.5", "?since=99999999999999999999"} {
		resp, body := get(t, hd, "/stats"+q)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Contains(t, body, `"error":"since `)
	}
}

func TestStatsNames(t *testing.T) {
	// Names from logs may hold anything; the JSON stays valid and the
	// name reads back.
	h, _ := newHistory(t, HistoryConfig{})
	names := []string{`a"b`, "c\\d", "e\nf", "<script>", "\xff\xfe", "π"}
	kv := []any{}
	for i, n := range names {
		kv = append(kv, n, i)
	}
	h.Add(0, snap(at(1), kv...))
	_, body := get(t, Handler(h, Config{}), "/stats")
	var got map[string][][2]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Len(t, got, len(names))
	for _, n := range names[:4] {
		assert.Contains(t, got, n)
	}
	assert.Contains(t, got, "\ufffd\ufffd")
	assert.NotContains(t, body, "<script>")
}

func TestLatest(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	hd := Handler(h, Config{})
	resp, body := get(t, hd, "/stats/latest")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `{"time":"0001-01-01T00:00:00Z","stats":{}}`+"\n", body)

	h, _ = filled(t)
	resp, body = get(t, Handler(h, Config{}), "/stats/latest")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, string(h.Latest().AppendJSON(nil))+"\n", body)
	var s window.Snapshot
	require.NoError(t, s.UnmarshalJSON([]byte(body)))
	assert.Equal(t, at(3), s.Time)
	assert.Len(t, s.Stats, 4)
	assert.Equal(t, "31.5", s.Stats["router.requests"].String())
}

func TestHealthz(t *testing.T) {
	type check struct {
		fields map[string]any
		err    error
	}
	tests := []struct {
		name    string
		adds    int           // snapshots added, one a second
		wait    time.Duration // wall time after the last
		checks  map[string]check
		status  int
		errors  []string
		checked map[string]map[string]any
	}{
		{name: "no snapshot", status: 503, errors: []string{"no snapshot yet"}},
		{name: "fresh", adds: 3, wait: 4 * time.Second, status: 200},
		{name: "stale", adds: 3, wait: 5 * time.Second, status: 503, errors: []string{"newest snapshot is 5s old, over 5s"}},
		{name: "checks pass", adds: 1, status: 200,
			checks:  map[string]check{"bus": {fields: map[string]any{"lag": 3}}, "publish": {}},
			checked: map[string]map[string]any{"bus": {"lag": 3.0}, "publish": {}}},
		{name: "check fails", adds: 1, status: 503,
			checks:  map[string]check{"bus": {fields: map[string]any{"lag": 3}, err: errors.New("redis: connection refused")}},
			errors:  []string{"bus: redis: connection refused"},
			checked: map[string]map[string]any{"bus": {"lag": 3.0, "error": "redis: connection refused"}}},
		{name: "check fields do not encode", adds: 1, status: 503,
			checks: map[string]check{"bad": {fields: map[string]any{"f": func() {}}}},
			errors: []string{"checks: json: unsupported type: func()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, clk := newHistory(t, HistoryConfig{})
			for s := range tt.adds {
				h.Add(s%2, snap(at(s), "a", s))
				clk.Add(time.Second)
			}
			clk.Add(tt.wait - time.Second)
			cfg := Config{Auth: "u:p"}
			if tt.checks != nil {
				cfg.Health = map[string]HealthFunc{}
				for name, c := range tt.checks {
					cfg.Health[name] = func(ctx context.Context) (map[string]any, error) {
						_, ok := ctx.Deadline()
						assert.True(t, ok, "a check gets a deadline")
						return c.fields, c.err
					}
				}
			}
			resp, body := get(t, Handler(h, cfg), "/healthz") // no auth needed
			require.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			var got struct {
				Status        string
				SnapshotAgeMS *int64 `json:"snapshot_age_ms"`
				Time          string
				Shards        int
				LiveShards    int `json:"live_shards"`
				Names         int
				Errors        []string
				Checks        map[string]map[string]any
			}
			require.NoError(t, json.Unmarshal([]byte(body), &got), body)
			assert.Equal(t, map[int]string{200: "ok", 503: "unhealthy"}[tt.status], got.Status)
			assert.Equal(t, tt.errors, got.Errors)
			assert.Equal(t, tt.checked, got.Checks)
			if tt.adds == 0 {
				assert.Nil(t, got.SnapshotAgeMS)
				assert.Contains(t, body, `"snapshot_age_ms":null`)
				return
			}
			require.NotNil(t, got.SnapshotAgeMS)
			assert.Equal(t, max(tt.wait, 0).Milliseconds(), *got.SnapshotAgeMS)
			assert.Equal(t, at(tt.adds-1).Format(time.RFC3339), got.Time)
			assert.Equal(t, min(tt.adds, 2), got.Shards)
			assert.Equal(t, 1, got.Names)
		})
	}
}

func TestHealthzMaxAge(t *testing.T) {
	h, clk := newHistory(t, HistoryConfig{})
	h.Add(0, snap(at(1), "a", 1))
	hd := Handler(h, Config{MaxAge: time.Minute})
	clk.Add(59 * time.Second)
	resp, _ := get(t, hd, "/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	clk.Add(time.Second)
	resp, _ = get(t, hd, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	// A re-published snapshot at the same time is no sign of life.
	h.Add(0, snap(at(1), "a", 1))
	resp, _ = get(t, hd, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	h.Add(0, snap(at(2), "a", 1))
	resp, _ = get(t, hd, "/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAuth(t *testing.T) {
	h, _ := filled(t)
	paths := []string{"/", "/app.js", "/style.css", "/stats", "/stats/latest", "/nope"}
	tests := []struct {
		name   string
		auth   string
		opt    func(*http.Request)
		status int // for every path but /healthz and /nope
	}{
		{name: "no auth configured", status: 200, opt: func(*http.Request) {}},
		{name: "none given", auth: "admin:s3cret", status: 401, opt: func(*http.Request) {}},
		{name: "right", auth: "admin:s3cret", status: 200, opt: withAuth("admin", "s3cret")},
		{name: "wrong password", auth: "admin:s3cret", status: 401, opt: withAuth("admin", "s3cre")},
		{name: "wrong user", auth: "admin:s3cret", status: 401, opt: withAuth("admim", "s3cret")},
		{name: "swapped", auth: "admin:s3cret", status: 401, opt: withAuth("s3cret", "admin")},
		{name: "empty", auth: "admin:s3cret", status: 401, opt: withAuth("", "")},
		{name: "colon in password", auth: "admin:a:b", status: 200, opt: withAuth("admin", "a:b")},
		{name: "empty password", auth: "admin:", status: 200, opt: withAuth("admin", "")},
		{name: "not basic", auth: "admin:s3cret", status: 401, opt: func(r *http.Request) { r.Header.Set("Authorization", "Bearer admin:s3cret") }},
		{name: "malformed config refuses", auth: "admin", status: 401, opt: withAuth("admin", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd := Handler(h, Config{Auth: tt.auth})
			for _, p := range paths {
				resp, _ := get(t, hd, p, tt.opt)
				want := tt.status
				if p == "/nope" && want == 200 {
					want = 404
				}
				assert.Equal(t, want, resp.StatusCode, p)
				if want == 401 {
					assert.Equal(t, `Basic realm="pulse", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"), p)
				}
			}
			resp, _ := get(t, hd, "/healthz")
			assert.Equal(t, http.StatusOK, resp.StatusCode, "/healthz needs no auth")
		})
	}
}

func TestConfigValidate(t *testing.T) {
	assert.NoError(t, Config{}.Validate())
	assert.NoError(t, Config{Auth: "a:b", MaxAge: time.Second}.Validate())
	for _, c := range []Config{
		{Auth: "ab"}, {MaxAge: -1}, {HealthTimeout: -1}, {StreamWriteTimeout: -1},
		{Heartbeat: -1}, {MaxStreams: -1}, {StreamBuffer: -1},
	} {
		assert.Error(t, c.Validate(), "%+v", c)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := filled(t)
	hd := Handler(h, Config{Auth: "u:p"})
	for _, p := range []string{"/", "/app.js", "/style.css", "/stats", "/stats/latest", "/healthz", "/nope"} {
		for _, auth := range []bool{true, false} {
			opt := func(*http.Request) {}
			if auth {
				opt = withAuth("u", "p")
			}
			resp, _ := get(t, hd, p, opt)
			assert.Equal(t, ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), p)
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), p)
		}
	}
}

// The page holds under its Content-Security-Policy: every script and
// style is a file of its own origin, and no markup is built from strings.
// The browser tests (package dashtest) check that it runs so; this checks
// the files and the headers without a browser.
func TestPage(t *testing.T) {
	h, _ := filled(t)
	hd := Handler(h, Config{})
	resp, page := get(t, hd, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Equal(t, ContentSecurityPolicy, csp)
	assert.Contains(t, csp, "default-src 'self'")
	assert.NotContains(t, csp, "unsafe")
	assert.Contains(t, page, `<script src="format.js" defer></script>`)
	assert.Contains(t, page, `<script src="app.js" defer></script>`)
	// No inline script: every script element is empty and has a src,
	// and no element has an event-handler or a style attribute.
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		assert.Contains(t, m[1], "src=", m[0])
		assert.Empty(t, strings.TrimSpace(m[2]), m[0])
	}
	assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, page)
	assert.NotRegexp(t, `(?i)\sstyle\s*=`, page)
	assert.NotContains(t, page, "<style")

	resp, js := get(t, hd, "/app.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, js, "new EventSource('stats/stream')")
	assert.Contains(t, js, "getJSON('stats/meta')")
	assert.Contains(t, js, "textContent")
	_, format := get(t, hd, "/format.js")
	for name, src := range map[string]string{"app.js": js, "format.js": format} {
		assert.Contains(t, src, "'use strict'", name)
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(", "setAttribute('style'", "cssText", "javascript:"} {
			assert.NotContains(t, src, sink, name)
		}
	}
	for path, typ := range map[string]string{"/style.css": "text/css; charset=utf-8", "/favicon.svg": "image/svg+xml"} {
		resp, _ = get(t, hd, path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, typ, resp.Header.Get("Content-Type"), path)
		assert.Equal(t, ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), path)
	}
}

func TestMethods(t *testing.T) {
	h, _ := filled(t)
	hd := Handler(h, Config{})
	for _, p := range []string{"/stats", "/stats/latest", "/stats/meta", "/healthz", "/stats/stream"} {
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p, strings.NewReader("{}")))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, p)
	}
	rec := httptest.NewRecorder()
	hd.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/stats/latest", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}
