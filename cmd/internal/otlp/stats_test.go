package otlp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatsFieldOrder checks that the counter constants in stats.go run in
// the order of StatsSnapshot's fields and are named after them, which
// Snapshot relies on.
func TestStatsFieldOrder(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "stats.go", nil, 0)
	require.NoError(t, err)
	var consts []string
	ast.Inspect(f, func(n ast.Node) bool {
		if d, ok := n.(*ast.GenDecl); ok && d.Tok == token.CONST {
			for _, s := range d.Specs {
				for _, name := range s.(*ast.ValueSpec).Names {
					consts = append(consts, name.Name)
				}
			}
		}
		return true
	})
	require.NotEmpty(t, consts)
	require.Equal(t, "numCounters", consts[len(consts)-1])
	consts = consts[:len(consts)-1]
	typ := reflect.TypeFor[StatsSnapshot]()
	require.Equal(t, typ.NumField(), len(consts))
	require.EqualValues(t, numCounters, len(consts))
	for i, c := range consts {
		field := typ.Field(i).Name
		want := string(unicode.ToLower(rune(field[0]))) + field[1:]
		assert.Equal(t, want, c, "constant %d", i)
	}
}

func TestStatsSnapshot(t *testing.T) {
	var st Stats
	st.add(requests, 3)
	st.add(readErrors, 7)
	snap := st.Snapshot()
	assert.EqualValues(t, 3, snap.Requests)
	assert.EqualValues(t, 7, snap.ReadErrors)
	assert.Zero(t, snap.Accepted)

	names := map[string]int64{}
	for name, v := range snap.All() {
		_, dup := names[name]
		assert.False(t, dup, "name %q twice", name)
		assert.True(t, strings.HasPrefix(name, "otlp."), name)
		assert.Equal(t, strings.ToLower(name), name)
		names[name] = v
	}
	assert.Len(t, names, int(numCounters))
	assert.EqualValues(t, 3, names["otlp.requests"])
	assert.EqualValues(t, 7, names["otlp.read_errors"])
	for range snap.All() {
		break // stopping early is allowed
	}
}
