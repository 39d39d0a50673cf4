package metrics_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// promtool runs `promtool check metrics` on an exposition and fails t if
// promtool cannot parse it (exit status 1) or, with lint, on any problem
// it reports (exit status 3 and a line per problem). Without promtool
// (Debian package prometheus) it skips, or fails when
// PULSE_REQUIRE_SERVICES=1, as CI sets.
func promtool(t *testing.T, exposition []byte, lint bool) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found (apt-get install --no-install-recommends prometheus); the exposition was not checked by it"
		if os.Getenv("PULSE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s, and PULSE_REQUIRE_SERVICES=1", msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("promtool: %v", err)
	}
	if !lint && exit != nil && exit.ExitCode() == 3 {
		t.Logf("promtool check metrics: conventions only:\n%s", out)
		return
	}
	assert.NoError(t, err, "promtool check metrics:\n%s", out)
	assert.Empty(t, string(out), "promtool check metrics")
}

// realistic folds generated Heroku traffic through the default set and
// the self-stats, as a receiver and merger would, and snapshots it, with
// the two stats the web adds.
func realistic(t testing.TB) ([]def.Def, window.Snapshot) {
	t.Helper()
	defs := def.Heroku()
	set, err := window.NewDefSet(defs, &window.SetOptions{SelfStats: selfstat.Defs()})
	require.NoError(t, err)
	var drain bytes.Buffer
	g := logfmttest.New(logfmttest.Options{Seed: 7, Rate: 300})
	_, err = g.WriteFor(&drain, 90*time.Second)
	require.NoError(t, err)
	r := logfmt.NewReader(&drain, nil)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			set.Unparsed(1)
			continue
		}
		set.Fold(ev)
	}
	snap, err := set.Snapshot(set.End())
	require.NoError(t, err)
	snap.Stats[selfstat.Lag] = stat.Number(1830)
	snap.Stats[selfstat.Shards] = stat.Number(2)
	return defs, snap
}

// TestPromtool checks the exposition of a realistic snapshot with the
// real promtool: valid, and no lint problem.
func TestPromtool(t *testing.T) {
	defs, snap := realistic(t)
	b := expose(t, defs, snap)
	mfs := parse(t, b)

	// Every form is there, so promtool sees each.
	types := map[dto.MetricType]int{}
	for _, mf := range mfs {
		types[mf.GetType()]++
	}
	assert.Positive(t, types[dto.MetricType_SUMMARY], "summaries")
	assert.Positive(t, types[dto.MetricType_GAUGE], "gauges")
	assert.Greater(t, len(mfs["pulse_router_hosts_top_per_second"].GetMetric()), 1, "top-k series")
	assert.Contains(t, mfs, "pulse_events_per_second")
	assert.Contains(t, mfs, "pulse_lag_seconds")
	assert.Contains(t, mfs, "pulse_router_service_seconds")
	valid := regexp.MustCompile(`^pulse_[a-z0-9_]+$`)
	for name := range mfs {
		assert.Regexp(t, valid, name)
	}
	// Heroku's Postgres and dyno samples name load-avg-1m and
	// load_avg_1m, memory-total and memory_total: they collide, and the
	// second in byte order gets its hash.
	assert.Equal(t, 4.0, mfs["pulse_exporter_collisions"].Metric[0].Gauge.GetValue())
	assert.Contains(t, mfs, "pulse_l2met_load_avg_1m")
	assert.Contains(t, mfs, "pulse_l2met_load_avg_1m"+hash("l2met.load_avg_1m"))
	assert.Contains(t, mfs, "pulse_l2met_memory_total_value")
	assert.Contains(t, mfs, "pulse_l2met_memory_total"+hash("l2met.memory_total"))
	assert.Equal(t, 0.0, mfs["pulse_exporter_omitted"].Metric[0].Gauge.GetValue())
	t.Logf("%d families, %d bytes", len(mfs), len(b))

	promtool(t, b, true)
}
