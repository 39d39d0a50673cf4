package merger

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSources follows sequences of batches: gaps count as missing once
// they stayed open for the delay, a batch that comes late fills its gap,
// and a source's first batch sets where its sequence starts.
func TestSources(t *testing.T) {
	const delay = time.Second
	t0 := time.Unix(1_800_000_000, 0)
	type batch struct {
		source string
		seq    uint64
		at     time.Duration // after t0
	}
	tests := []struct {
		name        string
		batches     []batch
		commitAt    time.Duration
		wantMissing uint64
		wantLive    int
	}{
		{"in order", []batch{{"a", 1, 0}, {"a", 2, 1}, {"a", 3, 2}}, 5 * time.Second, 0, 1},
		{"starts mid-sequence", []batch{{"a", 40, 0}, {"a", 41, 1}}, 5 * time.Second, 0, 1},
		{"a gap", []batch{{"a", 1, 0}, {"a", 5, 1}}, 5 * time.Second, 3, 1},
		{"a gap not yet counted", []batch{{"a", 1, 0}, {"a", 5, 0}}, delay / 2, 0, 1},
		{"a gap filled late", []batch{{"a", 1, 0}, {"a", 3, 0}, {"a", 2, 0}}, 5 * time.Second, 0, 1},
		{"a gap filled in the middle", []batch{{"a", 1, 0}, {"a", 6, 0}, {"a", 3, 0}}, 5 * time.Second, 3, 1},
		{"a gap filled at both ends", []batch{{"a", 1, 0}, {"a", 6, 0}, {"a", 2, 0}, {"a", 5, 0}}, 5 * time.Second, 2, 1},
		{"an old seq again", []batch{{"a", 5, 0}, {"a", 6, 0}, {"a", 3, 0}}, 5 * time.Second, 0, 1},
		{"two sources", []batch{{"a", 1, 0}, {"b", 1, 0}, {"a", 3, 0}, {"b", 10, 0}}, 5 * time.Second, 9, 2},
		{"a source gone quiet", []batch{{"a", 1, 0}, {"b", 1, 0}, {"a", 2, 20 * time.Second}}, 21 * time.Second, 0, 1},
		{"a source forgotten with its gap", []batch{{"a", 1, 0}, {"a", 4, 0}}, sourceExpire + time.Second, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSources(delay)
			var missing uint64
			for _, b := range tt.batches {
				missing += s.add(b.source, b.seq, t0.Add(b.at))
			}
			now := t0.Add(tt.commitAt)
			missing += s.commit(now)
			assert.Equal(t, tt.wantMissing, missing)
			assert.Equal(t, tt.wantLive, s.live(now))
		})
	}
}

// TestSourcesBounded keeps the sources and their gaps within their caps:
// past them, the oldest is counted at once.
func TestSourcesBounded(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	s := newSources(time.Hour)
	var missing uint64
	for i := range maxSources + 10 {
		missing += s.add(fmt.Sprint("src-", i), 1, t0.Add(time.Duration(i)*time.Millisecond))
	}
	assert.Len(t, s.m, maxSources)
	assert.Zero(t, missing, "the forgotten sources had no gaps")

	// Every other seq of a new source: a gap between each two, 65 gaps.
	for seq := uint64(3); seq <= 2*maxGaps+5; seq += 2 {
		missing += s.add("new", seq, t0.Add(time.Second))
	}
	assert.Len(t, s.m, maxSources)
	assert.Len(t, s.m["new"].gaps, maxGaps)
	assert.Equal(t, uint64(1), missing, "the gap past the cap, counted at once")
}

// TestMergerMissingAndSources runs a merger over two receivers, one of
// which loses a cut on its way to the bus: the merger counts the batch
// missing from its sequence, in Health and in pulse.merger.0.missing,
// and both sources as live in pulse.merger.0.sources.
func TestMergerMissingAndSources(t *testing.T) {
	t.Parallel()
	b := newMemory(t)
	m := newMerger(t, b, 0, 1)
	run(t, m)
	a, c := newReceiver(t, "a"), newReceiver(t, "b")
	for i := range 4 {
		now := time.Now()
		a.fold(t, now, 1)
		c.fold(t, now, 1)
		a.publish(t, b, 1, now)
		if i == 1 {
			c.cut(t, 1, now) // lost: never published
			continue
		}
		c.publish(t, b, 1, now)
	}
	require.Eventually(t, func() bool {
		h, _ := m.Health()
		return h["merger_missing"] == uint64(1)
	}, 10*time.Second, 10*time.Millisecond, "the missing batch counted")

	s := waitSnapshot(t, b, 0, "pulse.merger.0.missing", func(s snapshot) bool {
		v, _ := s.Stats["pulse.merger.0.missing"].Number()
		return v > 0
	})
	assert.Equal(t, 0.1, number(t, s.Snapshot, "pulse.merger.0.missing"), "one batch over 10 s")
	assert.Equal(t, 2.0, number(t, s.Snapshot, "pulse.merger.0.sources"))
	h, _ := m.Health()
	assert.Equal(t, int64(2), h["merger_sources"])
}
