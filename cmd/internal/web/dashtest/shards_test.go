package dashtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/web"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
)

// The stream sends the latest snapshot merged across shards, at the time
// of the slowest: a faster shard's values are as of a later second. The
// page draws each stat's points at their own seconds: with shard 0 a
// second ahead of shard 1, and with shard 1 publishing, after a pause
// longer than the History's shard timeout, the seconds it missed (a
// merger restarted with its fill), every point of a and b is the value
// of its own second.
func TestDashboardShards(t *testing.T) {
	t.Parallel()
	defs := []def.Def{
		{Name: "a", Kind: def.KindRate, Per: time.Second, Label: "A/s", Group: "g"},
		{Name: "b", Kind: def.KindRate, Per: time.Second, Label: "B/s", Group: "g"},
	}
	s := newServer(t, defs, web.HistoryConfig{ShardTimeout: 2 * time.Second})
	start := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Second) }
	add := func(shard, i int) {
		name, v := "a", float64(i)
		if shard == 1 {
			name, v = "b", float64(100+i)
		}
		s.h.Add(shard, window.Snapshot{Time: at(i), Stats: map[string]stat.Value{name: stat.Number(v)}})
	}
	for i := range 10 {
		add(0, i)
		add(1, i)
	}
	b := newBrowser(t, 1000, 700)
	b.navigate(s.url + "/")
	b.waitJS(`pulseDash.points('a') === 10 && pulseDash.points('b') === 10`, 5*time.Second, "the history")

	// Live, shard 0 first each second.
	for i := 10; i < 14; i++ {
		add(0, i)
		time.Sleep(150 * time.Millisecond)
		add(1, i)
		time.Sleep(150 * time.Millisecond)
	}
	// Shard 1 away for longer than the shard timeout while shard 0 goes
	// on, then back with the seconds it missed, oldest first.
	for i := 14; i < 24; i++ {
		add(0, i)
		time.Sleep(250 * time.Millisecond)
	}
	for i := 14; i < 24; i++ {
		add(1, i)
		time.Sleep(30 * time.Millisecond)
	}
	b.waitJS(`pulseDash.points('a') === 24 && pulseDash.points('b') === 24`, 5*time.Second, "every point")
	for _, name := range []string{"a", "b"} {
		got := eval[[][2]float64](b, fmt.Sprintf(`pulseDash.series(%q)`, name))
		for i, p := range got {
			want := float64(i)
			if name == "b" {
				want += 100
			}
			assert.Equal(t, float64(at(i).UnixMilli()), p[0], "%s: point %d", name, i)
			assert.Equal(t, want, p[1], "%s at %v", name, at(i).Format(time.TimeOnly))
		}
	}
	assert.Empty(t, b.errors(), "console errors")
}
