package web

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// at returns the time of second s after t0.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// snap returns a snapshot at time t of name, value pairs.
func snap(t time.Time, kv ...any) window.Snapshot {
	s := window.Snapshot{Time: t, Stats: make(map[string]stat.Value)}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case float64:
			s.Stats[kv[i].(string)] = stat.Number(v)
		case int:
			s.Stats[kv[i].(string)] = stat.Number(float64(v))
		case stat.Value:
			s.Stats[kv[i].(string)] = v
		default:
			panic(fmt.Sprintf("snap: %T", v))
		}
	}
	return s
}

// clock is a settable wall clock for a History.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newHistory(t testing.TB, cfg HistoryConfig) (*History, *clock) {
	t.Helper()
	c := &clock{t: t0.Add(time.Hour)}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	h, err := NewHistory(cfg)
	require.NoError(t, err)
	return h, c
}

// pt is a point as the tests compare them: its time in seconds after t0
// and its value's JSON.
type pt struct {
	s int
	v string
}

// points returns name's points in order.
func points(h *History, name string) []pt {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rings[name]
	if r == nil {
		return nil
	}
	var out []pt
	for i := range r.ms {
		j := r.at(i)
		out = append(out, pt{int(time.UnixMilli(r.ms[j]).Sub(t0) / time.Second), r.value(j).String()})
	}
	return out
}

func TestNewHistoryErrors(t *testing.T) {
	for _, cfg := range []HistoryConfig{
		{Points: -1}, {Points: MaxPoints + 1}, {MaxNames: -1}, {ShardTimeout: -time.Second},
	} {
		_, err := NewHistory(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
	h, err := NewHistory(HistoryConfig{})
	require.NoError(t, err)
	assert.Equal(t, DefaultPoints, h.points)
	assert.Equal(t, DefaultMaxNames, h.maxNames)
	assert.Equal(t, DefaultExpire, h.expire)
	assert.Equal(t, DefaultShardTimeout, h.shardTimeout)
}

// TestHistoryRing adds points at the given seconds, in that order, to a
// ring of 4, and checks what it keeps and counts.
func TestHistoryRing(t *testing.T) {
	tests := []struct {
		name     string
		add      []int
		want     []int
		replaced uint64
		dropped  uint64
	}{
		{name: "in order", add: []int{1, 2, 3}, want: []int{1, 2, 3}},
		{name: "full", add: []int{1, 2, 3, 4}, want: []int{1, 2, 3, 4}},
		{name: "wraps", add: []int{1, 2, 3, 4, 5, 6}, want: []int{3, 4, 5, 6}},
		{name: "wraps twice", add: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, want: []int{8, 9, 10, 11}},
		{name: "gaps", add: []int{1, 5, 60, 61}, want: []int{1, 5, 60, 61}},
		{name: "same time", add: []int{1, 2, 2, 3, 3, 3}, want: []int{1, 2, 3}, replaced: 3},
		{name: "same time after wrap", add: []int{1, 2, 3, 4, 5, 6, 4, 3}, want: []int{3, 4, 5, 6}, replaced: 2},
		{name: "older inserted with room", add: []int{5, 1, 3}, want: []int{1, 3, 5}},
		{name: "older inserted at front with room", add: []int{5, 6, 2}, want: []int{2, 5, 6}},
		{name: "older than all of a full ring", add: []int{5, 6, 7, 8, 1}, want: []int{5, 6, 7, 8}, dropped: 1},
		{name: "older inside a full ring", add: []int{2, 4, 6, 8, 5}, want: []int{4, 5, 6, 8}},
		{name: "older inside a wrapped ring", add: []int{1, 2, 4, 6, 8, 10, 7}, want: []int{6, 7, 8, 10}},
		{name: "older just after the oldest", add: []int{1, 3, 5, 7, 9, 4}, want: []int{4, 5, 7, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHistory(t, HistoryConfig{Points: 4, Expire: -1})
			for i, s := range tt.add {
				h.Add(0, snap(at(s), "a", i))
			}
			got := points(h, "a")
			var secs []int
			for _, p := range got {
				secs = append(secs, p.s)
			}
			assert.Equal(t, tt.want, secs)
			st := h.Stats()
			assert.Equal(t, tt.replaced, st.Replaced, "replaced")
			assert.Equal(t, tt.dropped, st.Dropped, "dropped")
			// Each kept point holds the value of its time's last Add.
			for _, p := range got {
				last := -1
				for i, s := range tt.add {
					if s == p.s {
						last = i
					}
				}
				assert.Equal(t, fmt.Sprint(last), p.v, "value at %d", p.s)
			}
		})
	}
}

// TestHistoryRingModel checks random sequences of times against a model:
// a ring keeps the newest Points distinct times it was given, each with
// its last value.
func TestHistoryRingModel(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := 1 + rng.IntN(12)
		h, _ := newHistory(t, HistoryConfig{Points: n, Expire: -1})
		last := map[int]int{}
		base := 0
		for i := range 5 + rng.IntN(60) {
			s := base + rng.IntN(8) - 5 // mostly forward, some back and repeats
			if rng.IntN(3) > 0 {
				base++
			}
			h.Add(0, snap(at(s), "x", i))
			last[s] = i
		}
		times := slices.Sorted(func(yield func(int) bool) {
			for s := range last {
				if !yield(s) {
					return
				}
			}
		})
		if len(times) > n {
			times = times[len(times)-n:]
		}
		var want []pt
		for _, s := range times {
			want = append(want, pt{s, fmt.Sprint(last[s])})
		}
		require.Equal(t, want, points(h, "x"), "seed %d, %d points", seed, n)
	}
}

func TestHistoryValues(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{Points: 3, Expire: -1})
	q := stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.99, Value: 412}})
	top := stat.TopValue([]stat.TopValueEntry{{Key: "a.example.com", Value: 4.5}})
	// A name whose values change form keeps each point's own form,
	// through wraparound.
	forms := []stat.Value{stat.Number(1.5), stat.Null(), q, top, stat.Number(-2), q, stat.Null(), stat.Number(0)}
	for i, v := range forms {
		h.Add(0, snap(at(i), "m", v))
		want := []pt{}
		for k := max(0, i-2); k <= i; k++ {
			want = append(want, pt{k, forms[k].String()})
		}
		require.Equal(t, want, points(h, "m"), "after %d", i)
	}
	// Out of order into a ring with ext values.
	h.Add(0, snap(at(6), "m", top))
	assert.Equal(t, []pt{{5, q.String()}, {6, top.String()}, {7, "0"}}, points(h, "m"))
}

