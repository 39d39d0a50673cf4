package logfmt

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBodyJSON(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		var ev Event
		ParseBody([]byte(in), &ev)
		assert.True(t, ev.json, "read as JSON: %s", in)
		assert.Equal(t, want, kv(&ev), in)
		assert.Equal(t, in, string(ev.Msg))
		for p := range ev.Pairs() {
			assert.False(t, p.Flag, in)
			assert.NotNil(t, p.Value, in)
		}
	}
	// log/slog's JSONHandler.
	f(`{"time":"2026-03-14T17:02:11.482113Z","level":"ERROR","msg":"charge failed","order":"o_81723","attempt":3}`,
		`time="2026-03-14T17:02:11.482113Z" level="ERROR" msg="charge failed" order="o_81723" attempt="3"`)
	f(`{}`, ``)
	f(` 	{ "a" : 1 , "b" : "x" } `+"\t\r\n", `a="1" b="x"`)
	f("{\n  \"a\": 1,\n  \"b\": 2\n}", `a="1" b="2"`)
	// Nested objects: keys joined with dots, at any depth.
	f(`{"a":{"b":1}}`, `a.b="1"`)
	f(`{"req":{"method":"GET","headers":{"host":"x.com","x-id":"7"}},"status":200}`,
		`req.method="GET" req.headers.host="x.com" req.headers.x-id="7" status="200"`)
	f(`{"a":{"b":{"c":{"d":true}}},"e":false}`, `a.b.c.d="true" e="false"`)
	// Numbers, booleans and null as written; null is the empty value.
	f(`{"n":-0.5e+10,"z":0,"i":-12,"f":1.25E-3,"t":true,"u":false,"v":null}`, `n="-0.5e+10" z="0" i="-12" f="1.25E-3" t="true" u="false" v=""`)
	// Arrays and empty objects as their raw text.
	f(`{"tags":["a","b"],"m":[1,[2,[3]],{"x":null}],"e":[],"o":{},"p":{ }}`,
		`tags="[\"a\",\"b\"]" m="[1,[2,[3]],{\"x\":null}]" e="[]" o="{}" p="{ }"`)
	// Escapes, in values and keys, at the top and nested.
	f(`{"s":"a\"b\\c\/d\b\f\n\r\t","u":"caf\u00e9 \ud83d\ude00 \ud83d"}`, "s=\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\" u=\"café 😀 \ufffd\"")
	f(`{"k\"ey":1,"o":{"n\u00e9":2}}`, `k"ey="1" o.né="2"`)
	// Keys as JSON writes them: spaces, '=', empty.
	f(`{"a b":"c=d","":"empty","x":{"":1}}`, `a b="c=d" ="empty" x.="1"`)
	// Duplicates are kept in order.
	f(`{"a":1,"a":2,"b":{"a":3}}`, `a="1" a="2" b.a="3"`)
	// Invalid UTF-8 passes through, as in logfmt.
	f("{\"a\":\"\xff\"}", "a=\"\\xff\"")

	var ev Event
	ParseBody([]byte(`{"a":{"b":1},"a":2,"c":null,"d":"x\"y","msg":"hi"}`), &ev)
	v, ok := ev.Lookup("a.b")
	require.True(t, ok)
	assert.Equal(t, "1", string(v))
	v, _ = ev.Lookup("a")
	assert.Equal(t, "2", string(v))
	v, ok = ev.Lookup("c")
	assert.True(t, ok)
	assert.Equal(t, []byte{}, v)
	v, _ = ev.Lookup("d")
	assert.Equal(t, `x"y`, string(v))
	n, ok := ev.Number("a.b")
	assert.True(t, ok)
	assert.Equal(t, 1.0, n)
}

