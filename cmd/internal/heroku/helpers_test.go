package heroku_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
)

// root is the module's root directory, where app.json and the Procfiles
// are.
var root = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("no go.mod above " + dir)
		}
		dir = parent
	}
}()

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// bin builds the commands (go build ./cmd/...) once per test binary, as
// the buildpack's go install does, and returns the directory holding
// them: pulse, receiver, merger and web.
func bin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "pulse-heroku-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "./cmd/...")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// procfile reads a Procfile's process types and commands, in order.
func procfile(t testing.TB, name string) [][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	require.NoError(t, err)
	var out [][2]string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		typ, cmd, ok := strings.Cut(line, ":")
		require.True(t, ok, "%s: %q is not TYPE: COMMAND", name, line)
		out = append(out, [2]string{strings.TrimSpace(typ), strings.TrimSpace(cmd)})
	}
	return out
}

// appJSON is app.json as Heroku reads it.
type appJSON struct {
	Name        string
	Description string
	Env         map[string]struct {
		Description string
		Value       string
		Required    *bool
		Generator   string
	}
	Formation map[string]struct {
		Quantity int
		Size     string
	}
	Addons     []json.RawMessage
	Buildpacks []struct{ URL string }
}

func readAppJSON(t testing.TB) appJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "app.json"))
	require.NoError(t, err)
	var a appJSON
	require.NoError(t, json.Unmarshal(b, &a))
	return a
}

// herokuEnv is the environment Heroku gives an app made from app.json:
// each variable's value, and for a generated secret a random one of 64
// hexadecimal digits, as Heroku generates.
func herokuEnv(t testing.TB) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range readAppJSON(t).Env {
		switch {
		case v.Generator == "secret":
			env[k] = secret()
		default:
			env[k] = v.Value
		}
	}
	return env
}

func secret() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// process is one running Procfile process: sh -c "exec COMMAND" in a
// process group of its own, as a dyno runs it (bash -c, which executes a
// simple command in place of the shell).
type process struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when it has exited
	err    error         // its exit, once done
}

// startProcess runs command with sh -c exec, the bin directory first on PATH,
// and env on top of this process's environment. The process group is
// killed when t ends.
func startProcess(t testing.TB, name, command string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command("sh", "-c", "exec "+command)
	cmd.Dir = root
	cmd.Env = os.Environ()
	cmd.Env = append(cmd.Env, "PATH="+bin(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{name: name, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start(), name)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("%s stdout:\n%s", name, p.stdout)
			t.Logf("%s stderr:\n%s", name, p.stderr)
		}
	})
	return p
}

// signal sends sig to the process group, as Heroku sends SIGTERM to
// every process of a dyno.
func (p *process) signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// wait waits up to d for the process to exit, and returns its exit error
// or an error saying it did not exit.
func (p *process) wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		return fmt.Errorf("%s did not exit within %v", p.name, d)
	}
}

// logLines returns the process's stdout lines that have msg, parsed.
func (p *process) logLines(msg string) []map[string]string {
	var out []map[string]string
	for line := range strings.Lines(p.stdout.String()) {
		kv := parseLogfmt(line)
		if kv["msg"] == msg {
			out = append(out, kv)
		}
	}
	return out
}

// parseLogfmt reads a log line with Pulse's own parser.
func parseLogfmt(line string) map[string]string {
	var ev logfmt.Event
	logfmt.ParseBody([]byte(strings.TrimRight(line, "\n")), &ev)
	kv := map[string]string{}
	for pr := range ev.Pairs() {
		kv[string(pr.Key)] = string(pr.Value)
	}
	return kv
}

// checkLogfmt checks that every line the process wrote to stdout is a
// log record in logfmt, as slog's TextHandler writes it: time, level and
// msg first.
func checkLogfmt(t testing.TB, p *process) {
	t.Helper()
	n := 0
	for line := range strings.Lines(p.stdout.String()) {
		n++
		var ev logfmt.Event
		logfmt.ParseBody([]byte(strings.TrimRight(line, "\n")), &ev)
		var keys []string
		for pr := range ev.Pairs() {
			keys = append(keys, string(pr.Key))
		}
		if len(keys) < 3 || keys[0] != "time" || keys[1] != "level" || keys[2] != "msg" {
			t.Errorf("%s: stdout line %d is not a logfmt record (keys %q): %q", p.name, n, keys, line)
		}
	}
	if n == 0 {
		t.Errorf("%s wrote nothing to stdout", p.name)
	}
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHealthy polls http://127.0.0.1:port/healthz until it answers 200,
// and returns its JSON body.
func waitHealthy(t testing.TB, p *process, port int, within time.Duration) map[string]any {
	t.Helper()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before %s answered 200", p.name, p.err, url)
		default:
		}
		status, body, err := get(url, "", "")
		if err == nil && status == http.StatusOK {
			var v map[string]any
			require.NoError(t, json.Unmarshal(body, &v), "%s: %s", url, body)
			return v
		}
		last = fmt.Sprintf("%d %s %v", status, body, err)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: no 200 from %s within %v; last: %s", p.name, url, within, last)
	return nil
}

// get sends GET url with basic auth when user is set.
func get(url, user, pass string) (int, []byte, error) {
	return do(http.MethodGet, url, user, pass, "", nil)
}

func do(method, url, user, pass, contentType string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// drainBody is a Logplex drain body of n router lines stamped now, as
// octet-counted RFC 5424 frames.
func drainBody(n int, now time.Time) []byte {
	var b bytes.Buffer
	ts := now.UTC().Format("2006-01-02T15:04:05.000000+00:00")
	for i := range n {
		frame := fmt.Sprintf("<158>1 %s host heroku router - at=info method=GET path=\"/%d\" host=app.example.com request_id=%d fwd=\"10.0.0.1\" dyno=web.1 connect=1ms service=%dms status=200 bytes=512 protocol=https\n",
			ts, i, i, 5+i%50)
		fmt.Fprintf(&b, "%d %s", len(frame), frame)
	}
	return b.Bytes()
}

// postDrain posts a drain body of n lines as Logplex does.
func postDrain(t testing.TB, port, n int, user, pass string) int {
	t.Helper()
	status, body, err := do(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(port)+"/logs", user, pass,
		"application/logplex-1", drainBody(n, time.Now()))
	require.NoError(t, err)
	_ = body
	return status
}

// readEnvFile reads KEY=VALUE lines, skipping comments and blank lines,
// as Procfile runners read .env.
func readEnvFile(t testing.TB, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, name))
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not KEY=VALUE", name, line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test at
// once.
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
