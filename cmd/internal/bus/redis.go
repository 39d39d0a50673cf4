package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

const (
	// DefaultPrefix starts every Redis key of a bus by default.
	DefaultPrefix = "pulse:"
	// DefaultChannel is the Pub/Sub channel snapshots are published on by
	// default, so that `redis-cli subscribe stats.merged` shows them.
	DefaultChannel = "stats.merged"
	// DefaultTimeout bounds every Redis call by default.
	DefaultTimeout = 2 * time.Second
	// DefaultPoolSize is the default cap on a Redis bus's connections.
	DefaultPoolSize = 20
)

// RedisOptions configures a Redis bus. Zero fields mean defaults.
type RedisOptions struct {
	// URL locates the server: redis://[user:password@]host[:port][/db]
	// or rediss:// for TLS, which verifies the server's certificate
	// against the system roots unless TLSCAFile or TLSSkipVerify says
	// otherwise. A server that is a node of a Redis Cluster is detected
	// (it answers CLUSTER SLOTS), and the bus then uses the whole
	// cluster; so does a URL that lists more nodes in the form of
	// redis.ParseClusterURL, redis://host:port?addr=host2:port2&addr=....
	// Required unless ClusterAddrs is set. Errors never quote it, since
	// it may hold a password.
	URL string
	// ClusterAddrs lists nodes (host:port) of a Redis Cluster to start
	// from; the client learns the others from them. Set, the bus uses
	// the cluster, and URL, if set, gives only the scheme (rediss:// for
	// TLS), the user and password, and one more node if it names a host.
	ClusterAddrs []string
	// Shards is the number of merger shards, which on a Redis Cluster
	// spreads the shards' streams over the slots (see Redis). Receivers
	// and mergers of a deployment must agree on it, as they must on the
	// shard count anyway. Zero means 1.
	Shards int
	// Prefix starts every key, so deployments and tests can share a
	// server: batches go to <Prefix>received:<shard>, snapshots to
	// <Prefix>merged. Zero means DefaultPrefix.
	Prefix string
	// Channel is the Pub/Sub channel every snapshot is also published on
	// (sharded, SPUBLISH, on a Redis Cluster that has it). Zero means
	// DefaultChannel.
	Channel string
	// Retention is how long a batch stays readable. Zero means
	// DefaultRetention.
	Retention time.Duration
	// SnapshotRetention is how long a snapshot stays readable. Zero means
	// DefaultSnapshotRetention.
	SnapshotRetention time.Duration
	// Timeout bounds every call: the dial, each socket read and write,
	// the wait for a pooled connection, and the whole operation (a
	// blocking read gets its block on top). Zero means DefaultTimeout.
	Timeout time.Duration
	// PoolSize caps the open connections (to each node, on a cluster).
	// A blocking read holds one for its block, so it should exceed the
	// goroutines that read at once. Zero means DefaultPoolSize.
	PoolSize int
	// MaxMessage is the largest payload accepted. Zero means
	// DefaultMaxMessage.
	MaxMessage int
	// TLSCAFile names a PEM file of the certificate authorities that a
	// rediss:// server's certificate must chain to, instead of the
	// system's.
	TLSCAFile string
	// TLSSkipVerify turns off verification of a rediss:// server's
	// certificate. Only for servers whose certificate cannot be checked,
	// like Heroku Key-Value Store's self-signed ones.
	TLSSkipVerify bool
}

