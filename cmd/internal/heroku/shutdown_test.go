package heroku_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// TestSIGTERMWithRedisSlow stops a web dyno (receiver and dashboard)
// with SIGTERM while Redis answers nothing (its process stopped), with
// drain bodies accepted meanwhile that only the last cuts hold. Heroku
// kills a dyno 30 s after SIGTERM; the dyno must exit before, on its own
// terms, whether Redis comes back in time (the last cut is published:
// every event accepted reaches Redis) or not (the cuts are dropped and
// counted, and the exit still comes in time, even at the largest
// PUBLISH_TIMEOUT).
func TestSIGTERMWithRedisSlow(t *testing.T) {
	t.Parallel()
	const lines = 500
	for _, c := range []struct {
		name        string
		publishTTL  string
		resumeAfter time.Duration // 0: Redis stays stopped
	}{
		{"Redis back within PUBLISH_TIMEOUT", "8s", 2 * time.Second},
		{"Redis stuck past PUBLISH_TIMEOUT", "10s", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := redistest.StartTLS(t)
			env := herokuEnv(t)
			env["PUBLISH_TIMEOUT"] = c.publishTTL
			dynos := herokuDynos(t, s.URL(), env)
			startDynos(t, dynos)
			web := dynos[0]

			require.NoError(t, s.Pause())
			t.Cleanup(func() { s.Resume() })
			require.Equal(t, http.StatusNoContent, postDrain(t, web.port, lines, "pulse", env["DRAIN_AUTH"]), "the drain queues without Redis")
			require.Eventually(t, func() bool {
				_, body, _ := get("http://127.0.0.1:"+strconv.Itoa(web.port)+"/healthz", "", "")
				return parseHealth(body)["receiver_events"] == lines
			}, 10*time.Second, 20*time.Millisecond, "folded")

			start := time.Now()
			for _, d := range dynos {
				require.NoError(t, d.p.signal(syscall.SIGTERM))
			}
			if c.resumeAfter > 0 {
				time.Sleep(c.resumeAfter) // Redis slow for this long after SIGTERM
				require.NoError(t, s.Resume())
			}
			for _, d := range dynos {
				require.NoError(t, d.p.wait(30*time.Second), d.p.name)
				checkLogfmt(t, d.p)
			}
			took := time.Since(start)
			t.Logf("exited %v after SIGTERM", took.Round(time.Millisecond))
			assert.Less(t, took, 25*time.Second, "within the shutdown's own cap, under Heroku's 30 s")

			stopped := web.p.logLines("receiver stopped")
			require.Len(t, stopped, 1)
			assert.Equal(t, strconv.Itoa(lines), stopped[0]["events"])
			require.NoError(t, s.Resume())
			bs, _ := batches(t, s)
			if c.resumeAfter > 0 {
				assert.Equal(t, "0", stopped[0]["cuts_dropped"], "nothing dropped")
				assert.Equal(t, uint64(lines), events(t, bs), "every event accepted reached Redis, in cuts published after it came back")
				var last time.Time
				for _, b := range bs {
					if b.Time.After(last) {
						last = b.Time
					}
				}
				assert.True(t, last.After(start), "a cut made after SIGTERM was published")
			} else {
				assert.NotEqual(t, "0", stopped[0]["cuts_dropped"], "the cuts are dropped and counted")
				assert.NotEmpty(t, web.p.logLines("batch dropped: not published in time"))
				assert.Zero(t, events(t, bs), "nothing of the events reached Redis")
				assert.Empty(t, web.p.logLines("shutdown did not finish in time; exiting without waiting for the rest"), "PUBLISH_TIMEOUT's cap keeps the orderly shutdown within its budget")
			}
		})
	}
}

// parseHealth flattens /healthz's checks into one map of numbers.
func parseHealth(body []byte) map[string]float64 {
	var h struct{ Checks map[string]map[string]any }
	out := map[string]float64{}
	if json.Unmarshal(body, &h) != nil {
		return out
	}
	for _, fields := range h.Checks {
		for k, v := range fields {
			if f, ok := v.(float64); ok {
				out[k] = f
			}
		}
	}
	return out
}
