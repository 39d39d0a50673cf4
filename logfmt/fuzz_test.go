package logfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seeds returns the sample frames and lines and a malformed table.
func seeds(t testing.TB) [][]byte {
	out := sampleFrames(t)
	lines, err := os.ReadFile("testdata/lines.txt")
	require.NoError(t, err)
	for l := range bytes.Lines(lines) {
		out = append(out, l)
	}
	// Real drain bodies: whole, and line by line.
	for _, body := range realBodies(t) {
		out = append(out, body)
		for l := range bytes.Lines(body) {
			out = append(out, l)
		}
	}
	for _, s := range []string{
		``, `a`, `a=`, `=`, `a="b\"c\\d\u00e9\ud83d\ude00" e`, `a="unterminated`, "a=1\tb=2",
		`<165>1 2003-10-11T22:14:15.003Z h a p m [x@1 a="\]"][y@2] msg`, `<13>1 - h a p m -`,
		`12 x`, `<192>1 - h a p m`, `<13>1 2026-03-14 h a p m`, "2011-10-19T17:14:55Z host local0 app: x",
		"999999999 <158>1 x\n", "0 <13>1\n", "10 <13>1 - h a p m - a=1\n5 <13>1 - h a p m - b=2\n",
		"2026-03-14T17:02:11.482113+00:00 heroku[router]: a=\xff",
		"1000000000000 <158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info\n",
		"2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 (output buffer overflow)",
		"2022-01-01T01:01:01.000000+00:00 d.9173ea1f heroku[router] at=info",
		"<13>1 1600-01-01T00:00:00Z h a p m - x", "<13>1 2610-10-03T16:36:03.709551616Z h a p m - x",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// checkSyntaxError fails unless err is nil or a *SyntaxError with an
// offset inside the input and one of the sentinels. (Plain code: testify
// in the fuzz loop slows the fuzzer a hundredfold.)
func checkSyntaxError(t *testing.T, err error, inputLen int) {
	t.Helper()
	if err == nil {
		return
	}
	var se *SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
		t.Fatalf("not a *SyntaxError: %v", err)
	}
	if !errors.Is(err, ErrHeader) && !errors.Is(err, ErrTime) && !errors.Is(err, ErrCount) && !errors.Is(err, ErrTooLong) {
		t.Fatalf("no sentinel: %v", err)
	}
	if se.Offset < 0 || se.Offset > int64(inputLen) {
		t.Fatalf("offset %d outside input of %d bytes: %v", se.Offset, inputLen, err)
	}
	if se.Error() == "" {
		t.Fatal("empty error")
	}
}

// checkBadTime checks an event returned with ErrTime: no time, the raw
// timestamp kept, and the rest filled.
func checkBadTime(t *testing.T, ev *Event) {
	t.Helper()
	if !ev.Time.IsZero() || len(ev.Timestamp) == 0 || ev.Form == FormUnknown || ev.Form == FormLogfmt {
		t.Fatalf("bad-time event: form %v time %v timestamp %q", ev.Form, ev.Time, ev.Timestamp)
	}
	if ev.Form != FormHerokuLogs && ev.Form != FormClassic && len(ev.Host) == 0 {
		t.Fatalf("bad-time %v event without host", ev.Form)
	}
}

// formatBody writes the pairs back as logfmt: flags bare, every value
// quoted and escaped.
func formatBody(ev *Event) []byte {
	var b []byte
	for p := range ev.Pairs() {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, p.Key...)
		if p.Flag {
			continue
		}
		b = append(b, '=', '"')
		for _, c := range p.Value {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"')
	}
	return b
}

// checkRoundTrip parses the formatted pairs of ev again and compares.
// It uses plain comparisons, not testify, and checks Lookup on the first
// pairs only: inputs of many thousand pairs must stay fast.
func checkRoundTrip(t *testing.T, ev *Event) {
	t.Helper()
	var again Event
	if ev.json {
		ParseBody(formatJSON(ev), &again)
		if !again.json {
			t.Fatalf("round trip: %q is not read as JSON", formatJSON(ev))
		}
	} else {
		ParseBody(formatBody(ev), &again)
	}
	if ev.Len() != again.Len() {
		t.Fatalf("round trip: %d pairs, then %d", ev.Len(), again.Len())
	}
	for i := range ev.Len() {
		p, q := ev.Pair(i), again.Pair(i)
		if !bytes.Equal(p.Key, q.Key) || p.Flag != q.Flag || !bytes.Equal(p.Value, q.Value) || (p.Value == nil) != (q.Value == nil) {
			t.Fatalf("round trip: pair %d %+v became %+v", i, p, q)
		}
		if p.Flag != (p.Value == nil) {
			t.Fatalf("pair %d: flag %v with value %q", i, p.Flag, p.Value)
		}
		if !p.Flag {
			ParseNumber(p.Value)
		}
		if i < 64 {
			if _, ok := ev.Lookup(string(p.Key)); !ok {
				t.Fatalf("pair %d: Lookup(%q) missed", i, p.Key)
			}
		}
	}
}

// jsonSeeds are JSON bodies for the fuzzer: slog's, nested, escaped,
// malformed.
var jsonSeeds = []string{
	`{"time":"2026-03-14T17:02:11.482113Z","level":"ERROR","msg":"charge failed","order":{"id":"o_81723","total":42.5},"retry":false,"err":null}`,
	`{"a":{"b":{"c":[1,{"d":"e"}]}},"":"","k\"\u00e9":"\ud83d\ude00\n","n":-0.5e+10,"o":{}}`,
	` {"a" : [ ] , "b":{ }}` + "\r\n", `{"a":1}x`, `{"a":01}`, `{"a":"\u12"}`, `{"a":[1,]}`, `{"a":` + strings.Repeat(`{"a":`, 40),
	`{"level":"info","msg":"GET /","req":{"headers":{"host":"status.goodeggs.com","x-forwarded-for":"174.34.162.242, 23.235.39.31"}},"responseTime":43}`,
}

func FuzzParseBody(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		ParseBody(b, &ev)
		if ev.Form != FormLogfmt {
			t.Fatalf("form %v", ev.Form)
		}
		if !ev.json {
			for p := range ev.Pairs() {
				if bytes.ContainsAny(p.Key, " \t=") || (p.Flag && len(p.Key) == 0) {
					t.Fatalf("bad key %q (flag %v)", p.Key, p.Flag)
				}
			}
		}
		checkJSON(t, b, &ev)
		checkRoundTrip(t, &ev)
	})
}

