package logfmt

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventAccessors(t *testing.T) {
	var ev Event
	require.NoError(t, ParseLine([]byte(`2011-10-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com a=1 b a=2s c= d=x`), &ev))

	t.Run("Lookup takes the last", func(t *testing.T) {
		v, ok := ev.Lookup("a")
		assert.True(t, ok)
		assert.Equal(t, "2s", string(v))
	})
	t.Run("Lookup flag", func(t *testing.T) {
		v, ok := ev.Lookup("b")
		assert.True(t, ok)
		assert.Nil(t, v)
	})
	t.Run("Lookup missing", func(t *testing.T) {
		v, ok := ev.Lookup("zz")
		assert.False(t, ok)
		assert.Nil(t, v)
	})
	t.Run("Number", func(t *testing.T) {
		n, ok := ev.Number("a")
		assert.True(t, ok)
		assert.Equal(t, 2000.0, n)
		_, ok = ev.Number("b")
		assert.False(t, ok, "flag")
		_, ok = ev.Number("c")
		assert.False(t, ok, "empty")
		_, ok = ev.Number("d")
		assert.False(t, ok, "text")
		_, ok = ev.Number("zz")
		assert.False(t, ok, "missing")
	})
	t.Run("Pairs in order and early stop", func(t *testing.T) {
		var keys []string
		for p := range ev.Pairs() {
			keys = append(keys, string(p.Key))
		}
		assert.Equal(t, []string{"a", "b", "a", "c", "d"}, keys)
		keys = keys[:0]
		for p := range ev.Pairs() {
			keys = append(keys, string(p.Key))
			if len(keys) == 2 {
				break
			}
		}
		assert.Equal(t, []string{"a", "b"}, keys)
	})
	t.Run("Pair out of range panics", func(t *testing.T) {
		assert.PanicsWithValue(t, "logfmt: pair index 5 out of range [0:5]", func() { ev.Pair(5) })
		assert.Panics(t, func() { ev.Pair(-1) })
	})
	t.Run("Header", func(t *testing.T) {
		for name, want := range map[string]string{
			"app": "hermes", "proc": "12345", "host": "10.1.2.3", "facility": "local3", "severity": "info",
			"slot": "hermes", "instance": "12", "cloud": "heroku.com", "timestamp": "2011-10-19T17:14:55-07:00",
		} {
			v, ok := ev.Header(name)
			assert.True(t, ok, name)
			assert.Equal(t, want, string(v), name)
		}
		for _, name := range []string{"msgid", "sd", "nope", ""} {
			_, ok := ev.Header(name)
			assert.False(t, ok, name)
		}
	})
	t.Run("reuse clears the header", func(t *testing.T) {
		var e2 Event
		require.NoError(t, ParseLine([]byte(`<13>1 - h a p m - x=1`), &e2))
		ParseBody([]byte(`y=2`), &e2)
		assert.Nil(t, e2.Host)
		assert.Nil(t, e2.StructuredData)
		assert.Equal(t, -1, e2.Priority)
		assert.Equal(t, 1, e2.Len())
	})
}

func TestFormString(t *testing.T) {
	f := func(form Form, want string) {
		t.Helper()
		assert.Equal(t, want, form.String())
	}
	f(FormUnknown, "unknown")
	f(FormOctet, "octet")
	f(FormRFC5424, "rfc5424")
	f(FormClassic, "classic")
	f(FormHerokuLogs, "heroku-logs")
	f(FormLogfmt, "logfmt")
	f(FormSyslog, "syslog")
	f(Form(7), "form(7)")
	f(Form(255), "form(255)")
}

func TestFormText(t *testing.T) {
	for f := FormUnknown; f <= FormSyslog; f++ {
		b, err := f.MarshalText()
		require.NoError(t, err)
		var g Form
		require.NoError(t, g.UnmarshalText(b))
		assert.Equal(t, f, g)
	}
	var g Form = FormOctet
	require.NoError(t, g.UnmarshalText([]byte("auto")))
	assert.Equal(t, FormUnknown, g)
	assert.EqualError(t, g.UnmarshalText([]byte("xml")), `logfmt: unknown form "xml"`)
}

// TestLookupMatchesScan checks the key index against a plain scan for the
// last pair of each key, over bodies with duplicates, flags, empty values,
// colliding keys and more pairs than the index holds.
func TestLookupMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	keys := []string{"a", "b", "at", "ta", "code", "host", "proc", "sample#memory_total", "x1", "1x", "service", "status", "k", "kk", "kkk"}
	var ev Event
	for round := range 500 {
		n := 1 + r.IntN(60)
		var b []byte
		for i := range n {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, keys[r.IntN(len(keys))]...)
			if r.IntN(4) > 0 {
				b = append(b, '=')
				b = append(b, strconv.Itoa(r.IntN(100))...)
			}
		}
		ParseBody(b, &ev)
		for _, k := range append(keys, "missing", "") {
			var want []byte
			found := false
			for p := range ev.Pairs() {
				if string(p.Key) == k {
					want, found = p.Value, true
				}
			}
			got, ok := ev.Lookup(k)
			if !assert.Equal(t, found, ok, "round %d key %q in %q", round, k, b) {
				return
			}
			assert.Equal(t, string(want), string(got), "round %d key %q", round, k)
		}
	}
}
