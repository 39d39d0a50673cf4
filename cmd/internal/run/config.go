package run

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/cli"
)

// Roles a process can run.
const (
	RoleReceiver = "receiver"
	RoleMerger   = "merger"
	RoleWeb      = "web"
	RoleEmitter  = "emitter"
)

// allRoles are the roles "all" means; the emitter runs only when named,
// or when GRAPHITE_URL is set.
var allRoles = []string{RoleReceiver, RoleMerger, RoleWeb}

var knownRoles = []string{RoleReceiver, RoleMerger, RoleWeb, RoleEmitter}

// DefaultAuthUser is the user name of a DRAIN_AUTH or WEB_AUTH that is a
// password alone: app.json has Heroku generate both as random secrets,
// which have no colon.
const DefaultAuthUser = "pulse"

// Config is every setting of the live roles. Each field comes from an
// environment variable, and a flag of the same name overrides it (see
// Flags); the README lists them all.
type Config struct {
	Roles []string // receiver, merger, web (ROLE, --role; "all" is the three)

	Port     string // PORT: where the drain and the web listen; "" serves no HTTP
	RedisURL string // REDIS_URL: redis:// or rediss://, of a server or a cluster node; "" (and no REDIS_CLUSTER_ADDRS) is the in-memory bus
	Prefix   string // REDIS_PREFIX: key prefix on Redis (default "pulse:")

	RedisClusterAddrs []string // REDIS_CLUSTER_ADDRS: Redis Cluster nodes, host:port; set, REDIS_URL gives only the scheme, user and password

	RedisTLSSkipVerify bool   // REDIS_TLS_SKIP_VERIFY: accept any certificate on rediss:// (Heroku Key-Value Store's are self-signed)
	RedisTLSCA         string // REDIS_TLS_CA: a PEM file of the CA that signed the server's certificate
	Defs               string // DEFS: a definitions file; "" is the default Heroku set
	GraphiteURL        string // GRAPHITE_URL: tcp://host:2003 for the emitter role

	MergerCount int           // MERGER_COUNT: number of merger shards (default 1)
	Shard       int           // SHARD: this merger's shard, 0 ≤ SHARD < MERGER_COUNT; else from DYNO
	Flush       time.Duration // FLUSH_INTERVAL: how often receivers cut (default 1s)
	Grace       time.Duration // GRACE: how long after flush a merger waits for late cuts (default 1s)
	History     time.Duration // HISTORY: the web's history (default 10m)
	MaxAge      time.Duration // HEALTH_MAX_AGE: /healthz fails when the newest snapshot is older (default 10s)

	DrainAuth     string // DRAIN_AUTH: user:pass for POST /logs (and POST /v1/logs), or a password alone for DefaultAuthUser; "" is no auth
	OTLPToken     string // OTLP_TOKEN: a bearer token POST /v1/logs also accepts
	WebAuth       string // WEB_AUTH: user:pass for the web, or a password alone for DefaultAuthUser; "" is no auth
	MaxBody       int    // MAX_BODY: largest drain body in bytes (default 1 MiB)
	SyslogAddr    string // SYSLOG_ADDR: syslog over TCP
	SyslogTLSAddr string // SYSLOG_TLS_ADDR: syslog over TLS, with TLS_CERT and TLS_KEY
	TLSCert       string // TLS_CERT
	TLSKey        string // TLS_KEY
	AortaURLs     string // AORTA_URLS: aorta://secret@host:port, comma-separated
	File          string // --file: a file to read ("-" is stdin)
	Follow        bool   // --follow: keep reading the file as it grows
	TimeSource    string // TIME_SOURCE: event (default) or arrival
	Demo          string // DEMO: run the generator: "" (auto: only when no input is set), 1 or 0
	DemoRate      float64

	Workers    int           // WORKERS: parse/fold workers (default GOMAXPROCS)
	QueueJobs  int           // QUEUE_JOBS: bodies or chunks waiting for a worker (default 1024)
	Source     string        // SOURCE: this receiver's name in batches (default DYNO or the host name)
	Dyno       string        // DYNO, as the platform sets it
	LogLevel   string        // LOG_LEVEL: debug, info, warn, error
	PublishTTL time.Duration // PUBLISH_TIMEOUT: how long a cut may take to publish before it is dropped

	rolesFlag    *string
	clusterAddrs string
}