// Redis is a Bus on Redis Streams. Each shard's batches are a stream,
// <Prefix>received:<shard>, entries with one field "b"; snapshots are the
// stream <Prefix>merged, entries with fields "shard" and "snap", and are
// PUBLISHed verbatim on Channel as well. Every XADD trims its stream to
// the retention (MINID ~) and sets the key to expire after it (PEXPIRE),
// so an abandoned stream disappears.
//
// On a Redis Cluster the bus uses go-redis's cluster client, which
// follows MOVED and ASK redirects and reloads the layout as it changes.
// Every command names one key, so none spans slots. A shard's stream is
// <Prefix>received:<shard>{<tag>}, whose hash tag puts the shards of a
// deployment in slots evenly spread over the slot space, so that a
// cluster of N masters serving equal runs of slots holds one of N shards
// each ([Redis.BatchKey] returns the name; the package's source explains
// the choice). Snapshots are published with SPUBLISH, sharded Pub/Sub
// (Redis 7), which only the node serving Channel's slot carries, rather
// than PUBLISH, which every node of a cluster relays to every other; on a
// cluster without SPUBLISH the bus falls back to PUBLISH.
//
// Reads cut at the retention by the reader's clock, while Redis stamps
// IDs by its own, so the hosts' clocks should agree to well within the
// retention's margin.
//
// Every call is bounded by Timeout, a blocking read by its block plus
// Timeout. Reconnection is go-redis's: after the server comes back, the
// next call succeeds. Failed calls return errors wrapped with the
// operation; Redis keeps no counters of them, the caller does.
//
// A Redis is safe for use by multiple goroutines.
type Redis struct {
	opt     RedisOptions
	c       redis.UniversalClient
	cluster bool
	snapKey string
	done    chan struct{} // closed by Close

	plainPublish atomic.Bool // a cluster without SPUBLISH: PUBLISH instead

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // blocking reads in flight
}

var _ Bus = (*Redis)(nil)

// NewRedis connects to the server at opt.URL, or the cluster, and checks
// that it answers PING (every master of a cluster) within ctx and the
// timeout; a role that may start before Redis retries it. The error wraps
// ErrInvalid for bad options.
func NewRedis(ctx context.Context, opt RedisOptions) (*Redis, error) {
	if opt.Retention < 0 || opt.SnapshotRetention < 0 || opt.Timeout < 0 || opt.PoolSize < 0 || opt.MaxMessage < 0 || opt.Shards < 0 {
		return nil, fmt.Errorf("bus: redis options: negative duration or size: %w", ErrInvalid)
	}
	if opt.Shards > MaxShards {
		return nil, fmt.Errorf("bus: redis options: %d shards, more than %d: %w", opt.Shards, MaxShards, ErrInvalid)
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if opt.Channel == "" {
		opt.Channel = DefaultChannel
	}
	if opt.Retention == 0 {
		opt.Retention = DefaultRetention
	}
	if opt.SnapshotRetention == 0 {
		opt.SnapshotRetention = DefaultSnapshotRetention
	}
	if opt.Timeout == 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.PoolSize == 0 {
		opt.PoolSize = DefaultPoolSize
	}
	if opt.MaxMessage == 0 {
		opt.MaxMessage = DefaultMaxMessage
	}
	r := &Redis{opt: opt, snapKey: opt.Prefix + "merged", done: make(chan struct{})}
	pctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	cluster := len(opt.ClusterAddrs) > 0 || clusterURL(opt.URL)
	if !cluster {
		ro, err := redisClientOptions(opt)
		if err != nil {
			return nil, err
		}
		c := redis.NewClient(ro)
		if err := c.Ping(pctx).Err(); err != nil {
			c.Close()
			if ro.DB != 0 && strings.Contains(err.Error(), "SELECT is not allowed in cluster mode") {
				return nil, fmt.Errorf("bus: redis URL: database %d: a Redis Cluster has only database 0: %w", ro.DB, ErrInvalid)
			}
			return nil, pingError("redis ping "+ro.Addr, ro.TLSConfig != nil, err)
		}
		if cluster, err = isCluster(pctx, c); err != nil {
			c.Close()
			return nil, pingError("redis ping "+ro.Addr, ro.TLSConfig != nil, err)
		}
		if !cluster {
			r.c = c
			return r, nil
		}
		c.Close()
		if ro.DB != 0 {
			return nil, fmt.Errorf("bus: redis URL: database %d: a Redis Cluster has only database 0: %w", ro.DB, ErrInvalid)
		}
	}
	co, err := redisClusterOptions(opt)
	if err != nil {
		return nil, err
	}
	c := redis.NewClusterClient(co)
	if err := clusterPing(pctx, c); err != nil {
		c.Close()
		return nil, pingError("redis cluster ping "+strings.Join(co.Addrs, ","), co.TLSConfig != nil, err)
	}
	r.c, r.cluster = c, true
	return r, nil
}

// Cluster reports whether the bus runs on a Redis Cluster.
func (r *Redis) Cluster() bool { return r.cluster }

// ErrCertificate is wrapped by the error of NewRedis when a rediss://
// server's certificate does not verify: it chains neither to the system's
// roots nor to TLSCAFile, or names another host, or has expired. Retrying
// does not help; TLSCAFile or TLSSkipVerify does.
var ErrCertificate = errors.New("server certificate not trusted")

// pingError describes a failed first PING (op names it and the address),
// with what to change where the cause is the configuration rather than
// the network.
func pingError(op string, useTLS bool, err error) error {
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &cert):
		return fmt.Errorf("bus: %s: %w: %w", op, ErrCertificate, err)
	case !useTLS && errors.Is(err, io.EOF):
		// A TLS-only server closes a plain connection at its first bytes.
		return fmt.Errorf("bus: %s: %w (the server closed the connection; if it speaks only TLS, use a rediss:// URL)", op, err)
	}
	return fmt.Errorf("bus: %s: %w", op, err)
}

