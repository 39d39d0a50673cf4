package otlp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/httpserve"
	"golang.org/x/time/rate"

	"github.com/pulsehq/pulse/cmd/internal/input"
)

// Defaults of Config.
const (
	// DefaultMaxBody is Config.MaxBody when zero: 4 MiB as sent. An
	// OpenTelemetry Collector's batch of 8192 records is about 2 MiB
	// uncompressed, and a Fir telemetry drain sends smaller ones.
	DefaultMaxBody = 4 << 20
	// DefaultMaxDecoded is Config.MaxDecoded when zero: 16 MiB
	// decompressed.
	DefaultMaxDecoded = 16 << 20
	// MaxDepth is the deepest nesting of map and array values, in a
	// body or an attribute, that a record may have; a deeper record is
	// rejected (partial success).
	MaxDepth = 32
	// memPerByte estimates the memory a decoded request holds per byte of
	// its protobuf encoding, for the queue's byte budget
	// (TestDecodedMemory measures it).
	memPerByte = 4
)

// Config configures the OTLP/HTTP logs handler. Zero fields mean the
// defaults.
type Config struct {
	// Auth is a basic-auth credential, "user:password", as the drain's
	// (DRAIN_AUTH). A value without a colon is a user with an empty
	// password.
	Auth string
	// Token is a bearer token (OTLP_TOKEN): a request may carry
	// "Authorization: Bearer <Token>" instead of basic auth, which is
	// what a telemetry drain's --headers or a Collector's headers set
	// most easily. With Auth and Token both empty, requests are not
	// authenticated; with either set, a request must match one of them.
	Token string
	// MaxBody is the largest body accepted as sent, in bytes; a larger
	// one is answered 413. Zero means DefaultMaxBody.
	MaxBody int64
	// MaxDecoded is the largest body accepted once decompressed, in
	// bytes; a larger one is answered 413, having decompressed no more
	// than MaxDecoded+1 bytes of it. Zero means DefaultMaxDecoded.
	MaxDecoded int64
}

// NewHandler returns the handler of OTLP/HTTP logs, to be mounted at
// POST /v1/logs. It decodes each request and queues its records on q as
// one Job (Input input.InputOTLP, Batch a *Batch) for the workers, which
// fold them with a Mapper. It counts in st what it does; log, which may
// be nil, gets a line for the rare events (at most one every 10 s for
// those that come in floods).
//
// A request is answered, as the OTLP/HTTP specification says:
//
//   - 405 (with Allow: POST) when its method is not POST;
//   - 401 when Config.Auth or Config.Token is set and the request
//     matches neither; credentials are compared in constant time;
//   - 415 when its Content-Type is neither application/x-protobuf nor
//     application/json, or its Content-Encoding is neither gzip nor
//     identity;
//   - 413 when the body is longer than Config.MaxBody, or than
//     Config.MaxDecoded once decompressed;
//   - 400 when the body cannot be read to its end, is not a valid gzip
//     stream, or is not an ExportLogsServiceRequest in its encoding: the
//     sender must not retry it;
//   - 503 with Retry-After: 1 when the queue is full: nothing is kept,
//     and the sender retries later;
//   - 200 with an ExportLogsServiceResponse otherwise, at once, without
//     waiting on anything downstream. When records were rejected (a time
//     after 2199, or values nested deeper than MaxDepth) its
//     partial_success holds their number and why; the others are queued.
//     A request without records is answered 200 and not queued.
//
// Answers are encoded as the request's Content-Type says (protobuf or
// JSON): an ExportLogsServiceResponse, or a google.rpc.Status for an
// error; a request of another Content-Type gets its error in plain text.
//
// The handler does not bound concurrency or header size: set
// http.Server's timeouts and MaxHeaderBytes.
func NewHandler(cfg Config, q *input.Queue, st *Stats, log *slog.Logger) http.Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxDecoded <= 0 {
		cfg.MaxDecoded = DefaultMaxDecoded
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{dropLog: &rate.Sometimes{Interval: logEvery}, authLog: &rate.Sometimes{Interval: logEvery}, badLog: &rate.Sometimes{Interval: logEvery},
		maxBody: cfg.MaxBody, maxDecoded: cfg.MaxDecoded, q: q, st: st, log: log}
	if cfg.Auth != "" {
		h.basic = true
		h.creds, _ = httpserve.ParseCredentials(cfg.Auth)
	}
	if cfg.Token != "" {
		h.bearer = true
		h.token = sha256.Sum256([]byte(cfg.Token))
	}
	return h
}

