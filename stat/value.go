package stat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pulsehq/pulse/internal/jsonstr"
)

// Value is what a definition reports for a stat at a snapshot: a number,
// null (an empty window of a kind that has no value when empty), a set of
// quantiles, or a top-k list. Its JSON form is the snapshot's:
//
//	12.5                         a number
//	null                         no value
//	{"p50":18,"p99.9":412}       quantiles, keyed by QuantileName
//	[["a.example.com",4.5],...]  top-k: [key, value] pairs, value descending
//	{"top":[["a.example.com",4.5],...],"bound":0.5}
//	                             top-k whose values may be over by up to bound
//
// A top-k list is written as a bare list while its values are exact (the
// TopK's keys fit its capacity: bound 0), and as the object with its
// error bound once they are not, so a reader of the list form never takes
// an estimate for an exact count. The bound is the TopK's MaxError (at
// most N ÷ Capacity) in the unit of the values: each value is at most
// bound over its key's true one, never under, and a value not above the
// bound may be all error.
//
// Read one number with Number, one quantile with Quantile and one key of a
// top-k list with TopKey; each returns false when the Value holds no such
// number:
//
//	p99, ok := snap.Stats["router.service"].Quantile(0.99)
//
// A number carries no error bound: each is as accurate as the kind it was
// read from states (see the package documentation). A top-k Value carries
// its bound (TopBound), in memory and in JSON. A quantiles Value read from
// a sketch (QuantilesValueOf) carries, in memory only, its count and the
// range of values its rank bound allows around each answer (Count,
// QuantileRange), for comparing snapshots; one decoded from JSON or made
// by QuantilesValue carries neither.
//
// The zero Value is null.
type Value struct {
	form  valueForm
	num   float64
	quant []Quantile
	top   []TopValueEntry
	bound float64         // top: the values' error bound, ≥ 0
	n     uint64          // quantiles from QuantilesValueOf: the values summarized
	rng   []QuantileRange // quantiles from QuantilesValueOf: one per quant
}

type valueForm uint8

const (
	formNull valueForm = iota
	formNumber
	formQuantiles
	formTop
)

// Quantile is one quantile of a Value: the q in (0, 1) and the value at q.
type Quantile struct {
	Q     float64
	Value float64
}

// QuantileRange is a range of values [Lo, Hi] around a quantile answer
// that holds the value of true rank q while the sketch keeps its stated
// rank bound: the values the same sketch gives at q − 2ε and q + 2ε, and
// one rank more, where ε is its rank bound (see QuantilesValueOf). Two
// answers for the same values whose ranges do not overlap cannot both be
// within the bound.
type QuantileRange struct {
	Lo, Hi float64
}

// TopValueEntry is one key of a top-k Value with the number a definition
// reports for it (a count or a rate derived from a TopKEntry's Count).
type TopValueEntry struct {
	Key   string
	Value float64
}

// Null returns the null Value.
func Null() Value { return Value{} }

// Number returns a numeric Value. NaN and ±Inf give null, since JSON has
// no such numbers.
func Number(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	return Value{form: formNumber, num: f}
}

// QuantilesValue returns a quantiles Value; qs is kept, not copied. It
// carries no count and no ranges: QuantileRange gives each answer itself.
// To read a Quantiles with its ranges, use QuantilesValueOf.
func QuantilesValue(qs []Quantile) Value { return Value{form: formQuantiles, quant: qs} }

// TopValue returns a top-k Value of exact values (bound 0); entries is
// kept, not copied.
func TopValue(entries []TopValueEntry) Value { return TopValueBound(entries, 0) }

// TopValueBound returns a top-k Value whose values may each be over their
// key's true value by up to bound, in their unit: a TopK's MaxError read
// as the entries are (a count, or a rate per the same unit). A bound that
// is NaN or not positive is 0 (exact); +Inf is the largest float64.
// entries is kept, not copied.
func TopValueBound(entries []TopValueEntry, bound float64) Value {
	if entries == nil {
		entries = []TopValueEntry{}
	}
	if !(bound > 0) {
		bound = 0
	}
	return Value{form: formTop, top: entries, bound: min(bound, math.MaxFloat64)}
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.form == formNull }

