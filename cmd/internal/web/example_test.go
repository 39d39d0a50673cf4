package web_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// Two mergers' shards publish their stats for the same second; the
// handler serves them merged, and their history.
func ExampleHandler() {
	h, err := web.NewHistory(web.HistoryConfig{})
	if err != nil {
		panic(err)
	}
	t := time.Date(2026, 3, 14, 17, 0, 1, 0, time.UTC)
	h.Add(0, window.Snapshot{Time: t, Stats: map[string]stat.Value{
		"router.requests": stat.Number(412.5),
		"router.service":  stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}}),
	}})
	h.Add(1, window.Snapshot{Time: t, Stats: map[string]stat.Value{
		"dyno.memory": stat.Null(),
	}})

	srv := httptest.NewServer(web.Handler(h, web.Config{}))
	defer srv.Close()
	for _, path := range []string{"/stats/latest", "/stats?names=router.requests"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(b))
	}
	// Output:
	// {"time":"2026-03-14T17:00:01Z","stats":{"dyno.memory":null,"router.requests":412.5,"router.service":{"p50":18,"p99":412}}}
	// {"router.requests":[[1773507601000,412.5]]}
}
