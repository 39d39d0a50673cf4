package web

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeta(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	defs := def.Heroku()
	hd := Handler(h, Config{Defs: defs, Auth: "u:p"})

	resp, _ := get(t, hd, "/stats/meta")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "meta is behind the auth")

	resp, body := get(t, hd, "/stats/meta", withAuth("u", "p"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got struct{ Stats []statMeta }
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Greater(t, len(got.Stats), len(defs))

	// The definitions first, in file order, with their defaults applied.
	for i, d := range defs {
		m := got.Stats[i]
		if d.Kind == def.KindL2met {
			assert.Equal(t, "l2met.", m.Prefix, "the l2met definition describes the stats it derives")
			assert.Empty(t, m.Name)
		} else {
			assert.Equal(t, d.Name, m.Name)
		}
		assert.Equal(t, d.Kind, m.Kind)
		assert.Equal(t, d.Label, m.Label)
		assert.Equal(t, d.Group, m.Group)
		assert.Equal(t, d.Unit, m.Unit)
		assert.Equal(t, d.Warn, m.Warn, d.Name)
		assert.Equal(t, d.Crit, m.Crit, d.Name)
	}
	byName := map[string]statMeta{}
	for _, m := range got.Stats {
		byName[m.Name+m.Prefix+m.Pattern] = m
	}
	h12 := byName["router.H12"]
	assert.Equal(t, 60.0, h12.Per)
	assert.Equal(t, 60.0, h12.Window)
	if assert.NotNil(t, h12.Crit) {
		assert.Equal(t, 50.0, *h12.Crit)
	}
	svc := byName["router.service"]
	assert.Equal(t, []float64{0.5, 0.95, 0.99}, svc.Q)
	assert.Equal(t, []string{"p50", "p95", "p99"}, svc.QNames)
	assert.Equal(t, 10, byName["router.hosts.top"].K)

	// Then every self-stat, in the pulse group.
	for _, name := range []string{window.StatEvents, window.StatUnparsed, window.StatSkipped, window.StatLate,
		window.StatRejected, window.StatOverflow, window.StatFuture, selfstat.Lag, selfstat.Dropped, selfstat.Queue,
		"pulse.merger.*.late", "pulse.merger.*.failed", "pulse.merger.*.missing", "pulse.merger.*.sources"} {
		m, ok := byName[name]
		if assert.True(t, ok, name) {
			assert.Equal(t, SelfGroup, m.Group, name)
			assert.NotEmpty(t, m.Label, name)
		}
	}
	assert.Equal(t, "Merger * late fragments/s", byName["pulse.merger.*.late"].Label)
	assert.Equal(t, "ms", byName[selfstat.Lag].Unit)
}

func TestMetaWithoutDefs(t *testing.T) {
	h, _ := newHistory(t, HistoryConfig{})
	nan := 0.0
	nan /= nan
	defs := []def.Def{
		{Name: "x", Kind: def.KindRate, Per: time.Second},
		{Name: "bad", Kind: def.KindQuantiles, Of: "v", Q: []float64{nan, 0.5}, Warn: &nan},
		{Name: "ours", Kind: def.KindL2met, Prefix: "app"},
	}
	for _, cfg := range []Config{{}, {Defs: defs}} {
		resp, body := get(t, Handler(h, cfg), "/stats/meta")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var got struct{ Stats []statMeta }
		require.NoError(t, json.Unmarshal([]byte(body), &got), "a definition that does not compile is served as written, less what JSON cannot hold")
		assert.Len(t, got.Stats, len(cfg.Defs)+len(selfMeta()))
		if cfg.Defs != nil {
			assert.Equal(t, 10.0, got.Stats[0].Window)
			assert.Equal(t, []float64{0.5}, got.Stats[1].Q)
			assert.Nil(t, got.Stats[1].Warn)
			assert.Equal(t, "app.", got.Stats[2].Prefix)
			assert.Equal(t, L2metGroup, got.Stats[2].Group)
		}
	}
}
