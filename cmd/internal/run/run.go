package run

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/bus"
	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/cmd/internal/emitter"
	"github.com/pulsehq/pulse/cmd/internal/httpserve"
	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/merger"
	"github.com/pulsehq/pulse/cmd/internal/metrics"
	"github.com/pulsehq/pulse/cmd/internal/otlp"
	"github.com/pulsehq/pulse/cmd/internal/receiver"
	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "run the live system: receiver, merger and web (all three on an in-memory bus by default)"

// DefaultPort is where pulse run listens when PORT is unset.
const DefaultPort = "5000"

// The shutdown's bounds. Heroku stops a dyno with SIGTERM and kills it
// 30 s later, so a process finishes its shutdown well within that: the
// HTTP server gets HTTPGrace to finish the requests in flight (a drain
// body is queued at once, event streams end at once), the receiver then
// folds what is queued and publishes its last cut, trying each batch for
// PUBLISH_TIMEOUT at most (MaxPublishTimeout), and the mergers and the
// web stop at once. ShutdownTimeout caps the whole: past it the process
// logs what it abandons and returns.
const (
	HTTPGrace         = 5 * time.Second
	MaxPublishTimeout = 10 * time.Second
	ShutdownTimeout   = 25 * time.Second
)

// shutdownTimeout is ShutdownTimeout; tests shorten it.
var shutdownTimeout = ShutdownTimeout

// Run is `pulse run`: every role in one process unless ROLE says
// otherwise. Logs go to stdout in logfmt.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return Main(ctx, "pulse run", "all", args, stdout, stderr)
}

