package def

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pulsehq/pulse/logfmt"
)

// Op is the comparison of one where term.
type Op uint8

// The where operators. Glob matching is case-sensitive, byte for byte,
// except with the Fold operators, which fold ASCII letters (A-Z match
// a-z; other bytes, é and É for instance, still match only themselves).
const (
	OpPresent     Op = iota // key: the key is present
	OpAbsent                // !key: the key is absent
	OpGlob                  // key=glob: the value matches glob
	OpNotGlob               // key!=glob: the key is absent or its value does not match glob
	OpGT                    // key>N: the value is a number greater than N
	OpGE                    // key>=N
	OpLT                    // key<N
	OpLE                    // key<=N
	OpGlobFold              // key~=glob: the value matches glob, ASCII letters in any case
	OpNotGlobFold           // key!~=glob: the key is absent or its value does not match glob in any case
)

var opNames = [...]string{"", "!", "=", "!=", ">", ">=", "<", "<=", "~=", "!~="}

// String returns the operator as a where filter writes it ("" for
// OpPresent, "!" for OpAbsent, which go before the key).
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

func (o Op) glob() bool {
	return o == OpGlob || o == OpNotGlob || o == OpGlobFold || o == OpNotGlobFold
}

func (o Op) numeric() bool { return o >= OpGT && o <= OpLE }

// Term is one condition of a where filter, as written: a key, an
// operator, and the pattern or number it compares with.
type Term struct {
	// Key names a message field, else a header field (see ParseWhere).
	Key string
	// Op is the comparison.
	Op Op
	// Glob is the pattern of the glob operators: '*' matches any run of
	// bytes, every other byte itself (for the Fold operators, ASCII letters
	// in either case).
	Glob string
	// Num is the number of OpGT, OpGE, OpLT and OpLE, in the units
	// logfmt.ParseNumber gives (milliseconds for durations); it must be
	// finite.
	Num float64
}

// String returns the term as a where filter writes it, quoting the
// pattern when it needs quotes.
func (t Term) String() string {
	switch {
	case t.Op == OpPresent:
		return t.Key
	case t.Op == OpAbsent:
		return "!" + t.Key
	case t.Op.glob():
		return t.Key + t.Op.String() + quoteIfNeeded(t.Glob)
	}
	return t.Key + t.Op.String() + formatNum(t.Num)
}

// validate reports what is wrong with a term, built in code or parsed.
func (t Term) validate() error {
	switch {
	case t.Key == "":
		return fmt.Errorf("term %q has no key", t.String())
	case int(t.Op) >= len(opNames):
		return fmt.Errorf("term on %q: unknown operator %d", t.Key, t.Op)
	case strings.ContainsAny(t.Key, " \t=!<>~\""):
		return fmt.Errorf("term key %q holds a space or one of = ! < > ~ \"", t.Key)
	case t.Op.numeric() && (math.IsNaN(t.Num) || math.IsInf(t.Num, 0)):
		return fmt.Errorf("term %q: the number must be finite", t.String())
	}
	if err := checkText("key", t.Key); err != nil {
		return err
	}
	return checkText("pattern", t.Glob)
}

// Where is a filter: a conjunction of terms, all of which must hold. The
// zero Where matches every event.
//
// Matching is case-sensitive: level=error does not match level=ERROR (as
// log/slog writes it); level~=error matches both. Keys are always
// case-sensitive.
type Where []Term

// String returns the filter in the syntax ParseWhere reads.
func (w Where) String() string {
	parts := make([]string, len(w))
	for i, t := range w {
		parts[i] = t.String()
	}
	return strings.Join(parts, " ")
}

// Match reports whether ev passes every term of w. It reads w as written,
// for a one-off test; a compiled definition ([Compiled.Match]) or a
// [Matcher] prepares its terms once. A term with an unknown operator never
// matches. It does not allocate.
func (w Where) Match(ev *logfmt.Event) bool {
	for _, t := range w {
		ct := compileTerm(t)
		if !ct.match(ev) {
			return false
		}
	}
	return true
}