func TestHistoryNamesCap(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{MaxNames: 3, Expire: -1})
	names := []any{"a", 1, "b", 2, "c", 3, "d", 4, "e", 5}
	h.Add(0, snap(at(1), names...))
	st := h.Stats()
	assert.Equal(t, 3, st.Names)
	assert.Equal(t, uint64(2), st.Overflow)
	kept := map[string]bool{}
	for _, r := range h.order {
		kept[r.name] = true
	}
	h.Add(0, snap(at(2), names...))
	st = h.Stats()
	assert.Equal(t, 3, st.Names)
	assert.Equal(t, uint64(4), st.Overflow)
	for name := range kept {
		assert.Len(t, points(h, name), 2, name)
	}
	// Another shard's names are capped with the same count.
	h.Add(1, snap(at(2), "f", 6))
	assert.Equal(t, uint64(5), h.Stats().Overflow)
	assert.Nil(t, points(h, "f"))
	// Latest still reports every name of every shard: the cap is on
	// the history only.
	assert.Len(t, h.Latest().Stats, 6)
}

func TestHistoryExpire(t *testing.T) {
	h, clk := newHistory(t, HistoryConfig{MaxNames: 2, Expire: 10 * time.Second})
	h.Add(0, snap(at(0), "old", 1, "kept", 1))
	for s := 1; s <= 10; s++ {
		clk.Add(time.Second)
		h.Add(0, snap(at(s), "kept", s, "new", s))
	}
	st := h.Stats()
	assert.Equal(t, uint64(0), st.Expired)
	assert.Equal(t, uint64(10), st.Overflow, "new has no room while old is kept")
	// 11 s after the last snapshot that carried it, "old" is gone.
	clk.Add(time.Second)
	h.Add(0, snap(at(11), "kept", 11, "new", 11))
	h.Add(0, snap(at(12), "kept", 12, "new", 12))
	st = h.Stats()
	assert.Equal(t, uint64(1), st.Expired)
	assert.Nil(t, points(h, "old"))
	assert.Equal(t, []pt{{11, "11"}, {12, "12"}}, points(h, "new"))
	assert.Len(t, points(h, "kept"), 13)
	assert.Equal(t, []string{"kept", "new"}, ringNames(h))
	// Snapshot times do not matter: a far older one keeps a name alive.
	clk.Add(time.Minute)
	h.Add(0, snap(at(-1000), "kept", 0))
	clk.Add(time.Second)
	h.Add(0, snap(at(-999), "kept", 0))
	assert.Equal(t, []string{"kept"}, ringNames(h))
	assert.Equal(t, uint64(2), h.Stats().Expired)
}

