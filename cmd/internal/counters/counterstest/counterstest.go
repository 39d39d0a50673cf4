// Package counterstest checks the convention package counters relies on.
package counterstest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FieldOrder checks that the constants declared in file (a Go source file
// of the calling package) run in the order of snapshot's fields, each
// named after its field with a lower-case first letter, and end with
// numCounters, which must equal their number: counters.Load reads the
// counters into the fields by position.
func FieldOrder(t *testing.T, file string, snapshot reflect.Type, numCounters int) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
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
	require.Equal(t, snapshot.NumField(), len(consts))
	require.Equal(t, numCounters, len(consts))
	for i, c := range consts {
		field := snapshot.Field(i).Name
		want := string(unicode.ToLower(rune(field[0]))) + field[1:]
		assert.Equal(t, want, c, "constant %d", i)
	}
}
