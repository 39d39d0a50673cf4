package main

import (
	"bufio"
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// foldJSON runs foldfile with -json on args and decodes the snapshot.
func foldJSON(t *testing.T, stdin []byte, args ...string) window.Snapshot {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(append([]string{"-json"}, args...), bytes.NewReader(stdin), &out, &errOut)
	require.NoError(t, err, "stderr: %s", errOut.String())
	assert.Contains(t, errOut.String(), "unparsed=0")
	var snap window.Snapshot
	require.NoError(t, snap.UnmarshalJSON(out.Bytes()))
	return snap
}

func number(t *testing.T, snap window.Snapshot, name string) float64 {
	t.Helper()
	v, ok := snap.Stats[name].Number()
	require.True(t, ok, "%s = %v is not a number", name, snap.Stats[name])
	return v
}

// The sample drain frames of HEROKU-LOGS.md §3.9, folded over 12 h so
// that every frame counts, against values worked out by hand.
func TestSampleFrames(t *testing.T) {
	snap := foldJSON(t, nil, "-window", "12h", "testdata/heroku-3.9.log")
	assert.Equal(t, time.Date(2026, 3, 15, 4, 12, 11, 0, time.UTC), snap.Time, "end of the last second")

	// Six router lines; three of them 503 (H12, H10, H18), H27 is a 499.
	assert.Equal(t, 6.0/(12*3600), number(t, snap, "router.requests"))
	assert.Equal(t, 3.0, number(t, snap, "router.5xx"))
	// service: 43, 118, 30000, 2207, 812 (the H10 line has none).
	assert.Equal(t, `{"p50":812,"p95":30000,"p99":30000}`, snap.Stats["router.service"].String())
	assert.Equal(t, 30000.0, number(t, snap, "router.service.max"))
	assert.Equal(t, `[["H10",1],["H12",1],["H18",1],["H27",1]]`, snap.Stats["router.codes"].String())
	assert.Equal(t, 2.0, number(t, snap, "router.hosts"))
	assert.Equal(t, 412.37, number(t, snap, "dyno.memory"))
	assert.Equal(t, 1.0, number(t, snap, "dyno.crashes"), "State changed from starting to crashed")
}

// A generated file, in each form Pulse reads, gives the same snapshot, and
// it matches what the test computes from the lines on its own.
func TestGeneratedFile(t *testing.T) {
	opts := logfmttest.Options{Seed: 7, Rate: 300, IncidentEvery: time.Minute}
	const span = 50 * time.Second // under the 1 min window: every line counts

	gen := func(f logfmttest.Format) []byte {
		o := opts
		o.Format = f
		var b bytes.Buffer
		_, err := logfmttest.New(o).WriteFor(&b, span)
		require.NoError(t, err)
		return b.Bytes()
	}
	lines := gen(logfmttest.Lines)
	path := filepath.Join(t.TempDir(), "app.log")
	require.NoError(t, os.WriteFile(path, lines, 0o644))
	snap := foldJSON(t, nil, path)
	want := expect(t, lines)

	assert.Equal(t, float64(want.requests)/60, number(t, snap, "router.requests"))
	assert.Equal(t, float64(want.errors5xx), number(t, snap, "router.5xx"))
	assert.Equal(t, want.service[len(want.service)-1], number(t, snap, "router.service.max"))
	assert.InEpsilon(t, float64(len(want.hosts)), number(t, snap, "router.hosts"), 0.02)
	assert.InDelta(t, want.memory, number(t, snap, "dyno.memory"), 1e-6)
	assert.Equal(t, float64(want.crashes), number(t, snap, "dyno.crashes"))
	assert.Equal(t, want.codes, snap.Stats["router.codes"].String())
	for _, q := range snap.Stats["router.service"].Quantiles() {
		assert.LessOrEqual(t, rankError(want.service, q.Q, q.Value), 0.001, "p%v = %v", q.Q*100, q.Value)
	}
	t.Logf("%d router lines, %d 5xx, %d crashes, %d hosts, codes %s", want.requests, want.errors5xx, want.crashes, len(want.hosts), want.codes)
	require.NotZero(t, want.errors5xx, "the traffic has errors to count")
	require.NotEmpty(t, want.codes, "the traffic has H codes to rank")

	tests := []struct {
		name   string
		format logfmttest.Format
	}{
		{"drain frames", logfmttest.Drain},
		{"heroku logs", logfmttest.HerokuLogs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := foldJSON(t, gen(tt.format), "-") // from stdin
			a, _ := snap.MarshalJSON()
			b, _ := got.MarshalJSON()
			assert.JSONEq(t, string(a), string(b))
		})
	}
}

