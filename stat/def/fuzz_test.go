package def

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParse: any input either fails with an error wrapping ErrDefinition
// (or a reader error), or parses to definitions that compile and that
// print as lines Parse reads back to the same definitions (parse → format
// → parse).
func FuzzParse(f *testing.F) {
	for line := range strings.SplitSeq(HerokuFile(), "\n") {
		f.Add(line)
	}
	for _, s := range []string{
		`name=a kind=rate where="proc=router`, `name=a kind=rate where=status>=5xx`, "name=pulse.x kind=rate",
		"name=a\xff kind=rate", `name=a kind=l2met max=100000000`, `name=a kind=rate label="a \"b\" c\\"`,
		`name=a kind=last-sum of=x by=a,b where="level~=err* x!~=\"a b\""`, "name=a kind=rate window=1000000h",
		`name="a b" kind=quantiles of=x q=0.9,0.5,0.9 warn=-1e300 crit=0.5`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		defs, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			require.True(t, errors.Is(err, ErrDefinition), "%v", err)
			return
		}
		cs, err := CompileSet(defs, Budget{})
		require.NoError(t, err, "what Parse accepts, CompileSet accepts")
		for i, d := range defs {
			back, err := Parse(strings.NewReader(d.String()), "back")
			require.NoError(t, err, d.String())
			require.Len(t, back, 1)
			assert.Equal(t, d.String(), back[0].String())
			again, err := Parse(strings.NewReader(cs[i].String()), "compiled")
			require.NoError(t, err, cs[i].String())
			assert.Equal(t, cs[i].String(), mustCompileF(t, again[0]).String())
		}
	})
}

func mustCompileF(t *testing.T, d Def) *Compiled {
	c, err := Compile(d)
	require.NoError(t, err)
	return c
}

// FuzzParseWhere: a filter that parses prints as one that parses to the
// same terms.
func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"proc=router !code", `path="/a b" status>=500`, "a!=b* x<=1.5 y>2 z<3 w>=4",
		`q="a\"b"`, "level~=error a!~=\"x y\"", "service>=1m30s bytes<5kB", "status>=5xx", `a="x`, "!a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWhere(s)
		if err != nil {
			require.ErrorIs(t, err, ErrDefinition)
			return
		}
		w2, err := ParseWhere(w.String())
		require.NoError(t, err, w.String())
		require.Len(t, w2, len(w))
		for i := range w {
			assert.Equal(t, w[i].Key, w2[i].Key)
			assert.Equal(t, w[i].Op, w2[i].Op)
			assert.Equal(t, w[i].Glob, w2[i].Glob)
			if w[i].Op.numeric() {
				assert.Equal(t, formatNum(w[i].Num), formatNum(w2[i].Num))
			}
		}
	})
}
