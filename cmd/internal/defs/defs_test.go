package defs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefsPrintsTheDefaults(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), nil, nil, &out, &out))
	defs, err := def.Parse(strings.NewReader(out.String()), "printed")
	require.NoError(t, err, "what pulse defs prints parses back")
	assert.Equal(t, len(def.Heroku()), len(defs))
}

func TestDefsCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.defs")
	require.NoError(t, os.WriteFile(good, []byte("name=a kind=rate\nname=b kind=mean of=x\n"), 0o644))
	bad := filepath.Join(dir, "bad.defs")
	require.NoError(t, os.WriteFile(bad, []byte("name=a kind=rate\nname=b kind=mean\n"), 0o644))
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), []string{"--check", good}, nil, &out, &out))
	assert.Equal(t, good+": 2 definitions\n", out.String())
	err := Run(context.Background(), []string{"--check", bad}, nil, &out, &out)
	require.Error(t, err)
	assert.Equal(t, bad+":2: b: kind mean needs of=: bad definition", err.Error())
}
