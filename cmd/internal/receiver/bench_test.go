package receiver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/stat/def"
)

// BenchmarkReceiverHTTP is a load run through a whole receiver: HTTP over
// loopback (keep-alive clients posting in parallel), the handler, the
// queue, two workers folding into sets of the default Heroku definitions,
// and their cuts. "drain" posts bodies of 100 generated frames to /logs,
// "otlp" the same lines as protobuf ExportLogsServiceRequests of 100
// records to /v1/logs (each record's body the frame's message, its
// resource the frame's HOSTNAME, APP-NAME and PROCID); "http-only" posts
// the OTLP bodies to a handler that reads and discards them, the cost of
// HTTP alone, clients included. records/s counts
// records folded, from the first request until the workers have folded
// the last one, and records/cpu-s per second of the process's CPU time
// (user and system, clients included), which other load on the machine
// does not change.
func BenchmarkReceiverHTTP(b *testing.B) {
	const frames, bodies = 100, 64
	start := time.Now().Add(-2 * time.Second)
	var drain, otlp [][]byte
	for i := range bodies {
		d := drainBody(uint64(i+1), start, frames)
		drain = append(drain, d)
		otlp = append(otlp, otlpBody(&testing.T{}, d))
	}
	for _, tc := range []struct {
		name, path, ct string
		bodies         [][]byte
	}{
		{"drain", "/logs", "application/logplex-1", drain},
		{"otlp", "/v1/logs", "application/x-protobuf", otlp},
		{"http-only", "/null", "application/x-protobuf", otlp},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := New(Config{Defs: def.Heroku(), Workers: 2, Flush: time.Second, Queue: input.QueueConfig{Jobs: 1 << 16, Bytes: 1 << 30}}, newMemory(&testing.T{}), nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			mux := http.NewServeMux()
			mux.Handle("/logs", r.Handler())
			mux.Handle("/v1/logs", r.OTLPHandler())
			mux.HandleFunc("/null", func(w http.ResponseWriter, req *http.Request) {
				_, _ = io.Copy(io.Discard, req.Body)
				r.events.Add(frames) // as if folded
				w.WriteHeader(http.StatusOK)
			})
			srv := httptest.NewServer(mux)
			defer func() {
				srv.Close()
				cancel()
				<-done
			}()
			url := srv.URL + tc.path
			var sent, failed atomic.Int64
			var next atomic.Uint64
			b.ReportAllocs()
			b.SetParallelism(2) // 2 × GOMAXPROCS keep-alive clients
			b.ResetTimer()
			t0 := time.Now()
			cpu0, cpuOK := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				client := srv.Client()
				for pb.Next() {
					body := tc.bodies[next.Add(1)%bodies]
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Content-Type", tc.ct)
					req.Header.Set("Logplex-Msg-Count", strconv.Itoa(frames))
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						sent.Add(frames)
					} else {
						failed.Add(1)
					}
				}
			})
			for r.events.Load() < sent.Load() {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(t0)
			cpu1, _ := processCPU()
			b.StopTimer()
			if failed.Load() > 0 {
				b.Logf("%d requests failed or refused", failed.Load())
			}
			b.ReportMetric(float64(r.events.Load())/elapsed.Seconds(), "records/s")
			if cpuOK {
				// The client's CPU is in it too: it runs in this process.
				b.ReportMetric(float64(r.events.Load())/(float64(cpu1-cpu0)/1e9), "records/cpu-s")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}