// LogRedisTo sends the log lines of the Redis client library (failed
// dials in its connection pool, for example), which it would write to
// standard error in its own format, to log at level warn, so that a
// process logs only in its own format. It sets a global of the library:
// call it once, when the process starts.
func LogRedisTo(log *slog.Logger) { redis.SetLogger(redisLog{log}) }

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}

// redisClientOptions turns opt into go-redis options.
func redisClientOptions(opt RedisOptions) (*redis.Options, error) {
	if opt.URL == "" {
		return nil, fmt.Errorf("bus: redis: no URL and no cluster addresses: %w", ErrInvalid)
	}
	ro, err := redis.ParseURL(opt.URL)
	if err != nil {
		// url.Error quotes the URL, password and all.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bus: redis URL: %v: %w", err, ErrInvalid)
	}
	if ro.TLSConfig == nil && (opt.TLSCAFile != "" || opt.TLSSkipVerify) {
		return nil, fmt.Errorf("bus: redis: TLS options need a rediss:// URL: %w", ErrInvalid)
	}
	if ro.TLSConfig != nil {
		if err := configureTLS(ro.TLSConfig, opt); err != nil {
			return nil, err
		}
	}
	ro.DialTimeout = opt.Timeout
	ro.ReadTimeout = opt.Timeout
	ro.WriteTimeout = opt.Timeout
	ro.PoolTimeout = opt.Timeout
	ro.ContextTimeoutEnabled = true // our per-call deadlines reach the socket
	ro.PoolSize = opt.PoolSize
	ro.MaxActiveConns = opt.PoolSize
	ro.PipelinePoolSize = -1 // pipelines share the bounded pool
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return ro, nil
}

