package benchcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopTimeout is how long a process has after SIGTERM before it gets
// SIGKILL: more than the 25 s a role's shutdown takes at most.
const StopTimeout = 30 * time.Second

// maxLog is the tail of a process's output kept for error messages.
const maxLog = 32 << 10

// proc is one child process.
type proc struct {
	name string
	port string // its PORT, or ""

	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when it has exited
}

// startProc starts bin with args and env (KEY=value on top of a minimal
// environment), in a process group of its own, with the parent-death
// signal where the system has one.
func startProc(name, bin string, env []string, args ...string) (*proc, error) {
	p := &proc{name: name, out: &tail{max: maxLog}, done: make(chan struct{})}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok {
			p.port = v
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchcluster: start %s: %w", name, err)
	}
	p.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// baseEnv is what every child inherits: enough to run, and none of
// Pulse's settings from this process's environment.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether p has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure describes p's exit with the tail of its output.
func (p *proc) failure() error {
	return fmt.Errorf("benchcluster: %s (pid %d) exited: %s; its output ends:\n%s", p.name, p.pid(), p.cmd.ProcessState, p.out.String())
}

// stop sends SIGTERM, waits up to timeout, then SIGKILLs. It reports
// whether p exited by itself, and its exit state.
func (p *proc) stop(timeout time.Duration) (clean bool) {
	if p.exited() {
		return p.cmd.ProcessState.Success()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.cmd.ProcessState.Success()
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

// stopAll stops every process at once (SIGTERM, then SIGKILL after
// timeout) and returns the names of those that did not exit cleanly.
func stopAll(procs []*proc, timeout time.Duration) []string {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		bad []string
	)
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !p.stop(timeout) {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s (%s)", p.name, p.cmd.ProcessState))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return bad
}

// url returns http://127.0.0.1:<port><path>.
func (p *proc) url(path string) string { return "http://127.0.0.1:" + p.port + path }

var httpClient = &http.Client{Timeout: 10 * time.Second}

// getJSON decodes the JSON answer of GET url into v, and returns the
// status; a non-JSON answer is an error.
func getJSON(ctx context.Context, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return resp.StatusCode, fmt.Errorf("%s: %d, not JSON: %.200s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}

// health reads p's /healthz: its checks and whether it answered 200.
func (p *proc) health(ctx context.Context) (map[string]any, bool, error) {
	var h struct {
		Checks map[string]any `json:"checks"`
	}
	code, err := getJSON(ctx, p.url("/healthz"), &h)
	if err != nil {
		return nil, false, err
	}
	return h.Checks, code == http.StatusOK, nil
}

// waitHealthy waits until every process's /healthz answers 200, one of
// them exits, ctx ends or timeout passes.
func waitHealthy(ctx context.Context, procs []*proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, p := range procs {
		var last string
		for {
			if p.exited() {
				return p.failure()
			}
			_, ok, err := p.health(ctx)
			if ok {
				break
			}
			if err != nil {
				last = err.Error()
			} else {
				last = "answered 503"
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("benchcluster: %s not healthy within %v: %s; its output ends:\n%s", p.name, timeout, last, p.out.String())
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// freePorts returns n ports of 127.0.0.1 that were free a moment ago,
// all different.
func freePorts(n int) ([]string, error) {
	var ports []string
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("benchcluster: free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// tail keeps the last max bytes written to it. It is safe for use by
// multiple goroutines.
type tail struct {
	max int

	mu      sync.Mutex
	b       []byte
	dropped int64
}

// Write keeps the end of p; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.dropped += int64(over)
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// String returns what is kept, saying how much came before it.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped > 0 {
		return fmt.Sprintf("[%d bytes before]\n%s", t.dropped, t.b)
	}
	return string(t.b)
}

var errNoProc = errors.New("benchcluster: CPU times need /proc (Linux)")
