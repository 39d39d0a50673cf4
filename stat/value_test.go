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
		assert.Error(t, json.Unmarshal([]byte(in), &v), in)
	}
}
