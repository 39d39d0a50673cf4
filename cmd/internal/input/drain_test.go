package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// frames returns an application/logplex-1 body of the messages, each
// octet-counted with its trailing newline, as Logplex frames them.
func frames(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%d %s\n", len(m)+1, m)
	}
	return b.String()
}

var drainBody = frames(
	`<158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https`,
	`<45>1 2026-03-14T17:04:02.771050+00:00 host heroku worker.1 - Error R14 (Memory quota exceeded)`,
)

// drainReq builds a drain request with the usual Logplex headers, which
// edit may change.
func drainReq(body string, edit func(r *http.Request)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/logs", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/logplex-1")
	r.Header.Set("Logplex-Msg-Count", "2")
	r.Header.Set("Logplex-Drain-Token", "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc")
	r.Header.Set("User-Agent", "Logplex/v123")
	if edit != nil {
		edit(r)
	}
	return r
}

func TestDrainHandler(t *testing.T) {
	const auth = "pulse:s3cret"
	type want struct {
		status   int
		header   map[string]string
		queued   bool
		msgCount int
		stats    StatsSnapshot // compared on the fields set
	}
	tests := []struct {
		name string
		cfg  DrainConfig
		req  *http.Request
		want want
	}{
		{
			name: "accepted without auth",
			req:  drainReq(drainBody, nil),
			want: want{status: 204, queued: true, msgCount: 2, stats: StatsSnapshot{DrainAccepted: 1, DrainBytes: int64(len(drainBody)), DrainMsgCount: 2}},
		},
		{
			name: "auth ok",
			cfg:  DrainConfig{Auth: auth},
			req:  drainReq(drainBody, func(r *http.Request) { r.SetBasicAuth("pulse", "s3cret") }),
			want: want{status: 204, queued: true, msgCount: 2, stats: StatsSnapshot{DrainAccepted: 1}},
		},
		{
			name: "auth wrong password",
			cfg:  DrainConfig{Auth: auth},
			req:  drainReq(drainBody, func(r *http.Request) { r.SetBasicAuth("pulse", "s3cre") }),
			want: want{status: 401, header: map[string]string{"WWW-Authenticate": `Basic realm="pulse"`}, stats: StatsSnapshot{DrainUnauthorized: 1}},
		},
		{
			name: "auth wrong user",
			cfg:  DrainConfig{Auth: auth},
			req:  drainReq(drainBody, func(r *http.Request) { r.SetBasicAuth("pulsar", "s3cret") }),
			want: want{status: 401, header: map[string]string{"WWW-Authenticate": `Basic realm="pulse"`}, stats: StatsSnapshot{DrainUnauthorized: 1}},
		},
		{
			name: "auth missing",
			cfg:  DrainConfig{Auth: auth},
			req:  drainReq(drainBody, nil),
			want: want{status: 401, header: map[string]string{"WWW-Authenticate": `Basic realm="pulse"`}, stats: StatsSnapshot{DrainUnauthorized: 1}},
		},
		{
			name: "auth of a user alone",
			cfg:  DrainConfig{Auth: "token"},
			req:  drainReq(drainBody, func(r *http.Request) { r.SetBasicAuth("token", "") }),
			want: want{status: 204, queued: true, msgCount: 2},
		},
		{
			name: "GET",
			req:  httptest.NewRequest(http.MethodGet, "/logs", nil),
			want: want{status: 405, header: map[string]string{"Allow": "POST"}, stats: StatsSnapshot{DrainBadMethod: 1}},
		},
		{
			name: "GET before auth",
			cfg:  DrainConfig{Auth: auth},
			req:  httptest.NewRequest(http.MethodGet, "/logs", nil),
			want: want{status: 405, stats: StatsSnapshot{DrainBadMethod: 1}},
		},
		{
			name: "text/plain",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }),
			want: want{status: 415, stats: StatsSnapshot{DrainBadContentType: 1}},
		},
		{
			name: "no content type",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Del("Content-Type") }),
			want: want{status: 415, stats: StatsSnapshot{DrainBadContentType: 1}},
		},
		{
			name: "logplex-1 with a parameter, any case",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Content-Type", "Application/Logplex-1; charset=utf-8") }),
			want: want{status: 204, queued: true, msgCount: 2},
		},
		{
			name: "oversized, known length",
			cfg:  DrainConfig{MaxBody: 100},
			req:  drainReq(drainBody, nil),
			want: want{status: 413, stats: StatsSnapshot{DrainTooLarge: 1}},
		},
		{
			name: "oversized, chunked",
			cfg:  DrainConfig{MaxBody: 100},
			req: drainReq(drainBody, func(r *http.Request) {
				r.ContentLength = -1
				r.Body = io.NopCloser(iotest.HalfReader(strings.NewReader(drainBody)))
			}),
			want: want{status: 413, stats: StatsSnapshot{DrainTooLarge: 1}},
		},
		{
			name: "exactly MaxBody, chunked",
			cfg:  DrainConfig{MaxBody: int64(len(drainBody))},
			req: drainReq(drainBody, func(r *http.Request) {
				r.ContentLength = -1
				r.Body = io.NopCloser(iotest.OneByteReader(strings.NewReader(drainBody)))
			}),
			want: want{status: 204, queued: true, msgCount: 2},
		},
		{
			name: "body read fails",
			req:  drainReq(drainBody, func(r *http.Request) { r.Body = io.NopCloser(iotest.ErrReader(errors.New("reset"))) }),
			want: want{status: 400, stats: StatsSnapshot{DrainReadErrors: 1}},
		},
		{
			name: "no msg count",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Del("Logplex-Msg-Count") }),
			want: want{status: 204, queued: true, msgCount: -1},
		},
		{
			name: "bad msg count",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Logplex-Msg-Count", "two") }),
			want: want{status: 204, queued: true, msgCount: -1, stats: StatsSnapshot{DrainBadMsgCount: 1}},
		},
		{
			name: "negative msg count",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Logplex-Msg-Count", "-2") }),
			want: want{status: 204, queued: true, msgCount: -1, stats: StatsSnapshot{DrainBadMsgCount: 1}},
		},
		{
			name: "huge msg count",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Logplex-Msg-Count", "99999999999") }),
			want: want{status: 204, queued: true, msgCount: -1, stats: StatsSnapshot{DrainBadMsgCount: 1}},
		},
		{
			name: "msg count carried as sent",
			req:  drainReq(drainBody, func(r *http.Request) { r.Header.Set("Logplex-Msg-Count", "10") }),
			want: want{status: 204, queued: true, msgCount: 10, stats: StatsSnapshot{DrainMsgCount: 10}},
		},
		{
			name: "empty body",
			req:  drainReq("", func(r *http.Request) { r.Header.Set("Logplex-Msg-Count", "0") }),
			want: want{status: 204, stats: StatsSnapshot{DrainEmpty: 1}},
		},
		{
			name: "log-shuttle headers",
			req: drainReq(drainBody, func(r *http.Request) {
				r.Header.Set("Logshuttle-Drops", "7")
				r.Header.Set("Logshuttle-Lost", "3")
			}),
			want: want{status: 204, queued: true, msgCount: 2, stats: StatsSnapshot{LogshuttleDrops: 7, LogshuttleLost: 3}},
		},
		{
			name: "log-shuttle headers on an oversized body",
			cfg:  DrainConfig{MaxBody: 10},
			req: drainReq(drainBody, func(r *http.Request) {
				r.Header.Set("Logshuttle-Drops", "7")
				r.Header.Set("Logshuttle-Lost", "x")
			}),
			want: want{status: 413, stats: StatsSnapshot{DrainTooLarge: 1, LogshuttleDrops: 7}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue(QueueConfig{})
			var st Stats
			h := NewDrainHandler(tt.cfg, q, &st, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			assert.Equal(t, tt.want.status, w.Code, "status; body %q", w.Body.String())
			for k, v := range tt.want.header {
				assert.Equal(t, v, w.Header().Get(k), k)
			}
			if tt.want.queued {
				require.Equal(t, 1, q.Len())
				j, _ := q.TryGet()
				assert.Equal(t, drainBody, string(j.Data))
				assert.Equal(t, InputDrain, j.Input)
				assert.Equal(t, tt.want.msgCount, j.MsgCount)
				assert.False(t, j.Arrival.IsZero())
				j.Release()
			} else {
				assert.Zero(t, q.Len(), "nothing queued")
			}
			snap := st.Snapshot()
			assert.EqualValues(t, 1, snap.DrainRequests)
			if !tt.want.queued {
				assert.Zero(t, snap.DrainAccepted)
			}
			assertStatsInclude(t, snap, tt.want.stats)
		})
	}
}

