package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/httpserve"
	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// The drain's hostile-input tests (RELIABILITY.md lists them): a real
// receiver behind a real HTTP server with Pulse's bounds (timeouts
// shortened), over a memory bus. Each hostile request gets its status and
// its counter; a good client's bodies go on being folded and published
// between them, and at the end the bus holds exactly the good traffic;
// the heap has not grown with what was refused; and no credential, right
// or wrong, reached the log.

const (
	drainUser     = "pulse"
	drainPassword = "s3cret-drain-pw"
	wrongPassword = "s3cret-wrong-guess"
)

type hostileDrain struct {
	t    *testing.T
	r    *Receiver
	ln   *httpserve.Listener
	url  string
	logs *logbuf.Buffer
	c    *http.Client
	good [][]byte // every body the good client posted and got 204 for
	seed uint64
}

func newHostileDrain(t *testing.T) (*hostileDrain, func(int) map[string]uint64) {
	t.Helper()
	m := newMemory(t)
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := New(Config{
		Defs: def.Heroku(), Flush: 50 * time.Millisecond, Source: "hostile",
		Drain: input.DrainConfig{Auth: drainUser + ":" + drainPassword},
	}, m, log)
	require.NoError(t, err)
	run(t, r)

	srv := httpserve.NewServer("", r.Handler())
	srv.ReadHeaderTimeout = 300 * time.Millisecond
	srv.ReadTimeout = 500 * time.Millisecond
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := httpserve.Limit(raw, 0, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserve.ServeGrace(ctx, srv, ln, 0) }()
	t.Cleanup(func() { cancel(); <-done })

	h := &hostileDrain{t: t, r: r, ln: ln, url: "http://" + raw.Addr().String() + "/logs", logs: logs,
		c: &http.Client{Timeout: 10 * time.Second}}
	return h, func(shards int) map[string]uint64 { return counts(t, m, shards) }
}

