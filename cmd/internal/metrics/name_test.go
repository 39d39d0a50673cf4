package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pulsehq/pulse/stat/def"
)

func TestBody(t *testing.T) {
	f := func(stat, want string) {
		t.Helper()
		assert.Equal(t, want, body(stat), "body(%q)", stat)
	}
	f("router.requests", "pulse_router_requests")
	f("router.H12", "pulse_router_h12")
	f("pulse.events", "pulse_events")
	f("pulse.publish.latency", "pulse_publish_latency")
	f("pulse", "pulse_pulse")
	f("pulsex.y", "pulse_pulsex_y")
	f("a_b", "pulse_a_b")
	f("a b\"c\n", "pulse_a_b_c_")
	f("<script>alert(1)</script>", "pulse__script_alert_1___script_")
	f("héllo", "pulse_h_llo")     // one rune, one _
	f("a\xff\xfeb", "pulse_a__b") // one _ per invalid byte
	f("日本", "pulse___")
	f("9lives", "pulse_9lives")
	f("", "pulse_")
}

func TestUnitOf(t *testing.T) {
	type want struct {
		suffix   string
		mul, div float64
		note     string
	}
	f := func(d def.Def, rated bool, w want) {
		t.Helper()
		assert.Equal(t, w, want(unitOf(d, rated)), "unitOf(%v)", d)
	}
	f(def.Def{}, false, want{"", 1, 1, ""})
	f(def.Def{Unit: "ms"}, false, want{"_seconds", 1, 1000, "ms, exposed in seconds"})
	f(def.Def{Unit: "s"}, false, want{"_seconds", 1, 1, "s"})
	f(def.Def{Unit: "µs"}, false, want{"_seconds", 1, 1e6, "µs, exposed in seconds"})
	f(def.Def{Unit: "MB"}, false, want{"_bytes", 1 << 20, 1, "MB, exposed in bytes"})
	f(def.Def{Unit: "%"}, false, want{"_ratio", 1, 100, "%, exposed as a ratio"})
	f(def.Def{Unit: "hosts"}, false, want{"", 1, 1, "hosts"})
	f(def.Def{Unit: "req/s"}, false, want{"_per_second", 1, 1, "req/s"})
	f(def.Def{Unit: "/min"}, false, want{"_per_minute", 1, 1, "/min"})
	f(def.Def{Unit: "msgs/h"}, false, want{"_per_hour", 1, 1, "msgs/h"})
	f(def.Def{Unit: "x/fortnight"}, false, want{"", 1, 1, "x/fortnight"})
	f(def.Def{Unit: "B/s"}, false, want{"_bytes_per_second", 1, 1, "B/s"})
	// A rated kind's Per names the rate, whatever the Unit says.
	f(def.Def{Unit: "req/s", Per: time.Minute}, true, want{"_per_minute", 1, 1, "req/s"})
	f(def.Def{Per: time.Second}, true, want{"_per_second", 1, 1, ""})
	f(def.Def{Per: time.Hour}, true, want{"_per_hour", 1, 1, ""})
	f(def.Def{Per: 5 * time.Minute}, true, want{"_per_300_seconds", 1, 1, ""})
	f(def.Def{Unit: "B/s", Per: time.Second}, true, want{"_bytes_per_second", 1, 1, "B/s"})
}

func TestJoin(t *testing.T) {
	f := func(base, suffix, want string) {
		t.Helper()
		assert.Equal(t, want, join(base, suffix), "join(%q, %q)", base, suffix)
	}
	f("pulse_router_requests", "_per_second", "pulse_router_requests_per_second")
	f("pulse_router_bytes", "_bytes_per_second", "pulse_router_bytes_per_second")
	f("pulse_x_bytes_per", "_bytes_per_second", "pulse_x_bytes_per_second")
	f("pulse_x_per_second", "_per_second", "pulse_x_per_second")
	f("pulse_x_seconds", "_seconds", "pulse_x_seconds")
	f("pulse_xseconds", "_seconds", "pulse_xseconds_seconds") // whole words only
	f("pulse_x", "", "pulse_x")
	f("pulse_orders_total", "", "pulse_orders_total_value")
	f("pulse_orders_count", "", "pulse_orders_count_value")
	f("pulse_db_sum", "", "pulse_db_sum_value")
	f("pulse_h_bucket", "", "pulse_h_bucket_value")
	f("pulse_x_created", "", "pulse_x_created_value")
	f("pulse_orders_total", "_per_second", "pulse_orders_total_per_second")
	f("pulse_orders_counter", "", "pulse_orders_counter")
}

func TestHashSuffix(t *testing.T) {
	// FNV-1a 32 of "a" is 0xe40c292c, of "" the offset basis 0x811c9dc5.
	assert.Equal(t, "_e40c292c", hashSuffix("a"))
	assert.Equal(t, "_811c9dc5", hashSuffix(""))
}

// TestLookup checks that the names of the default Heroku set and the
// self-stats come out as the package documentation shows them.
func TestLookup(t *testing.T) {
	l := newLookup(def.Heroku())
	f := func(stat, want string) {
		t.Helper()
		in := l.find(stat)
		assert.Equal(t, want, join(body(stat), in.unit.suffix), "stat %q", stat)
	}
	f("router.requests", "pulse_router_requests_per_second")
	f("router.5xx", "pulse_router_5xx_per_minute")
	f("router.service", "pulse_router_service_seconds")
	f("router.service.max", "pulse_router_service_max_seconds")
	f("router.bytes", "pulse_router_bytes_per_second")
	f("router.hosts.top", "pulse_router_hosts_top_per_second")
	f("router.hosts", "pulse_router_hosts")
	f("router.H12", "pulse_router_h12_per_minute")
	f("router.H12.apps", "pulse_router_h12_apps")
	f("dyno.memory", "pulse_dyno_memory_bytes")
	f("dyno.load", "pulse_dyno_load")
	f("logplex.L10", "pulse_logplex_l10_per_minute")
	f("releases", "pulse_releases_per_minute")
	f("l2met.db.query", "pulse_l2met_db_query")
	f("l2met.login.calls", "pulse_l2met_login_calls")
	f("pulse.events", "pulse_events_per_second")
	f("pulse.dropped", "pulse_dropped_per_second")
	f("pulse.publish.latency", "pulse_publish_latency_seconds")
	f("pulse.queue", "pulse_queue")
	f("pulse.lag", "pulse_lag_seconds")
	f("no.such.stat", "pulse_no_such_stat")

	assert.Equal(t, 10, l.find("router.hosts.top").k)
	assert.Equal(t, "Router requests/s", l.find("router.requests").label)
	assert.Equal(t, "l2met metric db.query", l.find("l2met.db.query").label)

	// The caller's definitions win over the built-in ones, and a longer
	// l2met prefix over a shorter one.
	l = newLookup([]def.Def{
		{Name: "pulse.lag", Kind: def.KindMax, Of: "x", Unit: "s", Label: "mine"},
		{Name: "app", Kind: def.KindL2met},
		{Name: "app2", Kind: def.KindL2met, Prefix: "app.web", Unit: "ms"},
	})
	assert.Equal(t, "mine", l.find("pulse.lag").label)
	assert.Equal(t, "_seconds", l.find("pulse.lag").unit.suffix)
	assert.Equal(t, "_seconds", l.find("app.web.latency").unit.suffix)
	assert.Equal(t, "", l.find("app.worker.latency").unit.suffix)
	assert.Equal(t, "", l.find("app.").label, "a bare prefix is no l2met metric")
}