// assertStatsInclude checks the fields of want that are not zero.
func assertStatsInclude(t *testing.T, got, want StatsSnapshot) {
	t.Helper()
	g := map[string]int64{}
	for k, v := range got.All() {
		g[k] = v
	}
	for k, v := range want.All() {
		if v != 0 {
			assert.Equal(t, v, g[k], k)
		}
	}
}

func TestDrainRetriedFrameID(t *testing.T) {
	q := NewQueue(QueueConfig{})
	var st Stats
	h := NewDrainHandler(DrainConfig{}, q, &st, nil)
	post := func(token, id string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, drainReq(drainBody, func(r *http.Request) {
			r.Header.Set("Logplex-Drain-Token", token)
			r.Header.Set("Logplex-Frame-Id", id)
		}))
		return w.Code
	}
	assert.Equal(t, 204, post("d.1", "f00"))
	assert.Equal(t, 204, post("d.1", "f00"), "a retry is answered 204")
	assert.Equal(t, 204, post("d.2", "f00"), "the same id from another drain is not a retry")
	assert.Equal(t, 204, post("d.1", "f01"))
	snap := st.Snapshot()
	assert.EqualValues(t, 1, snap.DrainDuplicates)
	assert.EqualValues(t, 3, snap.DrainAccepted)
	assert.Equal(t, 3, q.Len(), "the retry was not queued")

	// Without a frame id nothing is deduplicated.
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, drainReq(drainBody, nil))
		assert.Equal(t, 204, w.Code)
	}
	assert.Equal(t, 5, q.Len())
}

