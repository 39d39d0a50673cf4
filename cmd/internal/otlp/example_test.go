package otlp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/otlp"
)

// A Collector's request in OTLP/JSON, answered at once and queued; a
// worker then turns its records into events.
func ExampleNewHandler() {
	q := input.NewQueue(input.QueueConfig{})
	var st otlp.Stats
	h := otlp.NewHandler(otlp.Config{Token: "s3cret"}, q, &st, nil)

	body := `{"resourceLogs":[{
	  "resource":{"attributes":[
	    {"key":"service.name","value":{"stringValue":"shop-example"}},
	    {"key":"heroku.dyno.name","value":{"stringValue":"router"}}]},
	  "scopeLogs":[{"logRecords":[
	    {"timeUnixNano":"1773507731482113000","severityNumber":9,
	     "body":{"stringValue":"at=info method=GET path=/api status=200 service=43ms"}},
	    {"timeUnixNano":"1773507731913004000","severityText":"ERROR",
	     "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"charge failed"}}]}}}]}]}]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())

	// A worker's side.
	j, _ := q.TryGet()
	var m otlp.Mapper
	for ev := range m.Events(j.Batch.(*otlp.Batch), j.Arrival) {
		service, _ := ev.Number("service")
		msg, _ := ev.Lookup("msg")
		fmt.Printf("%s %s/%s severity=%s pairs=%d service=%g msg=%q\n",
			ev.Time.Format("15:04:05.000"), ev.App, ev.Proc, ev.Severity, ev.Len(), service, msg)
	}
	j.Release()
	fmt.Printf("records=%d\n", st.Snapshot().Records)
	// Output:
	// 200 {}
	// 17:02:11.482 shop-example/router severity=info pairs=7 service=43 msg=""
	// 17:02:11.913 shop-example/router severity=ERROR pairs=3 service=0 msg="charge failed"
	// records=2
}
