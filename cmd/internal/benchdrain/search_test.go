package benchdrain

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// limited is a drain that takes at most limit bodies in any 100 ms and
// answers 503 to the others, as a receiver with a short queue would.
type limited struct {
	limit int
	mu    sync.Mutex
	times []time.Time
	codes map[int]int64
}

func (l *limited) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	now := time.Now()
	l.mu.Lock()
	i := 0
	for i < len(l.times) && now.Sub(l.times[i]) > 100*time.Millisecond {
		i++
	}
	l.times = l.times[i:]
	code := http.StatusNoContent
	if len(l.times) >= l.limit {
		code = http.StatusServiceUnavailable
	} else {
		l.times = append(l.times, now)
	}
	l.codes[code]++
	l.mu.Unlock()
	w.WriteHeader(code)
}

// TestSearch: against a drain that takes 100 bodies/s, the search
// doubles from 10 bodies/s until a step fails, then bisects; what it
// reports is what its steps saw, whatever the timing of this machine.
func TestSearch(t *testing.T) {
	l := &limited{limit: 10, codes: map[int]int64{}}
	srv := httptest.NewServer(l)
	defer srv.Close()
	cfg := Config{URL: srv.URL + "/logs", Clients: 4, Duration: 300 * time.Millisecond, Frames: 2, Bodies: 5, Rate: 10}
	sc := SearchConfig{Precision: 0.3, MaxSteps: 10, Pause: time.Millisecond}
	res, err := Search(context.Background(), cfg, sc)
	require.NoError(t, err)
	require.NotEmpty(t, res.Steps)
	assert.LessOrEqual(t, len(res.Steps), 10)
	assert.Equal(t, 10.0, res.Steps[0].Rate, "the first step at --rate")

	var lo, hi float64
	var sent503 int64
	for i, st := range res.Steps {
		r := st.Result
		require.NotNil(t, r)
		assert.Equal(t, st.Rate, r.Rate, "step %d", i)
		assert.Equal(t, 2*st.Rate, st.EventRate, "step %d", i)
		assert.Equal(t, st.Pass, r.Status[503] == 0 && r.Errors == 0 && float64(r.Requests) >= 0.97*st.Rate*0.3, "step %d: %+v", i, st)
		assert.Equal(t, st.Pass, st.Why == "", "step %d", i)
		if r.Status[503] > 0 {
			assert.Contains(t, st.Why, "answered 503", "step %d", i)
		}
		sent503 += r.Status[503]
		if i > 0 {
			prev := res.Steps[i-1]
			switch {
			case hi == 0: // doubling while every step passed
				assert.Equal(t, 2*prev.Rate, st.Rate, "step %d doubles", i)
			case lo == 0:
				assert.Equal(t, hi/2, st.Rate, "step %d halves", i)
			default:
				assert.Equal(t, roundRate((lo+hi)/2), st.Rate, "step %d bisects", i)
			}
		}
		if st.Pass {
			lo = max(lo, st.Rate)
		} else if hi == 0 || st.Rate < hi {
			hi = st.Rate
		}
	}
	assert.Equal(t, lo, res.Rate)
	assert.Equal(t, hi, res.Failed)
	assert.Equal(t, 2*lo, res.EventRate)
	if len(res.Steps) < 10 {
		assert.LessOrEqual(t, res.Failed, res.Rate*1.3, "ended at the precision")
	}
	assert.Equal(t, l.codes[503], sent503, "the drain's 503s are the steps'")
	// 10 bodies in any 100 ms: 400 bodies/s cannot pass, so some step
	// failed.
	assert.Positive(t, res.Failed)

	// The text: a line a step and the verdict.
	var sb strings.Builder
	require.NoError(t, res.writeText(&sb, cfg))
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	assert.Len(t, lines, 2+len(res.Steps)+1)
	assert.Equal(t, "pulse bench drain --search: 4 clients posting 2-frame bodies, steps of 0.3s", lines[0])
	assert.Regexp(t, `^   1      10\.0         20 `, lines[2])
	assert.Regexp(t, `^(highest rate with no drop: .* bodies/s failed|no rate passed)`, lines[len(lines)-1])
}

// TestRunSearch: --search through Run, as JSON.
func TestRunSearch(t *testing.T) {
	d := newDrain(t, 2, 0)
	srv := httptest.NewServer(d)
	defer srv.Close()
	out, errOut, err := run(t, "--url", srv.URL+"/logs", "--search", "--rate", "20", "--search-steps", "2", "--search-pause", "1ms", "--search-min-offered", "0.01",
		"--duration", "200ms", "--frames", "2", "--bodies", "3", "--clients", "2", "--json")
	require.NoError(t, err, errOut)
	var res SearchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.Steps, 2, "every step passes against a drain that takes all: 2 steps, doubling")
	assert.Equal(t, []float64{20, 40}, []float64{res.Steps[0].Rate, res.Steps[1].Rate})
	assert.True(t, slices.ContainsFunc(res.Steps, func(s Step) bool { return s.Pass }))
	assert.Zero(t, res.Failed)
	assert.Equal(t, d.requests.Load(), res.Steps[0].Result.Requests+res.Steps[1].Result.Requests)
}

func TestRoundRate(t *testing.T) {
	f := func(in, want float64) {
		t.Helper()
		assert.Equal(t, want, roundRate(in))
	}
	f(0, 0)
	f(1234.5678, 1235)
	f(0.0123456, 0.01235)
	f(4500, 4500)
	f(93750, 93750)
	f(937501, 937500)
}
