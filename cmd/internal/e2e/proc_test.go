package e2e

import (
	"bytes"
	"context"
	"encoding/json"
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
	"testing"
	"time"
)

// proc is one running process of a built command. Its output (stdout and
// stderr) is kept and logged when the test fails; it is killed, if still
// running, when the test ends.
type proc struct {
	name string
	args []string
	env  []string
	port string // its PORT, or ""

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when it has exited
}

// start starts command bin with env (KEY=value settings, on top of a
// minimal environment) and args, naming it name in the test's log.
func start(t *testing.T, name, binName string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, args: append([]string{binName}, args...), env: env}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok {
			p.port = v
		}
	}
	p.run(t)
	return p
}

// run starts p's command.
func (p *proc) run(t *testing.T) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin(p.args[0]), p.args[1:]...) // killed when the test ends
	cmd.Env = append(baseEnv(), p.env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	p.cmd, p.out, p.done = cmd, out, done
	t.Cleanup(func() {
		if p.cmd == cmd {
			p.kill()
		} else {
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("--- output of %s (pid %d, exit %s):\n%s", p.name, cmd.Process.Pid, cmd.ProcessState, out.String())
		}
	})
}

// restart starts p's command again with the same settings. p must have
// exited.
func (p *proc) restart(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	default:
		t.Fatalf("restart %s: still running", p.name)
	}
	p.run(t)
}

// baseEnv is what every process inherits: enough to run, and none of
// Pulse's settings from the test's own environment.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// kill kills p, as a crash would, and waits for it to exit.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// signal sends sig to p.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
}

// exited reports whether p has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for p to exit and returns its exit code (-1
// when killed by a signal); it fails t if p is still running.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v", p.name, timeout)
		return 0
	}
}

// stop sends SIGTERM and asserts that p exits with code 0 within timeout.
func (p *proc) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	began := time.Now()
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, timeout); code != 0 {
		t.Fatalf("%s exited with code %d after SIGTERM", p.name, code)
	}
	t.Logf("%s exited 0 %v after SIGTERM", p.name, time.Since(began).Round(time.Millisecond))
}

// url returns http://127.0.0.1:<port><path>.
func (p *proc) url(path string) string { return "http://127.0.0.1:" + p.port + path }

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// poll calls cond every 50 ms until it returns true or timeout passes,
// then fails t with what cond last said. It fails at once when one of
// watch has exited.
func poll(t *testing.T, timeout time.Duration, what string, cond func() (bool, string), watch ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		for _, p := range watch {
			if p.exited() {
				t.Fatalf("waiting for %s: %s exited (%s); last: %s", what, p.name, p.cmd.ProcessState, last)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v; last: %s", what, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// get returns the status and body of GET url.
func get(url string) (int, []byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitHealthy waits until p's /healthz answers 200 and, when check is not
// nil, check accepts its JSON.
func waitHealthy(t *testing.T, p *proc, timeout time.Duration, check func(map[string]any) (bool, string)) {
	t.Helper()
	poll(t, timeout, p.name+" /healthz", func() (bool, string) {
		code, body, err := get(p.url("/healthz"))
		if err != nil {
			return false, err.Error()
		}
		if code != http.StatusOK {
			return false, fmt.Sprintf("%d %s", code, body)
		}
		if check == nil {
			return true, ""
		}
		var h map[string]any
		if err := json.Unmarshal(body, &h); err != nil {
			return false, err.Error()
		}
		return check(h)
	}, p)
}

// webReady accepts a web's /healthz once it has heard from n shards.
func webReady(n int) func(map[string]any) (bool, string) {
	return func(h map[string]any) (bool, string) {
		if live, _ := h["live_shards"].(float64); int(live) != n {
			return false, fmt.Sprintf("live_shards %v, want %d", h["live_shards"], n)
		}
		return true, ""
	}
}

// drainPost is one POST /logs.
type drainPost struct {
	body     []byte
	msgCount string // Logplex-Msg-Count; "" leaves it out
	frameID  string
	token    string
	ctype    string // default application/logplex-1
	user     string // basic auth when user or pass is set
	pass     string
}

// post sends d to url and returns the status code.
func (d drainPost) post(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	ct := d.ctype
	if ct == "" {
		ct = "application/logplex-1"
	}
	req.Header.Set("Content-Type", ct)
	if d.msgCount != "" {
		req.Header.Set("Logplex-Msg-Count", d.msgCount)
	}
	if d.frameID != "" {
		req.Header.Set("Logplex-Frame-Id", d.frameID)
	}
	if d.token != "" {
		req.Header.Set("Logplex-Drain-Token", d.token)
	}
	if d.user != "" || d.pass != "" {
		req.SetBasicAuth(d.user, d.pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
