package merger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/stat"
)

// TestOwnStatsLongDelay reads the merger's own figures at a snapshot time
// a long grace behind the clock: the figures of every second the snapshot
// covers are still held, as the merger's set holds its stats.
func TestOwnStatsLongDelay(t *testing.T) {
	tests := []struct {
		name         string
		flush, grace time.Duration
	}{
		{"defaults", 0, 0},
		{"grace 6s", time.Second, 6 * time.Second},
		{"flush 5s, grace 5s", 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(Config{Defs: testDefs(), Flush: tt.flush, Grace: tt.grace}, newMemory(t), nil)
			require.NoError(t, err)
			delay := m.cfg.Flush + m.cfg.Grace
			t0 := time.Unix(1_800_000_000, 0)
			m.own.advance(t0)
			m.own.add(ownLate, t0, 5)
			// The merger's clock a second past the delay, plus a span:
			// the snapshot at T reads [T − 10 s, T), which holds t0.
			now := t0.Add(ownSpan - time.Second + delay)
			m.own.advance(now)
			T := now.Add(-delay).Truncate(time.Second)
			stats := map[string]stat.Value{}
			m.own.read(T, 0, 0, stats)
			v, ok := stats["pulse.merger.0.late"].Number()
			assert.True(t, ok, "pulse.merger.0.late at %v, delay %v: %v", T, delay, stats["pulse.merger.0.late"])
			assert.Equal(t, 0.5, v, "5 over 10 s")
		})
	}
}
