package dashtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The page's formatting (format.js, window.PulseFormat), run in the
// browser: numbers for people, units, rate units from per, and the levels
// of thresholds.
func TestDashboardFormat(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	b := newBrowser(t, 800, 600)
	b.navigate(s.url + "/")
	b.waitJS(`window.PulseFormat`, 5*time.Second, "format.js")

	js := func(v any) string {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	value := func(n any, meta string, want string) {
		t.Helper()
		got := eval[string](b, fmt.Sprintf(`PulseFormat.value(%s, %s)`, js(n), meta))
		assert.Equal(t, want, got, "value(%v, %s)", n, meta)
	}
	value(0, `null`, "0")
	value(12, `null`, "12")
	value(-3, `null`, "-3")
	value(299.6, `null`, "300")
	value(14.118, `null`, "14.1")
	value(2.444, `null`, "2.44")
	value(0.0746, `null`, "0.075")
	value(0.000123, `null`, "0.00012")
	value(999.4, `null`, "999")
	value(999.6, `null`, "1k")
	value(1234, `null`, "1.23k")
	value(12345, `null`, "12.3k")
	value(999960, `null`, "1M")
	value(1234567, `null`, "1.23M")
	value(41523713, `null`, "41.5M")
	value(72435191808, `null`, "72.4G")
	value(-1500, `null`, "-1.5k")
	value(nil, `null`, "–")
	value("x", `null`, "–")

	value(168.6, `{"unit":"ms"}`, "169 ms")
	value(0.022484, `{"unit":"ms"}`, "0.022 ms")
	value(29000, `{"unit":"ms"}`, "29 s")
	value(2244, `{"unit":"ms"}`, "2.24 s")
	value(4989724.1, `{"unit":"B/s"}`, "4.99 MB/s")
	value(512, `{"unit":"B/s"}`, "512 B/s")
	value(6352.95, `{"unit":"MB"}`, "6.35 GB")
	value(403.39, `{"unit":"MB"}`, "403 MB")
	value(14, `{"unit":"/min"}`, "14/min")
	value(299.6, `{"unit":"req/s"}`, "300 req/s")
	value(1234, `{"unit":"req/s"}`, "1.23k req/s")
	value(20, `{"unit":"hosts"}`, "20 hosts")
	value(3, `{"kind":"rate","per":60}`, "3/min")
	value(0.5, `{"kind":"rate","per":1}`, "0.5/s")
	value(2, `{"kind":"rate","per":3600}`, "2/h")
	value(2, `{"kind":"rate","per":10}`, "2/10s")
	value(9.6166, `{"kind":"topk","per":1}`, "9.62/s")
	value(12, `{"kind":"mean","per":1}`, "12")
	value(nil, `{"unit":"ms"}`, "–")

	level := func(v any, meta string, want string) {
		t.Helper()
		got := eval[string](b, fmt.Sprintf(`PulseFormat.level(%s, %s)`, js(v), meta))
		assert.Equal(t, want, got, "level(%v, %s)", v, meta)
	}
	const h12 = `{"warn":5,"crit":50}`
	level(4.9, h12, "ok")
	level(5, h12, "warn")
	level(49, h12, "warn")
	level(50, h12, "crit")
	level(5000, h12, "crit")
	level(3, `{"crit":1}`, "crit")
	level(0, `{"crit":1}`, "ok")
	level(3, `{}`, "plain")
	level(3, `null`, "plain")
	level(nil, h12, "none")
	level(map[string]float64{"p50": 1, "p99": 60}, h12, "crit")
	level(map[string]float64{"p50": 1, "p99": 4}, h12, "ok")
	level([][]any{{"a.example.com", 60.0}, {"b", 1.0}}, h12, "crit")
	level([][]any{}, h12, "none")

	shape := func(v any, meta string, want string) {
		t.Helper()
		assert.Equal(t, want, eval[string](b, fmt.Sprintf(`PulseFormat.shape(%s, %s)`, js(v), meta)), "shape(%v, %s)", v, meta)
	}
	shape(1, `null`, "num")
	shape(nil, `{"kind":"quantiles"}`, "quant")
	shape(nil, `{"kind":"topk"}`, "topk")
	shape(map[string]float64{"p50": 1}, `null`, "quant")
	shape([][]any{}, `null`, "topk")
	shape(nil, `{"kind":"l2met"}`, "num")
}
