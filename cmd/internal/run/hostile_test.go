package run

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credentials of the tests below, none of which may reach a log, an
// error, a usage text or an answer.
const (
	drainSecret = "s3cret-drain-pw"
	webSecret   = "s3cret-web-pw"
	aortaSecret = "s3cret-aorta"
	redisSecret = "s3cret-redis-pw"
	wrongSecret = "s3cret-wrong-guess"
)

// TestHostileNoCredentialsInLogs runs the all-in-one with drain and web
// auth and an aorta input that cannot connect, at log level debug, and
// throws wrong credentials at it: every answer is 401 and counted, and
// neither the configured secrets nor the wrong guesses appear in the log
// or in any answer.
func TestHostileNoCredentialsInLogs(t *testing.T) {
	addr := freeAddr(t)
	env := map[string]string{
		"PORT": addr, "DEMO": "0", "LOG_LEVEL": "debug", "FLUSH_INTERVAL": "100ms",
		"DRAIN_AUTH": "pulse:" + drainSecret, "WEB_AUTH": "admin:" + webSecret,
		"AORTA_URLS": "aorta://" + aortaSecret + "@" + freeAddr(t),
	}
	cfg, err := parse(t, "all", env)
	require.NoError(t, err)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Start(ctx, *cfg, log) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("Start did not return")
		}
	}()

	base := "http://" + addr
	c := &http.Client{Timeout: 5 * time.Second}
	do := func(method, path, user, pass string, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/logplex-1")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var hs strings.Builder
		resp.Header.Write(&hs)
		return resp.StatusCode, hs.String() + string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := do("GET", "/healthz", "", "", ""); code != 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the server to listen")
		time.Sleep(20 * time.Millisecond)
	}

	msg := "<158>1 " + time.Now().UTC().Format(time.RFC3339Nano) + " host heroku router - at=info method=GET path=/ host=a.example.com status=200 service=12ms"
	frame := strconv.Itoa(len(msg)+1) + " " + msg + "\n"
	var answers []string
	for _, tc := range []struct {
		method, path, user, pass string
		want                     int
	}{
		{"POST", "/logs", "pulse", wrongSecret, http.StatusUnauthorized},
		{"POST", "/logs", wrongSecret, drainSecret, http.StatusUnauthorized},
		{"POST", "/logs", "", "", http.StatusUnauthorized},
		{"POST", "/logs", "admin", webSecret, http.StatusUnauthorized},
		{"GET", "/stats", "admin", wrongSecret, http.StatusUnauthorized},
		{"GET", "/stats/latest", "pulse", drainSecret, http.StatusUnauthorized},
		{"GET", "/", "", "", http.StatusUnauthorized},
		{"POST", "/logs", "pulse", drainSecret, http.StatusNoContent},
		{"GET", "/stats/latest", "admin", webSecret, http.StatusOK},
	} {
		code, answer := do(tc.method, tc.path, tc.user, tc.pass, frame)
		assert.Equal(t, tc.want, code, "%s %s as %s", tc.method, tc.path, tc.user)
		answers = append(answers, answer)
	}
	code, health := do("GET", "/healthz", "", "", "")
	require.NotZero(t, code)
	var h struct {
		Unauthorized uint64
		Checks       map[string]map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(health[strings.Index(health, "{"):]), &h), health)
	assert.EqualValues(t, 3, h.Unauthorized, "the web's 401s")
	assert.Contains(t, h.Checks, "http", "the connection counts")
	answers = append(answers, health)

	// The drain's 401s are counted too, and logged (at most once in 10 s).
	waitLog(t, &logs, "drain: unauthorized request")
	waitLog(t, &logs, "aorta: connection ended")
	for _, s := range []string{drainSecret, webSecret, aortaSecret, wrongSecret} {
		assert.NotContains(t, logs.String(), s, "the log")
		for _, a := range answers {
			assert.NotContains(t, a, s, "an answer")
		}
	}
}

// TestHostileRedisURLNotLogged starts a receiver whose REDIS_URL, with a
// password, names a port where no Redis listens: the process logs that
// Redis is not reachable and retries, with the URL redacted.
func TestHostileRedisURLNotLogged(t *testing.T) {
	env := map[string]string{
		"ROLE": "receiver", "REDIS_URL": "redis://pulse:" + redisSecret + "@" + freeAddr(t) + "/0", "LOG_LEVEL": "debug",
	}
	cfg, err := parse(t, "all", env)
	require.NoError(t, err)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Start(ctx, *cfg, log) }()
	waitLog(t, &logs, "redis not reachable; retrying")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return")
	}
	assert.Contains(t, logs.String(), "pulse:xxxxx@", "the URL, redacted")
	assert.NotContains(t, logs.String(), redisSecret)
}

// TestHostileUsageHidesCredentials runs pulse run with credentials in
// the environment and a mistyped flag, and with -h: the usage on stderr
// names the variables but shows none of their values.
func TestHostileUsageHidesCredentials(t *testing.T) {
	t.Setenv("DRAIN_AUTH", "pulse:"+drainSecret)
	t.Setenv("WEB_AUTH", "admin:"+webSecret)
	t.Setenv("REDIS_URL", "redis://:"+redisSecret+"@127.0.0.1:1/0")
	t.Setenv("AORTA_URLS", "aorta://"+aortaSecret+"@127.0.0.1:2")
	for _, args := range [][]string{{"--no-such-flag"}, {"-h"}} {
		var stdout, stderr bytes.Buffer
		_ = Main(t.Context(), "pulse run", "all", args, &stdout, &stderr)
		out := stdout.String() + stderr.String()
		assert.Contains(t, out, "DRAIN_AUTH", args)
		for _, s := range []string{drainSecret, webSecret, redisSecret, aortaSecret} {
			assert.NotContains(t, out, s, args)
		}
	}
}

// freeAddr returns a loopback address where nothing listens (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// waitLog waits for a line containing s in logs.
func waitLog(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", s, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
