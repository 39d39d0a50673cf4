package input

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/httpserve"
	"golang.org/x/time/rate"
)

// Defaults of DrainConfig.
const (
	// DefaultMaxBody is DrainConfig.MaxBody when zero: 1 MiB. A Logplex
	// body is small: a handful of frames (at most 10 by one account), each
	// at most about 10 KB since Logplex splits longer dyno lines, so under
	// 100 KiB. log-shuttle batches more lines into one post, and 1 MiB
	// leaves room for its usual batches while bounding what one request
	// can make the receiver hold.
	DefaultMaxBody = 1 << 20
	// DefaultDedupeTokens is DrainConfig.DedupeTokens when zero: enough
	// for a receiver that takes the drains of a thousand apps.
	DefaultDedupeTokens = 1000
	// DefaultDedupeIDs is DrainConfig.DedupeIDs when zero. A retry comes
	// soon after the request it repeats; 64 ids still recognise it when
	// 63 other requests of the same drain came in between.
	DefaultDedupeIDs = 64
	// MaxDedupeIDs is the largest DrainConfig.DedupeIDs; larger values are
	// clamped to it, since the ids of a token are searched one by one.
	MaxDedupeIDs = 4096
)

// DrainConfig configures the HTTPS log drain handler. Zero fields mean the
// defaults.
type DrainConfig struct {
	// Auth is the basic-auth credential that requests must carry, as
	// "user:password", the user info of the drain URL given to Heroku
	// (https://user:password@host/logs). A value without a colon is a
	// user with an empty password. Empty means no authentication.
	Auth string
	// MaxBody is the largest body accepted, in bytes; a larger one is
	// answered 413. Zero means DefaultMaxBody.
	MaxBody int64
	// DedupeTokens is the most drain tokens (Logplex-Drain-Token) whose
	// recent frame ids are remembered; past it the least recently seen
	// token is forgotten and counted in StatsSnapshot.DrainDedupeEvicted.
	// Zero means DefaultDedupeTokens.
	DedupeTokens int
	// DedupeIDs is how many of the most recent frame ids
	// (Logplex-Frame-Id) are remembered per drain token. Zero means
	// DefaultDedupeIDs; values above MaxDedupeIDs are clamped.
	DedupeIDs int
}

// NewDrainHandler returns the handler of a Logplex HTTPS log drain, to be
// mounted at POST /logs. It queues each request's body on q as one Job
// (Input InputDrain) and counts in st what it does; log, which may be nil,
// gets a line for the rare events (and at most one every 10 s for those
// that come in floods: drops, unauthorized and oversized requests).
//
// A request is answered:
//
//   - 405 (with Allow: POST) when its method is not POST;
//   - 401 (with WWW-Authenticate: Basic realm="pulse") when cfg.Auth is set
//     and the request's basic auth does not match it; user and password
//     are compared in constant time;
//   - 415 when its Content-Type is not application/logplex-1 (parameters
//     are allowed);
//   - 204 without reading the body when Logplex-Frame-Id is one already
//     queued from the same Logplex-Drain-Token: a retry of a request whose
//     answer was lost, folded already, and counted as a duplicate;
//   - 413 when the body is longer than cfg.MaxBody;
//   - 400 when the body cannot be read to its end;
//   - 503 with Retry-After: 1 when the queue is full: the body is dropped
//     and counted, and Logplex posts it again later, with the same frame id,
//     which is then accepted since only queued bodies are remembered;
//   - 204 otherwise, at once: the body is queued (an empty body is only
//     counted). The handler never waits on anything downstream.
//
// Logplex-Msg-Count becomes Job.MsgCount (-1 when absent, and when not a
// number from 0 to 2³¹−1, which is counted). Logshuttle-Drops and
// Logshuttle-Lost, which log-shuttle sends once and does not repeat
// after an error answer, are added up for every request that passes the
// checks up to the content type and is not a duplicate, except those whose
// body could not be read (the sender retries those).
//
// The handler reads at most cfg.MaxBody bytes a request, into a pooled
// buffer that goes with the Job. It does not bound concurrency or header
// size: set http.Server's timeouts and MaxHeaderBytes.
func NewDrainHandler(cfg DrainConfig, q *Queue, st *Stats, log *slog.Logger) http.Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.DedupeTokens <= 0 {
		cfg.DedupeTokens = DefaultDedupeTokens
	}
	if cfg.DedupeIDs <= 0 {
		cfg.DedupeIDs = DefaultDedupeIDs
	}
	cfg.DedupeIDs = min(cfg.DedupeIDs, MaxDedupeIDs)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &drainHandler{
		dropLog: logLimit(), authLog: logLimit(), largeLog: logLimit(),
		maxBody: cfg.MaxBody,
		ids:     newFrameIDs(cfg.DedupeTokens, cfg.DedupeIDs),
		q:       q,
		st:      st,
		log:     log,
	}
	if cfg.Auth != "" {
		h.auth = true
		h.creds, _ = httpserve.ParseCredentials(cfg.Auth)
	}
	return h
}

