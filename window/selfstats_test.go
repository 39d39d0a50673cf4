package window_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

func TestExtraSelfStats(t *testing.T) {
	extra := []def.Def{
		{Name: "pulse.queue", Kind: def.KindMax, Of: "depth", Window: 10 * time.Second},
		{Name: "pulse.dropped", Kind: def.KindRate, Per: time.Second},
	}
	opts := &window.SetOptions{Clock: window.ManualClock, SelfStats: extra}
	recv, err := window.NewDefSet(nil, opts)
	require.NoError(t, err)
	merger, err := window.NewDefSet(nil, opts)
	require.NoError(t, err)

	t0 := time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC)
	require.NoError(t, recv.Advance(t0))
	require.NoError(t, merger.Advance(t0))
	for i, depth := range []float64{3, 40, 7} {
		now := t0.Add(time.Duration(i) * time.Second)
		require.NoError(t, recv.Advance(now))
		recv.Window("pulse.queue").At(now).(*stat.Max).Observe(depth)
		recv.Window("pulse.dropped").At(now).(*stat.Count).Observe()
	}
	for _, d := range recv.Cut(nil) {
		require.NoError(t, merger.Apply(d))
	}
	at := t0.Add(3 * time.Second)
	require.NoError(t, merger.Advance(at))
	snap, err := merger.Snapshot(at)
	require.NoError(t, err)
	q, ok := snap.Stats["pulse.queue"].Number()
	require.True(t, ok)
	assert.Equal(t, 40.0, q, "the largest depth in the window")
	dropped, _ := snap.Stats["pulse.dropped"].Number()
	assert.Equal(t, 0.3, dropped, "3 drops over the 10 s window, per second")

	// A merger without the same list refuses them as unknown.
	plain, err := window.NewDefSet(nil, &window.SetOptions{Clock: window.ManualClock})
	require.NoError(t, err)
	require.NoError(t, plain.Advance(t0))
	recv.Window("pulse.dropped").At(at).(*stat.Count).Observe()
	require.NoError(t, recv.Advance(at))
	for _, d := range recv.Cut(nil) {
		assert.ErrorIs(t, plain.Apply(d), window.ErrUnknown)
	}
}

func TestExtraSelfStatsNames(t *testing.T) {
	for _, name := range []string{"queue", "pulse.events", ""} {
		_, err := window.NewDefSet(nil, &window.SetOptions{SelfStats: []def.Def{{Name: name, Kind: def.KindRate}}})
		assert.ErrorIs(t, err, def.ErrDefinition, name)
	}
}
