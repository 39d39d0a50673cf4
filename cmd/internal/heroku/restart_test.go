package heroku_test

import (
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/window"
)

// TestRestartedDyno restarts a web dyno as Heroku does (daily, or on a
// deploy): the new process has the same DYNO, web.1, and its sequence
// numbers start again from 1. Each incarnation's batches carry a per-boot
// id besides the dyno's name, so the merger applies both incarnations'
// batches and drops none as duplicates. A control shows why: the second
// incarnation's batches under the first's name would be dropped.
func TestRestartedDyno(t *testing.T) {
	t.Parallel()
	s := redistest.StartTLS(t)
	env := herokuEnv(t)
	dynos := herokuDynos(t, s.URL(), env)
	web, merger := dynos[0], dynos[1]
	merger.port = freePort(t) // to read its /healthz; Heroku gives a worker no PORT
	startDynos(t, []*dyno{merger})

	sent := []int{300, 200}
	for i, n := range sent {
		startDynos(t, []*dyno{web})
		require.Equal(t, "web.1", web.env["DYNO"])
		require.Equal(t, http.StatusNoContent, postDrain(t, web.port, n, "pulse", env["DRAIN_AUTH"]), "incarnation %d", i+1)
		require.NoError(t, web.p.signal(syscall.SIGTERM))
		require.NoError(t, web.p.wait(30*time.Second))
		stopped := web.p.logLines("receiver stopped")
		require.Len(t, stopped, 1)
		require.Equal(t, strconv.Itoa(n), stopped[0]["events"], "incarnation %d", i+1)
		require.Equal(t, "0", stopped[0]["cuts_dropped"], "incarnation %d", i+1)
	}

	bs, raw := batches(t, s)
	incarnations := map[string][]fragment.Batch{} // by boot: web.1.<boot>
	for _, b := range bs {
		require.True(t, strings.HasPrefix(b.Source, "web.1."), "source %q names the dyno", b.Source)
		boot, _, _ := strings.Cut(b.Source, "/")
		incarnations[boot] = append(incarnations[boot], b)
	}
	require.Len(t, incarnations, 2, "two incarnations of web.1, told apart by their boot ids")
	for boot, ib := range incarnations {
		assert.Equal(t, uint64(1), minSeq(ib), "%s's sequence starts at 1", boot)
	}

	// The merger read every batch and dropped none.
	require.Eventually(t, func() bool {
		_, body, _ := get("http://127.0.0.1:"+strconv.Itoa(merger.port)+"/healthz", "", "")
		return parseHealth(body)["merger_batches"] == float64(len(bs))
	}, 10*time.Second, 50*time.Millisecond, "the merger read all %d batches", len(bs))
	_, body, err := get("http://127.0.0.1:"+strconv.Itoa(merger.port)+"/healthz", "", "")
	require.NoError(t, err)
	h := parseHealth(body)
	assert.Zero(t, h["merger_duplicates"], "no batch of either incarnation dropped as a duplicate")
	assert.Zero(t, h["merger_apply_errors"])
	assert.Equal(t, uint64(sent[0]+sent[1]), events(t, bs), "both incarnations' events are in the batches the merger applied")

	// Control: applied as the merger applies them, but with the second
	// incarnation renamed to the first's source, its batches are
	// duplicates.
	apply := func(rename bool) (dups int) {
		d, err := defs.Load("")
		require.NoError(t, err)
		set, err := window.NewDefSet(d, &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
		require.NoError(t, err)
		require.NoError(t, set.Advance(time.Now()))
		a := fragment.NewApplier(set, nil, nil)
		first := strings.SplitN(bs[0].Source, "/", 2)[0]
		for i, b := range bs {
			data := raw[i]
			if boot, worker, _ := strings.Cut(b.Source, "/"); rename && boot != first {
				b.Source = first + "/" + worker
				data, err = b.MarshalBinary()
				require.NoError(t, err)
			}
			res, err := a.Apply(data)
			require.NoError(t, err)
			if res.Duplicate {
				dups++
			}
		}
		return dups
	}
	assert.Zero(t, apply(false), "as sent: no duplicates")
	assert.Positive(t, apply(true), "under one name, the restarted dyno's batches would be dropped")

	require.NoError(t, merger.p.signal(syscall.SIGTERM))
	require.NoError(t, merger.p.wait(30*time.Second))
	stopped := merger.p.logLines("merger stopped")
	require.Len(t, stopped, 1)
	assert.Equal(t, "0", stopped[0]["duplicates"])
}

func minSeq(bs []fragment.Batch) uint64 {
	m := bs[0].Seq
	for _, b := range bs {
		m = min(m, b.Seq)
	}
	return m
}
