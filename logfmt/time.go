package logfmt

import (
	"strconv"
	"time"
)

// The range of timestamps the parser accepts, in Unix seconds: from
// MinTimeUnix (1970-01-01T00:00:00Z) up to but not including MaxTimeUnix
// (2200-01-01T00:00:00Z), that is the years 1970 to 2199 in UTC. A
// timestamp outside it is an error wrapping [ErrTime]: RFC 3339 writes
// years 0000 to 9999, but [time.Time.UnixNano], which Pulse's windows
// use, holds only 1678 to 2262 and wraps silently beyond, so that the
// year 1600 would land in 2184.
const (
	MinTimeUnix = 0
	MaxTimeUnix = 7258118400
)

// parseTime reads an RFC 3339 timestamp ("2026-03-14T17:02:11.482113+00:00",
// "2026-03-14T17:05:00Z"): seconds with an optional fraction of any length
// (nanoseconds kept, further digits ignored), then 'Z' or ±hh:mm. It
// returns the instant in UTC, and false when b is not RFC 3339 or the
// instant is outside [MinTimeUnix, MaxTimeUnix). It does not allocate:
// time.Parse would, for any offset other than Z.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 20 {
		return time.Time{}, false
	}
	base, ok := parseMinute(b[:16])
	if !ok {
		return time.Time{}, false
	}
	sec, nsec, ok := parseSeconds(base, b[16:])
	if !ok || sec < MinTimeUnix || sec >= MaxTimeUnix {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// timeMsg says why parseTime rejected b, in the words of a *SyntaxError
// naming the field: not RFC 3339, or outside the range. It runs only on
// the error path.
func timeMsg(field string, b []byte) string {
	if len(b) >= 20 {
		if base, ok := parseMinute(b[:16]); ok {
			if sec, _, ok := parseSeconds(base, b[16:]); ok {
				year := strconv.Itoa(time.Unix(sec, 0).UTC().Year())
				return field + " in year " + year + " is outside 1970-01-01 to 2200-01-01"
			}
		}
	}
	return field + " is not RFC 3339"
}

// parseMinute reads "YYYY-MM-DDTHH:MM" and returns its Unix time.
func parseMinute(b []byte) (int64, bool) {
	if b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60), true
}

// parseSeconds reads ":SS[.frac](Z|±hh:mm)" and adds it to base, giving
// Unix seconds and nanoseconds, whatever the year.
func parseSeconds(base int64, b []byte) (int64, int, bool) {
	if len(b) < 4 || b[0] != ':' {
		return 0, 0, false
	}
	sec, ok := digits(b[1:3])
	if !ok || sec > 60 {
		return 0, 0, false
	}
	i := 3
	nsec := 0
	if b[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return 0, 0, false
		}
	}
	if i >= len(b) {
		return 0, 0, false
	}
	offset := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, 0, false
		}
		oh, ok1 := digits(b[i+1 : i+3])
		om, ok2 := digits(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, 0, false
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, 0, false
	}
	if i != len(b) {
		return 0, 0, false
	}
	return base + int64(sec-offset), nsec, true
}

// timeCache remembers the last "YYYY-MM-DDTHH:MM" an Event parsed: in a
// stream, consecutive timestamps almost always share it, and then only
// the seconds are read.
type timeCache struct {
	minute [16]byte
	base   int64
	ok     bool
}

// parse is parseTime with the cache.
func (c *timeCache) parse(b []byte) (time.Time, bool) {
	if len(b) < 20 {
		return time.Time{}, false
	}
	if !c.ok || string(b[:16]) != string(c.minute[:]) {
		base, ok := parseMinute(b[:16])
		if !ok {
			return time.Time{}, false
		}
		copy(c.minute[:], b[:16])
		c.base, c.ok = base, true
	}
	// As parseTime; written out, as a call here costs a percent of a frame.
	sec, nsec, ok := parseSeconds(c.base, b[16:])
	if !ok || sec < MinTimeUnix || sec >= MaxTimeUnix {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// digits reads a run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= -1 here, so truncation is floor except y == -1
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
