package fragment

import (
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShard(t *testing.T) {
	// Pinned values, computed with an independent FNV-1a (Python): Shard
	// is part of the wire contract, and a change here
	// would send a stat to two mergers during a rolling upgrade.
	pinned := []struct {
		name string
		n    int
		want int
	}{
		{"router.requests", 8, 0},
		{"router.bytes", 8, 5},
		{"router.service.p95", 8, 1},
		{"", 8, 5}, // the offset basis 0xcbf29ce484222325
	}
	for _, p := range pinned {
		t.Run(fmt.Sprintf("%q mod %d", p.name, p.n), func(t *testing.T) {
			assert.Equal(t, p.want, Shard(p.name, p.n))
		})
	}
	t.Run("is FNV-1a 64", func(t *testing.T) {
		for i := range 1000 {
			name := fmt.Sprintf("stat.%d", i)
			h := fnv.New64a()
			h.Write([]byte(name))
			for _, n := range []int{2, 3, 7, 64} {
				require.Equal(t, int(h.Sum64()%uint64(n)), Shard(name, n), "%s mod %d", name, n)
			}
		}
	})
	t.Run("n below 2 is one shard", func(t *testing.T) {
		assert.Zero(t, Shard("x", 1))
		assert.Zero(t, Shard("x", 0))
		assert.Zero(t, Shard("x", -3))
	})
	t.Run("spreads names", func(t *testing.T) {
		counts := make([]int, 8)
		for i := range 8000 {
			counts[Shard(fmt.Sprintf("router.stat.%d", i), 8)]++
		}
		for s, c := range counts {
			assert.InDelta(t, 1000, c, 150, "shard %d", s)
		}
	})
}

func TestBatches(t *testing.T) {
	ds := realisticDeltas(40, 3, 5)
	bs, err := Batches("web.1", 9, t0, ds, 4)
	require.NoError(t, err)
	require.Len(t, bs, 4)
	total := 0
	for s, b := range bs {
		assert.Equal(t, "web.1", b.Source)
		assert.Equal(t, uint64(9), b.Seq)
		assert.True(t, t0.Equal(b.Time))
		for _, f := range b.Fragments {
			assert.Equal(t, s, Shard(f.Name, 4), "%s in shard %d", f.Name, s)
		}
		total += len(b.Fragments)
	}
	assert.Equal(t, len(ds), total)

	// Every delta arrives once, in cut order within its shard.
	i := make([]int, 4)
	for _, d := range ds {
		s := Shard(d.Name, 4)
		f := bs[s].Fragments[i[s]]
		i[s]++
		got, err := f.Delta()
		require.NoError(t, err)
		assert.Equal(t, d.Name, got.Name)
		assert.True(t, d.Start.Equal(got.Start))
		assert.Equal(t, d.Stat.String(), got.Stat.String())
	}

	_, err = Batches("web.1", 1, t0, []window.Delta{{Name: "x", Kind: stat.KindCount, Width: time.Second}}, 2)
	require.ErrorIs(t, err, ErrInvalid)
	one, err := Batches("web.1", 1, t0, nil, 0)
	require.NoError(t, err)
	assert.Len(t, one, 1)
}