func TestTable(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"-window", "12h", "testdata/heroku-3.9.log"}, nil, &out, &errOut))
	assert.Equal(t, "events=24 unparsed=0\n", errOut.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1+len(definitions(time.Minute)))
	assert.Equal(t, "at 2026-03-15T04:12:11Z, last 12h0m0s", lines[0])
	assert.Regexp(t, `^router\.service\.max +30000 +ms$`, lines[4])
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", nil, "usage: foldfile"},
		{"two files", []string{"a", "b"}, "usage: foldfile"},
		{"missing file", []string{"testdata/none.log"}, "no such file"},
		{"zero window", []string{"-window", "0s", "-"}, "-window 0s: want a positive whole number of seconds"},
		{"fractional window", []string{"-window", "1500ms", "-"}, "-window 1.5s"},
		{"window too long", []string{"-window", "24h", "-"}, "window=24h is longer than the limit of 12h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, strings.NewReader(""), new(bytes.Buffer), new(bytes.Buffer))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// want is what the test computes from generated RFC 5424 lines by itself.
type want struct {
	requests, errors5xx, crashes int
	service                      []float64 // sorted
	hosts                        map[string]bool
	memory                       float64 // sum of each source's last memory_total
	codes                        string  // the top 5 as JSON
}

var (
	statusRe  = regexp.MustCompile(` status=(\d+)`)
	serviceRe = regexp.MustCompile(` service=(\d+)ms`)
	hostRe    = regexp.MustCompile(` host=(\S+)`)
	codeRe    = regexp.MustCompile(` code=(\S+)`)
	memoryRe  = regexp.MustCompile(`^source=(\S+) .*sample#memory_total=([0-9.]+)MB`)
)

func expect(t *testing.T, lines []byte) want {
	w := want{hosts: map[string]bool{}}
	memory := map[string]float64{}
	codes := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		// <PRI>1 TIMESTAMP HOST APP PROC MSGID MSG
		f := strings.SplitN(sc.Text(), " ", 7)
		require.Len(t, f, 7)
		proc, msg := f[4], f[6]
		if m := memoryRe.FindStringSubmatch(msg); m != nil {
			memory[m[1]], _ = strconv.ParseFloat(m[2], 64)
		}
		if strings.HasPrefix(msg, "State changed from ") && strings.HasSuffix(msg, " to crashed") {
			w.crashes++
		}
		if proc != "router" {
			continue
		}
		w.requests++
		if m := statusRe.FindStringSubmatch(msg); m != nil && m[1] >= "500" {
			w.errors5xx++
		}
		if m := serviceRe.FindStringSubmatch(msg); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			w.service = append(w.service, v)
		}
		if m := hostRe.FindStringSubmatch(msg); m != nil {
			w.hosts[m[1]] = true
		}
		if m := codeRe.FindStringSubmatch(msg); m != nil {
			codes[m[1]]++
		}
	}
	sort.Float64s(w.service)
	for _, v := range memory {
		w.memory += v
	}
	var top []stat.TopValueEntry
	for k, n := range codes {
		top = append(top, stat.TopValueEntry{Key: k, Value: float64(n)})
	}
	slices.SortFunc(top, func(a, b stat.TopValueEntry) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Key, b.Key))
	})
	w.codes = stat.TopValue(top[:min(5, len(top))]).String()
	return w
}

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