// ParseWhere parses a filter: space-separated terms that must all hold.
//
//	key          the key is present (as a message field or a header field)
//	!key         the key is absent
//	key=glob     the value matches glob, where '*' matches any run of bytes
//	key!=glob    the key is absent or its value does not match glob
//	key~=glob    as key=glob, with ASCII letters in either case
//	key!~=glob   as key!=glob, with ASCII letters in either case
//	key>N  key>=N  key<N  key<=N
//	             the value is a number (with units, read as
//	             logfmt.ParseNumber reads it) that compares so with N
//
// Glob matching is case-sensitive except with ~= and !~=; keys are always
// case-sensitive. A pattern may be quoted with double quotes, with the
// escapes \" and \\.
//
// N is a number with an optional unit, read strictly: a duration unit (ns,
// us, µs, ms, s, m, h, or a compound duration such as 1m30s) converts to
// milliseconds, as logfmt.ParseNumber converts the values it compares
// with (service>=1s matches service=1200ms); a size or count unit (B,
// bytes, kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB, pages, %) is dropped and
// the number kept as written, as ParseNumber drops it from values. Any
// other suffix is an error (status>=5xx is not status>=5), and so is a
// number that overflows after scaling.
//
// Keys name message fields first and then header fields (app, proc, host,
// facility, severity, msgid, slot, instance, cloud, timestamp, sd);
// "syslog.<name>" always names the header field. "msg" names a message
// field msg (as log/slog writes it), else the raw message (free-text lines
// such as "State changed from up to crashed"); "syslog.msg" always names
// the raw message.
//
// Errors wrap ErrDefinition and give the column of the bad term.
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
		if err == nil {
			err = t.validate()
		}
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, wrapDef(err))
		}
		w = append(w, t)
		i += n
	}
}

// wrapDef makes err wrap ErrDefinition.
func wrapDef(err error) error { return &defError{err} }

type defError struct{ err error }

