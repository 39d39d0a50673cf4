// Package redistest runs a real redis-server for tests: on a free port of
// 127.0.0.1, without persistence, in a temporary directory, stopped at
// cleanup. Tests can stop and restart it on the same port to see how code
// behaves while Redis is away, or pause it to see how code behaves while
// Redis is slow.
//
// StartTLS runs one that speaks only TLS, with a certificate signed by a
// certificate authority made for the test, as Heroku Key-Value Store's
// servers present self-signed certificates on rediss:// URLs.
//
// StartCluster runs a Redis Cluster of several such servers, each a
// master of its share of the slots, formed without redis-cli; it needs
// redis-server 7.0 or later.
//
// When redis-server is not installed, Start skips the test, unless the
// environment sets PULSE_REQUIRE_SERVICES=1 (as CI does), which makes it
// a failure. On Debian: apt-get install -y redis-server.
package redistest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ErrNotInstalled is returned by StartServer when no redis-server binary
// is found.
var ErrNotInstalled = errors.New("redistest: redis-server not installed (apt-get install -y redis-server)")

// StartTimeout bounds how long a server may take to answer PING.
const StartTimeout = 10 * time.Second

// Server is a running (or stopped) redis-server. Its methods are safe for
// use by multiple goroutines.
type Server struct {
	bin    string
	dir    string
	port   int
	tls    *tlsFiles // nil: plain TCP
	tlsDir string    // where tls's files are, when s owns them
	args   []string  // more arguments of redis-server: a cluster node's

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has exited
	out  *lockedBuffer
}

// Start starts a server for t and stops it, removing its files, when t
// ends. It skips t when redis-server is not installed, or fails it if
// PULSE_REQUIRE_SERVICES=1.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, StartServer)
}

// StartTLS is Start for a server that speaks only TLS (see
// StartServerTLS).
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, StartServerTLS)
}

func start(t testing.TB, startServer func() (*Server, error)) *Server {
	t.Helper()
	s, err := startServer()
	if errors.Is(err, ErrNotInstalled) {
		Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("redistest: %v", err)
		}
	})
	return s
}

// Unavailable skips t because of err, or fails it when the environment
// sets PULSE_REQUIRE_SERVICES=1. It is for a TestMain that started a
// shared server with StartServer and got ErrNotInstalled.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("PULSE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%v, and PULSE_REQUIRE_SERVICES=1", err)
	}
	t.Skip(err)
}

// StartServer starts a server on a free port and waits until it answers
// PING. The caller must Close it. It returns ErrNotInstalled when there is
// no redis-server.
func StartServer() (*Server, error) { return startServer(nil, nil) }

// StartServerTLS is StartServer for a server that listens only for TLS
// (redis-server --port 0 --tls-port N), with a certificate for 127.0.0.1
// and localhost signed by a certificate authority made for it, whose
// certificate is in the PEM file CAFile. Clients need not present a
// certificate. URL is rediss://.
func StartServerTLS() (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest-tls-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	files, err := writeTLSFiles(dir, time.Now())
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s, err := startServer(files, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.tlsDir = dir
	return s, nil
}

// redisServer returns the path of redis-server, or ErrNotInstalled.
func redisServer() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, err := os.Stat("/usr/bin/redis-server"); err != nil {
			return "", ErrNotInstalled
		}
		bin = "/usr/bin/redis-server"
	}
	return bin, nil
}

// startServer starts a server on a free port, speaking TLS with files
// unless they are nil, with the arguments args returns for its port on top
// of the usual ones (args may be nil).
func startServer(files *tlsFiles, args func() ([]string, error)) (*Server, error) {
	bin, err := redisServer()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{bin: bin, dir: dir, tls: files}
	// A free port can be taken between our probe and the server's bind:
	// try a few.
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if args != nil {
			if s.args, err = args(); err != nil {
				break
			}
		}
		if err = s.Restart(); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// URL returns redis://127.0.0.1:<port>/0, or rediss:// for a server
// started with StartTLS.
func (s *Server) URL() string {
	if s.tls != nil {
		return "rediss://" + s.Addr() + "/0"
	}
	return "redis://" + s.Addr() + "/0"
}

// CAFile returns the PEM file of the certificate authority that signed
// the certificate of a server started with StartTLS, the file a client
// verifies the server against; "" for a plain server.
func (s *Server) CAFile() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.ca
}

// Addr returns 127.0.0.1:<port>.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port, the same across restarts.
func (s *Server) Port() int { return s.port }

// PID returns the running server's process ID, or 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Output returns what the server has logged since it last started.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Pause stops the running server's process (SIGSTOP) without closing
// anything: connections stay open and commands wait unanswered, as with a
// Redis stuck in a slow command or an overloaded host. Resume continues
// it.
func (s *Server) Pause() error { return s.signal(pauseSignal) }

// Resume continues a paused server (SIGCONT); it answers what was sent
// to it meanwhile.
func (s *Server) Resume() error { return s.signal(resumeSignal) }

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig == nil {
		return errors.New("redistest: pausing a server needs SIGSTOP, which this system lacks")
	}
	if s.cmd == nil {
		return errors.New("redistest: the server is stopped")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("redistest: %v to redis-server %d: %w", sig, s.cmd.Process.Pid, err)
	}
	return nil
}

// Stop kills the server, as a crash would, and waits for it to exit.
// Its data is lost. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redistest: kill redis-server %d: %w", s.cmd.Process.Pid, err)
	}
	<-s.exit
	s.cmd, s.exit = nil, nil
	return nil
}

// Restart stops the server if it runs and starts a new one, empty, on
// the same port, returning once it answers PING.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(); err != nil {
		return err
	}
	out := &lockedBuffer{}
	port := strconv.Itoa(s.port)
	if s.tls != nil {
		port = "0" // no plain TCP
	}
	args := []string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
	}
	var ping *tls.Config
	if s.tls != nil {
		args = append(args,
			"--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", s.tls.cert,
			"--tls-key-file", s.tls.key,
			"--tls-ca-cert-file", s.tls.ca,
			"--tls-auth-clients", "no",
		)
		ping = s.tls.client
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", s.bin, err)
	}
	exit := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exit)
	}()
	s.cmd, s.exit, s.out = cmd, exit, out
	if err := waitPing(s.Addr(), ping, exit, StartTimeout); err != nil {
		s.stopLocked()
		return fmt.Errorf("redistest: redis-server on port %d: %w; its output:\n%s", s.port, err, out.String())
	}
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	for _, dir := range []string{s.dir, s.tlsDir} {
		if dir == "" {
			continue
		}
		if rerr := os.RemoveAll(dir); err == nil && rerr != nil {
			err = fmt.Errorf("redistest: %w", rerr)
		}
	}
	return err
}

// waitPing polls addr with PING, over TLS with tc unless it is nil, until
// it answers +PONG, the process exits or timeout passes.
func waitPing(addr string, tc *tls.Config, exit <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if last = ping(addr, tc, deadline); last == nil {
			return nil
		}
		select {
		case <-exit:
			return fmt.Errorf("exited before answering PING: %w", last)
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to PING in %v: %w", timeout, last)
		}
	}
}

func ping(addr string, tc *tls.Config, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if tc != nil {
		tlsConn := tls.Client(c, tc)
		if err := tlsConn.Handshake(); err != nil {
			return err
		}
		c = tlsConn
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