// Number returns the number and true for a numeric Value.
func (v Value) Number() (float64, bool) { return v.num, v.form == formNumber }

// Quantiles returns the quantiles of a quantiles Value, else nil.
func (v Value) Quantiles() []Quantile { return v.quant }

// Quantile returns the value at quantile q of a quantiles Value, and true;
// or 0 and false when v holds no quantile q (another form, or a definition
// that does not report q). q is matched exactly, as written in the
// definition: 0.99 for p99, 0.999 for p99.9.
func (v Value) Quantile(q float64) (float64, bool) {
	for _, e := range v.quant {
		if e.Q == q {
			return e.Value, true
		}
	}
	return 0, false
}

// Count returns the number of values a quantiles Value was read from,
// and true, for a Value from QuantilesValueOf; else 0 and false (another
// form, or quantiles decoded from JSON or made by QuantilesValue).
func (v Value) Count() (uint64, bool) { return v.n, v.form == formQuantiles && v.n > 0 }

// QuantileRange returns the range of values that the stated rank bound
// allows for the answer at quantile q (see QuantileRange), and true; or
// false when v holds no quantile q. A Value that carries no ranges
// (decoded from JSON, or made by QuantilesValue) states no bound: its
// range is the answer itself.
func (v Value) QuantileRange(q float64) (lo, hi float64, ok bool) {
	for i, e := range v.quant {
		if e.Q == q {
			if i < len(v.rng) {
				return v.rng[i].Lo, v.rng[i].Hi, true
			}
			return e.Value, e.Value, true
		}
	}
	return 0, 0, false
}

// TopBound returns the error bound of a top-k Value's values, and true;
// or 0 and false for another form. Each value is at most bound over its
// key's true value, never under; 0 means the values are exact. A value not
// above the bound may be all error.
func (v Value) TopBound() (float64, bool) { return v.bound, v.form == formTop }

// Top returns the entries of a top-k Value, else nil.
func (v Value) Top() []TopValueEntry { return v.top }

// TopKey returns the value of key in a top-k Value, and true; or 0 and
// false when the list does not show key (another form, or a key outside
// the top K).
func (v Value) TopKey(key string) (float64, bool) {
	for _, e := range v.top {
		if e.Key == key {
			return e.Value, true
		}
	}
	return 0, false
}

// String returns the JSON form.
func (v Value) String() string { return string(v.AppendJSON(nil)) }

// QuantileName returns the JSON key of quantile q: "p" and the percent
// with trailing zeros trimmed (0.5 → "p50", 0.95 → "p95", 0.999 → "p99.9").
func QuantileName(q float64) string {
	s := strconv.FormatFloat(q, 'f', -1, 64) // shortest decimal: "0.999"
	intPart, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	whole := strings.TrimLeft(intPart+frac[:2], "0")
	if whole == "" {
		whole = "0"
	}
	if rest := strings.TrimRight(frac[2:], "0"); rest != "" {
		return "p" + whole + "." + rest
	}
	return "p" + whole
}

// parseQuantileName is QuantileName's inverse.
func parseQuantileName(s string) (float64, bool) {
	p, ok := strings.CutPrefix(s, "p")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(p, 64)
	if err != nil || f <= 0 || f >= 100 {
		return 0, false
	}
	// Divide the decimal text, not the float, so that "p99.9" gives 0.999
	// exactly as written.
	q, err := strconv.ParseFloat(shiftLeft2(p), 64)
	return q, err == nil
}

// shiftLeft2 divides a non-negative decimal string by 100.
func shiftLeft2(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.Repeat("0", max(0, 3-len(intPart))) + intPart
	n := len(intPart) - 2
	return intPart[:n] + "." + intPart[n:] + frac
}

