package stat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsehq/pulse/logfmt"
)

// Op is the comparison of one where term.
type Op uint8

// The where operators.
const (
	OpPresent Op = iota // key
	OpAbsent            // !key
	OpGlob              // key=glob
	OpNotGlob           // key!=glob
	OpGT                // key>N
	OpGE                // key>=N
	OpLT                // key<N
	OpLE                // key<=N
)

var opNames = [...]string{"", "!", "=", "!=", ">", ">=", "<", "<="}

// Term is one condition of a where filter.
type Term struct {
	Key  string  // a message field, a header field, or "syslog.<header>"
	Op   Op      // how the value is compared
	Glob string  // the pattern of OpGlob and OpNotGlob; '*' matches any run of bytes
	Num  float64 // the number of OpGT, OpGE, OpLT and OpLE, read as ParseNumber reads it

	// Prepared by ParseWhere and Def.Validate (and on the fly for a Term
	// built in code and used directly):
	field          field  // where Key is looked up
	star           bool   // Glob holds a '*'
	prefix, suffix string // Glob's bytes before its first '*' and after its last
	oneStar        bool   // Glob holds exactly one '*': prefix and suffix decide
}

// prepare fills the lookup and the glob's literal ends from Key and Glob.
func (t *Term) prepare() {
	t.field = fieldFor(t.Key)
	first, last := strings.IndexByte(t.Glob, '*'), strings.LastIndexByte(t.Glob, '*')
	t.star = first >= 0
	t.prefix, t.suffix, t.oneStar = t.Glob, "", false
	if t.star {
		t.prefix, t.suffix, t.oneStar = t.Glob[:first], t.Glob[last+1:], first == last
	}
}

// prepared returns t, prepared when it was built in code.
func (t *Term) prepared() *Term {
	if t.field.name != "" || t.Key == "" {
		return t
	}
	c := *t
	c.prepare()
	return &c
}

// validate reports what is wrong with a term built in code.
func (t *Term) validate() error {
	switch {
	case t.Key == "":
		return fmt.Errorf("term %q has no key", t.String())
	case t.Op > OpLE:
		return fmt.Errorf("term on %q: unknown operator %d", t.Key, t.Op)
	}
	return nil
}

// Literal reports whether t is an equality with a pattern that has no '*',
// and returns that literal: such terms can index definitions.
func (t *Term) Literal() (string, bool) {
	if t.Op == OpGlob && !strings.Contains(t.Glob, "*") {
		return t.Glob, true
	}
	return "", false
}

// String returns the term as written in a where filter, quoting the pattern
// when it needs quotes.
func (t Term) String() string {
	switch t.Op {
	case OpPresent:
		return t.Key
	case OpAbsent:
		return "!" + t.Key
	case OpGlob, OpNotGlob:
		return t.Key + opNames[t.Op] + quoteIfNeeded(t.Glob)
	}
	return t.Key + opNames[t.Op] + formatNum(t.Num)
}

// Where is a parsed filter: a conjunction of terms. The zero Where matches
// every event.
type Where []Term

// String returns the filter in the syntax ParseWhere reads.
func (w Where) String() string {
	parts := make([]string, len(w))
	for i, t := range w {
		parts[i] = t.String()
	}
	return strings.Join(parts, " ")
}

// ParseWhere parses a filter: space-separated terms that must all hold.
//
//	key        the key is present (as a message field or a header field)
//	!key       the key is absent
//	key=glob   the value matches glob, where '*' matches any run of bytes
//	key!=glob  the key is absent or its value does not match glob
//	key>N  key>=N  key<N  key<=N
//	           the value is a number (with units, read as logfmt.ParseNumber
//	           reads it) that compares so with N (also read with units:
//	           service>=1s matches service=1200ms)
//
// A pattern may be quoted with double quotes, with the escapes \" and \\.
// Keys name message fields first and then header fields (app, proc, host,
// facility, severity, msgid, slot, instance, cloud); "syslog.<name>" always
// names the header field. "msg" names a message field msg (as log/slog
// writes it), else the raw message (free-text lines such as "State changed
// from up to crashed"); "syslog.msg" always names the raw message.
//
// Terms may also be built in code (Term{Key, Op, Glob or Num}); they are
// looked up by the same rules.
func ParseWhere(s string) (Where, error) {
	var w Where
	for i := 0; ; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return w, nil
		}
		t, n, err := parseTerm(s[i:])
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		t.prepare()
		w = append(w, t)
		i += n
	}
}

// parseTerm parses one term at the start of s and returns its length.
func parseTerm(s string) (Term, int, error) {
	var t Term
	i := 0
	neg := false
	if s[0] == '!' {
		neg, i = true, 1
	}
	start := i
	for i < len(s) && s[i] != ' ' && s[i] != '\t' && !strings.ContainsRune("=!<>\"", rune(s[i])) {
		i++
	}
	t.Key = s[start:i]
	if t.Key == "" {
		return t, 0, fmt.Errorf("term %q has no key", firstWord(s))
	}
	if i == len(s) || s[i] == ' ' || s[i] == '\t' {
		t.Op = OpPresent
		if neg {
			t.Op = OpAbsent
		}
		return t, i, nil
	}
	if neg {
		return t, 0, fmt.Errorf("term %q: '!' goes with a bare key only", firstWord(s))
	}
	var op string
	for _, o := range []string{"!=", ">=", "<=", "=", ">", "<"} {
		if strings.HasPrefix(s[i:], o) {
			op = o
			break
		}
	}
	if op == "" {
		return t, 0, fmt.Errorf("term %q: unexpected %q after key", firstWord(s), s[i])
	}
	i += len(op)
	val, n, err := parseValue(s[i:])
	if err != nil {
		return t, 0, fmt.Errorf("term %q: %w", firstWord(s), err)
	}
	i += n
	switch op {
	case "=", "!=":
		t.Op, t.Glob = OpGlob, val
		if op == "!=" {
			t.Op = OpNotGlob
		}
	default:
		num, ok := logfmt.ParseNumber([]byte(val))
		if !ok {
			return t, 0, fmt.Errorf("term %q: %q is not a number", firstWord(s), val)
		}
		t.Num = num
		t.Op = map[string]Op{">": OpGT, ">=": OpGE, "<": OpLT, "<=": OpLE}[op]
	}
	return t, i, nil
}

