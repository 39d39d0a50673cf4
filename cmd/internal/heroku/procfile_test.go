package heroku_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// startup bounds how long a process may take to answer /healthz with
// 200: for a web, until the first merged snapshot reaches it.
const startup = 30 * time.Second

// dyno is one process of a formation under test.
type dyno struct {
	typ, command string
	env          map[string]string
	port         int // 0: no PORT, as Heroku gives a worker dyno none
	p            *process
}

// startDynos starts every dyno, then waits for each with a port to answer
// /healthz with 200.
func startDynos(t *testing.T, dynos []*dyno) {
	t.Helper()
	for _, d := range dynos {
		if d.port != 0 {
			d.env["PORT"] = strconv.Itoa(d.port)
		}
		d.p = startProcess(t, d.env["DYNO"]+" ("+d.command+")", d.command, d.env)
	}
	for _, d := range dynos {
		if d.port != 0 {
			waitHealthy(t, d.p, d.port, startup)
		}
	}
}

// stopDynos sends SIGTERM to every dyno, as Heroku does, and checks that
// each exits cleanly within the platform's 30 s, having logged only in
// logfmt on stdout and nothing on stderr.
func stopDynos(t *testing.T, dynos []*dyno) {
	t.Helper()
	for _, d := range dynos {
		require.NoError(t, d.p.signal(syscall.SIGTERM))
	}
	for _, d := range dynos {
		assert.NoError(t, d.p.wait(30*time.Second), d.p.name)
		checkLogfmt(t, d.p)
		assert.Empty(t, d.p.stderr.String(), "%s wrote to stderr", d.p.name)
		assert.Len(t, d.p.logLines("stopped"), 1, "%s logged its orderly stop", d.p.name)
	}
}

// herokuDynos is the formation of app.json and the Procfile as Heroku
// runs it: each process type once, DYNO set, PORT for web only, and the
// environment app.json declares plus the add-on's REDIS_URL.
func herokuDynos(t *testing.T, redisURL string, env map[string]string) []*dyno {
	t.Helper()
	var dynos []*dyno
	for _, pt := range procfile(t, "Procfile") {
		e := maps.Clone(env)
		e["REDIS_URL"] = redisURL
		e["DYNO"] = pt[0] + ".1"
		d := &dyno{typ: pt[0], command: pt[1], env: e}
		if pt[0] == "web" {
			d.port = freePort(t)
		}
		dynos = append(dynos, d)
	}
	return dynos
}

// TestProcfileOnHeroku runs the Procfile with the environment of an app
// made from app.json, against a TLS-only Redis with a self-signed
// certificate, as Heroku Key-Value Store is: the web dyno serves the
// drain and the dashboard on PORT behind the generated secrets (user
// pulse), a drain body reaches the dashboard through the merger, and
// every dyno stops within 30 s of SIGTERM.
func TestProcfileOnHeroku(t *testing.T) {
	t.Parallel()
	s := redistest.StartTLS(t)
	env := herokuEnv(t)
	dynos := herokuDynos(t, s.URL(), env)
	require.Len(t, dynos, 2)
	startDynos(t, dynos)
	web := dynos[0]
	require.Equal(t, "web", web.typ)
	base := "http://127.0.0.1:" + strconv.Itoa(web.port)

	assert.Equal(t, http.StatusUnauthorized, postDrain(t, web.port, 10, "", ""), "a drain without DRAIN_AUTH")
	assert.Equal(t, http.StatusUnauthorized, postDrain(t, web.port, 10, "pulse", env["WEB_AUTH"]), "a drain with the web's password")
	assert.Equal(t, http.StatusNoContent, postDrain(t, web.port, 100, "pulse", env["DRAIN_AUTH"]))

	status, _, err := get(base+"/", "", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, status, "the dashboard without WEB_AUTH")
	status, _, err = get(base+"/", "pulse", env["WEB_AUTH"])
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	waitStat(t, base, "pulse", env["WEB_AUTH"], "router.requests")

	stopDynos(t, dynos)
	assert.Contains(t, web.p.stdout.String(), "heroku drains:add https://pulse:<DRAIN_AUTH password>@<this host>/logs", "the web dyno says how to add a drain")
}