// Flags registers every setting on fs with its environment variable, and
// returns the Config they fill. role is the default role list ("all" for
// pulse run, "receiver" for cmd/receiver, ...).
func Flags(fs *cli.FlagSet, role string) *Config {
	c := &Config{}
	var roles string
	fs.String(&roles, "role", "ROLE", role, "`roles` to run: receiver, merger, web, comma-separated, or all")
	fs.String(&c.Port, "port", "PORT", "", "`port` (or host:port) for the drain endpoint, the dashboard and /healthz")
	fs.String(&c.RedisURL, "redis-url", "REDIS_URL", "", "Redis `URL` (redis:// or rediss://), of a server or of any node of a Redis Cluster; unset runs on the in-memory bus, so every role must be in this process")
	fs.String(&c.clusterAddrs, "redis-cluster-addrs", "REDIS_CLUSTER_ADDRS", "", "Redis Cluster `nodes` to start from, host:port, comma-separated; REDIS_URL then gives only the scheme, user and password")
	fs.String(&c.Prefix, "redis-prefix", "REDIS_PREFIX", "pulse:", "key `prefix` of Pulse's streams on Redis")
	fs.Bool(&c.RedisTLSSkipVerify, "redis-tls-skip-verify", "REDIS_TLS_SKIP_VERIFY", false, "on rediss://, do not verify the server's certificate (Heroku Key-Value Store's is self-signed); prefer REDIS_TLS_CA")
	fs.String(&c.RedisTLSCA, "redis-tls-ca", "REDIS_TLS_CA", "", "on rediss://, verify the server against the CA in this PEM `file`")
	fs.String(&c.GraphiteURL, "graphite-url", "GRAPHITE_URL", "", "push every snapshot to Graphite's plaintext protocol at this `URL` (tcp://host:2003): the emitter role, on with the web when set")
	fs.String(&c.Defs, "defs", "DEFS", "", "definitions `file` (default: the embedded Heroku set; see pulse defs)")
	fs.Int(&c.MergerCount, "merger-count", "MERGER_COUNT", 1, "number of merger shards")
	fs.Int(&c.Shard, "shard", "SHARD", -1, "this merger's `shard`, 0 to MERGER_COUNT-1 (default: from DYNO, merger.N is shard N-1; else 0)")
	fs.Duration(&c.Flush, "flush-interval", "FLUSH_INTERVAL", time.Second, "how often receivers cut and publish their deltas")
	fs.Duration(&c.Grace, "grace", "GRACE", time.Second, "how long past a flush a merger waits for every receiver's cut before it publishes a second")
	fs.Duration(&c.History, "history", "HISTORY", 10*time.Minute, "history the web keeps and serves")
	fs.Duration(&c.MaxAge, "health-max-age", "HEALTH_MAX_AGE", 10*time.Second, "/healthz answers 503 when the newest snapshot is older than this")
	fs.String(&c.DrainAuth, "drain-auth", "DRAIN_AUTH", "", "`user:pass` required on POST /logs and /v1/logs (basic auth); a password alone is for user "+DefaultAuthUser)
	fs.String(&c.OTLPToken, "otlp-token", "OTLP_TOKEN", "", "bearer `token` accepted on POST /v1/logs (OpenTelemetry logs), besides DRAIN_AUTH's basic auth")
	fs.String(&c.WebAuth, "web-auth", "WEB_AUTH", "", "`user:pass` required on the dashboard and /stats (basic auth); a password alone is for user "+DefaultAuthUser)
	fs.Int(&c.MaxBody, "max-body", "MAX_BODY", 1<<20, "largest drain body in `bytes` (413 beyond)")
	fs.String(&c.SyslogAddr, "syslog-addr", "SYSLOG_ADDR", "", "listen `address` for syslog over TCP (octet-counted or newline-delimited)")
	fs.String(&c.SyslogTLSAddr, "syslog-tls-addr", "SYSLOG_TLS_ADDR", "", "listen `address` for syslog over TLS (needs TLS_CERT and TLS_KEY)")
	fs.String(&c.TLSCert, "tls-cert", "TLS_CERT", "", "certificate `file` (PEM) for SYSLOG_TLS_ADDR")
	fs.String(&c.TLSKey, "tls-key", "TLS_KEY", "", "private key `file` (PEM) for SYSLOG_TLS_ADDR")
	fs.String(&c.AortaURLs, "aorta-urls", "AORTA_URLS", "", "aorta://secret@host:port `URLs` to read, comma-separated")
	fs.String(&c.File, "file", "", "", "read logs from this `file` (\"-\" is stdin)")
	fs.Bool(&c.Follow, "follow", "", false, "with --file, keep reading as the file grows")
	fs.String(&c.TimeSource, "time-source", "TIME_SOURCE", "event", "`event` (stats in the events' own time) or arrival (stamp events as they arrive, for old files)")
	fs.String(&c.Demo, "demo", "DEMO", "", "run the traffic generator: 1 or 0 (default: only when no input is configured)")
	fs.Float64(&c.DemoRate, "demo-rate", "DEMO_RATE", 500, "lines per second the demo generator writes")
	fs.Int(&c.Workers, "workers", "WORKERS", runtime.GOMAXPROCS(0), "parse and fold `workers`")
	fs.Int(&c.QueueJobs, "queue", "QUEUE_JOBS", 1024, "bodies or chunks that may wait for a worker; beyond, input is dropped and counted")
	fs.String(&c.Source, "source", "SOURCE", "", "this receiver's `name` in its batches (default: DYNO, else the host name), to which a per-boot id is added")
	fs.String(&c.Dyno, "dyno", "DYNO", "", "the dyno name the platform sets (merger.2 → shard 1)")
	fs.String(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "log `level`: debug, info, warn or error")
	fs.Duration(&c.PublishTTL, "publish-timeout", "PUBLISH_TIMEOUT", 2*time.Second, "how long a receiver tries to publish one cut before it drops it (at most 10s)")
	c.rolesFlag = &roles
	return c
}