func ringNames(h *History) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var names []string
	for _, r := range h.order {
		names = append(names, r.name)
	}
	return names
}

func TestHistoryNamesSorted(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	h.Add(0, snap(at(1), "m", 1, "b", 1, "z", 1))
	h.Add(1, snap(at(1), "a", 1, "n", 1))
	h.Add(0, snap(at(2), "c", 1))
	assert.Equal(t, []string{"a", "b", "c", "m", "n", "z"}, ringNames(h))
}

func TestHistoryRejected(t *testing.T) {
	h, clk := newHistory(t, HistoryConfig{})
	h.Add(0, snap(clk.Now().Add(MaxAhead), "ahead", 1)) // just in
	h.Add(0, snap(at(1), "a", 1))
	require.Equal(t, 2, h.Stats().Names)
	h, clk = newHistory(t, HistoryConfig{})
	h.Add(-1, snap(at(1), "a", 1))
	h.Add(0, window.Snapshot{Stats: map[string]stat.Value{"a": stat.Number(1)}})
	h.Add(0, snap(clk.Now().Add(MaxAhead+time.Millisecond), "a", 1))
	st := h.Stats()
	assert.Equal(t, uint64(3), st.Rejected)
	assert.Equal(t, 0, st.Names)
	assert.Equal(t, 0, st.Shards)
}

func TestHistoryLatest(t *testing.T) {
	h, clk := newHistory(t, HistoryConfig{ShardTimeout: 10 * time.Second})
	latest := h.Latest()
	assert.True(t, latest.Time.IsZero())
	assert.Empty(t, latest.Stats)
	assert.NotNil(t, latest.Stats)

	// Two shards, disjoint names, shard 1 a second ahead.
	h.Add(0, snap(at(10), "a", 1, "b", 2))
	h.Add(1, snap(at(11), "c", 3))
	assert.Equal(t, snap(at(10), "a", 1, "b", 2, "c", 3), h.Latest())
	// Shard 0 catches up: it replaces its own latest.
	h.Add(0, snap(at(11), "a", 4))
	assert.Equal(t, snap(at(11), "a", 4, "c", 3), h.Latest())
	// An older snapshot of shard 1 (a backfill) adds points only.
	h.Add(1, snap(at(9), "c", 9))
	assert.Equal(t, snap(at(11), "a", 4, "c", 3), h.Latest())
	assert.Equal(t, []pt{{9, "9"}, {11, "3"}}, points(h, "c"))
	// A re-published snapshot at the same time replaces.
	h.Add(1, snap(at(11), "c", 5))
	assert.Equal(t, snap(at(11), "a", 4, "c", 5), h.Latest())
	assert.Equal(t, []pt{{9, "9"}, {11, "5"}}, points(h, "c"))

	// Shard 1 stops; after ShardTimeout it is left out.
	for s := 12; s <= 21; s++ {
		clk.Add(time.Second)
		h.Add(0, snap(at(s), "a", s))
	}
	assert.Equal(t, snap(at(21), "a", 21), h.Latest())
	st := h.Stats()
	assert.Equal(t, 2, st.Shards)
	assert.Equal(t, 1, st.LiveShards)
	// It comes back behind the time it had (a merger on another host):
	// stale, its older snapshot becomes its latest again.
	h.Add(1, snap(at(8), "c", 8))
	assert.Equal(t, snap(at(8), "a", 21, "c", 8), h.Latest())
	// Everything stale: an empty snapshot.
	clk.Add(time.Minute)
	assert.Equal(t, window.Snapshot{Stats: map[string]stat.Value{}}, h.Latest())

	// The returned map is the caller's.
	h.Add(0, snap(at(30), "a", 30))
	l := h.Latest()
	l.Stats["a"] = stat.Number(-1)
	assert.Equal(t, "30", h.Latest().Stats["a"].String())
}

