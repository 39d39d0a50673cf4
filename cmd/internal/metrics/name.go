package metrics

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/stat/def"
)

// namePrefix begins every metric name.
const namePrefix = "pulse_"

// reservedEndings are the endings a gauge or summary name must not have
// (rule 5 of the package documentation); valueSuffix is what fixes them.
var reservedEndings = []string{"_total", "_count", "_sum", "_bucket", "_created"}

const valueSuffix = "_value"

// unit is what a definition's Unit and Per make of a metric: the suffix
// of its name and the factor that converts its values.
type unit struct {
	suffix string  // "_seconds", "_bytes_per_second", ""
	mul    float64 // multiply each value by it (1 for none)
	div    float64 // then divide by it (1 for none), so 18 ms is 0.018 s exactly
	note   string  // for HELP: "ms, exposed in seconds"
}

// conv converts a value of the stat to the metric's unit.
func (u unit) conv(v float64) float64 { return v * u.mul / u.div }

// baseUnits maps the part of a Unit before "/" to a Prometheus base unit.
var baseUnits = map[string]struct {
	base     string
	mul, div float64
}{
	"ns": {"seconds", 1, 1e9}, "us": {"seconds", 1, 1e6}, "µs": {"seconds", 1, 1e6},
	"ms": {"seconds", 1, 1e3}, "s": {"seconds", 1, 1}, "sec": {"seconds", 1, 1},
	"min": {"seconds", 60, 1}, "h": {"seconds", 3600, 1},
	"B": {"bytes", 1, 1}, "bytes": {"bytes", 1, 1},
	"kB": {"bytes", 1 << 10, 1}, "KB": {"bytes", 1 << 10, 1}, "KiB": {"bytes", 1 << 10, 1},
	"MB": {"bytes", 1 << 20, 1}, "MiB": {"bytes", 1 << 20, 1},
	"GB": {"bytes", 1 << 30, 1}, "GiB": {"bytes", 1 << 30, 1},
	"TB": {"bytes", 1 << 40, 1}, "TiB": {"bytes", 1 << 40, 1},
	"%": {"ratio", 1, 100},
}

// perUnits maps the part of a Unit after "/" to the word of a rate suffix.
var perUnits = map[string]string{
	"s": "second", "sec": "second", "second": "second",
	"min": "minute", "m": "minute", "minute": "minute",
	"h": "hour", "hour": "hour",
}

// unitOf reads d's unit. rated says whether d's kind has a Per (rate,
// sum, topk), whose Per then names the rate rather than the Unit.
func unitOf(d def.Def, rated bool) unit {
	u := unit{mul: 1, div: 1}
	num, den, _ := strings.Cut(strings.TrimSpace(d.Unit), "/")
	num, den = strings.TrimSpace(num), strings.TrimSpace(den)
	var words []string
	if b, ok := baseUnits[num]; ok {
		words = append(words, b.base)
		u.mul, u.div = b.mul, b.div
	}
	switch {
	case rated && d.Per > 0:
		words = append(append(words, "per"), perWord(d.Per)...)
	case den != "":
		if w, ok := perUnits[den]; ok {
			words = append(words, "per", w)
		}
	}
	if len(words) > 0 {
		u.suffix = "_" + strings.Join(words, "_")
	}
	if d.Unit != "" {
		u.note = d.Unit
		switch {
		case len(words) > 0 && words[0] == "ratio":
			u.note += ", exposed as a ratio"
		case u.mul != 1 || u.div != 1:
			u.note += ", exposed in " + words[0]
		}
	}
	return u
}

// perWord names a rate's Per: second, minute, hour, or n seconds.
func perWord(per time.Duration) []string {
	switch per {
	case time.Second:
		return []string{"second"}
	case time.Minute:
		return []string{"minute"}
	case time.Hour:
		return []string{"hour"}
	}
	return []string{strconv.FormatInt(int64(per/time.Second), 10), "seconds"}
}

// body applies rules 1 to 3: the stat name without "pulse.", lower-cased,
// every other character made _, behind the prefix.
func body(stat string) string {
	stat = strings.TrimPrefix(stat, def.ReservedPrefix)
	var b strings.Builder
	b.Grow(len(namePrefix) + len(stat))
	b.WriteString(namePrefix)
	for _, r := range stat { // an invalid byte comes as one RuneError
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// join appends suffix to base (rules 4 and 5), leaving out the words of
// the suffix that base already ends in.
func join(base, suffix string) string {
	if suffix != "" {
		words := strings.Split(suffix[1:], "_")
		for k := len(words); k > 0; k-- {
			if strings.HasSuffix(base, "_"+strings.Join(words[:k], "_")) {
				suffix = ""
				if k < len(words) {
					suffix = "_" + strings.Join(words[k:], "_")
				}
				break
			}
		}
	}
	name := base + suffix
	for _, e := range reservedEndings {
		if strings.HasSuffix(name, e) {
			return name + valueSuffix
		}
	}
	return name
}

// hashSuffix is the suffix a stat gets when its name is taken: _ and the
// FNV-1a 32-bit hash of its stat name in 8 hex digits.
func hashSuffix(stat string) string {
	h := fnv.New32a()
	h.Write([]byte(stat))
	const hex = "0123456789abcdef"
	var b [9]byte
	b[0] = '_'
	s := h.Sum32()
	for i := 8; i >= 1; i-- {
		b[i] = hex[s&0xf]
		s >>= 4
	}
	return string(b[:])
}
