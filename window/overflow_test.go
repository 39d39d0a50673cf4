package window_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// TestOverflowCounted: what a stat's cap keeps out of its value is counted
// in pulse.overflow, not dropped silently (issue 9: dyno.memory summed
// 10 000 of 60 000 dynos with no signal; router.hosts.top read [] with
// nothing counted for a 300-byte host).
func TestOverflowCounted(t *testing.T) {
	defs := def.MustParse(`name=mem kind=last-sum of=mem by=dyno
name=hosts kind=topk of=host`, "test.defs")
	set, err := window.NewDefSet(defs, nil)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)
	var ev logfmt.Event
	fold := func(i int, body string) {
		line := fmt.Sprintf("%s host app web.1 - %s", t0.Add(time.Duration(i)*50*time.Microsecond).Format(time.RFC3339Nano), body)
		require.NoError(t, logfmt.ParseLine([]byte("<190>1 "+line), &ev))
		set.Fold(&ev)
	}
	extra := 25
	for i := range stat.DefaultLastByKeys + extra {
		fold(i, fmt.Sprintf("dyno=web.%d mem=1", i))
	}
	long := strings.Repeat("h", stat.MaxTopKKeyLen+1)
	for i := range 3 {
		fold(i, "host="+long)
	}
	snap, err := set.Snapshot(set.End())
	require.NoError(t, err)
	over, ok := snap.Number(window.StatOverflow)
	require.True(t, ok)
	// A rate per second over 10 s: the partitions past the cap (all in
	// one second's bucket) and the three long keys.
	assert.InDelta(t, float64(extra+3)/10, over, 1e-9)
}
