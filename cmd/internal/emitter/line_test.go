package emitter

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

var at = time.Date(2026, 3, 14, 17, 2, 1, 0, time.UTC) // 1773507721

func lines(prefix string, topK int, stats map[string]stat.Value) (string, int, int) {
	b, _, n, skipped := appendSnapshot(nil, nil, prefix, topK, window.Snapshot{Time: at, Stats: stats})
	return string(b), n, skipped
}

func TestLines(t *testing.T) {
	got, n, skipped := lines("pulse.", 10, map[string]stat.Value{
		"router.requests":  stat.Number(412.5),
		"router.service":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}, {Q: 0.999, Value: 29000}}),
		"router.hosts.top": stat.TopValue([]stat.TopValueEntry{{Key: "www.shop-example.com", Value: 31.5}, {Key: "api.example.com", Value: 12}}),
		"router.H12":       stat.Null(),
		"pulse.events":     stat.Number(700),
		"dyno.memory":      stat.Number(1.84630116352e+10),
		"tiny":             stat.Number(1e-7),
		"zero":             stat.Number(0),
		"neg":              stat.Number(-3),
	})
	assert.Equal(t, `pulse.dyno.memory 18463011635.2 1773507721
pulse.neg -3 1773507721
pulse.pulse.events 700 1773507721
pulse.router.hosts.top.www_shop-example_com 31.5 1773507721
pulse.router.hosts.top.api_example_com 12 1773507721
pulse.router.requests 412.5 1773507721
pulse.router.service.p50 18 1773507721
pulse.router.service.p99 412 1773507721
pulse.router.service.p99_9 29000 1773507721
pulse.tiny 1e-07 1773507721
pulse.zero 0 1773507721
`, got)
	assert.Equal(t, 11, n)
	assert.Equal(t, 0, skipped)
}

func TestLinesSanitised(t *testing.T) {
	f := func(name, key, want string) {
		t.Helper()
		v := stat.Number(1)
		if key != "" {
			v = stat.TopValue([]stat.TopValueEntry{{Key: key, Value: 1}})
		}
		got, _, _ := lines("p.", 10, map[string]stat.Value{name: v})
		assert.Equal(t, want+" 1 1773507721\n", got, "name %q key %q", name, key)
		assert.Equal(t, 1, strings.Count(got, "\n"))
	}
	f("a b", "", "p.a_b")
	f("a\nb", "", "p.a_b")
	f("a\rb\x00c\x7f", "", "p.a_b_c_")
	f("a..b", "", "p.a._.b")
	f(".a.", "", "p._.a._")
	f("héllo", "", "p.h_llo")
	f("bad\xff\xfe", "", "p.bad__")
	f("glob*?[x]{y}", "", "p.glob___x__y_")
	f("tag;k=v", "", "p.tag_k_v")
	f("a/b\\c", "", "p.a_b_c")
	f("ok-name_1.X", "", "p.ok-name_1.X")
	f("t", "<script>alert(1)</script>", "p.t._script_alert_1___script_")
	f("t", "a.b.c", "p.t.a_b_c")
	f("t", "../../etc/passwd", "p.t.______etc_passwd")
	f("t", "line\n1 2 3", "p.t.line_1_2_3")
	f("t", " ", "p.t._")
	f("t", "\xff", "p.t._")
}

func TestLinesTopK(t *testing.T) {
	top := stat.TopValue([]stat.TopValueEntry{
		{Key: "a.b", Value: 5}, {Key: "a_b", Value: 4}, // the same node: the first is kept
		{Key: "c", Value: 3}, {Key: "d", Value: 2}, {Key: "e", Value: 1},
	})
	got, n, _ := lines("p.", 2, map[string]stat.Value{"t": top})
	assert.Equal(t, "p.t.a_b 5 1773507721\np.t.c 3 1773507721\n", got)
	assert.Equal(t, 2, n)

	got, n, _ = lines("p.", -1, map[string]stat.Value{"t": top, "x": stat.Number(1)})
	assert.Equal(t, "p.x 1 1773507721\n", got, "TopK -1 sends no keys")
	assert.Equal(t, 1, n)
}

func TestLinesSkipped(t *testing.T) {
	got, n, skipped := lines("p.", 10, map[string]stat.Value{
		"nan": stat.Number(math.NaN()), // null already
		"q":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: math.Inf(1)}, {Q: 0.9, Value: 2}}),
		"top": stat.TopValue([]stat.TopValueEntry{{Key: "a", Value: math.NaN()}, {Key: "b", Value: math.Inf(-1)}}),
		"ok":  stat.Number(1),
	})
	assert.Equal(t, "p.ok 1 1773507721\np.q.p90 2 1773507721\n", got)
	assert.Equal(t, 2, n)
	assert.Equal(t, 3, skipped)
}

func TestAppendValue(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		assert.Equal(t, want, string(appendValue(nil, v)))
	}
	f(0, "0")
	f(412.5, "412.5")
	f(-3, "-3")
	f(1e14, "100000000000000")
	f(1e15, "1e+15")
	f(0.0001, "0.0001")
	f(0.00001, "1e-05")
	f(math.Copysign(0, -1), "-0")
}

func TestValidPrefix(t *testing.T) {
	assert.True(t, validPrefix("pulse."))
	assert.True(t, validPrefix("abc123.pulse."))
	assert.False(t, validPrefix("a b"))
	assert.False(t, validPrefix("a\n"))
	assert.False(t, validPrefix("é"))
}