// configureTLS applies opt's TLS settings to tc, which go-redis made
// from a rediss:// URL.
func configureTLS(tc *tls.Config, opt RedisOptions) error {
	if opt.TLSCAFile != "" {
		pem, err := os.ReadFile(opt.TLSCAFile)
		if err != nil {
			return fmt.Errorf("bus: redis TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("bus: redis TLS CA file %s: no PEM certificates: %w", opt.TLSCAFile, ErrInvalid)
		}
		tc.RootCAs = pool
	}
	tc.InsecureSkipVerify = opt.TLSSkipVerify
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	return nil
}

// PublishBatch implements Bus: XADD <Prefix>received:<shard> MINID ~
// <now − Retention> * b <b>, then PEXPIRE the key by Retention, in one
// round trip.
func (r *Redis) PublishBatch(ctx context.Context, shard int, b []byte) error {
	const op = "redis publish batch"
	if err := r.check(ctx, op, len(b)); err != nil {
		return err
	}
	if err := checkShard(op, shard); err != nil {
		return err
	}
	return r.publish(ctx, op, shard, r.BatchKey(shard), r.opt.Retention, []any{"b", b}, nil)
}

// PublishSnapshot implements Bus: XADD <Prefix>merged MINID ~
// <now − SnapshotRetention> * shard <shard> snap <snap>, PEXPIRE the key
// by SnapshotRetention, and PUBLISH <Channel> <snap>, in one round trip;
// on a cluster, SPUBLISH, sent to the node of Channel's slot at the same
// time.
func (r *Redis) PublishSnapshot(ctx context.Context, shard int, snap []byte) error {
	const op = "redis publish snapshot"
	if err := r.check(ctx, op, len(snap)); err != nil {
		return err
	}
	if err := checkShard(op, shard); err != nil {
		return err
	}
	return r.publish(ctx, op, shard, r.snapKey, r.opt.SnapshotRetention,
		[]any{"shard", strconv.Itoa(shard), "snap", snap}, snap)
}

func (r *Redis) publish(ctx context.Context, op string, shard int, key string, retention time.Duration, values []any, pub []byte) error {
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	var xadd *redis.StringCmd
	var expire *redis.BoolCmd
	var spub *redis.IntCmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		xadd = p.XAdd(ctx, &redis.XAddArgs{
			Stream: key,
			MinID:  cutoff(time.Now(), retention).String(),
			Approx: true,
			Values: values,
		})
		expire = p.PExpire(ctx, key, retention)
		switch {
		case pub == nil:
		case r.cluster && !r.plainPublish.Load():
			spub = p.SPublish(ctx, r.opt.Channel, pub)
		default:
			p.Publish(ctx, r.opt.Channel, pub)
		}
		return nil
	})
	if spub != nil && isUnknownCommand(spub.Err()) && xadd.Err() == nil && expire.Err() == nil {
		// A cluster of Redis 6: publish the old way from now on.
		r.plainPublish.Store(true)
		err = r.c.Publish(ctx, r.opt.Channel, pub).Err()
	}
	if err := ctxErr(ctx, err); err != nil {
		return fmt.Errorf("bus: %s shard %d: %w", op, shard, r.hint(err))
	}
	return nil
}

// hint adds to err what a standalone client that gets redirected should
// know.
func (r *Redis) hint(err error) error {
	if r.cluster {
		return err
	}
	return movedHint(err)
}

// ReadBatches implements Bus with XREAD COUNT max BLOCK block STREAMS
// <Prefix>received:<shard> after, after moving after up to the
// retention's cut.
func (r *Redis) ReadBatches(ctx context.Context, shard int, after string, max int, block time.Duration) ([]Message, error) {
	const op = "redis read batches"
	if err := r.check(ctx, op, 0); err != nil {
		return nil, err
	}
	if err := checkShard(op, shard); err != nil {
		return nil, err
	}
	p, err := checkRead(op, after, max)
	if err != nil {
		return nil, err
	}
	xs, err := r.read(ctx, op, r.BatchKey(shard), r.opt.Retention, p, max, block)
	if err != nil {
		return nil, fmt.Errorf("bus: %s shard %d: %w", op, shard, r.hint(err))
	}
	out := make([]Message, len(xs))
	for i, x := range xs {
		out[i] = Message{ID: x.ID, Shard: shard, Data: field(x, "b")}
	}
	return out, nil
}

