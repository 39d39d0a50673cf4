package emitter

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// appendSnapshot appends the lines of snap to dst (see "Lines" in the
// package documentation), and returns them with the number of lines and
// of values skipped. names is scratch space for the sorted stat names.
func appendSnapshot(dst []byte, names []string, prefix string, topK int, snap window.Snapshot) (_ []byte, _ []string, lines, skipped int) {
	names = names[:0]
	for name := range snap.Stats {
		names = append(names, name)
	}
	slices.Sort(names)
	ts := strconv.AppendInt(nil, snap.Time.Unix(), 10)
	var seen map[string]bool
	for _, name := range names {
		v := snap.Stats[name]
		if v.IsNull() {
			continue
		}
		if f, ok := v.Number(); ok {
			var ok bool
			if dst, ok = appendLine(dst, prefix, name, "", f, ts); ok {
				lines++
			} else {
				skipped++
			}
			continue
		}
		for _, q := range v.Quantiles() {
			var ok bool
			if dst, ok = appendLine(dst, prefix, name, stat.QuantileName(q.Q), q.Value, ts); ok {
				lines++
			} else {
				skipped++
			}
		}
		top := v.Top()
		if len(top) == 0 || topK < 0 {
			continue
		}
		clear(seen)
		if seen == nil {
			seen = map[string]bool{}
		}
		n := 0
		for _, e := range top {
			if n == topK {
				break
			}
			node := string(appendNode(nil, e.Key))
			if seen[node] {
				continue
			}
			seen[node] = true
			n++
			var ok bool
			if dst, ok = appendLine(dst, prefix, name, node, e.Value, ts); ok {
				lines++
			} else {
				skipped++
			}
		}
	}
	return dst, names, lines, skipped
}

// appendLine appends "<prefix><name>[.<child>] <v> <ts>\n", sanitising
// name and child, or reports false for a value Graphite cannot store.
func appendLine(dst []byte, prefix, name, child string, v float64, ts []byte) ([]byte, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dst, false
	}
	dst = append(dst, prefix...)
	dst = appendPath(dst, name)
	if child != "" {
		dst = append(dst, '.')
		dst = appendNode(dst, child)
	}
	dst = append(dst, ' ')
	dst = appendValue(dst, v)
	dst = append(dst, ' ')
	dst = append(dst, ts...)
	return append(dst, '\n'), true
}

// appendPath appends name sanitised node by node.
func appendPath(dst []byte, name string) []byte {
	for {
		node, rest, more := strings.Cut(name, ".")
		dst = appendNode(dst, node)
		if !more {
			return dst
		}
		dst = append(dst, '.')
		name = rest
	}
}

// appendNode appends s as one path node: every character other than
// ASCII letters, digits, - and _ made _ (a dot too), and _ for an empty s.
func appendNode(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '_')
	}
	for _, r := range s { // an invalid byte comes as one RuneError
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			dst = append(dst, byte(r))
		default:
			dst = append(dst, '_')
		}
	}
	return dst
}

// appendValue appends v as Graphite's receivers read it: plain decimals
// for ordinary magnitudes, an exponent for the others.
func appendValue(dst []byte, v float64) []byte {
	if a := math.Abs(v); a == 0 || (a >= 1e-4 && a < 1e15) {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'e', -1, 64)
}

// validPrefix reports whether a Config.Prefix writes a path a line can
// hold: no space, newline or other character outside printable ASCII.
func validPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return false
		}
	}
	return true
}