func TestHistoryLatestSameName(t *testing.T) {
	// While shards are reassigned, two may report one name: the later
	// time wins, then the lower shard.
	tests := []struct {
		name string
		adds []struct {
			shard int
			s     int
			v     int
		}
		want window.Snapshot
	}{
		{name: "later wins", want: snap(at(1), "x", 2, "y", 1), adds: []struct{ shard, s, v int }{{0, 1, 1}, {1, 2, 2}}},
		{name: "later wins, lower shard later", want: snap(at(1), "x", 1, "y", 1), adds: []struct{ shard, s, v int }{{1, 1, 2}, {0, 2, 1}}},
		{name: "tie: lower shard", want: snap(at(5), "x", 1, "y", 1), adds: []struct{ shard, s, v int }{{3, 5, 3}, {1, 5, 1}, {2, 5, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHistory(t, HistoryConfig{})
			for i, a := range tt.adds {
				kv := []any{"x", a.v}
				if i == 0 {
					kv = append(kv, "y", 1)
				}
				h.Add(a.shard, snap(at(a.s), kv...))
			}
			assert.Equal(t, tt.want, h.Latest())
		})
	}
}

// recv receives from ch, failing the test after a deadline.
func recv(t *testing.T, ch <-chan *Update) (*Update, bool) {
	t.Helper()
	select {
	case u, ok := <-ch:
		return u, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no update")
		return nil, false
	}
}

func TestHistorySubscribe(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	ch, cancel := h.Subscribe(0)
	assert.Equal(t, DefaultSubscribeBuffer, cap(ch))
	assert.Empty(t, ch, "nothing to send before a snapshot")
	h.Add(0, snap(at(1), "a", 1))
	h.Add(1, snap(at(1), "b", 1))
	h.Add(0, snap(at(0), "a", 0)) // older: history only, no update
	h.Add(0, snap(at(2), "a", 2))
	for _, want := range []window.Snapshot{
		snap(at(1), "a", 1), snap(at(1), "a", 1, "b", 1), snap(at(1), "a", 2, "b", 1),
	} {
		u, ok := recv(t, ch)
		require.True(t, ok)
		assert.Equal(t, want, u.Snapshot())
		assert.Equal(t, string(want.AppendJSON(nil)), string(u.JSON()))
	}
	assert.Empty(t, ch)
	cancel()
	cancel()
	_, ok := recv(t, ch)
	assert.False(t, ok, "closed by cancel")
	assert.Equal(t, 0, h.Stats().Subscribers)

	// A new subscriber starts with the latest.
	ch, cancel = h.Subscribe(2)
	defer cancel()
	u, ok := recv(t, ch)
	require.True(t, ok)
	assert.Equal(t, snap(at(1), "a", 2, "b", 1), u.Snapshot())
}

// TestHistorySlowSubscriber: a subscriber that never reads does not
// block Add; it is cut off once its buffer is full, after receiving
// what fitted, in order.
func TestHistorySlowSubscriber(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	slow, cancelSlow := h.Subscribe(4)
	defer cancelSlow()
	fast, cancelFast := h.Subscribe(1000)
	defer cancelFast()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range 100 {
			h.Add(0, snap(at(s), "a", s))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Add blocked on a subscriber that does not read")
	}
	for s := range 4 {
		u, ok := recv(t, slow)
		require.True(t, ok)
		assert.Equal(t, at(s), u.Snapshot().Time)
	}
	_, ok := recv(t, slow)
	assert.False(t, ok, "the slow subscription is closed")
	for s := range 100 {
		u, ok := recv(t, fast)
		require.True(t, ok)
		require.Equal(t, at(s), u.Snapshot().Time)
	}
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Slow)
	assert.Equal(t, 1, st.Subscribers)
}