// parseValue reads a bare or double-quoted value at the start of s.
func parseValue(s string) (string, int, error) {
	if s == "" || s[0] != '"' {
		n := strings.IndexAny(s, " \t")
		if n < 0 {
			n = len(s)
		}
		return s[:n], n, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			if i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\t' {
				return "", 0, fmt.Errorf("text after closing quote")
			}
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				i++
				c = s[i]
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated quote")
}

func firstWord(s string) string {
	if n := strings.IndexAny(s, " \t"); n >= 0 {
		return s[:n]
	}
	return s
}

func quoteIfNeeded(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"\\") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// field says where a key is looked up in an event.
type field struct {
	name string // the message field's key, or the header's name
	mode lookupMode
}

type lookupMode uint8

const (
	lookupFieldOnly  lookupMode = iota // the message field only: no header field has the name
	lookupField                        // the message field, else the header field
	lookupHeader                       // the header field only (syslog.<name>)
	lookupRaw                          // the raw message only (syslog.msg)
	lookupFieldOrRaw                   // the message field msg, else the raw message
)

var headerNames = []string{"app", "proc", "host", "facility", "severity", "msgid", "slot", "instance", "cloud"}

func fieldFor(key string) field {
	if key == "msg" {
		return field{name: key, mode: lookupFieldOrRaw}
	}
	if h, ok := strings.CutPrefix(key, "syslog."); ok {
		if h == "msg" {
			return field{name: h, mode: lookupRaw}
		}
		for _, n := range headerNames {
			if h == n {
				return field{name: h, mode: lookupHeader}
			}
		}
	}
	// logfmt.Event.Header knows these names and also timestamp and sd.
	if key == "timestamp" || key == "sd" || slices.Contains(headerNames, key) {
		return field{name: key, mode: lookupField}
	}
	return field{name: key, mode: lookupFieldOnly}
}

// lookup returns the field's value in ev: the last message field of that
// key, else the header field of that name (or the raw message, for msg).
func (f *field) lookup(ev *logfmt.Event) ([]byte, bool) {
	switch f.mode {
	case lookupRaw:
		return ev.Msg, true
	case lookupHeader:
		return ev.Header(f.name)
	}
	if v, ok := ev.Lookup(f.name); ok {
		return v, true
	}
	switch f.mode {
	case lookupFieldOrRaw:
		return ev.Msg, true
	case lookupFieldOnly:
		return nil, false
	}
	return ev.Header(f.name)
}

// Match reports whether ev satisfies every term.
func (w Where) Match(ev *logfmt.Event) bool {
	for i := range w {
		if !w[i].Match(ev) {
			return false
		}
	}
	return true
}

// Match reports whether ev satisfies the term.
func (t *Term) Match(ev *logfmt.Event) bool {
	if t.field.name == "" {
		t = t.prepared()
	}
	v, ok := t.field.lookup(ev)
	switch t.Op {
	case OpPresent:
		return ok
	case OpAbsent:
		return !ok
	case OpGlob:
		return ok && t.matchGlob(v)
	case OpNotGlob:
		return !ok || !t.matchGlob(v)
	}
	if !ok {
		return false
	}
	n, ok := logfmt.ParseNumber(v)
	if !ok {
		return false
	}
	switch t.Op {
	case OpGT:
		return n > t.Num
	case OpGE:
		return n >= t.Num
	case OpLT:
		return n < t.Num
	}
	return n <= t.Num
}

// matchGlob matches v against the term's Glob, rejecting on the literal
// prefix and suffix before any backtracking.
func (t *Term) matchGlob(v []byte) bool {
	if !t.star {
		return string(v) == t.Glob
	}
	if len(v) < len(t.prefix)+len(t.suffix) || string(v[:len(t.prefix)]) != t.prefix ||
		string(v[len(v)-len(t.suffix):]) != t.suffix {
		return false
	}
	if t.oneStar {
		return true
	}
	return matchGlob(t.Glob, v)
}

// matchGlob reports whether v matches pattern, where '*' matches any run of
// bytes (including none) and every other byte matches itself. It runs in
// O(len(pattern)·len(v)) at worst and allocates nothing.
func matchGlob(pattern string, v []byte) bool {
	if !strings.Contains(pattern, "*") {
		return string(v) == pattern
	}
	// Greedy match with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(v) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == v[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Lookup returns the value of the term's key in ev, as the term reads it:
// the last message field of that key, else the header field.
func (t *Term) Lookup(ev *logfmt.Event) ([]byte, bool) { return t.prepared().field.lookup(ev) }
