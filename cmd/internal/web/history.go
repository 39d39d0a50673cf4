package web

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulsehq/pulse/internal/jsonstr"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// Defaults and limits of HistoryConfig.
const (
	// DefaultPoints is the number of points kept per stat name: ten
	// minutes of one snapshot a second.
	DefaultPoints = 600
	// MaxPoints is the largest HistoryConfig.Points.
	MaxPoints = 1 << 20
	// DefaultMaxNames is the number of stat names kept by default.
	DefaultMaxNames = 5000
	// DefaultExpire is how long a stat name is kept after its newest point.
	DefaultExpire = 10 * time.Minute
	// DefaultShardTimeout is how long a shard stays in Latest without a
	// newer snapshot.
	DefaultShardTimeout = 10 * time.Second
	// DefaultSubscribeBuffer is a subscription's buffer when Subscribe is
	// given 0.
	DefaultSubscribeBuffer = 8
	// MaxAhead is how far ahead of the wall clock a snapshot's time may
	// be; Add refuses later ones, which would sit at the head of every
	// ring and hold their shard's latest.
	MaxAhead = 5 * time.Minute
)

// HistoryConfig configures a History. Zero fields mean the defaults given
// on each field.
type HistoryConfig struct {
	// Points is the length of each stat name's ring of points. Zero means
	// DefaultPoints (600: ten minutes at one snapshot a second); at most
	// MaxPoints.
	Points int
	// MaxNames caps the stat names kept: names come from logs (l2met), so
	// a point for a new name past the cap is refused and counted
	// (HistoryStats.Overflow). Zero means DefaultMaxNames (5000).
	MaxNames int
	// Expire removes a stat name, with its points, once no snapshot has
	// carried it for Expire of wall-clock time, making room under
	// MaxNames. Zero means DefaultExpire (10 minutes); a negative value
	// keeps names for ever.
	Expire time.Duration
	// ShardTimeout leaves out of Latest, and of updates, a shard whose
	// snapshot time has not moved forward for ShardTimeout of wall-clock
	// time: a merger that stopped, or a shard that was retired. Zero means
	// DefaultShardTimeout (10 s).
	ShardTimeout time.Duration
	// Now is the wall clock, for tests; nil means time.Now.
	Now func() time.Time
}

// HistoryStats counts what a History holds and what it refused.
type HistoryStats struct {
	// Names is the number of stat names kept.
	Names int
	// Shards is the number of shards heard from; LiveShards those within
	// ShardTimeout, which Latest merges.
	Shards, LiveShards int
	// Subscribers is the number of open subscriptions.
	Subscribers int
	// Time is the newest snapshot time added (zero before any), and
	// Advanced the wall-clock time at which a shard's snapshot time last
	// moved forward.
	Time, Advanced time.Time
	// Overflow counts points refused because MaxNames names were kept.
	Overflow uint64
	// Dropped counts points older than every point of a full ring.
	Dropped uint64
	// Replaced counts points that replaced one of the same name and time.
	Replaced uint64
	// Expired counts names removed by HistoryConfig.Expire.
	Expired uint64
	// Rejected counts snapshots refused: a negative shard, a zero time,
	// or a time more than MaxAhead ahead of the wall clock.
	Rejected uint64
	// Slow counts subscriptions ended because their buffer was full.
	Slow uint64
}

// History keeps a short history of the snapshots that mergers publish: a
// ring of (time, value) points per stat name, and the latest snapshot of
// each shard. Create one with NewHistory.
//
// Points are ordered by time within each name. A point at a time the
// ring already holds replaces it, so a snapshot published again (after a
// merger restarts, or read again from the bus) never duplicates points. A
// point older than the newest of its name is inserted in order; when
// the ring is full and the point is older than all it holds, it is
// dropped and counted (HistoryStats.Dropped).
//
// Memory: per stat name, its ring of at most Points points, 16 bytes each
// (a time and a float64) for names whose values are numbers or null, and
// 80 bytes plus the value's own quantiles or entries for the others. At
// the defaults, 600 points and 5000 names, numeric stats take at most
// about 48 MB.
//
// A History is safe for use by multiple goroutines.
type History struct {
	points       int
	maxNames     int
	expire       time.Duration // 0: never
	shardTimeout time.Duration
	now          func() time.Time

	mu        sync.RWMutex
	rings     map[string]*ring
	order     []*ring // by name
	shards    map[int]*shard
	shardIDs  []int // sorted
	newest    int64 // newest snapshot time, Unix ms
	hasNewest bool
	nextSweep time.Time // wall clock
	advanced  time.Time
	subs      map[*subscription]struct{}
	closed    bool
	stats     HistoryStats // counters only
}

