package jsonstr_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/internal/jsonstr"
)

// likeMarshal checks that Append extends dst with exactly the bytes
// json.Marshal writes for s.
func likeMarshal(t *testing.T, s string) {
	t.Helper()
	got := jsonstr.Append([]byte("x"), s)
	require.Equal(t, byte('x'), got[0], "Append must extend dst")
	want, err := json.Marshal(s)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got[1:]), "input %q", s)
}

func TestAppend(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"router.requests", `"router.requests"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"tab\there\nnl\x00nul\x1f\b\f\r", `"tab\there\nnl\u0000nul\u001f\b\f\r"`},
		{"<script>&", `"\u003cscript\u003e\u0026"`},
		{"line\u2028para\u2029", `"line\u2028para\u2029"`},
		{"héllo ☃ 😀", `"héllo ☃ 😀"`},
		{"bad\xffbyte", `"bad\ufffdbyte"`},
		{"\xc3", `"\ufffd"`},                     // a truncated two-byte sequence
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // a surrogate: three bad bytes
		{"\x7f", "\"\x7f\""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			assert.Equal(t, tt.want, string(jsonstr.Append(nil, tt.in)))
			likeMarshal(t, tt.in)
		})
	}
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "router.service.p99\x01\xff☃"
	n := testing.AllocsPerRun(100, func() { buf = jsonstr.Append(buf[:0], s) })
	assert.Zero(t, n)
}

// FuzzAppend checks that the output is always what json.Marshal writes.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "\x00\x1f\x7f", "\xff\xfe", "☃\xe2\x98", "<>&\u2028\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { likeMarshal(t, s) })
}

func ExampleAppend() {
	b := []byte(`{"name":`)
	b = jsonstr.Append(b, "quote \" and bad \xff byte")
	b = append(b, '}')
	fmt.Println(string(b))
	// Output: {"name":"quote \" and bad \ufffd byte"}
}
