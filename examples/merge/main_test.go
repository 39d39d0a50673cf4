package main

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

func TestMergeEqualsSingle(t *testing.T) {
	tests := []struct {
		name    string
		opts    logfmttest.Options
		seconds int
	}{
		{"default rate", logfmttest.Options{Seed: 1, Rate: 500, IncidentEvery: time.Minute}, 30},
		{"quiet platform", logfmttest.Options{Seed: 2, Rate: 50, Apps: 5}, 20},
		{"busy minute", logfmttest.Options{Seed: 3, Rate: 2000, IncidentEvery: time.Minute}, 65},
	}
	if testing.Short() {
		tests = tests[:2]
	}
	defs := def.Heroku()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stream bytes.Buffer
			_, err := logfmttest.New(tt.opts).WriteFor(&stream, time.Duration(tt.seconds)*time.Second)
			require.NoError(t, err)
			raw := stream.Bytes()

			res, err := simulate(defs, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, []string{"web.1/1", "web.2/1"}, res.merged.dropped, "each first batch delivered twice, applied once")
			assert.Equal(t, res.batches, res.merged.applied)
			require.Greater(t, res.batches, 2*tt.seconds-2, "a cut about every second")

			single, err := res.single.Snapshot(res.at)
			require.NoError(t, err)
			merged, err := res.merged.set.Snapshot(res.at)
			require.NoError(t, err)
			require.Equal(t, len(single.Stats), len(merged.Stats))
			events, _ := merged.Stats[window.StatEvents].Number()
			require.NotZero(t, events)

			exact := exactQuantileValues(t, defs, raw, res.at)
			nq := 0
			for name, want := range single.Stats {
				got, ok := merged.Stats[name]
				require.True(t, ok, "merged has %s", name)
				if got.Quantiles() == nil {
					assert.Equal(t, want.String(), got.String(), name)
					continue
				}
				values := exact[name]
				require.NotEmpty(t, values, "%s: values computed by the test", name)
				bound := rankBound(values)
				for _, q := range got.Quantiles() {
					assert.LessOrEqual(t, rankError(values, q.Q, q.Value), bound, "%s merged p%v = %v", name, q.Q*100, q.Value)
				}
				for _, q := range want.Quantiles() {
					assert.LessOrEqual(t, rankError(values, q.Q, q.Value), bound, "%s single p%v = %v", name, q.Q*100, q.Value)
				}
				nq++
			}
			require.NotZero(t, nq, "the snapshot has quantiles to check")
			assert.Empty(t, res.single.Diff(single, merged), "every stat within its bound")
			assert.Empty(t, res.merged.set.Diff(single, merged), "by the merger's definitions too")
			t.Logf("%d lines, %d stats, %d quantiles stats", res.lines, len(merged.Stats), nq)
		})
	}
}

// A receiver's batch that is delivered again is dropped, also when it
// comes back after later batches.
func TestDuplicateDropped(t *testing.T) {
	defs, err := def.Parse(strings.NewReader("name=requests kind=rate window=10s where=proc=router"), "test.defs")
	require.NoError(t, err)
	set, err := window.NewDefSet(defs, nil)
	require.NoError(t, err)
	r := &receiver{source: "web.1", set: set}
	m, err := newMerger(defs)
	require.NoError(t, err)
	var ev logfmt.Event
	var wires [][]byte
	for sec := range 3 {
		line := "<158>1 2026-03-14T17:02:1" + string(rune('0'+sec)) + ".5Z host heroku router - at=info status=200 service=12ms"
		require.NoError(t, logfmt.ParseLine([]byte(line), &ev))
		r.set.Fold(&ev)
		w, err := r.cut(r.set.End())
		require.NoError(t, err)
		wires = append(wires, w)
	}
	at := time.Date(2026, 3, 14, 17, 2, 13, 0, time.UTC)
	for _, w := range append(wires, wires[0], wires[2]) {
		require.NoError(t, m.receive(at, w))
	}
	assert.Equal(t, 3, m.applied)
	assert.Equal(t, []string{"web.1/1", "web.1/3"}, m.dropped)
	snap, err := m.set.Snapshot(at)
	require.NoError(t, err)
	assert.Equal(t, "3", snap.Stats["requests"].String(), "three requests, none counted twice")
}

func TestDecodeError(t *testing.T) {
	m, err := newMerger(nil)
	require.NoError(t, err)
	err = m.receive(time.Now(), []byte("PLSB\x01\x00garbage"))
	require.Error(t, err)
	assert.Empty(t, m.dropped)
	assert.Zero(t, m.applied)
}

// exactQuantileValues reads the stream again and returns, for every
// quantiles stat of defs (those of l2met measure# metrics too), the sorted
// values that fall in its window at time at.
func exactQuantileValues(t *testing.T, defs []def.Def, raw []byte, at time.Time) map[string][]float64 {
	t.Helper()
	compiled, err := def.CompileSet(defs, def.Budget{})
	require.NoError(t, err)
	out := map[string][]float64{}
	in := func(ev *logfmt.Event, window time.Duration) bool {
		return !ev.Time.Before(at.Add(-window)) && ev.Time.Before(at)
	}
	rd := logfmt.NewReader(bytes.NewReader(raw), nil)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		for _, c := range compiled {
			d := c.Def()
			switch {
			case d.Kind == def.KindQuantiles && c.Match(ev) && in(ev, d.Window):
				if v, ok := ev.Number(d.Of); ok {
					out[d.Name] = append(out[d.Name], v)
				}
			case d.Kind == def.KindL2met && c.Match(ev) && in(ev, d.Window):
				for p := range ev.Pairs() {
					metric, ok := strings.CutPrefix(string(p.Key), "measure#")
					if v, isNum := logfmt.ParseNumber(p.Value); ok && isNum {
						name := d.Prefix + "." + metric
						out[name] = append(out[name], v)
					}
				}
			}
		}
	}
	for _, v := range out {
		sort.Float64s(v)
	}
	return out
}

// rankBound is the rank error a Quantiles answer may have over values,
// as stat.Quantiles states it.
func rankBound(values []float64) float64 { return stat.QuantilesRankBound(uint64(len(values))) }

// rankError is the distance from q to the ranks [F(x−), F(x)] that x holds
// among the sorted values: 0 when x is a right answer for q.
func rankError(sorted []float64, q, x float64) float64 {
	n := float64(len(sorted))
	lo := float64(sort.SearchFloat64s(sorted, x)) / n
	hi := float64(sort.Search(len(sorted), func(i int) bool { return sorted[i] > x })) / n
	switch {
	case q < lo:
		return lo - q
	case q > hi:
		return q - hi
	}
	return 0
}