// TestProcfileTwoApps runs the second layout: a receiver app (the
// Procfile's web with ROLE=receiver, and its merger) and a dashboard app
// (the web with ROLE=web), each with app.json's environment, sharing one
// Redis.
func TestProcfileTwoApps(t *testing.T) {
	t.Parallel()
	s := redistest.StartTLS(t)
	recvEnv, dashEnv := herokuEnv(t), herokuEnv(t)
	recvEnv["ROLE"], dashEnv["ROLE"] = "receiver", "web"
	dynos := herokuDynos(t, s.URL(), recvEnv)
	dash := herokuDynos(t, s.URL(), dashEnv)[0]
	require.Equal(t, "web", dash.typ)
	dynos = append(dynos, dash)
	startDynos(t, dynos)

	assert.Equal(t, http.StatusNoContent, postDrain(t, dynos[0].port, 100, "pulse", recvEnv["DRAIN_AUTH"]))
	waitStat(t, "http://127.0.0.1:"+strconv.Itoa(dash.port), "pulse", dashEnv["WEB_AUTH"], "router.requests")
	status, _, err := get("http://127.0.0.1:"+strconv.Itoa(dynos[0].port)+"/", "pulse", recvEnv["WEB_AUTH"])
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "the receiver app serves no dashboard")
	stopDynos(t, dynos)
}

// TestProcfileLocal runs both Procfiles as a Procfile runner does on a
// workstation: .env.sample's environment, a plain redis:// URL, and a
// PORT for every process (goreman and foreman count from 5000 by 100),
// each of which answers /healthz.
func TestProcfileLocal(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Procfile", "Procfile.local"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := redistest.Start(t)
			var dynos []*dyno
			for _, pt := range procfile(t, name) {
				env := readEnvFile(t, ".env.sample")
				env["REDIS_URL"] = s.URL()
				env["DYNO"] = "" // not on Heroku
				dynos = append(dynos, &dyno{typ: pt[0], command: pt[1], env: env, port: freePort(t)})
			}
			startDynos(t, dynos)
			recv := dynos[0]
			require.Contains(t, []string{"web", "receiver"}, recv.typ)
			assert.Equal(t, http.StatusNoContent, postDrain(t, recv.port, 100, "", ""))
			web := dynos[len(dynos)-1]
			if name == "Procfile" {
				web = dynos[0]
			}
			waitStat(t, "http://127.0.0.1:"+strconv.Itoa(web.port), "", "", "router.requests")
			stopDynos(t, dynos)
		})
	}
}

// waitStat polls the web's /stats/latest until the stat name is above
// zero.
func waitStat(t *testing.T, base, user, pass, name string) {
	t.Helper()
	deadline := time.Now().Add(startup)
	var last string
	for time.Now().Before(deadline) {
		status, body, err := get(base+"/stats/latest", user, pass)
		if err == nil && status == http.StatusOK {
			var snap struct{ Stats map[string]any }
			if json.Unmarshal(body, &snap) == nil {
				if v, ok := snap.Stats[name].(float64); ok && v > 0 {
					return
				}
			}
		}
		last = strconv.Itoa(status) + " " + strings.TrimSpace(string(body))
		if len(last) > 300 {
			last = last[:300]
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never above zero in %s/stats/latest; last: %s", name, base, last)
}

// TestREADMEShowsProcfile checks that "Running as a Heroku app" shows the
// Procfile as it is.
func TestREADMEShowsProcfile(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	p, err := os.ReadFile(filepath.Join(root, "Procfile"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```\n"+string(p)+"```\n")
}

// TestProcfileUnverifiedTLS runs the web dyno against Heroku Key-Value
// Store's kind of server without REDIS_TLS_SKIP_VERIFY: verification is
// on, fails, and the dyno stops at once (a crash Heroku shows in heroku
// logs) with an error that names the settings that fix it.
func TestProcfileUnverifiedTLS(t *testing.T) {
	t.Parallel()
	s := redistest.StartTLS(t)
	env := herokuEnv(t)
	delete(env, "REDIS_TLS_SKIP_VERIFY")
	web := herokuDynos(t, s.URL(), env)[0]
	web.env["PORT"] = strconv.Itoa(freePort(t))
	p := startProcess(t, "web.1", web.command, web.env)
	err := p.wait(15 * time.Second)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "exits with an error")
	assert.Equal(t, 1, exit.ExitCode())
	failed := parseLogfmt(p.stderr.String())
	assert.Equal(t, "pulse run failed", failed["msg"])
	assert.Contains(t, failed["err"], "REDIS_URL: bus: redis ping "+s.Addr()+": server certificate not trusted: tls: failed to verify certificate")
	assert.Contains(t, failed["err"], "set REDIS_TLS_CA to a PEM file of the certificate authority that signed it, or REDIS_TLS_SKIP_VERIFY=1")
}
