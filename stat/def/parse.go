package def

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// MaxLineLen is the longest line of a definitions file, in bytes; a longer
// one is an error that names its line.
const MaxLineLen = 64 << 10

// LineError is an error at one line of a definitions file. It wraps
// ErrDefinition, or the reader's error.
type LineError struct {
	File string // the name given to Parse
	Line int    // 1-based
	Err  error
}

// Error returns "file:line: what is wrong".
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Parse reads a definitions file: one definition per line, written in
// logfmt (key=value pairs, values with spaces in double quotes); '#'
// starts a comment line; blank lines are skipped. name is the file's
// name, for errors.
//
// Every definition is compiled (see Compile) and the set is checked as
// CompileSet checks it, against the default Budget: what Parse accepts,
// window.NewDefSet accepts. The first bad line rejects the whole file
// with a *LineError naming the file, the line and what is wrong, wrapping
// ErrDefinition. Lines are at most MaxLineLen bytes.
//
// Parse returns the definitions as written; Compile applies the defaults.
func Parse(r io.Reader, name string) ([]Def, error) { return ParseBudget(r, name, Budget{}) }

// ParseBudget is Parse with a Budget other than the default.
func ParseBudget(r io.Reader, name string, b Budget) ([]Def, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineLen+1)
	var defs []Def
	set := newSetCheck(b)
	var ev logfmt.Event
	line, long := 1, false
	for ; sc.Scan(); line++ {
		text := sc.Bytes()
		if long = len(text) > MaxLineLen; long {
			break
		}
		indent := len(text) - len(bytes.TrimLeft(text, " \t"))
		text = bytes.TrimSpace(text)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		fail := func(err error) error { return &LineError{File: name, Line: line, Err: err} }
		if col := unterminatedQuote(text); col > 0 {
			return nil, fail(fmt.Errorf("unterminated quote at column %d: %w", indent+col, ErrDefinition))
		}
		logfmt.ParseBody(text, &ev)
		d, err := defFromPairs(&ev)
		var c *Compiled
		if err == nil {
			c, err = compile(d)
		}
		if err == nil {
			err = set.add(c, "line "+strconv.Itoa(line))
		}
		if err != nil {
			return nil, fail(err)
		}
		defs = append(defs, d)
	}
	err := sc.Err()
	if long || errors.Is(err, bufio.ErrTooLong) {
		return nil, &LineError{File: name, Line: line, Err: fmt.Errorf("line longer than %d bytes: %w", MaxLineLen, ErrDefinition)}
	}
	if err != nil {
		return nil, &LineError{File: name, Line: line, Err: err}
	}
	return defs, nil
}

// MustParse is Parse on a string the program itself holds, such as an
// embedded default set. It panics on error.
func MustParse(s, name string) []Def {
	defs, err := Parse(strings.NewReader(s), name)
	if err != nil {
		panic(err)
	}
	return defs
}

// unterminatedQuote returns the 1-based column of a quoted value with no
// closing quote, or 0. It reads b as logfmt.ParseBody does: a value that
// begins with '"' right after '=' runs to the next '"' not escaped by a
// backslash.
func unterminatedQuote(b []byte) int {
	n := len(b)
	for i := 0; i < n; {
		for i < n && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		for i < n && b[i] != ' ' && b[i] != '\t' && b[i] != '=' {
			i++ // the key
		}
		if i >= n || b[i] != '=' {
			continue // a bare word
		}
		i++
		if i < n && b[i] == '"' {
			open := i
			for i++; i < n && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= n {
				return open + 1
			}
			i++
			continue
		}
		for i < n && b[i] != ' ' && b[i] != '\t' {
			i++
		}
	}
	return 0
}

// defFromPairs builds a Def, as written, from one parsed line.
func defFromPairs(ev *logfmt.Event) (Def, error) {
	var d Def
	seen := map[string]bool{}
	nameOf := func() string {
		if d.Name != "" {
			return d.Name
		}
		if v, ok := ev.Lookup("name"); ok && len(v) > 0 && checkText("", string(v)) == nil && len(v) <= MaxNameLen {
			return string(v)
		}
		return "(unnamed)"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", nameOf(), fmt.Sprintf(format, args...), ErrDefinition)
	}
	for p := range ev.Pairs() {
		k, v := string(p.Key), string(p.Value)
		if p.Flag {
			return d, fail("%q has no value (want key=value)", k)
		}
		canon := k
		if k == "max" {
			canon = "max-metrics" // the name before 0.x; kept as an alias
		}
		if seen[canon] {
			return d, fail("%s given twice", k)
		}
		seen[canon] = true
		var err error
		switch canon {
		case "name":
			d.Name = v
		case "kind":
			d.Kind = Kind(v)
		case "of":
			d.Of = v
		case "by":
			d.By = v
		case "before":
			d.Before = v
		case "per":
			d.Per, err = parseDuration(v)
		case "window":
			d.Window, err = parseDuration(v)
		case "q":
			for s := range strings.SplitSeq(v, ",") {
				q, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if perr != nil {
					err = fmt.Errorf("%q is not a number", s)
					break
				}
				d.Q = append(d.Q, q)
			}
		case "k":
			d.K, err = parsePositiveInt(v)
		case "max-metrics":
			d.MaxMetrics, err = parsePositiveInt(v)
		case "where":
			d.Where, err = ParseWhere(v)
			if err != nil {
				return d, fail("where: %v", err)
			}
		case "prefix":
			d.Prefix = v
		case "label":
			d.Label = v
		case "group":
			d.Group = v
		case "unit":
			d.Unit = v
		case "warn", "crit":
			f, perr := strconv.ParseFloat(v, 64)
			if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				err = fmt.Errorf("%q is not a finite number", v)
				break
			}
			if k == "warn" {
				d.Warn = &f
			} else {
				d.Crit = &f
			}
		default:
			return d, fail("unknown key %q", k)
		}
		if err != nil {
			return d, fail("%s: %v", k, err)
		}
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 1s, 10s, 1m)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}