// post sends body with the right credentials, Logplex's headers and
// edit's changes, and returns the status.
func (h *hostileDrain) post(body io.Reader, msgCount string, edit func(*http.Request)) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url, body)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/logplex-1")
	if msgCount != "" {
		req.Header.Set("Logplex-Msg-Count", msgCount)
	}
	req.SetBasicAuth(drainUser, drainPassword)
	if edit != nil {
		edit(req)
	}
	resp, err := h.c.Do(req)
	require.NoError(h.t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// postGood posts a body of 10 generated frames, as a good drain would
// between the hostile requests, and requires a 204.
func (h *hostileDrain) postGood() {
	h.t.Helper()
	h.seed++
	b := drainBody(h.seed, time.Now().Add(-time.Second), 10)
	require.Equal(h.t, http.StatusNoContent, h.post(bytes.NewReader(b), "10", nil), "a good body")
	h.good = append(h.good, b)
}

// frame octet-counts a syslog message as Logplex does.
func frame(msg string) string { return strconv.Itoa(len(msg)+1) + " " + msg + "\n" }

// routerMsg is a router line at t.
func routerMsg(t time.Time) string {
	return "<158>1 " + t.UTC().Format(time.RFC3339Nano) + " host heroku router - at=info method=GET path=/ host=hostile.example.com fwd=\"1.2.3.4\" dyno=web.1 connect=1ms service=12ms status=200 bytes=512"
}

// heapInUse returns the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func TestHostileDrain(t *testing.T) {
	h, busCounts := newHostileDrain(t)
	h.postGood()
	base := heapInUse()
	var extra [][]byte // hostile bodies whose frames are folded, for the expected counts

	t.Run("Logplex-Msg-Count disagrees with the frames", func(t *testing.T) {
		now := time.Now().Add(-time.Second)
		b := frame(routerMsg(now)) + frame(routerMsg(now)) + frame(routerMsg(now))
		assert.Equal(t, http.StatusNoContent, h.post(strings.NewReader(b), "5", nil))
		extra = append(extra, []byte(b))
		require.Eventually(t, func() bool { return busCounts(1)[selfstat.MsgCount] == 1 }, 5*time.Second, 10*time.Millisecond, "pulse.msgcount")
		h.postGood()
	})
	t.Run("Logplex-Msg-Count of 10^12", func(t *testing.T) {
		now := time.Now().Add(-time.Second)
		b := frame(routerMsg(now))
		assert.Equal(t, http.StatusNoContent, h.post(strings.NewReader(b), "1000000000000", nil))
		extra = append(extra, []byte(b))
		assert.EqualValues(t, 1, h.r.Stats().DrainBadMsgCount, "counted, and not checked against the frames")
		h.postGood()
	})
	t.Run("octet count of 10^12", func(t *testing.T) {
		b := "1000000000000 " + routerMsg(time.Now().Add(-time.Second)) + "\n"
		assert.Equal(t, http.StatusNoContent, h.post(strings.NewReader(b), "1", nil))
		extra = append(extra, []byte(frame(routerMsg(time.Now())))) // the reader resynchronises: the frame is folded
		require.Eventually(t, func() bool { return busCounts(1)[selfstat.Mismatches] == 1 }, 5*time.Second, 10*time.Millisecond, "pulse.mismatches")
		h.postGood()
	})
	t.Run("10 MB line", func(t *testing.T) {
		line := bytes.Repeat([]byte("x"), 10<<20)
		assert.Equal(t, http.StatusRequestEntityTooLarge, h.post(bytes.NewReader(line), "1", nil), "with a Content-Length")
		assert.Equal(t, http.StatusRequestEntityTooLarge, h.post(io.MultiReader(bytes.NewReader(line)), "1", nil), "chunked: cut off at MaxBody")
		assert.EqualValues(t, 2, h.r.Stats().DrainTooLarge)
		h.postGood()
	})
	t.Run("oversized body", func(t *testing.T) {
		f := frame(routerMsg(time.Now()))
		b := bytes.Repeat([]byte(f), input.DefaultMaxBody/len(f)+1)
		require.Greater(t, len(b), input.DefaultMaxBody)
		assert.Equal(t, http.StatusRequestEntityTooLarge, h.post(bytes.NewReader(b), "", nil))
		assert.EqualValues(t, 3, h.r.Stats().DrainTooLarge)
		h.postGood()
	})
	t.Run("binary junk", func(t *testing.T) {
		junk := make([]byte, 256<<10)
		rnd := mrand.New(mrand.NewPCG(5, 0))
		for i := range junk {
			junk[i] = byte(rnd.Uint32())
		}
		assert.Equal(t, http.StatusNoContent, h.post(bytes.NewReader(junk), "", nil))
		require.Eventually(t, func() bool { return busCounts(1)[window.StatUnparsed] > 0 }, 5*time.Second, 10*time.Millisecond, "pulse.unparsed")
		h.postGood()
	})
	t.Run("wrong auth", func(t *testing.T) {
		body := func() io.Reader { return strings.NewReader(frame(routerMsg(time.Now()))) }
		assert.Equal(t, http.StatusUnauthorized, h.post(body(), "1", func(r *http.Request) { r.SetBasicAuth(drainUser, wrongPassword) }))
		assert.Equal(t, http.StatusUnauthorized, h.post(body(), "1", func(r *http.Request) { r.SetBasicAuth(wrongPassword, drainPassword) }))
		assert.Equal(t, http.StatusUnauthorized, h.post(body(), "1", func(r *http.Request) { r.Header.Del("Authorization") }))
		assert.EqualValues(t, 3, h.r.Stats().DrainUnauthorized)
		assert.Contains(t, h.logs.String(), "drain: unauthorized request", "a log line (at most one every 10 s)")
		h.postGood()
	})
	t.Run("slow body", func(t *testing.T) {
		// Headers at once, then a byte every 50 ms: the server's
		// ReadTimeout (500 ms here) ends the body, the handler answers
		// 400 and counts a read error.
		pr, pw := io.Pipe()
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for range 100 {
				<-tick.C
				if _, err := pw.Write([]byte("1")); err != nil {
					return
				}
			}
			pw.Close()
		}()
		start := time.Now()
		assert.Equal(t, http.StatusBadRequest, h.post(pr, "", nil))
		pr.Close()
		assert.Less(t, time.Since(start), 4*time.Second, "cut off at the read timeout")
		assert.EqualValues(t, 1, h.r.Stats().DrainReadErrors)
		require.Eventually(t, func() bool { return h.ln.Stats().Timeouts >= 1 }, 2*time.Second, 10*time.Millisecond, "the timeout counted")
		h.postGood()
	})

	// Every good body and every folded hostile frame is on the bus; the
	// refused ones are counted as rejected, nothing else.
	want := foldCounts(t, append(append([][]byte{}, h.good...), extra...), false)
	require.Eventually(t, func() bool {
		got := busCounts(1)
		return got[window.StatEvents] >= want[window.StatEvents] && got["router.requests"] >= want["router.requests"]
	}, 10*time.Second, 10*time.Millisecond, "every good event published")

	got := busCounts(1)
	for name, n := range want {
		if name == window.StatUnparsed {
			continue // the junk adds to it
		}
		assert.Equal(t, n, got[name], "%s", name)
	}
	require.Eventually(t, func() bool {
		return busCounts(1)[selfstat.InputRejected] == 3+3
	}, 5*time.Second, 10*time.Millisecond, "pulse.input.rejected")

	// Every input counter is in /healthz's fields, those that no pulse.*
	// stat carries among them.
	health, err := h.r.Health()
	require.NoError(t, err)
	in := health["input"].(map[string]int64)
	assert.EqualValues(t, 3, in["drain.too_large"])
	assert.EqualValues(t, 3, in["drain.unauthorized"])
	assert.EqualValues(t, 1, in["drain.bad_msg_count"])
	assert.EqualValues(t, 1, in["drain.read_errors"])

	// The refused bodies left nothing behind.
	grown := int64(heapInUse()) - int64(base)
	t.Logf("heap in use grew by %d KiB", grown>>10)
	assert.Less(t, grown, int64(16<<20), "heap in use after the hostile requests")

	for _, secret := range []string{drainPassword, wrongPassword} {
		assert.NotContains(t, h.logs.String(), secret, "no credential in the log")
	}
}

