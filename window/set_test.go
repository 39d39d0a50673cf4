package window

import (
	"slices"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	mk := func(name string, k stat.Kind) *Window {
		w, err := New(name, k, Options{})
		require.NoError(t, err)
		return w
	}
	recv, err := NewSet(mk("requests", stat.KindCount), mk("bytes", stat.KindSum))
	require.NoError(t, err)
	merger, err := NewSet()
	require.NoError(t, err)
	require.NoError(t, merger.Add(mk("requests", stat.KindCount)))
	require.NoError(t, merger.Add(mk("bytes", stat.KindSum)))
	require.ErrorIs(t, merger.Add(mk("bytes", stat.KindSum)), ErrDuplicate)
	_, err = NewSet(mk("a", stat.KindCount), mk("a", stat.KindCount))
	require.ErrorIs(t, err, ErrDuplicate)

	assert.Equal(t, 2, merger.Len())
	var names []string
	for w := range recv.All() {
		names = append(names, w.Name())
	}
	assert.Equal(t, []string{"bytes", "requests"}, names)

	require.ErrorIs(t, merger.Apply(Delta{Name: "requests", Kind: stat.KindCount, Start: sec(9), Width: time.Second, Stat: new(stat.Count)}),
		ErrClock, "a merger that forgets Advance is told")
	require.NoError(t, recv.Advance(sec(10)))
	require.NoError(t, merger.Advance(sec(10)))
	recv.Window("requests").At(sec(9)).(*stat.Count).Add(3)
	recv.Window("bytes").At(sec(9)).(*stat.Sum).Observe(512)
	recv.Window("bytes").At(sec(8)).(*stat.Sum).Observe(100)
	recv.Window("requests").At(sec(-1000)) // late
	cut := recv.Cut(nil)
	require.Len(t, cut, 3)
	assert.True(t, slices.IsSortedFunc(cut, func(a, b Delta) int {
		if a.Name != b.Name {
			return map[bool]int{true: -1, false: 1}[a.Name < b.Name]
		}
		return a.Start.Compare(b.Start)
	}), "cut is in name order, then bucket order")
	for _, d := range cut {
		require.NoError(t, merger.Apply(d))
	}
	var sum stat.Sum
	require.NoError(t, merger.Window("bytes").Read(sec(10), 10*time.Second, &sum))
	assert.Equal(t, 612.0, sum.Sum())
	assert.Equal(t, uint64(1), recv.Late())
	assert.Zero(t, recv.Rejected())

	require.ErrorIs(t, merger.Apply(Delta{Name: "nope", Kind: stat.KindCount}), ErrUnknown)
	assert.Nil(t, merger.Window("nope"))
}
