package logfmt

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

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
	for _, s := range []string{
		``, `a`, `a=`, `=`, `a="b\"c\\d\u00e9\ud83d\ude00" e`, `a="unterminated`, "a=1\tb=2",
		`<165>1 2003-10-11T22:14:15.003Z h a p m [x@1 a="\]"][y@2] msg`, `<13>1 - h a p m -`,
		`12 x`, `<192>1 - h a p m`, `<13>1 2026-03-14 h a p m`, "2011-10-19T17:14:55Z host local0 app: x",
		"999999999 <158>1 x\n", "0 <13>1\n", "10 <13>1 - h a p m - a=1\n5 <13>1 - h a p m - b=2\n",
		"2026-03-14T17:02:11.482113+00:00 heroku[router]: a=\xff",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// checkSyntaxError asserts that err is nil or a *SyntaxError with an
// offset inside the input and one of the sentinels.
func checkSyntaxError(t *testing.T, err error, inputLen int) {
	t.Helper()
	if err == nil {
		return
	}
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, ErrSyntax)
	require.True(t, errors.Is(err, ErrHeader) || errors.Is(err, ErrCount) || errors.Is(err, ErrTooLong), err)
	require.GreaterOrEqual(t, se.Offset, int64(0))
	require.LessOrEqual(t, se.Offset, int64(inputLen), err)
	require.NotEmpty(t, se.Error())
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
func checkRoundTrip(t *testing.T, ev *Event) {
	t.Helper()
	var again Event
	ParseBody(formatBody(ev), &again)
	require.Equal(t, ev.Len(), again.Len())
	for i := range ev.Len() {
		p, q := ev.Pair(i), again.Pair(i)
		require.Equal(t, string(p.Key), string(q.Key), i)
		require.Equal(t, p.Flag, q.Flag, i)
		require.Equal(t, string(p.Value), string(q.Value), i)
		if !p.Flag {
			ParseNumber(p.Value)
		}
	}
	for p := range ev.Pairs() {
		v, ok := ev.Lookup(string(p.Key))
		require.True(t, ok)
		if p.Flag {
			require.True(t, v == nil || len(v) >= 0)
		}
	}
}

func FuzzParseBody(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		ParseBody(b, &ev)
		assert.Equal(t, FormLogfmt, ev.Form)
		for p := range ev.Pairs() {
			assert.Equal(t, p.Flag, p.Value == nil)
			assert.NotContains(t, string(p.Key), " ")
			assert.NotContains(t, string(p.Key), "=")
			if p.Flag {
				assert.NotEmpty(t, p.Key)
			}
		}
		checkRoundTrip(t, &ev)
	})
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		err := ParseFrame(b, &ev)
		checkSyntaxError(t, err, len(b))
		if err != nil {
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
		if err != nil {
			return
		}
		if ev.Form == FormClassic || ev.Form == FormHerokuLogs {
			assert.False(t, ev.Time.IsZero())
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
		var events, bad int64
		for calls := 0; ; calls++ {
			require.LessOrEqual(t, calls, 2*len(data)+2, "the reader makes progress")
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			checkSyntaxError(t, err, len(data))
			limit := opts.MaxFrame
			if limit == 0 {
				limit = DefaultMaxFrame
			}
			require.LessOrEqual(t, len(r.Raw()), limit+maxCountDigits+1)
			if err != nil {
				bad++
				continue
			}
			events++
			require.NotNil(t, ev)
			checkRoundTrip(t, ev)
		}
		st := r.Stats()
		assert.Equal(t, events, st.Events)
		assert.Equal(t, bad, st.Unparsed)
		assert.Equal(t, int64(len(data)), st.Bytes)
		_, err := r.Next()
		assert.Equal(t, io.EOF, err, "EOF is sticky")
	})
}
