package logfmt

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}

func TestParseTime(t *testing.T) {
	valid := []string{
		"2026-03-14T17:02:11.482113+00:00",
		"2026-03-14T17:05:00+00:00",
		"2011-10-19T17:14:55-07:00",
		"2026-11-24T10:00:00.123456Z",
		"2026-11-24T10:00:00.123456789Z",
		"2026-11-24T10:00:00.1Z",
		"2024-02-29T23:59:59+14:00",
		"1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59.5-00:30",
		"2199-12-31T23:59:59.999999999Z",
		"2200-01-01T00:59:59+01:00",
		"2000-03-01T00:00:00+05:45",
	}
	for _, in := range valid {
		t.Run(in, func(t *testing.T) {
			want, err := time.Parse(time.RFC3339Nano, in)
			require.NoError(t, err)
			got, ok := parseTime([]byte(in))
			require.True(t, ok)
			assert.True(t, want.Equal(got), "got %v want %v", got, want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
	t.Run("lower case t and z", func(t *testing.T) {
		got, ok := parseTime([]byte("2026-03-14t17:02:11z"))
		require.True(t, ok)
		assert.Equal(t, time.Date(2026, 3, 14, 17, 2, 11, 0, time.UTC), got)
	})
	t.Run("more than nine fraction digits are ignored", func(t *testing.T) {
		got, ok := parseTime([]byte("2026-11-24T10:00:00.1234567891Z"))
		require.True(t, ok)
		assert.Equal(t, 123456789, got.Nanosecond())
	})
	invalid := []string{
		"", "-", "2026-03-14", "2026-03-14T17:02:11", "2026-03-14 17:02:11Z",
		"2026-13-14T17:02:11Z", "2026-00-14T17:02:11Z", "2026-02-29T17:02:11Z",
		"2026-04-31T17:02:11Z", "2026-03-14T24:02:11Z", "2026-03-14T17:60:11Z",
		"2026-03-14T17:02:61Z", "2026-03-14T17:02:11.Z", "2026-03-14T17:02:11+0000",
		"2026-03-14T17:02:11+24:00", "2026-03-14T17:02:11+00:60", "2026-03-14T17:02:11Zx",
		"2026-03-14T17:02:11+00:00x", "2o26-03-14T17:02:11Z", "2026-03-14T17:02:1aZ",
	}
	for _, in := range invalid {
		t.Run("invalid "+in, func(t *testing.T) {
			_, ok := parseTime([]byte(in))
			assert.False(t, ok)
			assert.Equal(t, "TIMESTAMP is not RFC 3339", timeMsg("TIMESTAMP", []byte(in)))
		})
	}
	// Well-formed, but outside [MinTimeUnix, MaxTimeUnix): UnixNano would
	// wrap these silently (1600 into 2184, the second into 2026).
	outside := map[string]int{
		"0001-01-01T00:00:00Z":           1,
		"1600-01-01T00:00:00Z":           1600,
		"1969-12-31T23:59:59.999999999Z": 1969,
		"1970-01-01T00:30:00+01:00":      1969,
		"2200-01-01T00:00:00Z":           2200,
		"2199-12-31T23:30:00-01:00":      2200,
		"2610-10-03T16:36:03.709551616Z": 2610,
		"9999-12-31T23:59:59Z":           9999,
	}
	for in, year := range outside {
		t.Run("outside "+in, func(t *testing.T) {
			_, ok := parseTime([]byte(in))
			assert.False(t, ok)
			var c timeCache
			_, ok = c.parse([]byte(in))
			assert.False(t, ok, "cached")
			assert.Equal(t, "TIMESTAMP in year "+strconv.Itoa(year)+" is outside 1970-01-01 to 2200-01-01", timeMsg("TIMESTAMP", []byte(in)))
		})
	}
}

func TestTimeRangeConstants(t *testing.T) {
	assert.Equal(t, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(MinTimeUnix, 0).UTC())
	assert.Equal(t, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(MaxTimeUnix, 0).UTC())
	// The whole range survives UnixNano.
	assert.Equal(t, int64(MaxTimeUnix-1), time.Unix(MaxTimeUnix-1, 999999999).UnixNano()/1e9)
}

func TestParseTimeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	in := []byte("2011-10-19T17:14:55.123456-07:00")
	assert.Zero(t, testing.AllocsPerRun(100, func() { parseTime(in) }))
}

func TestTimeCache(t *testing.T) {
	var c timeCache
	f := func(in string, wantOK bool) {
		t.Helper()
		got, ok := c.parse([]byte(in))
		assert.Equal(t, wantOK, ok, in)
		if wantOK {
			want, err := time.Parse(time.RFC3339Nano, in)
			require.NoError(t, err)
			assert.True(t, want.Equal(got), in)
		}
	}
	f("2026-03-14T17:02:11.482113+00:00", true)
	f("2026-03-14T17:02:59.000001+00:00", true) // same minute: cached
	f("2026-03-14T17:02:59.000001-07:00", true)
	f("2026-03-14T17:02:5x.000001+00:00", false)
	f("2026-03-14T17:03:00Z", true) // next minute
	f("2026-02-30T17:03:00Z", false)
	f("2026-03-14T17:03:00Z", true)
	f("2026-03-14T17:03", false)
}
