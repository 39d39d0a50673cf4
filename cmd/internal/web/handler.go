package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/httpserve"

	"github.com/pulsehq/pulse/stat/def"
)

// Defaults of Config.
const (
	DefaultMaxAge             = 5 * time.Second
	DefaultHealthTimeout      = 2 * time.Second
	DefaultMaxStreams         = 256
	DefaultStreamWriteTimeout = 10 * time.Second
	DefaultHeartbeat          = 15 * time.Second
)

// ContentSecurityPolicy is the Content-Security-Policy header of every
// response: scripts, styles and fetches from the page's own origin only,
// so no inline script runs even if a stat name were ever spliced into
// HTML.
const ContentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// A HealthFunc reports on one part of a role for /healthz: fields to show
// under its name, and an error that makes the role unhealthy (503). It
// gets a context that ends after Config.HealthTimeout. Fields must
// encode as JSON.
type HealthFunc func(ctx context.Context) (fields map[string]any, err error)

// Config configures Handler. Zero fields mean the defaults given on each
// field.
type Config struct {
	// Auth, "user:pass", requires HTTP basic auth with that user and
	// password on every path but /healthz. Empty means no auth. A value
	// without a colon refuses every request (see Validate).
	Auth string
	// MaxAge makes /healthz answer 503 when no shard's snapshot time has
	// moved forward for MaxAge, or before the first snapshot. Zero means
	// DefaultMaxAge (5 s).
	MaxAge time.Duration
	// Health holds checks of the rest of the role (the bus, say), run by
	// /healthz in name order and shown under "checks" by name. An error
	// from any makes the answer 503.
	Health map[string]HealthFunc
	// HealthTimeout bounds each check. Zero means DefaultHealthTimeout
	// (2 s).
	HealthTimeout time.Duration
	// MaxStreams caps concurrent /stats/stream clients; more are answered
	// 503. Zero means DefaultMaxStreams (256).
	MaxStreams int
	// StreamBuffer is each stream client's buffer of snapshots. A client
	// that falls that far behind is disconnected (a browser's EventSource
	// reconnects and starts again from the latest). Zero means
	// DefaultSubscribeBuffer (8).
	StreamBuffer int
	// StreamWriteTimeout bounds each write to a stream client. Zero means
	// DefaultStreamWriteTimeout (10 s).
	StreamWriteTimeout time.Duration
	// Heartbeat is how often an idle stream gets a comment line, which
	// keeps proxies from closing it. Zero means DefaultHeartbeat (15 s).
	Heartbeat time.Duration
	// Defs are the definitions the mergers run, in the order of their
	// file, served by /stats/meta with the self-stats (pulse.*) after
	// them: the page groups, orders, labels, formats and colors the stats
	// by them. Nil serves the self-stats only, and the page shows every
	// other stat by its name in a group of its own.
	Defs []def.Def
	// Metrics, when set, is served at /metrics behind Auth, like the
	// rest of the web: the Prometheus exposition of package metrics.
	Metrics http.Handler
}

// Validate reports a malformed Config: an Auth without a colon, or a
// negative duration or limit.
func (c Config) Validate() error {
	if c.Auth != "" && !strings.Contains(c.Auth, ":") {
		return errors.New("web: auth must be user:pass")
	}
	if c.MaxAge < 0 || c.HealthTimeout < 0 || c.StreamWriteTimeout < 0 || c.Heartbeat < 0 {
		return errors.New("web: durations must not be negative")
	}
	if c.MaxStreams < 0 || c.StreamBuffer < 0 {
		return errors.New("web: max streams and stream buffer must not be negative")
	}
	return nil
}

//go:embed static
var static embed.FS

