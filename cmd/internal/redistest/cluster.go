package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

// ClusterTimeout bounds how long a new cluster may take to reach
// cluster_state:ok on every node.
const ClusterTimeout = 20 * time.Second

// Cluster is a Redis Cluster of redis-servers on 127.0.0.1, each a master
// without replicas: node i serves the slots [i·16384/n, (i+1)·16384/n).
// Every node is a [Server] of its own, with its own directory (its
// nodes.conf), client port and cluster bus port, both free ports; a node
// stopped and restarted on its ports rejoins with its slots, empty.
//
// The cluster is formed with CLUSTER ADDSLOTSRANGE, SET-CONFIG-EPOCH and
// MEET, without redis-cli, so it needs redis-server 7.0 or later (for
// --cluster-port and ADDSLOTSRANGE), as Debian 12 ships.
//
// A Cluster's methods are safe for use by multiple goroutines.
type Cluster struct {
	nodes  []*Server
	tlsDir string // the shared TLS files' directory, or ""
}

// StartCluster starts a cluster of n masters for t, waits until every
// node reports cluster_state:ok, and stops it, removing its files, when t
// ends. args are more arguments of every redis-server (such as
// "--rename-command", "SPUBLISH", "" to play an older Redis). It skips t
// when redis-server is not installed, or fails it if
// PULSE_REQUIRE_SERVICES=1.
func StartCluster(t testing.TB, n int, args ...string) *Cluster {
	t.Helper()
	return startCluster(t, n, false, args)
}

// StartClusterTLS is StartCluster for nodes that speak only TLS, to
// clients and to each other (tls-cluster yes), all with one certificate
// for 127.0.0.1 and localhost signed by the authority in CAFile.
func StartClusterTLS(t testing.TB, n int, args ...string) *Cluster {
	t.Helper()
	return startCluster(t, n, true, args)
}

func startCluster(t testing.TB, n int, useTLS bool, args []string) *Cluster {
	t.Helper()
	c, err := NewCluster(n, useTLS, args...)
	if errors.Is(err, ErrNotInstalled) {
		Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("redistest: %v", err)
		}
	})
	return c
}