type handler struct {
	basic, bearer            bool
	creds                    httpserve.Credentials
	token                    [sha256.Size]byte // hashed, so compares take the same time whatever the length
	maxBody, maxDecoded      int64
	q                        *input.Queue
	st                       *Stats
	log                      *slog.Logger
	dropLog, authLog, badLog *rate.Sometimes // log lines of floods: the first, then one every logEvery
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := h.st
	st.add(requests, 1)
	enc := encodingOf(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost {
		st.add(badMethod, 1)
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, enc, http.StatusMethodNotAllowed, "only POST")
		return
	}
	if (h.basic || h.bearer) && !h.authorized(r) {
		st.add(unauthorized, 1)
		h.authLog.Do(func() {
			h.log.Warn("otlp: unauthorized request", "remote", r.RemoteAddr, "total", st.c[unauthorized].Load())
		})
		if h.basic {
			w.Header().Add("WWW-Authenticate", `Basic realm="pulse"`)
		}
		if h.bearer {
			w.Header().Add("WWW-Authenticate", `Bearer realm="pulse"`)
		}
		writeStatus(w, enc, http.StatusUnauthorized, "unauthorized")
		return
	}
	if enc == encUnknown {
		st.add(badContentType, 1)
		writeStatus(w, enc, http.StatusUnsupportedMediaType, "Content-Type must be application/x-protobuf or application/json")
		return
	}
	gzipped, ok := gzipEncoded(r.Header.Get("Content-Encoding"))
	if !ok {
		st.add(badContentType, 1)
		writeStatus(w, enc, http.StatusUnsupportedMediaType, "Content-Encoding must be gzip or none")
		return
	}
	if r.ContentLength > h.maxBody {
		h.tooLarge(w, r, enc, "body over "+strconv.FormatInt(h.maxBody, 10)+" bytes")
		return
	}
	arrival := time.Now()
	req, err := readRequest(w, r, gzipped, h.maxBody, h.maxDecoded)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			h.tooLarge(w, r, enc, "body over "+strconv.FormatInt(h.maxBody, 10)+" bytes")
		case errors.Is(err, errDecodedTooLarge):
			h.tooLarge(w, r, enc, "body over "+strconv.FormatInt(h.maxDecoded, 10)+" bytes decompressed")
		case errors.Is(err, errGzip):
			h.badPayload(w, r, enc, err)
		default:
			st.add(readErrors, 1)
			h.log.Debug("otlp: reading body", "remote", r.RemoteAddr, "err", err)
			writeStatus(w, enc, http.StatusBadRequest, "reading body failed")
		}
		return
	}
	logs, err := decode(req.data, enc)
	wire, decoded := len(req.wire), len(req.data)
	req.release()
	if err != nil {
		h.badPayload(w, r, enc, err)
		return
	}
	v := validate(logs)
	if v.records == 0 {
		st.add(empty, 1)
		st.add(rejected, int64(v.rejected))
		writeResponse(w, enc, v.rejected, v.message())
		return
	}
	job := input.Job{
		Input: input.InputOTLP, MsgCount: -1, Arrival: arrival,
		Batch: &Batch{Logs: logs, Records: v.records},
		Size:  max(decoded, 1) * memPerByte,
	}
	if !h.q.TryPut(job) {
		st.add(dropped, 1)
		st.add(droppedRecords, int64(v.records))
		h.dropLog.Do(func() {
			h.log.Warn("otlp: queue full, answering 503", "queue_jobs", h.q.Len(), "queue_bytes", h.q.Bytes(), "dropped_total", st.c[dropped].Load())
		})
		w.Header().Set("Retry-After", "1")
		writeStatus(w, enc, http.StatusServiceUnavailable, "queue full, retry")
		return
	}
	st.add(accepted, 1)
	st.add(records, int64(v.records))
	st.add(rejected, int64(v.rejected))
	st.add(wireBytes, int64(wire))
	st.add(decodedBytes, int64(decoded))
	writeResponse(w, enc, v.rejected, v.message())
}

// tooLarge answers 413.
func (h *handler) tooLarge(w http.ResponseWriter, r *http.Request, enc encoding, msg string) {
	h.st.add(tooLarge, 1)
	h.badLog.Do(func() {
		h.log.Warn("otlp: body too large", "remote", r.RemoteAddr, "content_length", r.ContentLength, "err", msg)
	})
	writeStatus(w, enc, http.StatusRequestEntityTooLarge, msg)
}

// badPayload answers 400 for a body that could not be decoded.
func (h *handler) badPayload(w http.ResponseWriter, r *http.Request, enc encoding, err error) {
	h.st.add(badPayload, 1)
	h.badLog.Do(func() {
		h.log.Warn("otlp: bad payload", "remote", r.RemoteAddr, "err", err)
	})
	writeStatus(w, enc, http.StatusBadRequest, err.Error())
}

// authorized reports whether r carries the configured basic auth or
// bearer token.
func (h *handler) authorized(r *http.Request) bool {
	if h.bearer {
		if tok, ok := bearerToken(r.Header.Get("Authorization")); ok {
			t := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(t[:], h.token[:]) == 1 {
				return true
			}
		}
	}
	return h.basic && h.creds.Match(r)
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive).
func bearerToken(auth string) (string, bool) {
	const prefix = "bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(auth[len(prefix):]), true
}

// encoding is the payload encoding a request's Content-Type names.
type encoding int

const (
	encUnknown encoding = iota
	encProto
	encJSON
)

// encodingOf reads a Content-Type, parameters allowed.
func encodingOf(ct string) encoding {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	switch mt {
	case "application/x-protobuf":
		return encProto
	case "application/json":
		return encJSON
	}
	return encUnknown
}

// gzipEncoded reads a Content-Encoding: ok is false for anything but
// gzip, identity or none.
func gzipEncoded(ce string) (gzipped, ok bool) {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "", "identity":
		return false, true
	case "gzip", "x-gzip":
		return true, true
	}
	return false, false
}

// logEvery is the shortest interval between two log lines about events
// that come in floods; the counters have them all.
const logEvery = 10 * time.Second