// Handler returns the web role's HTTP handler over h (see the package
// documentation for its paths). Stream clients end when their request
// ends or when h.CloseSubscriptions is called; register that with
// http.Server.RegisterOnShutdown so a graceful shutdown does not wait
// for them. Call cfg.Validate first: a malformed Auth refuses every
// request but /healthz.
func Handler(h *History, cfg Config) http.Handler {
	cfg.MaxAge = cmpOr(cfg.MaxAge, DefaultMaxAge)
	cfg.HealthTimeout = cmpOr(cfg.HealthTimeout, DefaultHealthTimeout)
	cfg.MaxStreams = cmpOr(cfg.MaxStreams, DefaultMaxStreams)
	cfg.StreamBuffer = cmpOr(cfg.StreamBuffer, DefaultSubscribeBuffer)
	cfg.StreamWriteTimeout = cmpOr(cfg.StreamWriteTimeout, DefaultStreamWriteTimeout)
	cfg.Heartbeat = cmpOr(cfg.Heartbeat, DefaultHeartbeat)
	s := &server{h: h, cfg: cfg, streams: make(chan struct{}, cfg.MaxStreams), metaJSON: metaJSON(cfg.Defs)}
	auth := basicAuth(cfg.Auth, &s.unauthorized)
	files, _ := fs.Sub(static, "static") // static is a constant directory
	fileServer := http.FileServerFS(files)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /stats", auth(http.HandlerFunc(s.stats)))
	mux.Handle("GET /stats/latest", auth(http.HandlerFunc(s.latest)))
	mux.Handle("GET /stats/meta", auth(http.HandlerFunc(s.meta)))
	mux.Handle("GET /stats/stream", auth(http.HandlerFunc(s.stream)))
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", auth(cfg.Metrics))
	}
	mux.Handle("GET /", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

type server struct {
	h            *History
	cfg          Config
	streams      chan struct{} // a semaphore of MaxStreams
	unauthorized atomic.Uint64 // requests answered 401, shown by /healthz
	metaJSON     []byte        // the body of /stats/meta
}

// basicAuth returns a middleware that requires cred ("user:pass"), or
// passes everything when cred is empty; a cred without a colon refuses
// everything. See httpserve.Credentials. Each request refused adds one to
// refused.
func basicAuth(cred string, refused *atomic.Uint64) func(http.Handler) http.Handler {
	if cred == "" {
		return func(h http.Handler) http.Handler { return h }
	}
	creds, ok := httpserve.ParseCredentials(cred)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !ok || !creds.Match(r) {
				refused.Add(1)
				w.Header().Set("WWW-Authenticate", `Basic realm="pulse", charset="UTF-8"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bufs holds response buffers; /stats of ten minutes of 150 stats is
// about 2 MB.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooled is the largest buffer put back in bufs.
const maxPooled = 32 << 20

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	b := append([]byte(`{"error":`), strconv.Quote(msg)...)
	writeJSON(w, status, append(b, "}\n"...))
}

// stats serves GET /stats[?since=<unix_ms>][&names=a,b].
func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since := int64(math.MinInt64)
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			jsonError(w, http.StatusBadRequest, fmt.Sprintf("since %q is not a Unix time in milliseconds", v))
			return
		}
		since = n
	}
	var names []string
	if vs, ok := q["names"]; ok {
		names = []string{}
		for _, v := range vs {
			for n := range strings.SplitSeq(v, ",") {
				if n != "" {
					names = append(names, n)
				}
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
	}
	bp := bufs.Get().(*[]byte)
	b := s.h.appendStats((*bp)[:0], since, names)
	b = append(b, '\n')
	writeJSON(w, http.StatusOK, b)
	if cap(b) <= maxPooled {
		*bp = b[:0]
		bufs.Put(bp)
	}
}

// latest serves GET /stats/latest.
func (s *server) latest(w http.ResponseWriter, r *http.Request) {
	bp := bufs.Get().(*[]byte)
	b := s.h.Latest().AppendJSON((*bp)[:0])
	b = append(b, '\n')
	writeJSON(w, http.StatusOK, b)
	if cap(b) <= maxPooled {
		*bp = b[:0]
		bufs.Put(bp)
	}
}
