package metrics_test

import (
	"os"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/metrics"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// A snapshot of three stats of the default Heroku set in the text format:
// a rate per second, quantiles in milliseconds exposed in seconds, and a
// top-k list. The null stat is left out.
func ExampleExporter_Write() {
	snap := window.Snapshot{
		Time: time.Date(2026, 3, 14, 17, 2, 1, 0, time.UTC),
		Stats: map[string]stat.Value{
			"router.requests":  stat.Number(412.5),
			"router.service":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}}),
			"router.hosts.top": stat.TopValue([]stat.TopValueEntry{{Key: "www.shop-example.com", Value: 31.5}, {Key: "api.example.com", Value: 12}}),
			"router.H12":       stat.Null(),
		},
	}
	if err := metrics.New(def.Heroku()).Write(os.Stdout, snap); err != nil {
		panic(err)
	}
	// Output:
	// # HELP pulse_exporter_collisions Stats of this exposition whose metric name was another's, renamed with a hash or left out.
	// # TYPE pulse_exporter_collisions gauge
	// pulse_exporter_collisions 0
	// # HELP pulse_exporter_omitted Series left out of this exposition: stats whose renamed metric name was taken, top-k keys beyond K or equal to an earlier key once made valid.
	// # TYPE pulse_exporter_omitted gauge
	// pulse_exporter_omitted 0
	// # HELP pulse_router_hosts_top_per_second Top hosts by requests/s [router.hosts.top; req/s]
	// # TYPE pulse_router_hosts_top_per_second gauge
	// pulse_router_hosts_top_per_second{key="api.example.com"} 12
	// pulse_router_hosts_top_per_second{key="www.shop-example.com"} 31.5
	// # HELP pulse_router_requests_per_second Router requests/s [router.requests; req/s]
	// # TYPE pulse_router_requests_per_second gauge
	// pulse_router_requests_per_second 412.5
	// # HELP pulse_router_service_seconds Router service time [router.service; ms, exposed in seconds]
	// # TYPE pulse_router_service_seconds summary
	// pulse_router_service_seconds{quantile="0.5"} 0.018
	// pulse_router_service_seconds{quantile="0.99"} 0.412
	// # HELP pulse_snapshot_timestamp_seconds Time of the latest merged snapshot, in seconds since the Unix epoch.
	// # TYPE pulse_snapshot_timestamp_seconds gauge
	// pulse_snapshot_timestamp_seconds 1.773507721e+09
}
