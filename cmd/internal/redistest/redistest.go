// Package redistest runs a real redis-server for tests: on a free port of
// 127.0.0.1, without persistence, in a temporary directory, stopped at
// cleanup. Tests can stop and restart it on the same port to see how code
// behaves while Redis is away.
//
// When redis-server is not installed, Start skips the test, unless the
// environment sets PULSE_REQUIRE_SERVICES=1 (as CI does), which makes it
// a failure. On Debian: apt-get install -y redis-server.
package redistest

import (
	"bufio"
	"bytes"
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
	bin  string
	dir  string
	port int

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
	s, err := StartServer()
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
func StartServer() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, err := os.Stat("/usr/bin/redis-server"); err != nil {
			return nil, ErrNotInstalled
		}
		bin = "/usr/bin/redis-server"
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{bin: bin, dir: dir}
	// A free port can be taken between our probe and the server's bind:
	// try a few.
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Restart(); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// URL returns redis://127.0.0.1:<port>/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

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
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
	)
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
	if err := waitPing(s.Addr(), exit, StartTimeout); err != nil {
		s.stopLocked()
		return fmt.Errorf("redistest: redis-server on port %d: %w; its output:\n%s", s.port, err, out.String())
	}
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	if rerr := os.RemoveAll(s.dir); err == nil && rerr != nil {
		err = fmt.Errorf("redistest: %w", rerr)
	}
	return err
}

// waitPing polls addr with PING until it answers +PONG, the process
// exits or timeout passes.
func waitPing(addr string, exit <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if last = ping(addr, deadline); last == nil {
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

func ping(addr string, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
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