// checkJSON holds ParseBody's JSON reading to encoding/json's: what it
// reads as JSON is a valid JSON object, with the same members flattened;
// and a valid JSON object within the limits is read as JSON.
func checkJSON(t *testing.T, b []byte, ev *Event) {
	t.Helper()
	trimmed := bytes.TrimLeft(b, " \t")
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed)
	if ev.json && !isObject {
		t.Fatalf("read as JSON, but encoding/json disagrees: %q", b)
	}
	if !isObject || !utf8.Valid(b) {
		return // encoding/json would replace invalid UTF-8
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var want []Pair
	depth := flattenJSON(t, dec, "", 1, &want)
	if !ev.json {
		if depth <= maxJSONDepth && len(b) <= 100 {
			t.Fatalf("a valid JSON object of depth %d not read as JSON: %q", depth, b)
		}
		return
	}
	if len(want) != ev.Len() {
		t.Fatalf("%d pairs, encoding/json flattens to %d: %q", ev.Len(), len(want), b)
	}
	for i, w := range want {
		p := ev.Pair(i)
		if string(p.Key) != string(w.Key) || p.Flag {
			t.Fatalf("pair %d: key %q, encoding/json says %q", i, p.Key, w.Key)
		}
		if w.Value == nil { // an array or an empty object: raw, valid JSON
			if !json.Valid(p.Value) || (p.Value[0] != '[' && p.Value[0] != '{') {
				t.Fatalf("pair %d: raw value %q", i, p.Value)
			}
			continue
		}
		if string(p.Value) != string(w.Value) {
			t.Fatalf("pair %d (%s): value %q, encoding/json says %q", i, p.Key, p.Value, w.Value)
		}
	}
}

// flattenJSON reads the members of the object whose '{' dec has just
// read, as ParseBody flattens them (nil Value for an array or an empty
// object, whose raw text is not compared), and returns the deepest
// nesting it met.
func flattenJSON(t *testing.T, dec *json.Decoder, prefix string, depth int, out *[]Pair) int {
	t.Helper()
	deepest := depth
	token := func() json.Token {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for dec.More() {
		key := token().(string)
		if prefix != "" {
			key = prefix + "." + key
		}
		switch v := token().(type) {
		case json.Delim:
			if v == '{' && dec.More() {
				deepest = max(deepest, flattenJSON(t, dec, key, depth+1, out))
				continue
			}
			*out = append(*out, Pair{Key: []byte(key)})
			for open, d := 1, depth+1; open > 0; {
				deepest = max(deepest, d)
				if tok, ok := token().(json.Delim); ok {
					if tok == '{' || tok == '[' {
						open++
						d++
					} else {
						open--
						d--
					}
				}
			}
		case string:
			*out = append(*out, Pair{Key: []byte(key), Value: []byte(v)})
		case json.Number:
			*out = append(*out, Pair{Key: []byte(key), Value: []byte(v)})
		case bool:
			*out = append(*out, Pair{Key: []byte(key), Value: []byte(strconv.FormatBool(v))})
		case nil:
			*out = append(*out, Pair{Key: []byte(key), Value: []byte{}})
		}
	}
	token() // '}'
	return deepest
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		err := ParseFrame(b, &ev)
		checkSyntaxError(t, err, len(b))
		if errors.Is(err, ErrTime) {
			checkBadTime(t, &ev)
		} else if err != nil {
			return
		}
		assert.Contains(t, []Form{FormOctet, FormRFC5424}, ev.Form)
		assert.True(t, ev.Priority >= 0 && ev.Priority <= 191)
		assert.NotEmpty(t, ev.Host)
		assert.NotEmpty(t, ev.MsgID)
		checkRoundTrip(t, &ev)
	})
}

