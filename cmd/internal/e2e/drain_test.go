package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/window"
)

// TestDrain posts to the drain of `pulse run` as Logplex and strangers
// would: basic auth, a Logplex-Msg-Count that disagrees with the body, a
// retried Logplex-Frame-Id, an oversized body and another content type,
// and reads what the self-stats and the stats made of it.
func TestDrain(t *testing.T) {
	const user, pass = "drain", "s3cret"
	defs := writeDefs(t, linesDefs)
	p := start(t, "pulse run", "pulse", append([]string{
		"PORT=" + freePort(t), "DEMO=0", "MERGER_COUNT=1", "DEFS=" + defs,
		"DRAIN_AUTH=" + user + ":" + pass, "MAX_BODY=4096",
	}, fast...), "run")
	waitHealthy(t, p, startupTimeout, webReady(1))

	g := logfmttest.New(logfmttest.Options{Seed: 4, Start: time.Now().Add(-time.Second), Rate: 50})
	var frames [][]byte
	for range 40 {
		f, _ := g.Next(nil)
		frames = append(frames, f)
	}
	bodyA, bodyB := concat(frames[:3]), concat(frames[3:5])
	big := concat(frames[5:])
	if len(big) <= 4096 {
		t.Fatalf("the oversized body has %d bytes", len(big))
	}
	const token = "d.e2e-drain"
	url := p.url("/logs")
	steps := []struct {
		name string
		post drainPost
		want int
	}{
		{"no credentials", drainPost{body: bodyA, msgCount: "3", frameID: "A", token: token}, http.StatusUnauthorized},
		{"wrong password", drainPost{body: bodyA, msgCount: "3", frameID: "A", token: token, user: user, pass: "nope"}, http.StatusUnauthorized},
		{"wrong user", drainPost{body: bodyA, msgCount: "3", frameID: "A", token: token, user: "x", pass: pass}, http.StatusUnauthorized},
		{"accepted", drainPost{body: bodyA, msgCount: "3", frameID: "A", token: token, user: user, pass: pass}, http.StatusNoContent},
		{"retried frame id", drainPost{body: bodyA, msgCount: "3", frameID: "A", token: token, user: user, pass: pass}, http.StatusNoContent},
		{"msg count mismatch", drainPost{body: bodyB, msgCount: "5", frameID: "B", token: token, user: user, pass: pass}, http.StatusNoContent},
		{"oversized body", drainPost{body: big, msgCount: fmt.Sprint(len(frames) - 5), frameID: "C", token: token, user: user, pass: pass}, http.StatusRequestEntityTooLarge},
		{"not logplex", drainPost{body: bodyA, msgCount: "3", frameID: "D", token: token, user: user, pass: pass, ctype: "text/plain"}, http.StatusUnsupportedMediaType},
	}
	for _, s := range steps {
		code, err := s.post.post(context.Background(), url)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if code != s.want {
			t.Errorf("%s: status %d, want %d", s.name, code, s.want)
		}
	}

	// Self-stats are rates per second over 10 s: one request in 10 s is
	// 0.1. Events: bodies A (once) and B, 5 frames.
	want := map[string]string{
		"lines":                "5",
		window.StatEvents:      "0.5",
		selfstat.Duplicates:    "0.1",
		selfstat.MsgCount:      "0.1",
		selfstat.InputRejected: "0.5", // 3 unauthorized, 1 too large, 1 not logplex
	}
	poll(t, 15*time.Second, "the drain's figures in /stats/latest", func() (bool, string) {
		snap, err := latest(p)
		if err != nil {
			return false, err.Error()
		}
		var diffs []string
		for _, name := range sortedKeys(want) {
			if got := snap.Stats[name].String(); got != want[name] {
				diffs = append(diffs, fmt.Sprintf("%s = %s, want %s", name, got, want[name]))
			}
		}
		return len(diffs) == 0, fmt.Sprintf("at %v: %s", snap.Time.Format(time.TimeOnly), strings.Join(diffs, "; "))
	}, p)
	p.stop(t, 5*time.Second)
}

func concat(fs [][]byte) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f...)
	}
	return b
}
