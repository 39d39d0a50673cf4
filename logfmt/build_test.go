package logfmt

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventBuild(t *testing.T) {
	tests := []struct {
		name  string
		build func(ev *Event)
		want  string
	}{
		{"pairs only", func(ev *Event) {
			ev.AppendPairString("service.name", "shop")
			ev.AppendPair([]byte("k"), nil)
		}, `service.name="shop" k=""`},
		{"body only", func(ev *Event) {
			ev.AppendBody([]byte(`at=info status=200 desc="a \"b\""`))
		}, `at="info" status="200" desc="a \"b\""`},
		{"pairs then logfmt body", func(ev *Event) {
			ev.AppendPairString("service.name", "shop")
			ev.AppendBody([]byte(`at=info x`))
		}, `service.name="shop" at="info" x`},
		{"pairs then JSON body", func(ev *Event) {
			ev.AppendPairString("a", "1")
			ev.AppendBody([]byte(`{"level":"INFO","req":{"id":"r\"1"}}`))
		}, `a="1" level="INFO" req.id="r\"1"`},
		{"pairs then malformed JSON keeps the pairs", func(ev *Event) {
			ev.AppendPairString("a", "1")
			ev.AppendPairString("b", "2")
			ev.AppendBody([]byte(`{"level":"INFO","req":{"id":"r\"1"}`))
		}, `a="1" b="2" {"level":"INFO","req":{"id":"r\"1"}`},
		{"body then pairs", func(ev *Event) {
			ev.AppendBody([]byte(`a="x\ty" b=2`))
			ev.AppendPairString("c", "3")
		}, `a="x\ty" b="2" c="3"`},
		{"two bodies", func(ev *Event) {
			ev.AppendBody([]byte(`a=1 f b="q\"q"`))
			ev.AppendPairString("c", "3")
			ev.AppendBody([]byte(`{"d":"4"}`))
		}, `a="1" f b="q\"q" c="3" d="4"`},
		{"empty body", func(ev *Event) {
			ev.AppendPairString("a", "1")
			ev.AppendBody(nil)
			ev.AppendBody([]byte{})
		}, `a="1"`},
	}
	var ev Event
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ParseBody([]byte(`old=pairs are=gone`), &ev) // reused
			ev.Reset()
			tt.build(&ev)
			assert.Equal(t, tt.want, kv(&ev))
			assert.Equal(t, FormUnknown, ev.Form)
			assert.Equal(t, -1, ev.Priority)
			assert.Nil(t, ev.Msg)
		})
	}
}

// A body appended to an event that has one already is copied, so the
// first body's buffer may change afterwards.
func TestEventAppendBodyOwnsEarlierBody(t *testing.T) {
	first := []byte(`a=1 b="x\"y" c`)
	var ev Event
	ev.Reset()
	ev.AppendBody(first)
	ev.AppendBody([]byte(`d=4`))
	copy(first, strings.Repeat("#", len(first)))
	assert.Equal(t, `a="1" b="x\"y" c d="4"`, kv(&ev))
	v, ok := ev.Lookup("a")
	assert.True(t, ok)
	assert.Equal(t, "1", string(v))
}

func TestEventLookupLastWins(t *testing.T) {
	var ev Event
	ev.Reset()
	ev.AppendPairString("host", "resource")
	ev.AppendBody([]byte(`host=body status=200`))
	v, _ := ev.Lookup("host")
	assert.Equal(t, "body", string(v))
	ev.AppendPairString("status", "201")
	n, ok := ev.Number("status")
	assert.True(t, ok)
	assert.Equal(t, 201.0, n)
}

// Reset and AppendBody with Msg set give the event ParseBody gives.
func TestEventBuildMatchesParseBody(t *testing.T) {
	for _, b := range []string{
		`at=info method=GET path="/x" status=200 service=43ms`,
		`{"time":"2026-03-14T17:02:11.482113Z","level":"ERROR","order":{"id":"o_1"}}`,
		`State changed from starting to up`,
		``,
	} {
		var want, got Event
		ParseBody([]byte(b), &want)
		got.Reset()
		got.Form = FormLogfmt
		got.Msg = []byte(b)
		got.AppendBody([]byte(b))
		assert.Equal(t, kv(&want), kv(&got), b)
		assert.Equal(t, string(want.Msg), string(got.Msg), b)
	}
}

func TestEventSetHeader(t *testing.T) {
	var ev Event
	ev.Reset()
	names := []string{"app", "proc", "host", "facility", "severity", "msgid", "slot", "instance", "cloud", "timestamp", "sd"}
	for _, name := range names {
		require.True(t, ev.SetHeader(name, name+"-value"), name)
	}
	for _, name := range names {
		v, ok := ev.Header(name)
		assert.True(t, ok, name)
		assert.Equal(t, name+"-value", string(v), name)
	}
	assert.False(t, ev.SetHeader("time", "x"))
	assert.False(t, ev.SetHeader("", "x"))
	assert.True(t, ev.Time.IsZero(), "timestamp does not set Time")

	// An empty value is set, not absent.
	ev.Reset()
	ev.SetHeader("app", "")
	v, ok := ev.Header("app")
	assert.True(t, ok)
	assert.Empty(t, v)
	_, ok = ev.Header("proc")
	assert.False(t, ok)
}

func TestEventBuildAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	body := []byte(`at=info method=GET path="/api/orders?page=2" desc="a \"b\"" status=200 service=43ms`)
	jsonBody := []byte(`{"level":"INFO","msg":"charge","order":{"id":"o_81723"}}`)
	var ev Event
	build := func() {
		for _, b := range [][]byte{body, jsonBody} {
			ev.Reset()
			ev.Time = time.Unix(1773507731, 0)
			ev.SetHeader("app", "shop-example")
			ev.SetHeader("proc", "web.1")
			ev.SetHeader("severity", "info")
			for _, k := range []string{"service.name", "service.instance.id", "cloud.provider", "heroku.app.id", "a", "b", "c", "d"} {
				ev.AppendPairString(k, "some value of a resource attribute")
			}
			ev.Msg = b
			ev.AppendBody(b)
			ev.AppendPairString("late", "1")
			ev.Lookup("status")
		}
	}
	build() // warm up the event's storage
	assert.Zero(t, testing.AllocsPerRun(100, build))
}
