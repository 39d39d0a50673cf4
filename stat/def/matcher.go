package def

import (
	"github.com/pulsehq/pulse/logfmt"
)

// Matcher finds the definitions an event matches without evaluating every
// where filter. Each definition with a case-sensitive equality term whose
// pattern has no '*' (proc=router, code=H12) is filed under one such
// term, preferring keys other than proc and app, which most definitions
// share; an event looks up each filed key once and reaches only the
// definitions filed under its value, whose other terms are then checked.
// Definitions with no such term are checked against every event.
//
// Package window folds through a Matcher; most programs never make one.
// A Matcher never changes after NewMatcher and is safe for concurrent use.
type Matcher struct {
	defs   []*Compiled
	rest   [][]term // per definition: the terms left once the index has chosen it
	keys   []indexKey
	always []int // definitions with no literal term
}

// indexKey is one key definitions are filed under, with the definitions
// by the literal value their term wants.
type indexKey struct {
	field   field
	byValue map[string][]int
}

// NewMatcher returns a Matcher over defs; AppendMatches reports
// definitions by their index in defs.
func NewMatcher(defs []*Compiled) *Matcher {
	m := &Matcher{defs: defs, rest: make([][]term, len(defs))}
	keyAt := map[string]int{}
	for i, c := range defs {
		best := -1
		for j := range c.where {
			if _, ok := c.where[j].literal(); !ok {
				continue
			}
			if best < 0 || isCommonKey(c.def.Where[best].Key) && !isCommonKey(c.def.Where[j].Key) {
				best = j
			}
		}
		if best < 0 {
			m.rest[i] = c.where
			m.always = append(m.always, i)
			continue
		}
		// The index checks the chosen term exactly (the same lookup, an
		// equal value), so the definition's filter is the other terms.
		rest := make([]term, 0, len(c.where)-1)
		rest = append(rest, c.where[:best]...)
		m.rest[i] = append(rest, c.where[best+1:]...)
		key := c.def.Where[best].Key
		k, ok := keyAt[key]
		if !ok {
			k = len(m.keys)
			keyAt[key] = k
			m.keys = append(m.keys, indexKey{field: c.where[best].field, byValue: map[string][]int{}})
		}
		lit, _ := c.where[best].literal()
		m.keys[k].byValue[lit] = append(m.keys[k].byValue[lit], i)
	}
	return m
}

func isCommonKey(k string) bool {
	switch k {
	case "proc", "app", "syslog.proc", "syslog.app":
		return true
	}
	return false
}

// AppendMatches appends to dst the index (in the slice given to
// NewMatcher) of every definition whose where filter ev passes, and
// returns the extended slice: first those checked against every event,
// then those reached through the index, each once. With a dst that has
// room, it does not allocate. A nil Matcher matches nothing.
func (m *Matcher) AppendMatches(dst []int, ev *logfmt.Event) []int {
	if m == nil {
		return dst
	}
	for _, i := range m.always {
		if matchAll(m.rest[i], ev) {
			dst = append(dst, i)
		}
	}
	for k := range m.keys {
		ik := &m.keys[k]
		v, ok := ik.field.lookup(ev)
		if !ok {
			continue
		}
		for _, i := range ik.byValue[string(v)] {
			if matchAll(m.rest[i], ev) {
				dst = append(dst, i)
			}
		}
	}
	return dst
}

func matchAll(terms []term, ev *logfmt.Event) bool {
	for i := range terms {
		if !terms[i].match(ev) {
			return false
		}
	}
	return true
}
