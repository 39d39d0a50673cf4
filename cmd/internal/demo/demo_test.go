package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemoTable(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, Run(context.Background(), []string{"--seconds", "20", "--rate", "200"}, nil, &out, &errOut))
	s := out.String()
	for _, want := range []string{"ROUTER", "Router requests/s", "Router service time", "p50=", "ROUTER-ERRORS", "H12 Request timeout/min", "DYNOS", "PULSE", "pulse.events"} {
		assert.Contains(t, s, want)
	}
	assert.Empty(t, errOut.String())
}

func TestDemoJSON(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), []string{"--seconds", "12", "--rate", "100", "--json"}, nil, &out, &out))
	var snap window.Snapshot
	require.NoError(t, json.Unmarshal(out.Bytes(), &snap))
	n, ok := snap.Stats["router.requests"].Number()
	require.True(t, ok)
	assert.Greater(t, n, 10.0, "about 100 lines/s, most of them router lines")
	assert.True(t, strings.HasSuffix(out.String(), "}\n"))
}

func TestDemoBadFlags(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, Run(context.Background(), []string{"--seconds", "0"}, nil, &out, &out))
	assert.Error(t, Run(context.Background(), []string{"--nope"}, nil, &out, &out))
}
