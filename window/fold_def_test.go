package window

import (
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFoldL2metLongName: an l2met metric whose derived name would be
// longer than def.MaxNameLen is counted in pulse.overflow. Before, it was
// dropped with no count.
func TestFoldL2metLongName(t *testing.T) {
	s := mustDefSet(t, `name=app kind=l2met`)
	long := strings.Repeat("x", def.MaxNameLen)
	foldLines(t, s,
		line(0, "app", "web.1", "count#"+long+"=1 count#ok=1"),
		line(0, "app", "web.1", "measure#"+long[:def.MaxNameLen-len("app.")-len(".mean")+1]+"=3ms"), // its .mean is one byte too long
		line(0, "app", "web.1", "count#\x01bell=1"),                                                 // not text
	)
	snap := mustSnap(t, s, ft0.Add(time.Second))
	assert.Equal(t, "0.1", snap.Stats["app.ok"].String())
	assert.Equal(t, "0.3", snap.Stats[StatOverflow].String(), "3 metrics over 10 s")
	for name := range snap.Stats {
		assert.LessOrEqual(t, len(name), def.MaxNameLen)
	}
	// The longest name that fits is kept.
	s = mustDefSet(t, `name=app kind=l2met`)
	fits := long[:def.MaxNameLen-len("app.")]
	foldLines(t, s, line(0, "app", "web.1", "count#"+fits+"=2"))
	snap = mustSnap(t, s, ft0.Add(time.Second))
	assert.Equal(t, "0.2", snap.Stats["app."+fits].String())
	assert.Equal(t, "0", snap.Stats[StatOverflow].String())
}

// TestFoldValueOverflow: a value that overflows to ±Inf once its unit is
// applied (1e308s is 1e311 ms) is skipped and counted in pulse.skipped.
// Before, it was observed: the max read null and nothing was counted.
func TestFoldValueOverflow(t *testing.T) {
	s := mustDefSet(t, `
name=svc.max kind=max of=service where=proc=router
name=svc.sum kind=sum of=service where=proc=router
`)
	foldLines(t, s,
		line(0, "heroku", "router", "service=20ms"),
		line(0, "heroku", "router", "service=1e308s"),
	)
	assert.Equal(t, "svc.max=20 svc.sum=20 pulse.skipped=0.2", snapJSON(t, s, ft0.Add(time.Second), "svc.max", "svc.sum", StatSkipped))
}

// TestNewDefSetBudget: NewDefSet refuses definitions over their budget, as
// def.Parse does, and SetOptions.Budget raises it. Before, an l2met
// max=100000000 was accepted and grew to gigabytes.
func TestNewDefSetBudget(t *testing.T) {
	defs := []def.Def{{Name: "l", Kind: def.KindL2met, MaxMetrics: 100000000}}
	_, err := NewDefSet(defs, nil)
	require.ErrorIs(t, err, def.ErrDefinition)
	assert.Contains(t, err.Error(), "over the budget of 10000")
	defs[0].MaxMetrics = 6000
	_, err = NewDefSet(defs, nil)
	require.ErrorIs(t, err, def.ErrDefinition)
	_, err = NewDefSet(defs, &SetOptions{Budget: def.Budget{MaxStats: 12000}})
	require.NoError(t, err)

	_, err = NewDefSet([]def.Def{{Name: "pulse.events", Kind: def.KindRate}}, nil)
	require.ErrorIs(t, err, def.ErrDefinition, "reserved names, as def.Parse refuses them")
	_, err = NewDefSet([]def.Def{{Name: "a", Kind: def.KindRate}, {Name: "a", Kind: def.KindRate}}, nil)
	require.ErrorIs(t, err, def.ErrDefinition)
	assert.EqualError(t, err, "def: defs[1]: a: duplicate name (first at defs[0]): bad definition")
}

// TestNewDefSetMaxWindow: the longest window def accepts fits a window at
// the default options, so a file `pulse defs --check` accepts is one a
// set accepts.
func TestNewDefSetMaxWindow(t *testing.T) {
	s, err := NewDefSet([]def.Def{{Name: "a", Kind: def.KindRate, Window: def.MaxWindow}}, nil)
	require.NoError(t, err)
	assert.Less(t, s.Window("a").Slots(), MaxBuckets)
	_, err = NewDefSet([]def.Def{{Name: "a", Kind: def.KindRate, Window: def.MaxWindow + time.Second}}, nil)
	require.ErrorIs(t, err, def.ErrDefinition)
}
