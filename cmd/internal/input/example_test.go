package input_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pulsehq/pulse/cmd/internal/input"
)

// A Logplex drain request goes into the queue as one job; a worker takes
// it, reads its frames, and releases it.
func ExampleNewDrainHandler() {
	q := input.NewQueue(input.QueueConfig{})
	var st input.Stats
	h := input.NewDrainHandler(input.DrainConfig{Auth: "pulse:s3cret"}, q, &st, nil)

	body := "70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n"
	r := httptest.NewRequest(http.MethodPost, "/logs", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/logplex-1")
	r.Header.Set("Logplex-Msg-Count", "1")
	r.Header.Set("Logplex-Frame-Id", "09fe0e7e0e3d6c4b0b2b4b5e")
	r.SetBasicAuth("pulse", "s3cret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println("status", w.Code)

	job, _ := q.Get(context.Background())
	fmt.Printf("%s job: %d bytes, %d frame(s)\n", job.Input, len(job.Data), job.MsgCount)
	job.Release()

	snap := st.Snapshot()
	fmt.Println("accepted", snap.DrainAccepted, "bytes", snap.DrainBytes)
	// Output:
	// status 204
	// drain job: 73 bytes, 1 frame(s)
	// accepted 1 bytes 73
}