// NewCluster starts a cluster of n masters, over TLS when useTLS is set,
// with args as more arguments of every redis-server, and waits until
// every node reports cluster_state:ok, within ClusterTimeout. The caller
// must Close it. It returns ErrNotInstalled when there is no
// redis-server.
func NewCluster(n int, useTLS bool, args ...string) (*Cluster, error) {
	if n < 1 || n > 64 {
		return nil, fmt.Errorf("redistest: a cluster of %d nodes: want 1 to 64", n)
	}
	if _, err := redisServer(); err != nil {
		return nil, err
	}
	c := &Cluster{}
	var files *tlsFiles
	if useTLS {
		dir, err := os.MkdirTemp("", "redistest-cluster-tls-")
		if err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		c.tlsDir = dir
		if files, err = writeTLSFiles(dir, time.Now()); err != nil {
			c.Close()
			return nil, err
		}
	}
	for range n {
		s, err := startServer(files, clusterArgs(useTLS, args))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.nodes = append(c.nodes, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ClusterTimeout)
	defer cancel()
	if err := c.form(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.WaitOK(ClusterTimeout); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// clusterArgs returns the arguments of a cluster node, on a cluster bus
// port free a moment ago.
func clusterArgs(useTLS bool, more []string) func() ([]string, error) {
	return func() ([]string, error) {
		bus, err := freePort()
		if err != nil {
			return nil, err
		}
		args := []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-announce-ip", "127.0.0.1",
			"--cluster-node-timeout", "5000",
		}
		if useTLS {
			args = append(args, "--tls-cluster", "yes", "--tls-replication", "yes")
		}
		return append(args, more...), nil
	}
}

// client returns a go-redis client of node s.
func (s *Server) client() *redis.Client {
	opt := &redis.Options{Addr: s.Addr(), DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, DisableIdentity: true}
	if s.tls != nil {
		opt.TLSConfig = s.tls.client.Clone()
	}
	return redis.NewClient(opt)
}

// busPort returns the cluster bus port of node s.
func (s *Server) busPort() string {
	for i, a := range s.args {
		if a == "--cluster-port" && i+1 < len(s.args) {
			return s.args[i+1]
		}
	}
	return ""
}

// form gives each node its slots and a config epoch of its own, and
// introduces every node to the first.
func (c *Cluster) form(ctx context.Context) error {
	n := len(c.nodes)
	for i, s := range c.nodes {
		lo, hi := i*Slots/n, (i+1)*Slots/n-1
		cl := s.client()
		err := cl.ClusterAddSlotsRange(ctx, lo, hi).Err()
		if err == nil {
			err = cl.Do(ctx, "cluster", "set-config-epoch", i+1).Err()
		}
		if err == nil && i > 0 {
			first := c.nodes[0]
			err = cl.Do(ctx, "cluster", "meet", "127.0.0.1", first.port, first.busPort()).Err()
		}
		cl.Close()
		if err != nil {
			return fmt.Errorf("redistest: forming the cluster, node %s: %w", s.Addr(), err)
		}
	}
	return nil
}

// WaitOK waits until every running node reports cluster_state:ok, knows
// every node and sees every slot served, as after a node restarted.
func (c *Cluster) WaitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok := true
		for _, s := range c.nodes {
			if s.PID() == 0 {
				continue
			}
			if why := s.clusterOK(len(c.nodes), deadline); why != "" {
				ok, last = false, why
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: the cluster is not ok in %v: %s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterOK returns why node s does not see a whole cluster of n nodes,
// or "" when it does.
func (s *Server) clusterOK(n int, deadline time.Time) string {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cl := s.client()
	defer cl.Close()
	info, err := cl.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Sprintf("node %s: %v", s.Addr(), err)
	}
	want := map[string]string{
		"cluster_state":          "ok",
		"cluster_slots_assigned": strconv.Itoa(Slots),
		"cluster_slots_ok":       strconv.Itoa(Slots),
		"cluster_known_nodes":    strconv.Itoa(n),
		"cluster_size":           strconv.Itoa(n),
	}
	for line := range strings.Lines(info) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if w, ok := want[k]; ok {
			if v != w {
				return fmt.Sprintf("node %s: %s:%s, want %s", s.Addr(), k, v, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		return fmt.Sprintf("node %s: CLUSTER INFO lacks %v", s.Addr(), want)
	}
	return ""
}

// Nodes returns the cluster's nodes, in the order of their slots.
func (c *Cluster) Nodes() []*Server { return c.nodes }

// Addrs returns the nodes' addresses, 127.0.0.1:<port>.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		addrs[i] = s.Addr()
	}
	return addrs
}

// URL returns the first node's URL, redis://127.0.0.1:<port>, or
// rediss:// for a cluster started with StartClusterTLS: one node, from
// which a cluster client learns the others.
func (c *Cluster) URL() string {
	scheme := "redis://"
	if c.tlsDir != "" {
		scheme = "rediss://"
	}
	return scheme + c.nodes[0].Addr()
}

// CAFile returns the PEM file of the certificate authority that signed
// the nodes' certificate, for a cluster started with StartClusterTLS; ""
// for a plain one.
func (c *Cluster) CAFile() string { return c.nodes[0].CAFile() }

// NodeOf returns the node that serves slot, by the cluster's initial
// layout.
func (c *Cluster) NodeOf(slot int) *Server {
	n := len(c.nodes)
	for i := n - 1; i > 0; i-- {
		if slot >= i*Slots/n {
			return c.nodes[i]
		}
	}
	return c.nodes[0]
}

// Close stops every node and removes their files.
func (c *Cluster) Close() error {
	var errs []error
	for _, s := range c.nodes {
		errs = append(errs, s.Close())
	}
	if c.tlsDir != "" {
		errs = append(errs, os.RemoveAll(c.tlsDir))
	}
	return errors.Join(errs...)
}
