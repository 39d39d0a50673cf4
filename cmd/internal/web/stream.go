package web

import (
	"errors"
	"net/http"
	"time"
)

// stream serves GET /stats/stream as Server-Sent Events: the latest
// snapshot and then one per change, each a single "data:" line holding
// the snapshot JSON, with a comment line as a heartbeat when idle. The
// stream ends when the client goes, when it falls StreamBuffer snapshots
// behind, or at History.CloseSubscriptions.
func (s *server) stream(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		jsonError(w, http.StatusServiceUnavailable, "too many streams")
		return
	}
	updates, cancel := s.h.Subscribe(s.cfg.StreamBuffer)
	defer cancel()

	rc := http.NewResponseController(w)
	// The server's WriteTimeout would end the response: each write sets
	// a deadline of its own instead.
	write := func(b []byte) error {
		err := rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout))
		if err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if write([]byte("retry: 2000\n\n")) != nil {
		return
	}
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	var buf []byte
	for {
		select {
		case <-r.Context().Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			buf = append(buf[:0], "data: "...)
			buf = append(buf, u.JSON()...) // one line: JSON strings escape newlines
			buf = append(buf, "\n\n"...)
			if write(buf) != nil {
				return
			}
		case <-heartbeat.C:
			if write([]byte(":\n\n")) != nil {
				return
			}
		}
	}
}
