package logfmt

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseNumber(t *testing.T) {
	f := func(in string, want float64, wantOK bool) {
		t.Helper()
		t.Run(in, func(t *testing.T) {
			got, ok := ParseNumber([]byte(in))
			assert.Equal(t, wantOK, ok)
			assert.InDelta(t, want, got, 1e-9*max(1, want))
		})
	}
	// Plain numbers.
	f("0", 0, true)
	f("200", 200, true)
	f("-3", -3, true)
	f("+3", 3, true)
	f("0.99871", 0.99871, true)
	f(".5", 0.5, true)
	f("5.", 5, true)
	f("1e3", 1000, true)
	f("2.5E-2", 0.025, true)
	f("72435191808", 72435191808, true)
	f("12345678901234567890123", 12345678901234567890123, true) // beyond the fast path
	f("0.000000000000000000000000001", 1e-27, true)
	// Durations become milliseconds.
	f("43ms", 43, true)
	f("12.4ms", 12.4, true)
	f("30000ms", 30000, true)
	f("1500000ns", 1.5, true)
	f("250us", 0.25, true)
	f("250µs", 0.25, true)
	f("2s", 2000, true)
	f("1.5m", 90000, true)
	f("2h", 7200000, true)
	// Compound durations as time.Duration.String (and so log/slog) writes them.
	f("1m30.5s", 90500, true)
	f("2h0m0s", 7200000, true)
	f("-1h2m3.5s", -3723500, true)
	f("1m0.000001s", 60000.001, true)
	f("1m30", 0, false)
	f("1m30x", 0, false)
	f("1m1.2.3s", 0, false)
	// Other units are stripped.
	f("412.37MB", 412.37, true)
	f("8024288kB", 8024288, true)
	f("9831245312bytes", 9831245312, true)
	f("153211pages", 153211, true)
	f("563M", 563, true)
	f("110.0%", 110, true)
	f("5req/s", 5, true)
	f("3µ", 3, true)
	// Not numbers.
	f("", 0, false)
	f("-", 0, false)
	f(".", 0, false)
	f("ms", 0, false)
	f("NaN", 0, false)
	f("Inf", 0, false)
	f("1.2.3", 0, false)
	f("12 ms", 0, false)
	f("web.1", 0, false)
	f("563M(110.0%)", 0, false)
	f("1e999", 0, false)
}

func TestParseNumberMatchesParseFloat(t *testing.T) {
	// The fast path must round exactly like strconv.
	for _, in := range []string{"0.1", "0.3", "123.456", "9007199254740993", "1.7976931348623157e308", "4.9e-324", "0.0712", "3.1"} {
		got, ok := ParseNumber([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, mustFloat(t, in), got, in)
	}
}

func TestParseNumberAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	in := []byte("412.37MB")
	assert.Zero(t, testing.AllocsPerRun(100, func() { ParseNumber(in) }))
}
