package logfmt

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kv renders pairs as "key=value" with flags as "key" and values quoted
// with strconv.Quote, so tests compare one readable string.
func kv(ev *Event) string {
	var s []string
	for p := range ev.Pairs() {
		if p.Flag {
			s = append(s, string(p.Key))
			continue
		}
		s = append(s, string(p.Key)+"="+strconv.Quote(string(p.Value)))
	}
	return strings.Join(s, " ")
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, ``},
		{"only spaces", "  \t ", ``},
		{"pair", `a=1`, `a="1"`},
		{"pairs", `at=info status=200`, `at="info" status="200"`},
		{"runs of spaces and tabs", "a=1 \t  b=2\t\tc=3", `a="1" b="2" c="3"`},
		{"leading and trailing space", "  a=1  ", `a="1"`},
		{"flag", `a`, `a`},
		{"flags and pairs", `x a=1 y`, `x a="1" y`},
		{"empty value", `dyno= connect= service= status=503 bytes=`, `dyno="" connect="" service="" status="503" bytes=""`},
		{"quoted", `desc="Request timeout"`, `desc="Request timeout"`},
		{"quoted empty", `a="" b=1`, `a="" b="1"`},
		{"escaped quote", `a="say \"hi\"" b=1`, `a="say \"hi\"" b="1"`},
		{"escaped backslash", `a="x\\y"`, `a="x\\y"`},
		{"escape n t r", `a="1\n2\t3\r4"`, `a="1\n2\t3\r4"`},
		{"escape u", `a="caf\u00e9"`, `a="café"`},
		{"escape surrogate pair", `a="\ud83d\ude00"`, `a="😀"`},
		{"lone surrogate", `a="\ud83dx"`, "a=\"\ufffdx\""},
		{"bad u escape kept", `a="\u12"`, `a="\\u12"`},
		{"other backslash kept", `a="c:\temp\x"`, `a="c:\temp\\x"`},
		{"unquoted backslash kept", `path=c:\x`, `path="c:\\x"`},
		{"unterminated quote runs to end", `a="open value b=2`, `a="open value b=2"`},
		{"unterminated quote with escape", `a="x\"y`, `a="x\"y"`},
		{"trailing backslash in quote", `a="x\`, `a="x\\"`},
		{"unquoted value holds = and quote", `q=a=b c=x"y`, `q="a=b" c="x\"y"`},
		{"value ends at tab", "a=1\tb=2", `a="1" b="2"`},
		{"quote then token", `a="b"c=d`, `a="b" c="d"`},
		{"duplicates kept in order", `a=1 b=2 a=3`, `a="1" b="2" a="3"`},
		{"free text", `State changed from starting to up`, `State changed from starting to up`},
		{"free text with pair", `Process running mem=563M(110.0%)`, `Process running mem="563M(110.0%)"`},
		{"hash in key", `sample#load_avg_1m=0.42 sample#memory_total=412.37MB`, `sample#load_avg_1m="0.42" sample#memory_total="412.37MB"`},
		{"empty key", `=x a=1`, `="x" a="1"`},
		{"lone equals", `=`, `=""`},
		{"invalid utf-8 passes", "a=\xff\xfe b=\"\xc3\"", "a=\"\\xff\\xfe\" b=\"\\xc3\""},
		{"fwd comma list", `fwd="198.51.100.23,172.70.1.9"`, `fwd="198.51.100.23,172.70.1.9"`},
		{"sock before at", `sock=client at=warning code=H27`, `sock="client" at="warning" code="H27"`},
		{"legacy router", `Error H12 (Request timeout) -> GET host/path dyno=web.1 queue=0 wait=0ms`, `Error H12 (Request timeout) -> GET host/path dyno="web.1" queue="0" wait="0ms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			ParseBody([]byte(tt.in), &ev)
			assert.Equal(t, tt.want, kv(&ev))
			assert.Equal(t, FormLogfmt, ev.Form)
			assert.Equal(t, tt.in, string(ev.Msg))
			assert.Equal(t, -1, ev.Priority)
		})
	}
}

func TestParseBodyFlagValueNil(t *testing.T) {
	var ev Event
	ParseBody([]byte(`flag empty=`), &ev)
	assert.Nil(t, ev.Pair(0).Value)
	assert.True(t, ev.Pair(0).Flag)
	assert.NotNil(t, ev.Pair(1).Value)
	assert.Empty(t, ev.Pair(1).Value)
	assert.False(t, ev.Pair(1).Flag)
}

func TestParseBodyManyPairs(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString("k" + strconv.Itoa(i) + "=v" + strconv.Itoa(i) + " ")
	}
	var ev Event
	for range 2 { // the second run reuses the overflow storage
		ParseBody([]byte(b.String()), &ev)
		assert.Equal(t, 100, ev.Len())
		for i := range 100 {
			p := ev.Pair(i)
			assert.Equal(t, "k"+strconv.Itoa(i), string(p.Key))
			assert.Equal(t, "v"+strconv.Itoa(i), string(p.Value))
		}
	}
}

func TestParseBodyEscapedValuesSurviveLaterPairs(t *testing.T) {
	// Unescaped values live in scratch storage that may grow: earlier
	// values must stay intact.
	var b strings.Builder
	for i := range 50 {
		b.WriteString(`k` + strconv.Itoa(i) + `="v\"` + strings.Repeat("x", i) + `" `)
	}
	var ev Event
	ParseBody([]byte(b.String()), &ev)
	assert.Equal(t, 50, ev.Len())
	for i := range 50 {
		assert.Equal(t, `v"`+strings.Repeat("x", i), string(ev.Pair(i).Value), i)
	}
}

// TestSWAR checks the word-at-a-time scans against a byte loop, on bytes
// chosen to trip a wrong has-zero-byte mask (0xA0 is space|0x80, 0x21 is
// one above space, 0x1F one below).
func TestSWAR(t *testing.T) {
	alphabet := []byte{' ', '\t', '=', 'a', 0xA0, 0x21, 0x1F, 0x00, 0xFF, 0x80, 0x89, 0xBD}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		from := 0
		if len(b) > 0 {
			from = rng.IntN(len(b))
		}
		want := len(b)
		if k := bytes.IndexByte(b[from:], ' '); k >= 0 {
			want = from + k
		}
		require.Equal(t, want, scanSpace(b, from), "%q from %d", b, from)

		// The body parser's inlined scans: a body of one token.
		var ev Event
		ParseBody(b, &ev)
		for p := range ev.Pairs() {
			require.NotContains(t, string(p.Key), " ")
			require.NotContains(t, string(p.Key), "\t")
			require.NotContains(t, string(p.Key), "=")
		}
		want = 0
		for _, f := range bytes.FieldsFunc(b, func(r rune) bool { return r == ' ' || r == '\t' }) {
			if f[0] == '=' || bytes.IndexByte(f, '"') >= 0 {
				want = -1 // quotes and empty keys make counting harder
				break
			}
			want++
		}
		if want >= 0 {
			require.Equal(t, want, ev.Len(), "%q", b)
		}
	}
}