func FuzzParseLine(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		err := ParseLine(b, &ev)
		checkSyntaxError(t, err, len(b))
		if errors.Is(err, ErrTime) {
			checkBadTime(t, &ev)
		} else if err != nil {
			return
		} else if ev.Form == FormClassic || ev.Form == FormHerokuLogs {
			assert.False(t, ev.Time.IsZero())
		}
		if !ev.Time.IsZero() && (ev.Time.Unix() < MinTimeUnix || ev.Time.Unix() >= MaxTimeUnix) {
			t.Fatalf("time %v outside the range", ev.Time)
		}
		for _, name := range []string{"app", "proc", "host", "facility", "severity", "msgid", "slot", "instance", "cloud", "timestamp", "sd"} {
			ev.Header(name)
		}
		checkRoundTrip(t, &ev)
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}

func FuzzReader(f *testing.F) {
	frames := sampleFrames(f)
	f.Add(bytes.Join(frames, nil), uint8(0), uint8(7))
	f.Add(frameBody(frames[:5], false), uint8(100), uint8(1))
	for _, s := range seeds(f) {
		f.Add(s, uint8(3), uint8(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxFrame, chunk uint8) {
		// Small limits, so that the fuzzer reaches them.
		opts := &ReaderOptions{MaxFrame: 16 + int(maxFrame)*4}
		if maxFrame == 0 {
			opts.MaxFrame = 0
		}
		r := NewReader(&chunkReader{b: data, n: 1 + int(chunk)}, opts)
		limit := opts.MaxFrame
		if limit == 0 {
			limit = DefaultMaxFrame
		}
		var events, bad, badTime int64
		for calls := 0; ; calls++ {
			if calls > 2*len(data)+2 {
				t.Fatalf("no progress after %d calls on %d bytes", calls, len(data))
			}
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			checkSyntaxError(t, err, len(data))
			if len(r.Raw()) > limit+maxCountDigits+1 {
				t.Fatalf("raw of %d bytes over limit %d", len(r.Raw()), limit)
			}
			if errors.Is(err, ErrTime) {
				if ev == nil {
					t.Fatal("ErrTime without its event")
				}
				checkBadTime(t, ev)
				checkRoundTrip(t, ev)
				badTime++
			} else if ev != nil && err != nil {
				t.Fatalf("event with %v", err)
			}
			if err != nil {
				bad++
				continue
			}
			events++
			checkRoundTrip(t, ev)
		}
		st := r.Stats()
		if st.Events != events || st.Unparsed != bad || st.BadTime != badTime || st.Bytes != int64(len(data)) {
			t.Fatalf("stats %+v, counted events=%d unparsed=%d badtime=%d of %d bytes", st, events, bad, badTime, len(data))
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("EOF is not sticky: %v", err)
		}
	})
}

// FuzzParseNumber: any bytes give a number or false, never a panic, and a
// plain decimal agrees with strconv.ParseFloat.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"43ms", "412.37MB", "1m30.5s", "2h0m0s", "-1e3", "1.2.3", "563M(110.0%)", "µs", "1e999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseNumber(b)
		if want, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsInf(want, 0) && !math.IsNaN(want) && onlyDecimal(b) {
			if !ok || got != want {
				t.Fatalf("ParseNumber(%q) = %v, %v; strconv says %v", b, got, ok, want)
			}
		}
	})
}

// onlyDecimal reports whether b is a plain decimal (sign, digits, point,
// exponent), the syntax both parsers share.
func onlyDecimal(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return len(b) > 0
}

// FuzzSplitter checks on any bytes that pieces cut where a Splitter says
// a record ends read as the whole stream does.
func FuzzSplitter(f *testing.F) {
	for _, s := range splitSeeds(f) {
		f.Add(s, uint8(10), uint8(2))
	}
	for _, s := range seeds(f) {
		f.Add(s, uint8(0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxFrame, every uint8) {
		checkSplitReads(t, data, 16+int(maxFrame)*4, 1+int(every%4), uint64(len(data)))
	})
}