// TestHostileCardinality folds lines that each bring a new host, path,
// l2met metric name and dyno through a receiver's set of the default
// definitions: memory stays within the caps (the heap after 200 000 such
// lines is about what it was after 100 000; 48 000 and 24 000 under the
// race detector), and the overflow counters
// say what was left out: pulse.overflow for l2met metrics past
// max-metrics, LastBy.Overflow for dyno partitions past 10 000, and the
// top-k's error bound for hosts past its capacity.
func TestHostileCardinality(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 24_000 // still 12 000 new dynos a bucket, past the cap of 10 000
	}
	set, err := window.NewDefSet(def.Heroku(), &window.SetOptions{Clock: window.ManualClock, SelfStats: selfstat.Defs()})
	require.NoError(t, err)
	now := time.Now().Truncate(time.Second)
	require.NoError(t, set.Advance(now))

	rd := logfmt.NewReader(nil, nil)
	var body []byte
	fold := func(from, to int) {
		for i := from; i < to; i++ {
			ts := now.Add(-time.Duration(i%2) * time.Second).UTC().Format(time.RFC3339Nano)
			msg := fmt.Sprintf("<158>1 %s host heroku router - at=info method=GET path=/p/%d host=h%d.example.com dyno=web.%d service=%dms status=200 bytes=10 sample#memory_total=%dMB count#m%d=1",
				ts, i, i, i, i%1000, i%512, i)
			body = append(body, frame(msg)...)
			if len(body) > 32<<10 || i == to-1 {
				foldBody(t, rd, set, body)
				body = body[:0]
			}
		}
	}
	fold(0, n)
	at := now.Add(time.Second)
	heap1 := heapInUse()
	fold(n, 2*n)
	heap2 := heapInUse()
	t.Logf("heap in use after %d lines: %d KiB; after %d: %d KiB", n, heap1>>10, 2*n, heap2>>10)
	assert.Less(t, float64(heap2), 1.1*float64(heap1)+float64(4<<20), "memory is bounded by the caps, not by the lines")

	snap, err := set.Snapshot(at)
	require.NoError(t, err)
	overflow, _ := snap.Stats[window.StatOverflow].Number()
	// l2met: max-metrics (1000) metric names are kept, sample#memory_total
	// among them; every later new name is counted, once per line.
	assert.Greater(t, overflow*60, float64(2*n-def.DefaultL2metMetrics-1), "pulse.overflow counts the l2met names past the cap (a rate per second over a minute)")

	var lb = readLastBy(t, set, "dyno.memory", at)
	assert.Greater(t, lb.Overflow(), uint64(2*n-20_000), "the dyno partitions past the cap are counted")
	assert.LessOrEqual(t, lb.Len(), 2*10_000, "at most 10 000 partitions a bucket")

	top := snap.Stats["router.hosts.top"]
	bound, ok := top.TopBound()
	require.True(t, ok, "router.hosts.top is a top-k")
	assert.Positive(t, bound, "the top-k says how far its counts may be off")
	assert.LessOrEqual(t, len(top.Top()), 10)
}

// foldBody folds the frames of body into set, counting what does not
// parse, as a worker does.
func foldBody(t *testing.T, rd *logfmt.Reader, set *window.Set, body []byte) {
	t.Helper()
	rd.Reset(bytes.NewReader(body))
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			set.Unparsed(1)
			continue
		}
		set.Fold(ev)
	}
}

// readLastBy merges the buckets of the last-by window name over its
// window before at.
func readLastBy(t *testing.T, set *window.Set, name string, at time.Time) *stat.LastBy {
	t.Helper()
	w := set.Window(name)
	require.NotNil(t, w, name)
	var lb stat.LastBy
	require.NoError(t, w.Read(at, time.Minute, &lb))
	return &lb
}