func (e *defError) Error() string { return e.err.Error() }
func (e *defError) Unwrap() []error {
	return []error{e.err, ErrDefinition}
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
	for i < len(s) && s[i] != ' ' && s[i] != '\t' && !strings.ContainsRune("=!<>~\"", rune(s[i])) {
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
	op := OpPresent
	for _, o := range []Op{OpNotGlobFold, OpGlobFold, OpNotGlob, OpGE, OpLE, OpGlob, OpGT, OpLT} {
		if strings.HasPrefix(s[i:], o.String()) {
			op = o
			break
		}
	}
	if op == OpPresent {
		return t, 0, fmt.Errorf("term %q: unexpected %q after key", firstWord(s), s[i])
	}
	i += len(op.String())
	val, n, err := parseValue(s[i:])
	if err != nil {
		return t, 0, fmt.Errorf("term %q: %w", firstWord(s), err)
	}
	i += n
	t.Op = op
	if op.glob() {
		t.Glob = val
		return t, i, nil
	}
	num, err := parseWhereNumber(val)
	if err != nil {
		return t, 0, fmt.Errorf("term %q: %w", firstWord(s), err)
	}
	t.Num = num
	return t, i, nil
}

// dropUnits are the suffixes, other than durations, that a where number
// may carry; logfmt.ParseNumber drops them and keeps the number.
var dropUnits = []string{"%", "B", "bytes", "kB", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB", "pages"}

// parseWhereNumber reads N of a comparison strictly: a number with no
// unit, a duration unit, one of dropUnits, or a compound duration.
func parseWhereNumber(s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("no number after the operator")
	}
	// The unit is what follows the last digit. A compound duration (1m30s)
	// ends in a duration unit, and ParseNumber checks the rest of it.
	end := len(s)
	for end > 0 && !(s[end-1] >= '0' && s[end-1] <= '9' || s[end-1] == '.') {
		end--
	}
	switch unit := s[end:]; unit {
	case "", "ns", "us", "µs", "ms", "s", "m", "h":
	default:
		if !slices.Contains(dropUnits, unit) {
			return 0, fmt.Errorf("%q is not a number with a unit (units: ns, us, µs, ms, s, m, h, %s)", s, strings.Join(dropUnits, ", "))
		}
	}
	num, ok := logfmt.ParseNumber([]byte(s))
	if !ok {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsInf(num, 0) || math.IsNaN(num) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return num, nil
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

// checkText reports a string that is not valid UTF-8 or holds a control
// character (a definitions file is text, one definition a line).
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return fmt.Errorf("%s %q holds a control character", what, s)
		}
	}
	return nil
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

// headerNames are the header fields a key names when no message field
// has it (logfmt.Event.Header knows them, and timestamp and sd).
var headerNames = []string{"app", "proc", "host", "facility", "severity", "msgid", "slot", "instance", "cloud", "timestamp", "sd"}

func isHeaderName(s string) bool {
	for _, n := range headerNames {
		if s == n {
			return true
		}
	}
	return false
}

func fieldFor(key string) field {
	if key == "msg" {
		return field{name: key, mode: lookupFieldOrRaw}
	}
	if h, ok := strings.CutPrefix(key, "syslog."); ok {
		if h == "msg" {
			return field{name: h, mode: lookupRaw}
		}
		if isHeaderName(h) {
			return field{name: h, mode: lookupHeader}
		}
	}
	if isHeaderName(key) {
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

// term is a Term prepared for matching: its lookup, and its glob's literal
// ends, which reject most values before any backtracking.
type term struct {
	field          field
	op             Op
	glob           string
	num            float64
	star           bool   // glob holds a '*'
	prefix, suffix string // glob's bytes before its first '*' and after its last
	oneStar        bool   // glob holds exactly one '*': prefix and suffix decide
}

// compileTerm prepares a valid Term. It does not allocate.
func compileTerm(t Term) term {
	ct := term{field: fieldFor(t.Key), op: t.Op, glob: t.Glob, num: t.Num, prefix: t.Glob}
	first, last := strings.IndexByte(t.Glob, '*'), strings.LastIndexByte(t.Glob, '*')
	if first >= 0 {
		ct.star = true
		ct.prefix, ct.suffix, ct.oneStar = t.Glob[:first], t.Glob[last+1:], first == last
	}
	return ct
}

// literal reports whether the term is a case-sensitive equality with a
// pattern that has no '*', and returns that literal: the Matcher files
// definitions under such terms.
func (t *term) literal() (string, bool) {
	if t.op == OpGlob && !t.star {
		return t.glob, true
	}
	return "", false
}

// match reports whether ev satisfies the term.
func (t *term) match(ev *logfmt.Event) bool {
	v, ok := t.field.lookup(ev)
	switch t.op {
	case OpPresent:
		return ok
	case OpAbsent:
		return !ok
	case OpGlob:
		return ok && t.matchGlob(v, false)
	case OpNotGlob:
		return !ok || !t.matchGlob(v, false)
	case OpGlobFold:
		return ok && t.matchGlob(v, true)
	case OpNotGlobFold:
		return !ok || !t.matchGlob(v, true)
	}
	if !ok {
		return false
	}
	n, ok := logfmt.ParseNumber(v)
	if !ok {
		return false
	}
	switch t.op {
	case OpGT:
		return n > t.num
	case OpGE:
		return n >= t.num
	case OpLT:
		return n < t.num
	case OpLE:
		return n <= t.num
	}
	return false
}

// matchGlob matches v against the term's glob, rejecting on the literal
// prefix and suffix before any backtracking.
func (t *term) matchGlob(v []byte, fold bool) bool {
	if !t.star {
		return equal(v, t.glob, fold)
	}
	if len(v) < len(t.prefix)+len(t.suffix) || !equal(v[:len(t.prefix)], t.prefix, fold) ||
		!equal(v[len(v)-len(t.suffix):], t.suffix, fold) {
		return false
	}
	if t.oneStar {
		return true
	}
	return matchGlob(t.glob, v, fold)
}

// lower folds an ASCII capital to its small letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equal reports whether v equals s, with ASCII letters folded when fold.
func equal(v []byte, s string, fold bool) bool {
	if !fold {
		return string(v) == s
	}
	if len(v) != len(s) {
		return false
	}
	for i := range len(v) {
		if v[i] != s[i] && lower(v[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

// matchGlob reports whether v matches pattern, where '*' matches any run
// of bytes (including none) and every other byte matches itself (an ASCII
// letter in either case when fold). It runs in O(len(pattern)·len(v)) at
// worst and allocates nothing.
func matchGlob(pattern string, v []byte, fold bool) bool {
	if !strings.Contains(pattern, "*") {
		return equal(v, pattern, fold)
	}
	// Greedy match with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(v) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == v[i] || fold && lower(pattern[p]) == lower(v[i])):
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
