package fragment

import (
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manualSet returns a ManualClock set of a Count and a Sum window at t0.
func manualSet(t testing.TB) *window.Set {
	t.Helper()
	req, err := window.New("router.requests", stat.KindCount, window.Options{})
	require.NoError(t, err)
	byt, err := window.New("router.bytes", stat.KindSum, window.Options{})
	require.NoError(t, err)
	s, err := window.NewSet(req, byt)
	require.NoError(t, err)
	require.NoError(t, s.Advance(t0))
	return s
}

func TestSenderCut(t *testing.T) {
	set := manualSet(t)
	snd := NewSender("web.1/1/1700000000", 3, nil)
	set.Window("router.requests").At(t0).(*stat.Count).Add(42)
	set.Window("router.bytes").At(t0).(*stat.Sum).Observe(8192)

	out, err := snd.Cut(set, t0.Add(time.Second), nil)
	require.NoError(t, err)
	require.Len(t, out, 3, "one batch per shard, even an empty one")
	assert.Equal(t, uint64(1), snd.Seq())
	assert.Equal(t, t0.Add(time.Second), set.Now(), "a ManualClock set is advanced after the cut")
	frags := 0
	for i, wire := range out {
		var b Batch
		require.NoError(t, b.UnmarshalBinary(wire))
		assert.Equal(t, "web.1/1/1700000000", b.Source)
		assert.Equal(t, uint64(1), b.Seq)
		assert.True(t, t0.Add(time.Second).Equal(b.Time))
		for _, f := range b.Fragments {
			assert.Equal(t, i, Shard(f.Name, 3), "%s in shard %d", f.Name, i)
		}
		frags += len(b.Fragments)
	}
	assert.Equal(t, 2, frags)

	// The next cut reuses the buffers and has the next seq; nothing new
	// to send, but every shard hears from the receiver.
	prev := &out[0][0]
	out, err = snd.Cut(set, t0.Add(2*time.Second), out)
	require.NoError(t, err)
	assert.Same(t, prev, &out[0][0], "dst's buffers are reused")
	for _, wire := range out {
		var b Batch
		require.NoError(t, b.UnmarshalBinary(wire))
		assert.Equal(t, uint64(2), b.Seq)
		assert.Empty(t, b.Fragments)
	}

	// An EventClock set is cut but not advanced.
	var ev window.Set
	_, err = NewSender("x", 1, nil).Cut(&ev, t0, nil)
	require.NoError(t, err)
	assert.True(t, ev.Now().IsZero())

	// A batch time the format cannot hold is an error; the seq moves on.
	_, err = snd.Cut(set, time.Time{}, out)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, uint64(3), snd.Seq())
}

func TestSenderLimits(t *testing.T) {
	set := manualSet(t)
	set.Window("router.requests").At(t0).(*stat.Count).Add(1)
	set.Window("router.bytes").At(t0).(*stat.Sum).Observe(1)
	_, err := NewSender("web.1", 1, &Limits{MaxFragments: 1}).Cut(set, t0, nil)
	require.ErrorIs(t, err, ErrLimit)
}
