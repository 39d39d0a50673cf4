// Command logtest is a tiny HTTP service whose test uses Pulse as a test
// helper: main_test.go points the service's log/slog output at a
// window.LogWriter and asserts on stats derived from the log lines, such
// as "p99 of duration under 50 ms and no level=ERROR lines".
//
// The service logs one line per request with slog's TextHandler, which
// writes logfmt:
//
//	time=2026-03-14T17:02:11.482+00:00 level=INFO msg=request path=/orders status=200 duration=1.2ms
//
// Run it with
//
//	go run ./examples/logtest -addr localhost:8080
//
// and run its test with
//
//	go test ./examples/logtest
package main

import (
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Service answers /orders quickly, /report slowly (after ReportDelay) and
// /fail with a 500, and logs every request.
type Service struct {
	Log         *slog.Logger
	ReportDelay time.Duration
}

// ServeHTTP handles one request and logs it: an INFO "request" line, or an
// ERROR line when the handler fails.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := s.handle(w, r)
	attrs := []any{"path", r.URL.Path, "status", status, "duration", time.Since(start)}
	if status >= 500 {
		s.Log.Error("request failed", attrs...)
		return
	}
	s.Log.Info("request", attrs...)
}

func (s *Service) handle(w http.ResponseWriter, r *http.Request) int {
	switch r.URL.Path {
	case "/orders":
		w.Write([]byte(`[{"id":1}]`))
		return http.StatusOK
	case "/report":
		select {
		case <-time.After(s.ReportDelay):
		case <-r.Context().Done():
		}
		w.Write([]byte("report"))
		return http.StatusOK
	case "/fail":
		http.Error(w, "database unavailable", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	http.NotFound(w, r)
	return http.StatusNotFound
}

func main() {
	addr := flag.String("addr", "localhost:8080", "listen `address`")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	svc := &Service{Log: log, ReportDelay: 80 * time.Millisecond}
	log.Info("listening", "addr", *addr)
	if err := http.ListenAndServe(*addr, svc); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}