type drainHandler struct {
	auth    bool
	creds   httpserve.Credentials
	maxBody int64
	ids     *frameIDs
	q       *Queue
	st      *Stats
	log     *slog.Logger

	dropLog, authLog, largeLog *rate.Sometimes // log lines of floods
}

func (h *drainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := h.st
	st.add(drainRequests, 1)
	if r.Method != http.MethodPost {
		st.add(drainBadMethod, 1)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	if h.auth && !h.creds.Match(r) {
		st.add(drainUnauthorized, 1)
		h.authLog.Do(func() {
			h.log.Warn("drain: unauthorized request", "remote", r.RemoteAddr, "total", st.c[drainUnauthorized].Load())
		})
		w.Header().Set("WWW-Authenticate", `Basic realm="pulse"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !isLogplex(r.Header.Get("Content-Type")) {
		st.add(drainBadContentType, 1)
		http.Error(w, "Content-Type must be application/logplex-1", http.StatusUnsupportedMediaType)
		return
	}
	token, id := r.Header.Get("Logplex-Drain-Token"), r.Header.Get("Logplex-Frame-Id")
	if id != "" && h.ids.seen(token, id) {
		st.add(drainDuplicates, 1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.ContentLength > h.maxBody {
		h.tooLarge(w, r)
		return
	}
	buf, err := readBody(http.MaxBytesReader(w, r.Body, h.maxBody), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.tooLarge(w, r)
			return
		}
		st.add(drainReadErrors, 1)
		h.log.Debug("drain: reading body", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "reading body failed", http.StatusBadRequest)
		return
	}
	h.countShuttle(r)
	msgCount := -1
	if v := r.Header.Get("Logplex-Msg-Count"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			st.add(drainBadMsgCount, 1)
		} else {
			msgCount = int(n)
		}
	}
	if len(buf.b) == 0 {
		putBuffer(buf)
		st.add(drainEmpty, 1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	job := Job{Data: buf.b, Input: InputDrain, MsgCount: msgCount, Arrival: time.Now(), buf: buf}
	var dup, ok bool
	if id == "" {
		ok = h.q.TryPut(job)
	} else {
		var evicted int
		dup, ok, evicted = h.ids.acceptOnce(token, id, func() bool { return h.q.TryPut(job) })
		st.add(drainDedupeEvicted, int64(evicted))
	}
	switch {
	case dup: // a retry that raced its original in
		job.Release()
		st.add(drainDuplicates, 1)
		w.WriteHeader(http.StatusNoContent)
	case ok:
		st.add(drainAccepted, 1)
		st.add(drainBytes, int64(len(job.Data)))
		st.add(drainMsgCount, int64(max(msgCount, 0)))
		w.WriteHeader(http.StatusNoContent)
	default:
		st.add(drainDropped, 1)
		st.add(drainDroppedBytes, int64(len(job.Data)))
		st.add(drainDroppedFrames, int64(max(msgCount, 0)))
		job.Release()
		h.dropLog.Do(func() {
			h.log.Warn("drain: queue full, answering 503", "queue_jobs", h.q.Len(), "queue_bytes", h.q.Bytes(), "dropped_total", st.c[drainDropped].Load())
		})
		w.Header().Set("Retry-After", "1")
		http.Error(w, "queue full, retry", http.StatusServiceUnavailable)
	}
}

// tooLarge answers 413.
func (h *drainHandler) tooLarge(w http.ResponseWriter, r *http.Request) {
	h.st.add(drainTooLarge, 1)
	h.countShuttle(r)
	h.largeLog.Do(func() {
		h.log.Warn("drain: body too large", "remote", r.RemoteAddr, "content_length", r.ContentLength, "max_body", h.maxBody)
	})
	http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
}

// countShuttle adds up the log-shuttle headers of r.
func (h *drainHandler) countShuttle(r *http.Request) {
	for _, v := range r.Header.Values("Logshuttle-Drops") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			h.st.add(logshuttleDrops, n)
		}
	}
	for _, v := range r.Header.Values("Logshuttle-Lost") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			h.st.add(logshuttleLost, n)
		}
	}
}

// isLogplex reports whether a Content-Type is application/logplex-1, with
// or without parameters.
func isLogplex(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/logplex-1")
}

// readBody reads r to its end into a pooled buffer. size is the expected
// length, or -1.
func readBody(r io.Reader, size int64) (*buffer, error) {
	hint := 4 << 10
	if size >= 0 {
		hint = int(size) + 1 // +1: see EOF without growing
	}
	b := getBuffer(hint)
	for {
		if len(b.b) == cap(b.b) {
			nb := getBuffer(2 * cap(b.b))
			nb.b = append(nb.b, b.b...)
			putBuffer(b)
			b = nb
		}
		n, err := r.Read(b.b[len(b.b):cap(b.b)])
		b.b = b.b[:len(b.b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			putBuffer(b)
			return nil, err
		}
	}
}