// Main parses the settings of a process that runs the given default roles
// and runs it until ctx is done. name is the command's name for usage and
// errors ("pulse run", "receiver").
func Main(ctx context.Context, name, role string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet(name, name+" [flags]", detail, stderr)
	cfg := Flags(fs, role)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if err := cfg.finish(fs); err != nil {
		return err
	}
	if cfg.Port == "" && name == "pulse run" && cfg.has(RoleWeb) {
		cfg.Port = DefaultPort
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	if cfg.redis() {
		bus.LogRedisTo(log.With("component", "redis"))
	}
	return Start(ctx, *cfg, log)
}

const detail = `Runs Pulse's live roles. Every setting comes from the environment, as on
Heroku; a flag of the same name overrides it. With REDIS_URL unset the roles
talk over an in-memory bus, so all three must run in this process.`

func level(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// Start runs the roles cfg names until ctx is done, then shuts them down in
// order: the HTTP server stops taking drains, the receiver folds what is
// queued and publishes its last cut, the merger and the web stop.
func Start(ctx context.Context, cfg Config, log *slog.Logger) error {
	d, err := defs.Load(cfg.Defs)
	if err != nil {
		return fmt.Errorf("DEFS: %w", err)
	}
	b, err := openBus(ctx, cfg, d, log)
	if err != nil {
		return err
	}
	if b == nil {
		return nil // ctx ended while waiting for Redis
	}
	defer b.Close()

	p := &process{cfg: cfg, log: log, bus: b, defs: d, health: map[string]web.HealthFunc{}}
	return p.run(ctx)
}

// process is one running set of roles.
type process struct {
	cfg    Config
	log    *slog.Logger
	bus    bus.Bus
	defs   []def.Def
	health map[string]web.HealthFunc

	recv *receiver.Receiver
	mrgs []*merger.Merger
	hist *web.History
	emit *emitter.Emitter
}

func (p *process) run(ctx context.Context) error {
	cfg := p.cfg
	mux := http.NewServeMux()
	var syslogLn, syslogTLS net.Listener
	if cfg.has(RoleReceiver) {
		var err error
		if cfg.SyslogAddr != "" {
			if syslogLn, err = net.Listen("tcp", cfg.SyslogAddr); err != nil {
				return fmt.Errorf("SYSLOG_ADDR: %w", err)
			}
		}
		if cfg.SyslogTLSAddr != "" {
			if syslogTLS, err = input.ListenSyslogTLS(cfg.SyslogTLSAddr, cfg.TLSCert, cfg.TLSKey); err != nil {
				return fmt.Errorf("SYSLOG_TLS_ADDR: %w", err)
			}
		}
		rc := receiver.Config{
			Defs: p.defs, Shards: cfg.MergerCount, Flush: cfg.Flush, Source: cfg.Source,
			Workers: cfg.Workers, Queue: input.QueueConfig{Jobs: cfg.QueueJobs},
			Arrival: cfg.TimeSource == "arrival", PublishTimeout: cfg.PublishTTL,
			Drain:    input.DrainConfig{Auth: cfg.DrainAuth, MaxBody: int64(cfg.MaxBody)},
			OTLP:     otlp.Config{Auth: cfg.DrainAuth, Token: cfg.OTLPToken},
			SyslogLn: syslogLn, SyslogTLS: syslogTLS, Aorta: cli.List(cfg.AortaURLs),
			File: cfg.File, Follow: cfg.Follow, Demo: cfg.demo(), DemoRate: cfg.DemoRate, DemoSeed: uint64(time.Now().UnixNano()),
		}
		r, err := receiver.New(rc, p.bus, p.log.With("role", RoleReceiver))
		if err != nil {
			return err
		}
		p.recv = r
		mux.Handle("/logs", r.Handler())
		mux.Handle("/v1/logs", r.OTLPHandler())
		p.health["receiver"] = func(context.Context) (map[string]any, error) { return r.Health() }
	}
	if cfg.has(RoleMerger) {
		shards := []int{cfg.Shard}
		if !cfg.redis() {
			shards = shards[:0] // the all-in-one merges every shard
			for i := range cfg.MergerCount {
				shards = append(shards, i)
			}
		}
		for _, shard := range shards {
			m, err := merger.New(merger.Config{Defs: p.defs, Shard: shard, Shards: cfg.MergerCount, Flush: cfg.Flush, Grace: cfg.Grace},
				p.bus, p.log.With("role", RoleMerger))
			if err != nil {
				return err
			}
			p.mrgs = append(p.mrgs, m)
			p.health[fmt.Sprintf("merger%d", shard)] = func(context.Context) (map[string]any, error) { return m.Health() }
		}
	}
	if cfg.has(RoleWeb) {
		h, err := web.NewHistory(web.HistoryConfig{Points: int(cfg.History / time.Second)})
		if err != nil {
			return fmt.Errorf("HISTORY: %w", err)
		}
		p.hist = h
		// /metrics, for Prometheus, is the web's, behind its auth like the rest.
		mux.Handle("/", web.Handler(h, web.Config{
			Auth: cfg.WebAuth, MaxAge: cfg.MaxAge, Health: p.health, Defs: p.defs,
			Metrics: metrics.Handler(h.Latest, p.defs),
		}))
	} else if cfg.Port != "" {
		mux.Handle("/healthz", healthz(p.health))
	}

	if cfg.has(RoleEmitter) {
		e, err := emitter.New(emitter.Config{URL: cfg.GraphiteURL}, p.log.With("role", RoleEmitter))
		if err != nil {
			return fmt.Errorf("GRAPHITE_URL: %w", err)
		}
		p.emit = e
		p.health["emitter"] = e.Health
	}

	var srv *http.Server
	var ln net.Listener
	if cfg.Port != "" {
		addr, _ := cli.ListenAddr(cfg.Port)
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("PORT: %w", err)
		}
		// At most httpserve.MaxConns connections at once; /healthz shows
		// the counts, rejections and timeouts included.
		limited := httpserve.Limit(ln, httpserve.MaxConns, p.log)
		p.health["http"] = func(context.Context) (map[string]any, error) {
			st := limited.Stats()
			return map[string]any{"conns_open": st.Open, "conns": st.Accepted, "conns_rejected": st.Rejected, "timeouts": st.Timeouts}, nil
		}
		ln = limited
		srv = httpserve.NewServer(addr, mux)
		if p.hist != nil {
			// Open /stats/stream responses end at once on shutdown.
			srv.RegisterOnShutdown(p.hist.CloseSubscriptions)
		}
	}
	p.announce(ln)

	// Each role gets its own context, cancelled in shutdown order.
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	goRun := func(name string, c context.Context, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(c); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	webCtx, stopWeb := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWeb()
	mrgCtx, stopMrg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMrg()
	recvCtx, stopRecv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRecv()
	if p.hist != nil || p.emit != nil {
		goRun("web", webCtx, func(c context.Context) error {
			return follow(c, p.bus, p.hist, p.emit, p.cfg.History, p.log.With("role", RoleWeb))
		})
	}
	if p.emit != nil {
		goRun("emitter", webCtx, p.emit.Run)
	}
	for _, m := range p.mrgs {
		goRun("merger", mrgCtx, m.Run)
	}
	var recvDone chan struct{}
	if p.recv != nil {
		recvDone = make(chan struct{})
		go func() {
			defer close(recvDone)
			if err := p.recv.Run(recvCtx); err != nil {
				errc <- fmt.Errorf("receiver: %w", err)
			}
		}()
	}
	httpDone := make(chan error, 1)
	if srv != nil {
		go func() { httpDone <- httpserve.ServeGrace(ctx, srv, ln, HTTPGrace) }()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		p.log.Error("stopping", "err", err)
	}
	p.log.Info("shutting down", "timeout", shutdownTimeout)
	start := time.Now()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if srv != nil {
			// Serve shuts the server down when ctx ends; on a role's error,
			// ctx is still live, so shut it down here.
			sctx, cancel := context.WithTimeout(context.Background(), HTTPGrace)
			_ = srv.Shutdown(sctx)
			cancel()
			<-httpDone
		}
		stopRecv()
		if recvDone != nil {
			<-recvDone
		}
		stopMrg()
		stopWeb()
		if p.hist != nil {
			p.hist.CloseSubscriptions()
		}
		wg.Wait()
	}()
	t := time.NewTimer(shutdownTimeout)
	defer t.Stop()
	select {
	case <-stopped:
		p.log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	case <-t.C:
		p.log.Error("shutdown did not finish in time; exiting without waiting for the rest", "timeout", shutdownTimeout)
		if err == nil {
			err = fmt.Errorf("shutdown took longer than %v", shutdownTimeout)
		}
	}
	return err
}

// announce logs what this process serves and, for the all-in-one, how to
// point a drain at it.
func (p *process) announce(ln net.Listener) {
	cfg := p.cfg
	attrs := []any{"roles", strings.Join(cfg.Roles, ","), "bus", busName(cfg), "merger_count", cfg.MergerCount, "definitions", len(p.defs)}
	if p.recv != nil {
		attrs = append(attrs, "source", cfg.Source, "workers", cfg.Workers, "time_source", cfg.TimeSource, "demo", cfg.demo())
	}
	p.log.Info("pulse starting", attrs...)
	if ln == nil {
		return
	}
	url := "http://" + displayAddr(ln.Addr())
	if p.hist != nil {
		p.log.Info("dashboard: open "+url+"/", "url", url+"/")
	}
	if p.recv != nil {
		auth := "user:pass@"
		if cfg.DrainAuth != "" {
			u, _, _ := cli.UserPass(cfg.DrainAuth)
			auth = u + ":<DRAIN_AUTH password>@"
		}
		p.log.Info("drain: POST logplex bodies to "+url+"/logs; for a Heroku app: heroku drains:add https://"+auth+"<this host>/logs --app APP", "url", url+"/logs")
	}
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func busName(cfg Config) string {
	switch {
	case !cfg.redis():
		return "memory"
	case len(cfg.RedisClusterAddrs) > 0:
		return "redis cluster " + strings.Join(cfg.RedisClusterAddrs, ",")
	}
	return cli.RedactURL(cfg.RedisURL)
}

// openBus returns the Redis bus when REDIS_URL or REDIS_CLUSTER_ADDRS is
// set, retrying with backoff until Redis answers or ctx ends (nil, nil),
// else the in-memory bus. Retention covers the longest window plus a
// margin, so a restarted merger can read back whole windows, and the
// web's history.
func openBus(ctx context.Context, cfg Config, d []def.Def, log *slog.Logger) (bus.Bus, error) {
	longest := max(window.DefaultSpan, def.LongestWindow(d))
	retention := longest + window.DefaultLateness + time.Minute
	snaps := cfg.History + time.Minute
	if !cfg.redis() {
		return bus.NewMemory(bus.MemoryOptions{Retention: retention, SnapshotRetention: snaps})
	}
	setting := "REDIS_URL"
	if len(cfg.RedisClusterAddrs) > 0 {
		setting = "REDIS_URL, REDIS_CLUSTER_ADDRS"
	}
	backoff := 250 * time.Millisecond
	for {
		b, err := bus.NewRedis(ctx, bus.RedisOptions{
			URL: cfg.RedisURL, ClusterAddrs: cfg.RedisClusterAddrs, Shards: cfg.MergerCount,
			Prefix: cfg.Prefix, Retention: retention, SnapshotRetention: snaps,
			TLSSkipVerify: cfg.RedisTLSSkipVerify, TLSCAFile: cfg.RedisTLSCA,
		})
		if err == nil {
			if b.Cluster() {
				msg, attrs := "redis: a cluster", []any{"snapshots", cfg.Prefix + "merged"}
				if cfg.has(RoleMerger) {
					msg += "; snapshots go to sharded pub/sub: redis-cli -c ssubscribe " + bus.DefaultChannel
					attrs = append(attrs, "batches", b.BatchKey(cfg.Shard))
				}
				log.Info(msg, attrs...)
			}
			return b, nil
		}
		if errors.Is(err, bus.ErrInvalid) {
			return nil, fmt.Errorf("%s: %w", setting, err)
		}
		if errors.Is(err, bus.ErrCertificate) {
			// Not a network fault: retrying would only repeat it.
			return nil, fmt.Errorf("%s: %w; %s", setting, err, certificateFix(cfg))
		}
		log.Warn("redis not reachable; retrying", "url", busName(cfg), "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// certificateFix says what to set when a rediss:// server's certificate
// did not verify.
func certificateFix(cfg Config) string {
	const skip = "or REDIS_TLS_SKIP_VERIFY=1 for a server whose certificate cannot be checked (Heroku Key-Value Store's are self-signed)"
	if cfg.RedisTLSCA != "" {
		return "the certificate authority in REDIS_TLS_CA (" + cfg.RedisTLSCA + ") did not sign it: set REDIS_TLS_CA to the one that did, " + skip
	}
	return "set REDIS_TLS_CA to a PEM file of the certificate authority that signed it, " + skip
}

// healthz serves the checks of a process without the web role.
func healthz(checks map[string]web.HealthFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		out := map[string]any{}
		for name, f := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			fields, err := f(ctx)
			cancel()
			if fields == nil {
				fields = map[string]any{}
			}
			if err != nil {
				status = http.StatusServiceUnavailable
				fields["error"] = err.Error()
			}
			out[name] = fields
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = jsonEncode(w, map[string]any{"status": map[bool]string{true: "ok", false: "unhealthy"}[status == http.StatusOK], "checks": out})
	})
}