func TestDrainQueueFull(t *testing.T) {
	q := NewQueue(QueueConfig{Jobs: 1})
	var st Stats
	h := NewDrainHandler(DrainConfig{}, q, &st, nil)
	post := func(id string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, drainReq(drainBody, func(r *http.Request) { r.Header.Set("Logplex-Frame-Id", id) }))
		return w
	}
	require.Equal(t, 204, post("a").Code)
	w := post("b")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	snap := st.Snapshot()
	assert.EqualValues(t, 1, snap.DrainDropped)
	assert.EqualValues(t, len(drainBody), snap.DrainDroppedBytes)
	assert.EqualValues(t, 2, snap.DrainDroppedFrames)

	// A worker takes a job; Logplex's retry of b is accepted, since a
	// refused id is not remembered.
	j, _ := q.TryGet()
	j.Release()
	assert.Equal(t, 204, post("b").Code)
	snap = st.Snapshot()
	assert.EqualValues(t, 2, snap.DrainAccepted)
	assert.Zero(t, snap.DrainDuplicates)
	assert.Equal(t, 1, q.Len())
}

func TestDrainDedupeTokenCap(t *testing.T) {
	q := NewQueue(QueueConfig{})
	var st Stats
	h := NewDrainHandler(DrainConfig{DedupeTokens: 2, DedupeIDs: 1}, q, &st, nil)
	for i := range 5 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, drainReq(drainBody, func(r *http.Request) {
			r.Header.Set("Logplex-Drain-Token", "d."+strconv.Itoa(i))
			r.Header.Set("Logplex-Frame-Id", "x")
		}))
		require.Equal(t, 204, w.Code)
	}
	assert.EqualValues(t, 3, st.Snapshot().DrainDedupeEvicted)
	assert.Equal(t, 2, h.(*drainHandler).ids.len())
}

// TestDrainServer posts generated Logplex traffic to a real server, with
// basic auth in the URL as Heroku sends it, and reads the queued bodies
// back with logfmt's reader: every frame arrives, and the counts agree.
func TestDrainServer(t *testing.T) {
	q := NewQueue(QueueConfig{})
	var st Stats
	srv := httptest.NewServer(NewDrainHandler(DrainConfig{Auth: "u:p"}, q, &st, nil))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://u:p@", 1) + "/logs"

	g := logfmttest.New(logfmttest.Options{Seed: 1, Rate: 200})
	var line []byte
	const requests, perRequest = 20, 10
	for i := range requests {
		var body bytes.Buffer
		for range perRequest {
			line, _ = g.Next(line[:0])
			body.Write(line)
		}
		req, err := http.NewRequest(http.MethodPost, url, &body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/logplex-1")
		req.Header.Set("Logplex-Msg-Count", strconv.Itoa(perRequest))
		req.Header.Set("Logplex-Frame-Id", fmt.Sprintf("%032x", i))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	// Oversized and chunked: 413, and the server goes on.
	big := strings.Repeat("x", DefaultMaxBody+1)
	req, _ := http.NewRequest(http.MethodPost, url, io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/logplex-1")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	require.Equal(t, requests, q.Len())
	for range requests {
		j, _ := q.TryGet()
		events, rs := readEvents(t, [][]byte{j.Data})
		assert.Equal(t, j.MsgCount, events)
		assert.Zero(t, rs.Mismatches)
		j.Release()
	}
	snap := st.Snapshot()
	assert.EqualValues(t, requests, snap.DrainAccepted)
	assert.EqualValues(t, requests*perRequest, snap.DrainMsgCount)
	assert.EqualValues(t, 1, snap.DrainTooLarge)
}