// ReadSnapshots implements Bus with XREAD on <Prefix>merged.
func (r *Redis) ReadSnapshots(ctx context.Context, after string, max int, block time.Duration) ([]Message, error) {
	const op = "redis read snapshots"
	if err := r.check(ctx, op, 0); err != nil {
		return nil, err
	}
	p, err := checkRead(op, after, max)
	if err != nil {
		return nil, err
	}
	xs, err := r.read(ctx, op, r.snapKey, r.opt.SnapshotRetention, p, max, block)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", op, r.hint(err))
	}
	out := make([]Message, len(xs))
	for i, x := range xs {
		// Another writer of the Redis may have added the entry: a shard
		// out of range reads as none, as a missing one does.
		shard := -1
		if s, ok := x.Values["shard"].(string); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < MaxShards {
				shard = n
			}
		}
		out[i] = Message{ID: x.ID, Shard: shard, Data: field(x, "snap")}
	}
	return out, nil
}

// field returns x's field name as bytes, or nil when x has none: an entry
// some other writer added still has its position, so the reader can
// count it and move on.
func field(x redis.XMessage, name string) []byte {
	s, ok := x.Values[name].(string)
	if !ok {
		return nil
	}
	return []byte(s)
}

// read runs one XREAD on key after p, moved up to the retention's cut.
// A blocking read runs in a goroutine of its own, so that cancelling ctx
// returns at once rather than when the server answers; the goroutine ends
// by the read's deadline, block + Timeout, and leaves the connection
// healthy in the pool.
func (r *Redis) read(ctx context.Context, op, key string, retention time.Duration, p pos, max int, block time.Duration) ([]redis.XMessage, error) {
	if c := cutoff(time.Now(), retention); p.less(c) {
		p = c.prev()
	}
	args := &redis.XReadArgs{Streams: []string{key, p.String()}, Count: int64(max), Block: -1}
	if block > 0 {
		// XREAD BLOCK counts whole milliseconds, and BLOCK 0 is forever.
		args.Block = (block + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	wait := r.opt.Timeout
	if block > 0 {
		wait += block
	}
	ctx2, cancel := context.WithTimeout(ctx, wait)
	if block <= 0 || ctx.Done() == nil {
		defer cancel()
		xs, err := xread(ctx2, r.c, args)
		return xs, ctxErr(ctx2, err)
	}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		return nil, ErrClosed
	}
	r.wg.Add(1)
	r.mu.Unlock()
	type result struct {
		xs  []redis.XMessage
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		xs, err := xread(ctx2, r.c, args)
		ch <- result{xs, ctxErr(ctx2, err)} // before cancel, which would read as Canceled
	}()
	select {
	case res := <-ch:
		return res.xs, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.done:
		return nil, ErrClosed
	}
}

// ctxErr makes err wrap ctx's error once ctx is done, keeping err's own
// words: a socket timeout at ctx's deadline, which can fire a moment
// before ctx's own timer, then matches context.DeadlineExceeded.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(d) {
		cerr = context.DeadlineExceeded
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

func xread(ctx context.Context, c redis.UniversalClient, args *redis.XReadArgs) ([]redis.XMessage, error) {
	xs, err := c.XRead(ctx, args).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil // the block elapsed, or the stream does not exist
	}
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return nil, nil
	}
	return xs[0].Messages, nil
}

// Close closes the connections and waits for blocked reads to return.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	err := r.c.Close()
	r.wg.Wait()
	if err != nil {
		return fmt.Errorf("bus: redis close: %w", err)
	}
	return nil
}

func (r *Redis) check(ctx context.Context, op string, n int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: %s: %w", op, err)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("bus: %s: %w", op, ErrClosed)
	}
	return checkSize(op, n, r.opt.MaxMessage)
}

// BatchKey returns the name of shard's stream: <Prefix>received:<shard>,
// and on a cluster <Prefix>received:<shard>{<tag>}, whose hash tag places
// it (see Redis).
func (r *Redis) BatchKey(shard int) string {
	var b strings.Builder
	b.Grow(len(r.opt.Prefix) + len("received:") + 4 + 6)
	b.WriteString(r.opt.Prefix)
	b.WriteString("received:")
	b.WriteString(strconv.Itoa(shard))
	if r.cluster {
		b.WriteByte('{')
		b.WriteString(slotTag(shardSlot(shard, r.opt.Shards)))
		b.WriteByte('}')
	}
	return b.String()
}
