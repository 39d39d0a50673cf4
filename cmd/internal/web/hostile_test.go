package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileHistoryNames sends the web snapshots in which every second
// brings 1 000 stat names never seen before (an l2met cardinality attack
// that got past the receivers' caps, or a forged snapshot): the history
// keeps MaxNames (5 000) names and counts every other point as overflow,
// the real stats keep their points, and memory is bounded: the heap after
// 200 000 new names is about what it was after 100 000.
func TestHostileHistoryNames(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	const perSecond = 1000
	name := 0
	feed := func(from, to int) {
		for s := from; s < to; s++ {
			kv := []any{"router.requests", s}
			for range perSecond {
				kv = append(kv, fmt.Sprintf("l2met.attack.%d", name), 1)
				name++
			}
			h.Add(0, snap(at(s), kv...))
		}
	}
	feed(0, 100)
	heap1 := heapInUse()
	feed(100, 200)
	heap2 := heapInUse()
	t.Logf("heap in use after %d names: %d KiB; after %d: %d KiB", 100*perSecond, heap1>>10, 200*perSecond, heap2>>10)
	assert.Less(t, float64(heap2), 1.1*float64(heap1)+float64(4<<20), "memory is bounded by MaxNames, not by the names sent")

	st := h.Stats()
	assert.Equal(t, DefaultMaxNames, st.Names)
	assert.EqualValues(t, 200*perSecond-(DefaultMaxNames-1), st.Overflow, "every point of a name past the cap is counted")
	assert.Len(t, points(h, "router.requests"), 200, "the real stat keeps every point")

	// /healthz shows the overflow.
	_, body := get(t, Handler(h, Config{}), "/healthz")
	var health struct{ Names, Overflow uint64 }
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.EqualValues(t, DefaultMaxNames, health.Names)
	assert.Equal(t, st.Overflow, health.Overflow)
}

// TestHostileHistoryShards adds snapshots of shards no merger has (as read
// from a Redis entry whose shard is out of range, -1) and of a time far
// ahead: each is refused and counted, and /healthz shows the count.
func TestHostileHistoryShards(t *testing.T) {
	h, clk := newHistory(t, HistoryConfig{})
	h.Add(-1, snap(at(1), "forged", 1))
	h.Add(0, snap(clk.Now().Add(time.Hour), "forged", 1))
	h.Add(0, snap(time.Time{}, "forged", 1))
	h.Add(0, snap(at(1), "router.requests", 1))
	st := h.Stats()
	assert.EqualValues(t, 3, st.Rejected)
	assert.Equal(t, 1, st.Shards)
	assert.Nil(t, points(h, "forged"))
	_, body := get(t, Handler(h, Config{}), "/healthz")
	var health struct{ Rejected uint64 }
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.EqualValues(t, 3, health.Rejected)
}

// TestHostileWebAuth sends wrong credentials to every path: each is
// answered 401, counted in /healthz's "unauthorized", and no answer
// carries either password.
func TestHostileWebAuth(t *testing.T) {
	const right, wrong = "s3cret-web-pw", "s3cret-wrong-guess"
	h, _ := filled(t)
	hd := Handler(h, Config{Auth: "admin:" + right})
	paths := []string{"/", "/app.js", "/stats", "/stats/latest", "/stats/stream", "/nope"}
	for _, p := range paths {
		resp, body := get(t, hd, p, withAuth("admin", wrong))
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, p)
		assert.NotContains(t, body, "s3cret", p)
		for k, vs := range resp.Header {
			assert.NotContains(t, strings.Join(vs, " "), "s3cret", "%s: header %s", p, k)
		}
	}
	resp, _ := get(t, hd, "/stats/latest")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "none given")
	resp, _ = get(t, hd, "/stats/latest", withAuth("admin", right))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the right one")

	_, body := get(t, hd, "/healthz")
	var health struct{ Unauthorized uint64 }
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.EqualValues(t, len(paths)+1, health.Unauthorized)
	assert.NotContains(t, body, "s3cret")
}

// heapInUse returns the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