func appendNum(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// AppendJSON appends the JSON form of v to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.form {
	case formNumber:
		return appendNum(dst, v.num)
	case formQuantiles:
		dst = append(dst, '{')
		for i, q := range v.quant {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, QuantileName(q.Q)...)
			dst = append(dst, '"', ':')
			dst = appendNum(dst, q.Value)
		}
		return append(dst, '}')
	case formTop:
		if v.bound > 0 {
			dst = append(dst, `{"top":`...)
		}
		dst = append(dst, '[')
		for i, e := range v.top {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '[')
			dst = jsonstr.Append(dst, e.Key)
			dst = append(dst, ',')
			dst = appendNum(dst, e.Value)
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
		if v.bound > 0 {
			dst = append(dst, `,"bound":`...)
			dst = appendNum(dst, v.bound)
			dst = append(dst, '}')
		}
		return dst
	}
	return append(dst, "null"...)
}

// MarshalJSON returns the JSON form of v.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// UnmarshalJSON reads any of the JSON forms MarshalJSON writes. An object
// with a "top" key is a top-k list with its bound ("bound", a finite
// number ≥ 0, required; a bound of 0 reads as the list form); any other
// object holds quantiles.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return fmt.Errorf("stat: value: empty JSON: %w", ErrCorrupt)
	case string(b) == "null":
		*v = Value{}
	case b[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("stat: value: %w: %w", ErrCorrupt, err)
		}
		if _, ok := m["top"]; ok {
			return v.unmarshalBoundedTop(m)
		}
		qs := make([]Quantile, 0, len(m))
		for k, r := range m {
			q, ok := parseQuantileName(k)
			if !ok {
				return fmt.Errorf("stat: value: %q is not a quantile name: %w", k, ErrCorrupt)
			}
			var f float64
			if err := json.Unmarshal(r, &f); err != nil {
				return fmt.Errorf("stat: value: %s: %w: %w", k, ErrCorrupt, err)
			}
			qs = append(qs, Quantile{Q: q, Value: f})
		}
		slices.SortFunc(qs, func(a, b Quantile) int { return cmpFloat(a.Q, b.Q) })
		*v = QuantilesValue(qs)
	case b[0] == '[':
		top, err := unmarshalTop(b)
		if err != nil {
			return err
		}
		*v = TopValue(top)
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("stat: value: %w: %w", ErrCorrupt, err)
		}
		*v = Number(f)
	}
	return nil
}

// unmarshalBoundedTop reads {"top":[...],"bound":x}, already split into m.
func (v *Value) unmarshalBoundedTop(m map[string]json.RawMessage) error {
	for k := range m {
		if k != "top" && k != "bound" {
			return fmt.Errorf("stat: value: top-k object has key %q: %w", k, ErrCorrupt)
		}
	}
	rb, ok := m["bound"]
	if !ok {
		return fmt.Errorf("stat: value: top-k object without a bound: %w", ErrCorrupt)
	}
	var bound float64
	if err := json.Unmarshal(rb, &bound); err != nil {
		return fmt.Errorf("stat: value: top-k bound: %w: %w", ErrCorrupt, err)
	}
	if bound < 0 {
		return fmt.Errorf("stat: value: top-k bound %v is negative: %w", bound, ErrCorrupt)
	}
	rt := bytes.TrimSpace(m["top"])
	if len(rt) == 0 || rt[0] != '[' {
		return fmt.Errorf("stat: value: top-k object's top is not a list: %w", ErrCorrupt)
	}
	top, err := unmarshalTop(rt)
	if err != nil {
		return err
	}
	*v = TopValueBound(top, bound)
	return nil
}

// unmarshalTop reads a top-k list, [["key",value],...].
func unmarshalTop(b []byte) ([]TopValueEntry, error) {
	var raw [][2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("stat: value: %w: %w", ErrCorrupt, err)
	}
	top := make([]TopValueEntry, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r[0], &top[i].Key); err != nil {
			return nil, fmt.Errorf("stat: value: top entry %d key: %w: %w", i, ErrCorrupt, err)
		}
		if err := json.Unmarshal(r[1], &top[i].Value); err != nil {
			return nil, fmt.Errorf("stat: value: top entry %d value: %w: %w", i, ErrCorrupt, err)
		}
	}
	return top, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