// finish validates c after the flags are parsed, naming the setting that
// is wrong.
func (c *Config) finish(fs *cli.FlagSet) error {
	roles := strings.TrimSpace(*c.rolesFlag)
	if roles == "all" || roles == "" {
		c.Roles = slices.Clone(allRoles)
	} else {
		c.Roles = nil
		for _, r := range cli.List(roles) {
			if !slices.Contains(knownRoles, r) {
				return fs.Errorf("role", "unknown role %q (want receiver, merger, web, emitter or all)", r)
			}
			if !slices.Contains(c.Roles, r) {
				c.Roles = append(c.Roles, r)
			}
		}
	}
	if c.GraphiteURL != "" && !slices.Contains(c.Roles, RoleEmitter) && (roles == "all" || roles == "" || c.has(RoleWeb)) {
		c.Roles = append(c.Roles, RoleEmitter)
	}
	if c.has(RoleEmitter) && c.GraphiteURL == "" {
		return fs.Errorf("graphite-url", "the emitter role needs GRAPHITE_URL (tcp://host:2003)")
	}
	if c.MergerCount < 1 || c.MergerCount > 1024 {
		return fs.Errorf("merger-count", "%d out of range 1..1024", c.MergerCount)
	}
	if c.Shard < 0 {
		c.Shard = shardFromDyno(c.Dyno)
	}
	if c.Shard >= c.MergerCount {
		return fs.Errorf("shard", "%d out of range 0..%d (MERGER_COUNT=%d)", c.Shard, c.MergerCount-1, c.MergerCount)
	}
	for name, d := range map[string]time.Duration{"flush-interval": c.Flush, "grace": c.Grace, "history": c.History, "health-max-age": c.MaxAge, "publish-timeout": c.PublishTTL} {
		if d <= 0 {
			return fs.Errorf(name, "must be positive, got %v", d)
		}
	}
	if c.PublishTTL > MaxPublishTimeout {
		return fs.Errorf("publish-timeout", "%v is longer than %v, so a last cut could miss the %v a dyno has after SIGTERM", c.PublishTTL, MaxPublishTimeout, ShutdownTimeout)
	}
	if c.Flush < 10*time.Millisecond || c.Flush > time.Minute {
		return fs.Errorf("flush-interval", "%v out of range 10ms..1m", c.Flush)
	}
	if c.History > 24*time.Hour {
		return fs.Errorf("history", "%v is longer than 24h", c.History)
	}
	if _, err := cli.ListenAddr(c.Port); err != nil {
		return fs.Errorf("port", "%v", err)
	}
	for _, a := range []struct {
		name string
		v    *string
	}{{"drain-auth", &c.DrainAuth}, {"web-auth", &c.WebAuth}} {
		if *a.v != "" && !strings.Contains(*a.v, ":") {
			*a.v = DefaultAuthUser + ":" + *a.v // a password alone, as app.json's generated secrets are
		}
		if _, _, err := cli.UserPass(*a.v); err != nil {
			return fs.Errorf(a.name, "%v, or a password alone for user %s", err, DefaultAuthUser)
		}
	}
	if c.TimeSource != "event" && c.TimeSource != "arrival" {
		return fs.Errorf("time-source", "%q is not event or arrival", c.TimeSource)
	}
	switch c.Demo {
	case "", "auto", "0", "1", "true", "false":
	default:
		return fs.Errorf("demo", "%q is not 1 or 0", c.Demo)
	}
	if c.SyslogTLSAddr != "" && (c.TLSCert == "" || c.TLSKey == "") {
		return fs.Errorf("syslog-tls-addr", "needs TLS_CERT and TLS_KEY")
	}
	if c.Workers < 1 || c.Workers > 256 {
		return fs.Errorf("workers", "%d out of range 1..256", c.Workers)
	}
	if c.QueueJobs < 1 || c.QueueJobs > 1<<20 {
		return fs.Errorf("queue", "%d out of range 1..1048576", c.QueueJobs)
	}
	if c.MaxBody < 1<<10 || c.MaxBody > 256<<20 {
		return fs.Errorf("max-body", "%d out of range 1 KiB..256 MiB", c.MaxBody)
	}
	if !(c.DemoRate > 0) || c.DemoRate > 1e6 {
		return fs.Errorf("demo-rate", "%v out of range (0, 1e6]", c.DemoRate)
	}
	c.RedisClusterAddrs = nil
	for _, a := range cli.List(c.clusterAddrs) {
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fs.Errorf("redis-cluster-addrs", "%q is not host:port", a)
		}
		c.RedisClusterAddrs = append(c.RedisClusterAddrs, a)
	}
	if !c.redis() && !(c.has(RoleReceiver) && c.has(RoleMerger) && c.has(RoleWeb)) {
		return fs.Errorf("redis-url", "unset, so roles talk over the in-memory bus and all three must run in this process (ROLE=all), not %s", strings.Join(c.Roles, ","))
	}
	if c.Source == "" {
		c.Source = c.Dyno
	}
	if c.Source == "" {
		h, _ := os.Hostname()
		c.Source = h
	}
	return nil
}

// redis reports whether the roles talk over Redis: REDIS_URL or
// REDIS_CLUSTER_ADDRS is set.
func (c *Config) redis() bool { return c.RedisURL != "" || len(c.RedisClusterAddrs) > 0 }

// has reports whether c runs role.
func (c *Config) has(role string) bool { return slices.Contains(c.Roles, role) }

// inputs reports whether any receiver input other than the drain is set.
func (c *Config) inputs() bool {
	return c.SyslogAddr != "" || c.SyslogTLSAddr != "" || c.AortaURLs != "" || c.File != ""
}

// demo reports whether the generator runs: DEMO=1, or DEMO unset in the
// all-in-one when no input is configured.
func (c *Config) demo() bool {
	switch c.Demo {
	case "1", "true":
		return true
	case "0", "false":
		return false
	}
	return !c.redis() && !c.inputs()
}

// shardFromDyno reads the shard from a dyno name: "merger.2" is shard 1
// (dynos count from 1). Anything else is shard 0.
func shardFromDyno(dyno string) int {
	_, n, ok := strings.Cut(dyno, ".")
	if !ok {
		return 0
	}
	var i int
	if _, err := fmt.Sscanf(n, "%d", &i); err != nil || i < 1 {
		return 0
	}
	return i - 1
}
