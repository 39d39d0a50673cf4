package otlp

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/counters/counterstest"
	"github.com/stretchr/testify/assert"
)

// TestStatsFieldOrder checks that the counter constants in stats.go run in
// the order of StatsSnapshot's fields and are named after them, which
// Snapshot relies on.
func TestStatsFieldOrder(t *testing.T) {
	counterstest.FieldOrder(t, "stats.go", reflect.TypeFor[StatsSnapshot](), int(numCounters))
}

func TestStatsSnapshot(t *testing.T) {
	var st Stats
	st.add(requests, 3)
	st.add(readErrors, 7)
	snap := st.Snapshot()
	assert.EqualValues(t, 3, snap.Requests)
	assert.EqualValues(t, 7, snap.ReadErrors)
	assert.Zero(t, snap.Accepted)

	names := map[string]int64{}
	for name, v := range snap.All() {
		_, dup := names[name]
		assert.False(t, dup, "name %q twice", name)
		assert.True(t, strings.HasPrefix(name, "otlp."), name)
		assert.Equal(t, strings.ToLower(name), name)
		names[name] = v
	}
	assert.Len(t, names, int(numCounters))
	assert.EqualValues(t, 3, names["otlp.requests"])
	assert.EqualValues(t, 7, names["otlp.read_errors"])
	for range snap.All() {
		break // stopping early is allowed
	}
}
