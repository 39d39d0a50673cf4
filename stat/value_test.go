package stat

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
		{"top with bound 0 is the list", TopValueBound([]TopValueEntry{{"a", 4.5}}, 0), `[["a",4.5]]`},
		{"top with a negative bound is exact", TopValueBound([]TopValueEntry{{"a", 4.5}}, -1), `[["a",4.5]]`},
		{"top with a bound", TopValueBound([]TopValueEntry{{"a", 4.5}, {"b", 0.25}}, 0.25), `{"top":[["a",4.5],["b",0.25]],"bound":0.25}`},
		{"empty top with a bound", TopValueBound(nil, 3), `{"top":[],"bound":3}`},
		{"top with an infinite bound", TopValueBound([]TopValueEntry{{"a", 4.5}}, math.Inf(1)), `{"top":[["a",4.5]],"bound":1.7976931348623157e+308}`},
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
	for _, in := range []string{`{"x50":1}`, `[["a"]]`, `"s"`, `{"p50":"x"}`, `[[1,2]]`,
		`{"top":[["a",1]]}`, `{"top":[["a",1]],"bound":-1}`, `{"top":[["a",1]],"bound":"x"}`, `{"top":[["a",1]],"bound":1,"p50":2}`,
		`{"top":{"a":1},"bound":1}`, `{"top":null,"bound":1}`, `{"top":[[1,2]],"bound":1}`, `{"bound":1}`, `{"top":[],"bound":1e999}`} {
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

func TestValueTopBound(t *testing.T) {
	top := []TopValueEntry{{"a", 4.5}, {"b", 1}}
	f := func(name string, v Value, want float64, wantOK bool) {
		t.Helper()
		got, ok := v.TopBound()
		assert.Equal(t, wantOK, ok, name)
		assert.Equal(t, want, got, name)
	}
	f("exact list", TopValue(top), 0, true)
	f("bounded list", TopValueBound(top, 0.5), 0.5, true)
	f("NaN bound", TopValueBound(top, math.NaN()), 0, true)
	f("a number", Number(3), 0, false)
	f("null", Null(), 0, false)
	f("quantiles", QuantilesValue([]Quantile{{0.5, 1}}), 0, false)

	var back Value
	require.NoError(t, json.Unmarshal([]byte(`{"top":[["a",4.5],["b",1]],"bound":0.5}`), &back))
	f("read back from JSON", back, 0.5, true)
	assert.Equal(t, top, back.Top())
	n, ok := back.TopKey("b")
	assert.True(t, ok)
	assert.Equal(t, 1.0, n)
	require.NoError(t, json.Unmarshal([]byte(`{"bound":0,"top":[["a",4.5]]}`), &back))
	f("an object with bound 0", back, 0, true)
	assert.Equal(t, `[["a",4.5]]`, back.String(), "written back as the list")
}

// A top-k read from a TopK fed more distinct keys than its capacity
// carries MaxError, and says so in JSON; within capacity it is the list.
func TestTopKValueBound(t *testing.T) {
	read := func(tk *TopK) Value {
		var top []TopValueEntry
		for k, n := range tk.Top() {
			top = append(top, TopValueEntry{Key: k, Value: float64(n)})
		}
		return TopValueBound(top, float64(tk.MaxError()))
	}
	var tk TopK
	for i := range 50 {
		tk.ObserveKey([]byte(strconv.Itoa(i)))
	}
	b, _ := read(&tk).TopBound()
	assert.Zero(t, b, "50 keys fit the capacity of 100")
	assert.True(t, strings.HasPrefix(read(&tk).String(), "[["), read(&tk).String())

	for i := range 1000 {
		tk.ObserveKey([]byte(strconv.Itoa(i)))
	}
	v := read(&tk)
	b, ok := v.TopBound()
	require.True(t, ok)
	assert.Positive(t, b, "1000 keys through capacity 100")
	assert.LessOrEqual(t, b, float64(tk.N())/float64(tk.Capacity()))
	assert.Contains(t, v.String(), `"bound":`+strconv.FormatUint(tk.MaxError(), 10)+"}")
}

func TestQuantilesValueOf(t *testing.T) {
	qs := []float64{0.5, 0.95, 0.99}
	t.Run("empty", func(t *testing.T) {
		assert.True(t, QuantilesValueOf(new(Quantiles), qs).IsNull())
		assert.True(t, QuantilesValueOf(nil, qs).IsNull())
	})
	t.Run("exact", func(t *testing.T) {
		var s Quantiles
		for i := range 200 {
			s.Observe(float64(i + 1))
		}
		v := QuantilesValueOf(&s, append([]float64{0, 1.5}, qs...))
		n, ok := v.Count()
		assert.True(t, ok)
		assert.Equal(t, uint64(200), n)
		assert.Equal(t, `{"p50":100,"p95":190,"p99":198}`, v.String(), "q outside (0, 1) left out")
		for _, q := range qs {
			want, _ := s.Quantile(q)
			lo, hi, ok := v.QuantileRange(q)
			assert.True(t, ok)
			assert.Equal(t, [2]float64{want, want}, [2]float64{lo, hi}, "exact: the range is the answer")
		}
	})
	t.Run("digest", func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		var s Quantiles
		var data []float64
		for range 20000 {
			x := math.Round(20 * math.Exp(1.5*r.NormFloat64()))
			data = append(data, x)
			s.Observe(x)
		}
		slices.Sort(data)
		v := QuantilesValueOf(&s, qs)
		n, _ := v.Count()
		assert.Equal(t, uint64(len(data)), n)
		for _, q := range qs {
			got, _ := v.Quantile(q)
			want, _ := s.Quantile(q)
			assert.Equal(t, want, got, "the answer Quantile gives")
			lo, hi, ok := v.QuantileRange(q)
			require.True(t, ok)
			assert.Less(t, lo, hi, "q=%v: a digest states a range", q)
			assert.LessOrEqual(t, lo, got)
			assert.GreaterOrEqual(t, hi, got)
			exact := data[int(math.Ceil(q*float64(len(data))))-1]
			assert.True(t, lo <= exact && exact <= hi, "q=%v: the exact answer %v in [%v, %v]", q, exact, lo, hi)
		}
		_, _, ok := v.QuantileRange(0.9)
		assert.False(t, ok, "not read")
	})
	t.Run("no ranges", func(t *testing.T) {
		v := QuantilesValue([]Quantile{{0.5, 18}})
		_, ok := v.Count()
		assert.False(t, ok)
		lo, hi, ok := v.QuantileRange(0.5)
		assert.True(t, ok)
		assert.Equal(t, [2]float64{18, 18}, [2]float64{lo, hi})
		_, ok = Number(1).Count()
		assert.False(t, ok)
	})
}

func TestDistinctStandardError(t *testing.T) {
	assert.InDelta(t, 0.008125, DistinctStandardError(14), 1e-9)
	assert.InDelta(t, 0.26, DistinctStandardError(4), 1e-9)
	assert.Equal(t, DistinctStandardError(14), DistinctStandardError(0), "out of range: the default's")
}
