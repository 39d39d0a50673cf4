package def

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pulsehq/pulse/stat"
)

// IsL2metKey reports whether key is an l2met metric key: count#, measure#,
// sample# or unique# followed by a name. For package window.
func IsL2metKey(key []byte) bool {
	if len(key) < 7 {
		return false
	}
	switch key[0] {
	case 'c', 'm', 's', 'u':
	default:
		return false
	}
	for i, c := range key[:min(len(key), 8)] {
		if c == '#' {
			switch string(key[:i]) {
			case "count", "measure", "sample", "unique":
				return i+1 < len(key)
			}
			return false
		}
	}
	return false
}

// DeriveL2met returns the compiled definitions an l2met definition derives
// for one metric key: count#name is a sum per second, measure#name
// quantiles (at Q) and a mean (named name.mean), sample#name a last-mean by
// source (else by the header's proc, the dyno), unique#name a distinct
// count. They are named Prefix + "." + name, and take the l2met
// definition's Window when it gives one, and its Group and Unit.
//
// It returns an error wrapping ErrDefinition when c is not an l2met
// definition, key is not an l2met key, or a derived name would be longer
// than MaxNameLen or is not valid UTF-8 text: package window counts those
// as overflow. For package window.
func (c *Compiled) DeriveL2met(key []byte) ([]*Compiled, error) {
	if c.def.Kind != KindL2met {
		return nil, fmt.Errorf("def: %s: derive %q: not an l2met definition: %w", c.def.Name, key, ErrDefinition)
	}
	if !IsL2metKey(key) {
		return nil, fmt.Errorf("def: %s: %.300q is not an l2met key: %w", c.def.Name, key, ErrDefinition)
	}
	typ, name, _ := bytes.Cut(key, []byte("#"))
	longest := len(c.def.Prefix) + 1 + len(name)
	if string(typ) == "measure" {
		longest += len(".mean")
	}
	if longest > MaxNameLen {
		return nil, fmt.Errorf("def: %s: metric %.40q…: name of %d bytes, longer than %d: %w",
			c.def.Name, key, longest, MaxNameLen, ErrDefinition)
	}
	if !utf8.Valid(key) {
		return nil, fmt.Errorf("def: %s: metric %q: not valid UTF-8: %w", c.def.Name, key, ErrDefinition)
	}
	base := Def{Name: c.def.Prefix + "." + string(name), Of: string(key), Group: c.def.Group, Unit: c.def.Unit}
	if c.windowGiven {
		base.Window = c.def.Window
	}
	var defs []Def
	switch string(typ) {
	case "count":
		base.Kind, base.Per = KindSum, time.Second
		defs = append(defs, base)
	case "measure":
		q, m := base, base
		q.Kind, q.Q = KindQuantiles, c.def.Q
		m.Kind, m.Name = KindMean, base.Name+".mean"
		defs = append(defs, q, m)
	case "sample":
		// l2met's source names the instance; lines without one (an app's
		// own sample#) are partitioned by the dyno that logged them.
		base.Kind, base.By = KindLastMean, "source,syslog.proc"
		defs = append(defs, base)
	case "unique":
		base.Kind = KindDistinct
		defs = append(defs, base)
	}
	out := make([]*Compiled, len(defs))
	for i, d := range defs {
		dc, err := compile(d)
		if err != nil {
			return nil, fmt.Errorf("def: %s: %w", c.def.Name, err)
		}
		out[i] = dc
	}
	return out, nil
}

// L2metKey returns the metric key whose derived definitions (DeriveL2met)
// include the one named name holding a stat of kind k, and false when c
// derives no such stat. A merger uses it to derive, from a delta's name
// and kind, what a receiver derived from events. For package window.
func (c *Compiled) L2metKey(name string, k stat.Kind) (string, bool) {
	if c.def.Kind != KindL2met {
		return "", false
	}
	metric, ok := strings.CutPrefix(name, c.def.Prefix+".")
	if !ok || metric == "" {
		return "", false
	}
	switch k {
	case stat.KindSum:
		return "count#" + metric, true
	case stat.KindQuantiles:
		return "measure#" + metric, true
	case stat.KindMean:
		if m, ok := strings.CutSuffix(metric, ".mean"); ok && m != "" {
			return "measure#" + m, true
		}
	case stat.KindLastBy:
		return "sample#" + metric, true
	case stat.KindDistinct:
		return "unique#" + metric, true
	}
	return "", false
}