// TestParseBodyJSONFallback: anything that is not exactly one JSON object,
// or is past the limits, is read as logfmt.
func TestParseBodyJSONFallback(t *testing.T) {
	deep := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	deepArray := func(n int) string { return `{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + "}" }
	for _, in := range []string{
		`{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a":1 "b":2}`, `{a:1}`, `{'a':1}`, `{"a":1}x`, `{"a":1}{}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`, `{"a":True}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\t\"}", `{"a":"open}`, `{"a":[1,]}`, `{"a":[1}`, `{"a":{"b":1}`,
		"\n{}", `{"a":1}` + " \x00",
		deep(33), deepArray(33), `{"a":` + strings.Repeat("x", maxJSONBody) + `}`,
	} {
		var ev Event
		ParseBody([]byte(in), &ev)
		assert.False(t, ev.json, "%.60s", in)
		// As logfmt: what a leading flag does not change.
		var want Event
		ParseBody([]byte("x "+in), &want)
		assert.Equal(t, strings.TrimPrefix(strings.TrimPrefix(kv(&want), "x"), " "), kv(&ev), "%.60s", in)
	}
	for _, in := range []string{deep(32), deepArray(32)} {
		var ev Event
		ParseBody([]byte(in), &ev)
		assert.True(t, ev.json, "%.60s", in)
	}
	t.Run("joined keys may not outgrow the body", func(t *testing.T) {
		// 31 levels of 200-byte keys, then 2000 members: their joined keys
		// would take 12 MB for a 30 KB body.
		key := strings.Repeat("k", 200)
		var b strings.Builder
		for range 31 {
			b.WriteString(`{"` + key + `":`)
		}
		b.WriteString(`{"x0":1`)
		for i := 1; i < 2000; i++ {
			b.WriteString(`,"x` + strconv.Itoa(i) + `":1`)
		}
		b.WriteString(strings.Repeat("}", 32))
		in := []byte(b.String())
		require.True(t, json.Valid(in))
		var ev Event
		ParseBody(in, &ev)
		assert.False(t, ev.json)
		assert.LessOrEqual(t, cap(ev.scratch), 2*(jsonScratchPerByte*len(in)+jsonScratchSlack))
	})
}

// TestJSONOnEveryForm: the message of every form is read the same way.
func TestJSONOnEveryForm(t *testing.T) {
	const msg = `{"level":"INFO","msg":"hello","req":{"id":"r1"}}`
	for _, line := range []string{
		msg,
		"2026-03-14T17:02:11.470002+00:00 app[web.2]: " + msg,
		"<190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - " + msg,
		"<190>1 2026-03-14T17:02:11.470002+00:00 d.x app web.2 - - " + msg,
		strconv.Itoa(len(msg)+59) + " <190>1 2026-03-14T17:02:11.470002+00:00 host app web.2 - " + msg + "\n",
		"2011-10-19T17:14:55-07:00 10.1.2.3 local7.info app[web.2]: - " + msg,
		"2026-03-14T17:02:11.470002+00:00 d.x app[web.2] " + msg,
	} {
		var ev Event
		require.NoError(t, ParseLine([]byte(line), &ev), line)
		assert.Equal(t, msg, string(ev.Msg), line)
		assert.Equal(t, `level="INFO" msg="hello" req.id="r1"`, kv(&ev), line)
	}
}

func TestParseBodyJSONAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	bodies := [][]byte{
		[]byte(`{"time":"2026-03-14T17:02:11.482113Z","level":"ERROR","msg":"charge \"failed\"","order":{"id":"o_81723","total":42.5},"tags":["a","b"]}`),
		[]byte(`at=info method=GET path="/x" status=200 service=43ms`),
	}
	var ev Event
	for _, b := range bodies { // warm up the event's storage
		ParseBody(b, &ev)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		for _, b := range bodies {
			ParseBody(b, &ev)
		}
	}))
}

// formatJSON writes the pairs of a JSON event back as a flat JSON object
// with string values: read again, it gives the same pairs.
func formatJSON(ev *Event) []byte {
	b := []byte{'{'}
	for p := range ev.Pairs() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.Key)
		b = append(b, ':')
		b = appendJSONString(b, p.Value)
	}
	return append(b, '}')
}

func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// TestScanJSONString checks the word-at-a-time string scan against a byte
// loop, on bytes chosen to trip a wrong mask ('"'^0x80, '\\'^0x80, 0x1F,
// 0x20, 0x9F).
func TestScanJSONString(t *testing.T) {
	naive := func(b []byte) (int, bool, bool) {
		esc := false
		for i := 1; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				return i, esc, true
			case c < 0x20:
				return 0, false, false
			case c == '\\':
				esc = true
				if i+1 >= len(b) {
					return 0, false, false
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i++
				case 'u':
					if _, ok := hex4(b[i:]); !ok {
						return 0, false, false
					}
					i += 5
				default:
					return 0, false, false
				}
			}
		}
		return 0, false, false
	}
	alphabet := []byte{'"', '\\', 'n', 'u', '0', 'a', 0xA2, 0xDC, 0x1F, 0x20, 0x9F, 0x00, 0xFF, 0x7F}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		b := make([]byte, 1+rng.IntN(30))
		b[0] = '"'
		for i := 1; i < len(b); i++ {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		end, esc, ok := scanJSONString(b, 0)
		wEnd, wEsc, wOK := naive(b)
		require.Equal(t, [3]any{wEnd, wEsc, wOK}, [3]any{end, esc, ok}, "%q", b)
	}
}
