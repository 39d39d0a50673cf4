package dashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pulsehq/pulse/cmd/internal/run"
	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's chromium. The tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium with one tab, recording what the page
// writes to the console (calls, uncaught exceptions, browser log entries
// such as CSP violations and failed requests) and the JavaScript dialogs
// it opens (which it dismisses).
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	dialogs  []string
}

// newBrowser starts Chromium with a window of width × height, or skips
// the test when Chromium is missing (fails with PULSE_REQUIRE_SERVICES=1).
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PULSE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("chromium is missing (%v): apt-get install chromium (listed in .ci/packages)", err)
		}
		t.Skipf("chromium is missing (%v): install Debian's chromium package to run the dashboard's browser tests", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx) // starts the browser
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	// Fail on a browser that does not start, here rather than at the first use.
	_, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
	require.NoError(t, err, "starting %s", chromiumPath)
	return b
}

// navigate loads url and waits for its load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Navigate(url)), "navigate to %s", url)
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, "evaluate %s", js)
	return v
}

// frames waits for n animation frames of the page.
func (b *browser) frames(n int) {
	b.t.Helper()
	js := fmt.Sprintf(`new Promise(r => { let n = %d; const f = () => (--n > 0 ? requestAnimationFrame(f) : r(true)); requestAnimationFrame(f); })`, n)
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "waiting for %d frames", n)
}

// waitJS waits until the expression is true, failing with what after
// timeout.
func (b *browser) waitJS(js string, timeout time.Duration, what string, args ...any) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("after %v: %s (%s: %v)", timeout, fmt.Sprintf(what, args...), js, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errors returns the console errors, uncaught exceptions and browser log
// errors so far, but those whose text matches allow.
func (b *browser) errors(allow ...*regexp.Regexp) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, m := range b.messages {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		s := m.String()
		if m.URL != "" {
			s += " (" + m.URL + ")"
		}
		for _, re := range allow {
			if re.MatchString(s) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// opened returns the JavaScript dialogs the page opened so far.
func (b *browser) opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// screenshot writes a PNG of the whole page to PULSE_SCREENSHOT_DIR (or
// the test's temporary directory) and logs its path. The viewport grows to
// the page's height for it, as a wall screen would show it, so that the
// page draws every chart (it draws only those on screen).
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	size := eval[[]int64](b, `[innerWidth, innerHeight, Math.ceil(document.body.getBoundingClientRect().height)]`)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(size[0], max(size[1], size[2]))))
	b.frames(3)
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err, "screenshot")
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(size[0], size[1])))
	dir := os.Getenv("PULSE_SCREENSHOT_DIR")
	keep := dir != ""
	if !keep {
		dir = b.t.TempDir()
	} else {
		require.NoError(b.t, os.MkdirAll(dir, 0o755))
	}
	path := filepath.Join(dir, name)
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	if keep {
		b.t.Logf("screenshot: %s", path)
	} else {
		b.t.Logf("screenshot: %s (removed after the test; set PULSE_SCREENSHOT_DIR to keep it)", path)
	}
	return path
}

// startPulse runs `pulse run` in-process on a free port of the loopback
// interface with the given further flags, until the test ends, and
// returns its base URL ("http://127.0.0.1:port").
func startPulse(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	all := append([]string{"--port=127.0.0.1:0", "--redis-url=", "--log-level=info", "--role=all"}, args...)
	go func() {
		err := run.Main(ctx, "pulse run", "all", all, pw, pw)
		pw.Close()
		done <- err
	}()
	urls := make(chan string, 1)
	var logMu sync.Mutex
	var logTail []string
	go func() {
		re := regexp.MustCompile(`msg="dashboard: open (http://[^ /"]+)/`)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if m := re.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
			logMu.Lock()
			if logTail = append(logTail, line); len(logTail) > 50 {
				logTail = logTail[1:]
			}
			logMu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pulse run: %v", err)
		}
		if t.Failed() {
			logMu.Lock()
			t.Logf("pulse run's last log lines:\n%s", strings.Join(logTail, "\n"))
			logMu.Unlock()
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("pulse run stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("pulse run did not announce its dashboard within 30 s")
	}
	return ""
}

// latest is /stats/latest.
type latest struct {
	Time  time.Time                  `json:"time"`
	Stats map[string]json.RawMessage `json:"stats"`
}

func getLatest(t *testing.T, base string) latest {
	t.Helper()
	var l latest
	getJSON(t, base+"/stats/latest", &l)
	return l
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), url)
}

// waitFor polls cond every 100 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postDrain posts log messages (syslog lines without framing) to a drain
// endpoint as one Logplex body.
func postDrain(base string, msgs []string) error {
	var body bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&body, "%d %s\n", len(m)+1, m)
	}
	return postBody(base, body.Bytes(), len(msgs))
}

// postBody posts a Logplex body of n frames to base's /logs.
func postBody(base string, body []byte, n int) error {
	req, err := http.NewRequest(http.MethodPost, base+"/logs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/logplex-1")
	req.Header.Set("Logplex-Msg-Count", fmt.Sprint(n))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST /logs: %s: %s", resp.Status, b)
	}
	return nil
}

// mouseMove moves the mouse to (x, y) of the viewport.
func mouseMove(b *browser, x, y float64) error {
	return chromedp.Do(b.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonNone))
}