type shard struct {
	snap     window.Snapshot
	advanced time.Time // wall clock when snap.Time last moved forward
}

type subscription struct{ ch chan *Update }

// NewHistory returns an empty History. It returns an error for a
// negative field or Points over MaxPoints.
func NewHistory(cfg HistoryConfig) (*History, error) {
	switch {
	case cfg.Points < 0 || cfg.Points > MaxPoints:
		return nil, fmt.Errorf("web: history points %d must be between 0 and %d", cfg.Points, MaxPoints)
	case cfg.MaxNames < 0:
		return nil, fmt.Errorf("web: history max names %d must not be negative", cfg.MaxNames)
	case cfg.ShardTimeout < 0:
		return nil, fmt.Errorf("web: history shard timeout %v must not be negative", cfg.ShardTimeout)
	}
	h := &History{
		points:       cmpOr(cfg.Points, DefaultPoints),
		maxNames:     cmpOr(cfg.MaxNames, DefaultMaxNames),
		shardTimeout: cmpOr(cfg.ShardTimeout, DefaultShardTimeout),
		now:          cfg.Now,
		rings:        make(map[string]*ring),
		shards:       make(map[int]*shard),
		subs:         make(map[*subscription]struct{}),
	}
	switch {
	case cfg.Expire == 0:
		h.expire = DefaultExpire
	case cfg.Expire > 0:
		h.expire = cfg.Expire
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Add records snap, the snapshot that shard published, keeping snap.Stats
// (do not modify the map or its values afterwards). Each value becomes a
// point at snap.Time in its name's ring, and snap replaces the shard's
// latest snapshot when its time is not before it. An older snapshot (a
// backfill or a redelivery) only adds points, unless the shard's latest has
// not moved for ShardTimeout: then the older one is taken as the shard's
// latest, as when a merger with a clock behind takes over the shard.
// Subscribers receive the merged latest snapshot whenever a shard's
// latest changes.
//
// A negative shard, a zero snap.Time or one more than MaxAhead ahead of
// the wall clock is refused and counted (HistoryStats.Rejected). Add
// never blocks on subscribers.
func (h *History) Add(shard int, snap window.Snapshot) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if shard < 0 || snap.Time.IsZero() || snap.Time.Sub(now) > MaxAhead {
		h.stats.Rejected++
		return
	}
	latest := h.setLatest(shard, snap, now)
	ms := snap.Time.UnixMilli()
	if !h.hasNewest || ms > h.newest {
		h.newest, h.hasNewest = ms, true
	}
	h.sweep(now, snap.Stats)
	for name, v := range snap.Stats {
		r := h.rings[name]
		if r == nil {
			if len(h.rings) >= h.maxNames {
				h.stats.Overflow++
				continue
			}
			r = h.newRing(name)
		}
		r.touched = now
		switch r.insert(ms, v, h.points) {
		case replaced:
			h.stats.Replaced++
		case dropped:
			h.stats.Dropped++
		}
	}
	if latest && len(h.subs) > 0 {
		u := h.update(now)
		for s := range h.subs {
			select {
			case s.ch <- u:
			default:
				delete(h.subs, s)
				close(s.ch)
				h.stats.Slow++
			}
		}
	}
}

// setLatest makes snap the shard's latest when it should be, and reports
// whether it did.
func (h *History) setLatest(id int, snap window.Snapshot, now time.Time) bool {
	s := h.shards[id]
	if s == nil {
		s = &shard{snap: snap, advanced: now}
		h.shards[id] = s
		i, _ := slices.BinarySearch(h.shardIDs, id)
		h.shardIDs = slices.Insert(h.shardIDs, i, id)
		h.advanced = now
		return true
	}
	switch {
	case snap.Time.After(s.snap.Time), now.Sub(s.advanced) >= h.shardTimeout && !snap.Time.Equal(s.snap.Time):
		s.snap, s.advanced = snap, now
		h.advanced = now
		return true
	case snap.Time.Equal(s.snap.Time):
		s.snap = snap
		return true
	}
	return false
}

func (h *History) newRing(name string) *ring {
	r := &ring{name: name, key: append(jsonstr.Append(nil, name), ':')}
	h.rings[name] = r
	i, _ := slices.BinarySearchFunc(h.order, name, func(r *ring, name string) int { return strings.Compare(r.name, name) })
	h.order = slices.Insert(h.order, i, r)
	return r
}

// sweep removes expired names but those of carried, the snapshot being
// added, at most about ten times per Expire.
func (h *History) sweep(now time.Time, carried map[string]stat.Value) {
	if h.expire == 0 || now.Before(h.nextSweep) {
		return
	}
	h.nextSweep = now.Add(h.expire / 10)
	h.order = slices.DeleteFunc(h.order, func(r *ring) bool {
		if now.Sub(r.touched) <= h.expire {
			return false
		}
		if _, ok := carried[r.name]; ok {
			return false
		}
		delete(h.rings, r.name)
		h.stats.Expired++
		return true
	})
}

// live returns the latest snapshots of the shards heard from within
// ShardTimeout, in shard order.
func (h *History) live(now time.Time) []window.Snapshot {
	var parts []window.Snapshot
	for _, id := range h.shardIDs {
		if s := h.shards[id]; now.Sub(s.advanced) < h.shardTimeout {
			parts = append(parts, s.snap)
		}
	}
	return parts
}

// Latest returns the latest snapshot merged across shards: the union of
// the stats of every shard's latest snapshot, leaving out shards whose
// snapshot time has not moved for ShardTimeout. Its Time is the earliest
// of the merged snapshots' times, so that no stat in it is older than its
// Time says (each shard's stats are as of its own time, at or after it).
// A name that two shards report (while shards are being reassigned) takes
// the value of the shard with the later time, the lower shard on a tie.
// With no shard to merge, Latest returns a zero Time and an empty map.
// The returned map is the caller's.
func (h *History) Latest() window.Snapshot {
	now := h.now()
	h.mu.RLock()
	parts := h.live(now)
	h.mu.RUnlock()
	return merge(parts)
}

// merge merges parts, the live shards' snapshots in shard order, as
// Latest describes. It reorders parts.
func merge(parts []window.Snapshot) window.Snapshot {
	n := 0
	for _, p := range parts {
		n += len(p.Stats)
	}
	out := window.Snapshot{Stats: make(map[string]stat.Value, n)}
	if len(parts) == 0 {
		return out
	}
	// Later writes win: put later times last and, on equal times, the
	// lower shard last.
	slices.Reverse(parts)
	slices.SortStableFunc(parts, func(a, b window.Snapshot) int { return a.Time.Compare(b.Time) })
	out.Time = parts[0].Time
	for _, p := range parts {
		for name, v := range p.Stats {
			out.Stats[name] = v
		}
	}
	return out
}

// An Update is the merged latest snapshot after an Add, as a
// subscription delivers it. Its methods are safe for concurrent use.
type Update struct {
	parts []window.Snapshot
	once  sync.Once
	snap  window.Snapshot
	json  []byte
}

// update returns the Update of the current latest snapshots, or nil when
// no shard is live.
func (h *History) update(now time.Time) *Update {
	parts := h.live(now)
	if len(parts) == 0 {
		return nil
	}
	return &Update{parts: parts}
}

func (u *Update) build() {
	u.once.Do(func() {
		u.snap = merge(u.parts)
		u.json = u.snap.AppendJSON(nil)
		u.parts = nil
	})
}

// Snapshot returns the merged snapshot, as Latest would have returned it
// at the Add. It is shared by every subscriber: do not modify it.
func (u *Update) Snapshot() window.Snapshot { u.build(); return u.snap }

// JSON returns the snapshot's JSON form, encoded once and shared by every
// subscriber: do not modify it.
func (u *Update) JSON() []byte { u.build(); return u.json }

// Subscribe returns a channel that first receives the latest snapshot
// (when a shard is live) and then one Update each time an Add changes a
// shard's latest snapshot, in the order of the Adds, and a function that
// ends the subscription. buf is the channel's capacity; 0 means
// DefaultSubscribeBuffer (8). Add never waits for a subscriber: when the
// channel is full, the subscription ends, the channel is closed and the
// drop counted (HistoryStats.Slow), so a slow reader is cut off rather
// than slowing everyone or reading a gap it cannot see. The cancel
// function closes the channel unless it is already closed, and may be
// called more than once.
func (h *History) Subscribe(buf int) (<-chan *Update, func()) {
	if buf <= 0 {
		buf = DefaultSubscribeBuffer
	}
	s := &subscription{ch: make(chan *Update, buf)}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	h.subs[s] = struct{}{}
	if u := h.update(now); u != nil {
		s.ch <- u
	}
	return s.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

// CloseSubscriptions ends every subscription and makes later Subscribe
// calls return a closed channel, so that event streams end and a server
// can shut down (register it with http.Server.RegisterOnShutdown). Add
// and the reads keep working.
func (h *History) CloseSubscriptions() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// Stats returns the History's counters.
func (h *History) Stats() HistoryStats {
	now := h.now()
	h.mu.RLock()
	defer h.mu.RUnlock()
	st := h.stats
	st.Names = len(h.rings)
	st.Shards = len(h.shards)
	st.LiveShards = len(h.live(now))
	st.Subscribers = len(h.subs)
	st.Advanced = h.advanced
	if h.hasNewest {
		st.Time = time.UnixMilli(h.newest).UTC()
	}
	return st
}

// appendStats appends the history in the /stats JSON form to dst: for
// each name (all of them when names is nil; names sorted and without
// duplicates otherwise) with points after since, "name":[[ms,value],...].
func (h *History) appendStats(dst []byte, since int64, names []string) []byte {
	h.mu.RLock()
	defer h.mu.RUnlock()
	dst = append(dst, '{')
	first := true
	var qn quantileNames
	add := func(r *ring) {
		n := len(r.ms)
		i := sort.Search(n, func(i int) bool { return r.ms[r.at(i)] > since })
		if i == n {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, r.key...)
		dst = append(dst, '[')
		for k := i; k < n; k++ {
			if k > i {
				dst = append(dst, ',')
			}
			j := r.at(k)
			dst = append(dst, '[')
			dst = strconv.AppendInt(dst, r.ms[j], 10)
			dst = append(dst, ',')
			if r.ext != nil && !r.ext[j].IsNull() {
				dst = qn.appendValue(dst, r.ext[j])
			} else {
				dst = stat.Number(r.num[j]).AppendJSON(dst) // NaN gives null
			}
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
	}
	if names == nil {
		for _, r := range h.order {
			add(r)
		}
	} else {
		for _, name := range names {
			if r := h.rings[name]; r != nil {
				add(r)
			}
		}
	}
	return append(dst, '}')
}

// quantileNames caches stat.QuantileName, which allocates, for one
// encoding of the history.
type quantileNames []struct {
	q    float64
	name string
}

// appendValue appends v's JSON form, the same bytes as v.AppendJSON,
// naming quantiles from the cache.
func (qn *quantileNames) appendValue(dst []byte, v stat.Value) []byte {
	qs := v.Quantiles()
	if len(qs) == 0 {
		return v.AppendJSON(dst)
	}
	dst = append(dst, '{')
	for i, q := range qs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, qn.name(q.Q)...)
		dst = append(dst, '"', ':')
		dst = stat.Number(q.Value).AppendJSON(dst)
	}
	return append(dst, '}')
}

func (qn *quantileNames) name(q float64) string {
	for _, e := range *qn {
		if e.q == q {
			return e.name
		}
	}
	name := stat.QuantileName(q)
	*qn = append(*qn, struct {
		q    float64
		name string
	}{q, name})
	return name
}

// A ring holds one stat name's points in time order: parallel slices of
// times and numbers, and of other values once the name has one. It
// grows up to its length and then overwrites its oldest point.
type ring struct {
	touched time.Time // wall clock of the last Add that carried the name
	name    string
	key     []byte    // the name as a JSON string, then ':'
	ms      []int64   // Unix milliseconds
	num     []float64 // the number; NaN for null or for a value in ext
	ext     []stat.Value
	head    int // index of the oldest point once full; 0 until then
}

type outcome uint8

const (
	added outcome = iota
	replaced
	dropped
)

// at returns the slice index of the i-th oldest point.
func (r *ring) at(i int) int {
	j := r.head + i
	if j >= len(r.ms) {
		j -= len(r.ms)
	}
	return j
}

func (r *ring) value(j int) stat.Value {
	if r.ext != nil && !r.ext[j].IsNull() {
		return r.ext[j]
	}
	return stat.Number(r.num[j]) // NaN gives null
}

func (r *ring) set(j int, ms int64, v stat.Value) {
	r.ms[j] = ms
	if f, ok := v.Number(); ok {
		r.num[j] = f
		if r.ext != nil {
			r.ext[j] = stat.Value{}
		}
		return
	}
	r.num[j] = math.NaN()
	if v.IsNull() {
		if r.ext != nil {
			r.ext[j] = stat.Value{}
		}
		return
	}
	if r.ext == nil {
		r.ext = make([]stat.Value, len(r.ms), cap(r.ms))
	}
	r.ext[j] = v
}

// grow adds a slot at the end of a ring that is not full, growing its
// slices up to length points and no further.
func (r *ring) grow(points int) {
	n := len(r.ms)
	if n == cap(r.ms) {
		c := min(max(2*n, 8), points)
		r.ms = append(make([]int64, 0, c), r.ms...)
		r.num = append(make([]float64, 0, c), r.num...)
		if r.ext != nil {
			r.ext = append(make([]stat.Value, 0, c), r.ext...)
		}
	}
	r.ms = r.ms[:n+1]
	r.num = r.num[:n+1]
	if r.ext != nil {
		r.ext = r.ext[:n+1]
	}
}

// insert puts the point (ms, v) in order.
func (r *ring) insert(ms int64, v stat.Value, points int) outcome {
	n := len(r.ms)
	if n == 0 || ms > r.ms[r.at(n-1)] {
		if n < points {
			r.grow(points)
			r.set(n, ms, v)
			return added
		}
		r.set(r.head, ms, v)
		if r.head++; r.head == n {
			r.head = 0
		}
		return added
	}
	i := sort.Search(n, func(i int) bool { return r.ms[r.at(i)] >= ms })
	if j := r.at(i); r.ms[j] == ms {
		r.set(j, ms, v)
		return replaced
	}
	if n == points && i == 0 {
		return dropped
	}
	r.linearize()
	if n < points {
		r.grow(points)
		copy(r.ms[i+1:], r.ms[i:n])
		copy(r.num[i+1:], r.num[i:n])
		if r.ext != nil {
			copy(r.ext[i+1:], r.ext[i:n])
		}
		r.set(i, ms, v)
		return added
	}
	// Full: drop the oldest to make room below point i.
	copy(r.ms[:i-1], r.ms[1:i])
	copy(r.num[:i-1], r.num[1:i])
	if r.ext != nil {
		copy(r.ext[:i-1], r.ext[1:i])
	}
	r.set(i-1, ms, v)
	return added
}

// linearize rotates a full ring's slices so that the oldest point is at
// index 0.
func (r *ring) linearize() {
	if r.head == 0 {
		return
	}
	rotate(r.ms, r.head)
	rotate(r.num, r.head)
	if r.ext != nil {
		rotate(r.ext, r.head)
	}
	r.head = 0
}

// rotate rotates s left by k in place.
func rotate[T any](s []T, k int) {
	slices.Reverse(s[:k])
	slices.Reverse(s[k:])
	slices.Reverse(s)
}
