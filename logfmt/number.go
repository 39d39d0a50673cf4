package logfmt

import "strconv"

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseNumber reads a number with an optional unit, as Heroku writes them
// ("43ms", "412.37MB", "9831245312bytes", "0.99871", "110.0%").
//
// The number is an optional sign, digits with an optional fraction and an
// optional exponent. A duration unit converts to milliseconds: ns, us, µs,
// ms, s, m (minutes), h. Any other suffix made of letters, '%', '/' or 'µ'
// ("MB", "kB", "bytes", "pages", "M") is stripped and the number kept as
// written. A compound duration as Go writes one ("1m30.5s", "2h0m0s",
// "-1h2m3.5s") converts to milliseconds too. Anything else (an empty value, "NaN", "1.2.3", "12 ms") gives
// (0, false). It does not allocate.
func ParseNumber(v []byte) (float64, bool) {
	i := 0
	n := len(v)
	neg := false
	if i < n && (v[i] == '-' || v[i] == '+') {
		neg = v[i] == '-'
		i++
	}
	// Mantissa: up to 19 significant digits in a uint64 for the fast path.
	var mant uint64
	digits, fracDigits, dropped := 0, 0, false
	intStart := i
	for i < n && v[i] >= '0' && v[i] <= '9' {
		if digits < 19 {
			mant = mant*10 + uint64(v[i]-'0')
			if mant != 0 {
				digits++
			}
		} else {
			dropped = true
		}
		i++
	}
	sawDigits := i > intStart
	intDropped := dropped
	if i < n && v[i] == '.' {
		i++
		fs := i
		for i < n && v[i] >= '0' && v[i] <= '9' {
			if digits < 19 && !intDropped {
				mant = mant*10 + uint64(v[i]-'0')
				if mant != 0 {
					digits++
				}
				fracDigits++
			} else {
				dropped = true
			}
			i++
		}
		sawDigits = sawDigits || i > fs
	}
	if !sawDigits {
		return 0, false
	}
	exp := 0
	if i+1 < n && (v[i] == 'e' || v[i] == 'E') {
		k := i + 1
		eneg := false
		if v[k] == '-' || v[k] == '+' {
			eneg = v[k] == '-'
			k++
		}
		if k < n && v[k] >= '0' && v[k] <= '9' {
			for k < n && v[k] >= '0' && v[k] <= '9' {
				if exp < 10000 {
					exp = exp*10 + int(v[k]-'0')
				}
				k++
			}
			if eneg {
				exp = -exp
			}
			i = k
		}
		// "e" not followed by digits is a unit ("5e" is odd but a suffix).
	}
	numEnd := i
	scale, ok := unitScale(v[i:])
	if !ok {
		// Go's time.Duration.String writes compound durations from a
		// minute up ("1m30.5s", "2h0m0s"), and log/slog logs them so.
		return parseCompoundDuration(v)
	}
	var f float64
	e10 := exp - fracDigits
	if !dropped && mant < 1<<53 && e10 >= -22 && e10 <= 22 {
		// Clinger's fast path: both operands exact, one rounding.
		f = float64(mant)
		if e10 < 0 {
			f /= pow10[-e10]
		} else {
			f *= pow10[e10]
		}
		if neg {
			f = -f
		}
	} else {
		var err error
		f, err = strconv.ParseFloat(string(v[:numEnd]), 64)
		if err != nil {
			return 0, false
		}
	}
	return f * scale, true
}

// unitScale returns the factor that takes a value with unit u to
// milliseconds for durations, 1 for any other unit, and false when u is
// not a unit.
func unitScale(u []byte) (float64, bool) {
	switch string(u) {
	case "":
		return 1, true
	case "ns":
		return 1e-6, true
	case "us", "µs":
		return 1e-3, true
	case "ms":
		return 1, true
	case "s":
		return 1e3, true
	case "m":
		return 60e3, true
	case "h":
		return 3600e3, true
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '%', c == '/':
		case c == 0xC2 && i+1 < len(u) && u[i+1] == 0xB5: // µ
			i++
		default:
			return 0, false
		}
	}
	return 1, true
}

// parseCompoundDuration reads a duration of two or more number-unit
// components, as time.Duration.String writes them, in milliseconds.
func parseCompoundDuration(v []byte) (float64, bool) {
	i, neg := 0, false
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		neg = v[i] == '-'
		i++
	}
	total, parts := 0.0, 0
	for i < len(v) {
		start, dots := i, 0
		for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
			if v[i] == '.' {
				dots++
			}
			i++
		}
		if i == start || dots > 1 {
			return 0, false // a plain number, so ParseNumber never comes back here
		}
		num, ok := ParseNumber(v[start:i])
		if !ok {
			return 0, false
		}
		u := i
		for i < len(v) && !(v[i] >= '0' && v[i] <= '9') {
			i++
		}
		var scale float64
		switch string(v[u:i]) {
		case "h":
			scale = 3600e3
		case "m":
			scale = 60e3
		case "s":
			scale = 1e3
		case "ms":
			scale = 1
		case "us", "µs":
			scale = 1e-3
		case "ns":
			scale = 1e-6
		default:
			return 0, false
		}
		total += num * scale
		parts++
	}
	if parts < 2 {
		return 0, false
	}
	if neg {
		total = -total
	}
	return total, true
}
