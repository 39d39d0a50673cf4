package stat

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantileName(t *testing.T) {
	for q, want := range map[float64]string{0.5: "p50", 0.95: "p95", 0.99: "p99", 0.999: "p99.9", 0.9999: "p99.99", 0.25: "p25", 0.01: "p1", 0.001: "p0.1", 0.075: "p7.5", 0.29: "p29"} {
		assert.Equal(t, want, QuantileName(q), "q=%v", q)
		back, ok := parseQuantileName(want)
		require.True(t, ok, want)
		assert.Equal(t, q, back, want)
	}
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"null", Null(), `null`},
		{"zero value is null", Value{}, `null`},
		{"integer", Number(42), `42`},
		{"fraction", Number(0.1), `0.1`},
		{"large", Number(1e22), `1e+22`},
		{"NaN is null", Number(math.NaN()), `null`},
		{"quantiles", QuantilesValue([]Quantile{{0.5, 18}, {0.999, 412.5}}), `{"p50":18,"p99.9":412.5}`},
		{"empty top", TopValue(nil), `[]`},
		{"top", TopValue([]TopValueEntry{{"a.example.com", 4.5}, {"b\"\x01", 1}}), `[["a.example.com",4.5],["b\"\u0001",1]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
			assert.True(t, json.Valid(b))
			var back Value
			require.NoError(t, json.Unmarshal(b, &back))
			b2, err := json.Marshal(back)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b2))
		})
	}
}

func TestValueJSONInvalidUTF8(t *testing.T) {
	b, err := json.Marshal(TopValue([]TopValueEntry{{"b\xff", 1}}))
	require.NoError(t, err)
	assert.Equal(t, `[["b\ufffd",1]]`, string(b))
	assert.True(t, json.Valid(b))
}

func TestValueUnmarshalErrors(t *testing.T) {
	for _, in := range []string{`{"x50":1}`, `[["a"]]`, `"s"`, `{"p50":"x"}`, `[[1,2]]`} {
		var v Value
		err := json.Unmarshal([]byte(in), &v)
		require.Error(t, err, in)
		assertSentinel(t, err)
	}
}

func TestValueAccessors(t *testing.T) {
	q := QuantilesValue([]Quantile{{0.5, 18}, {0.99, 240}, {0.999, 412.5}})
	top := TopValue([]TopValueEntry{{"a.example.com", 4.5}, {"b.example.com", 1}})
	num := Number(12.5)
	f := func(name string, v Value, read func(Value) (float64, bool), want float64, wantOK bool) {
		t.Helper()
		got, ok := read(v)
		assert.Equal(t, wantOK, ok, name)
		assert.Equal(t, want, got, name)
	}
	quantile := func(p float64) func(Value) (float64, bool) {
		return func(v Value) (float64, bool) { return v.Quantile(p) }
	}
	key := func(k string) func(Value) (float64, bool) {
		return func(v Value) (float64, bool) { return v.TopKey(k) }
	}
	number := func(v Value) (float64, bool) { return v.Number() }
	f("p99", q, quantile(0.99), 240, true)
	f("p99.9", q, quantile(0.999), 412.5, true)
	f("a quantile not reported", q, quantile(0.95), 0, false)
	f("a quantile of a number", num, quantile(0.5), 0, false)
	f("a quantile of null", Null(), quantile(0.5), 0, false)
	f("a top key", top, key("b.example.com"), 1, true)
	f("a key not shown", top, key("c.example.com"), 0, false)
	f("a key of quantiles", q, key("a.example.com"), 0, false)
	f("a number", num, number, 12.5, true)
	f("the number of quantiles", q, number, 0, false)
	f("the number of null", Null(), number, 0, false)

	var back Value
	require.NoError(t, json.Unmarshal([]byte(`{"p50":18,"p99.9":412.5}`), &back))
	f("p99.9 read back from JSON", back, quantile(0.999), 412.5, true)
}