func TestHistoryCloseSubscriptions(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	h.Add(0, snap(at(1), "a", 1))
	ch, cancel := h.Subscribe(1)
	h.CloseSubscriptions()
	u, ok := recv(t, ch)
	require.True(t, ok, "what was sent stays readable")
	assert.Equal(t, at(1), u.Snapshot().Time)
	_, ok = recv(t, ch)
	assert.False(t, ok)
	cancel()
	ch, cancel = h.Subscribe(1)
	_, ok = recv(t, ch)
	assert.False(t, ok, "closed at once after CloseSubscriptions")
	cancel()
	h.Add(0, snap(at(2), "a", 2))
	assert.Equal(t, at(2), h.Latest().Time)
}

// TestHistoryConcurrency runs Adds from several shards against readers
// and subscribers at random; run it with -race.
func TestHistoryConcurrency(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{Points: 50, MaxNames: 40})
	var wg sync.WaitGroup
	for shard := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(shard), 2))
			for s := range 300 {
				kv := []any{}
				for k := range 12 {
					kv = append(kv, fmt.Sprintf("s%d.n%d", shard, k), rng.Float64())
				}
				h.Add(shard, snap(at(s-rng.IntN(3)), kv...))
			}
		}()
	}
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			for range 200 {
				switch rng.IntN(4) {
				case 0:
					_ = h.Latest()
				case 1:
					b := h.appendStats(nil, int64(rng.IntN(1000)), nil)
					if !json.Valid(b) {
						t.Errorf("invalid JSON %.100s", b)
					}
				case 2:
					_ = h.Stats()
				case 3:
					ch, cancel := h.Subscribe(1 + rng.IntN(3))
					for range rng.IntN(3) {
						select {
						case u, ok := <-ch:
							if ok {
								_ = u.JSON()
							}
						default:
						}
					}
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	st := h.Stats()
	assert.Equal(t, 40, st.Names)
	// 48 names over a cap of 40: the 8 refused are refused in all 300
	// snapshots of their shard.
	assert.Equal(t, uint64(8*300), st.Overflow)
}

// TestAppendValue: the /stats encoding of a value is stat.Value's.
func TestAppendValue(t *testing.T) {
	var qn quantileNames
	for _, v := range []stat.Value{
		stat.Null(), stat.Number(0), stat.Number(-1.5), stat.Number(1e21), stat.Number(3e-9), stat.Number(123456789),
		stat.QuantilesValue(nil), stat.QuantilesValue([]stat.Quantile{}),
		stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.95, Value: 97.5}, {Q: 0.999, Value: 1e22}, {Q: 0.5, Value: -0.25}}),
		stat.QuantilesValue([]stat.Quantile{{Q: 0.25, Value: 1}, {Q: 0.999, Value: 2}, {Q: 0.123456, Value: 3}}),
		stat.TopValue(nil), stat.TopValue([]stat.TopValueEntry{{Key: "a\"\n\xff", Value: 2.5}}),
	} {
		assert.Equal(t, string(v.AppendJSON(nil)), string(qn.appendValue(nil, v)), "%v", v)
	}
	assert.Len(t, qn, 5, "one name per distinct q")
}
