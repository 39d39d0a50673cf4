package benchcluster

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// selfSpan is the window of the rate self-stats (pulse.events, the
// mergers' pulse.merger.<n>.*): a rate per second over 10 s, as the
// window package documents them.
const selfSpan = 10 * time.Second

// series is one stat's history at the web: value by snapshot time in
// Unix milliseconds. A null value is absent.
type series map[int64]float64

// readHistory reads the named stats' histories from the web's /stats.
func readHistory(ctx context.Context, web *proc, names []string) (map[string]series, error) {
	var raw map[string][][]*float64
	u := web.url("/stats?names=" + url.QueryEscape(strings.Join(names, ",")))
	code, err := getJSON(ctx, u, &raw)
	if err != nil {
		return nil, fmt.Errorf("benchcluster: web /stats: %w", err)
	}
	if code != 200 {
		return nil, fmt.Errorf("benchcluster: web /stats: status %d", code)
	}
	out := map[string]series{}
	for name, pts := range raw {
		s := series{}
		for _, p := range pts {
			if len(p) != 2 || p[0] == nil || p[1] == nil {
				continue
			}
			s[int64(*p[0])] = *p[1]
		}
		out[name] = s
	}
	return out, nil
}

// total returns the count a rate-per-second-over-span series has seen
// before T: count[T−span, T) is span × r(T) (in seconds), so the count
// before T is span × (r(T) + r(T−span) + r(T−2·span) + …), back to the
// first snapshot at or before since, before which nothing was counted.
// It reports false when a snapshot the sum needs is missing.
func (s series) total(T, since time.Time, span time.Duration) (float64, bool) {
	var sum float64
	for t := T; ; t = t.Add(-span) {
		if !t.After(since) {
			return sum * span.Seconds(), true
		}
		v, ok := s[t.UnixMilli()]
		if !ok {
			return 0, false
		}
		sum += v
	}
}

// latestTotal is total at the latest snapshot time T ≥ after for which
// the sum is complete, trying each of the span's seconds.
func (s series) latestTotal(after, since time.Time, span time.Duration) (float64, time.Time, bool) {
	times := make([]int64, 0, len(s))
	for ms := range s {
		times = append(times, ms)
	}
	slices.Sort(times)
	for i := len(times) - 1; i >= 0; i-- {
		T := time.UnixMilli(times[i])
		if T.Before(after) {
			break
		}
		if v, ok := s.total(T, since, span); ok {
			return v, T, true
		}
	}
	return 0, time.Time{}, false
}

// latest returns the time of the newest snapshot.
func (s series) latest() time.Time {
	var m int64 = math.MinInt64
	for ms := range s {
		m = max(m, ms)
	}
	if m == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMilli(m)
}

// summary returns the median, 99th percentile and maximum of the values
// at times in [from, to], and how many there were.
func (s series) summary(from, to time.Time) (p50, p99, maxV float64, n int) {
	var vs []float64
	for ms, v := range s {
		if ms >= from.UnixMilli() && ms <= to.UnixMilli() && !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(vs)
	at := func(q float64) float64 { return vs[int(math.Ceil(q*float64(len(vs))))-1] }
	return at(0.5), at(0.99), vs[len(vs)-1], len(vs)
}
