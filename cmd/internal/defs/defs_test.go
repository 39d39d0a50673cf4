package defs_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/cmd/internal/replay"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefsPrintsTheDefaults(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, defs.Run(context.Background(), nil, nil, &out, &out))
	parsed, err := def.Parse(strings.NewReader(out.String()), "printed")
	require.NoError(t, err, "what pulse defs prints parses back")
	assert.Equal(t, len(def.Heroku()), len(parsed))
}

func TestDefsCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.defs")
	require.NoError(t, os.WriteFile(good, []byte("name=a kind=rate\nname=b kind=mean of=x window=1h\n"), 0o644))
	bad := filepath.Join(dir, "bad.defs")
	require.NoError(t, os.WriteFile(bad, []byte("name=a kind=rate\nname=b kind=mean\n"), 0o644))
	var out bytes.Buffer
	require.NoError(t, defs.Run(context.Background(), []string{"--check", good}, nil, &out, &out))
	assert.Equal(t, good+": 2 definitions, cost 61 of a budget of 10000 stats\n", out.String())
	err := defs.Run(context.Background(), []string{"--check", bad}, nil, &out, &out)
	require.Error(t, err)
	assert.Equal(t, bad+":2: b: kind mean needs of=: bad definition", err.Error())

	out.Reset()
	require.NoError(t, defs.Run(context.Background(), []string{"--check", good, "--budget", "61"}, nil, &out, &out))
	assert.Equal(t, good+": 2 definitions, cost 61 of a budget of 61 stats\n", out.String())
	err = defs.Run(context.Background(), []string{"--check", good, "--budget", "60"}, nil, &out, &out)
	assert.EqualError(t, err, good+":2: b: over budget: it costs 60 stats, and the definitions before it 1, over the budget of 60 (see def.Budget): bad definition")
}

// TestBudgetFlag: --budget is the same flag on pulse defs and pulse
// replay, and a negative one is an error naming the command.
func TestBudgetFlag(t *testing.T) {
	var out bytes.Buffer
	err := defs.Run(context.Background(), []string{"--budget", "-1"}, nil, &out, &out)
	assert.EqualError(t, err, "pulse defs: --budget -1: want 0 (the default) or more")
	err = replay.Run(context.Background(), []string{"--budget", "-1"}, strings.NewReader(""), &out, &out)
	assert.EqualError(t, err, "pulse replay: --budget -1: want 0 (the default) or more")
	assert.Empty(t, out.String())

	for _, run := range []func(context.Context, []string, io.Reader, io.Writer, io.Writer) error{defs.Run, replay.Run} {
		out.Reset()
		require.ErrorIs(t, run(context.Background(), []string{"-h"}, nil, &out, &out), flag.ErrHelp)
		assert.Contains(t, out.String(), "  -budget int\n    \tthe most the definitions may cost, in one-minute stats (0: the default, 10000; see def.Budget)\n")
	}
}

// TestCheckRejectsWhatReplayRejects: `pulse defs --check` and `pulse
// replay --defs` load a file by the same path and reject the same files,
// each with the file and line. Before, --check accepted reserved names and
// windows that replay then refused, a 1 MB line gave no line number, and
// an unterminated quote or a huge l2met cap passed both.
func TestCheckRejectsWhatReplayRejects(t *testing.T) {
	dir := t.TempDir()
	var many strings.Builder
	for i := range 20000 {
		many.WriteString("name=q" + strconv.Itoa(i) + " kind=quantiles of=service\n")
	}
	for _, tt := range []struct {
		name, text, want string
	}{
		{"reserved name", "name=a kind=rate\nname=pulse.events kind=rate\n", `:2: pulse.events: names beginning with "pulse." are reserved for the pipeline's self-stats: bad definition`},
		{"window", "name=a kind=rate window=1000000h\n", ":1: a: window=1000000h is longer than the limit of 12h: bad definition"},
		{"long line", "name=a kind=rate\n\nname=b kind=rate label=" + strings.Repeat("x", 1<<20) + "\n", ":3: line longer than 65536 bytes: bad definition"},
		{"unterminated quote", "name=a kind=rate where=\"proc=router\n", ":1: unterminated quote at column 24: bad definition"},
		{"l2met cap", "name=l kind=l2met max=100000000\n", ":1: l: over budget: it costs 200000000 stats, and the definitions before it 0, over the budget of 10000 (see def.Budget): bad definition"},
		{"many quantiles", many.String(), ":10001: "},
		{"invalid UTF-8", "name=a\xff kind=rate\n", `:1: "a\xff": name "a\xff" is not valid UTF-8: bad definition`},
		{"not a unit", "name=a kind=rate where=status>=5xx\n", `:1: a: where: column 1: term "status>=5xx": "5xx" is not a number with a unit`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".defs")
			require.NoError(t, os.WriteFile(path, []byte(tt.text), 0o644))
			var out bytes.Buffer
			err := defs.Run(context.Background(), []string{"--check", path}, nil, &out, &out)
			require.Error(t, err, "defs --check")
			assert.ErrorIs(t, err, def.ErrDefinition)
			assert.Contains(t, err.Error(), path+tt.want, "defs --check")
			err = replay.Run(context.Background(), []string{"--defs", path}, strings.NewReader(""), &out, &out)
			require.Error(t, err, "replay --defs")
			assert.Contains(t, err.Error(), path+tt.want, "replay --defs")
		})
	}
}
