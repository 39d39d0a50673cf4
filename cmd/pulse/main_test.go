package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout string
		wantStderr string
	}{
		{"demo", []string{"demo"}, 0, "Router requests/s", ""},
		{"run help", []string{"run", "-h"}, 0, "", "(env REDIS_URL)"},
		{"run bad setting", []string{"run", "--merger-count", "0"}, 1, "", "MERGER_COUNT (--merger-count): 0 out of range"},
		{"bench drain help", []string{"bench", "drain", "-h"}, 0, "", "usage"},
		{"bench cluster help", []string{"bench", "cluster", "-h"}, 0, "", "usage: pulse bench cluster"},
		{"bench cluster bad setting", []string{"bench", "cluster", "--receivers", "-1"}, 1, "", "--receivers -1 must be between 1 and 64"},
		{"bench unknown tool", []string{"bench", "nope"}, 1, "", "unknown tool"},
		{"help", []string{"help"}, 0, "commands:", ""},
		{"unknown command", []string{"nope"}, 2, "", `pulse: unknown command "nope"`},
		{"parse help", []string{"parse", "-h"}, 0, "", "usage"},
		{"parse unreadable file", []string{"parse", "/nonexistent/pulse-test"}, 1, "", "pulse parse failed"},
		{"defs", []string{"defs"}, 0, "name=router.requests", ""},
		{"gen", []string{"gen", "--seconds", "1", "--rate", "10"}, 0, "<158>1 ", ""},
		{"replay stdin", []string{"replay"}, 1, "", "no event with a time to snapshot (events=0 unparsed=0)"},
		{"bad flag", []string{"replay", "--nope"}, 1, "", "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&stderr, nil))
			got := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, logger)
			assert.Equal(t, tt.want, got, "stderr: %s", stderr.String())
			assert.Contains(t, stdout.String(), tt.wantStdout)
			assert.Contains(t, stderr.String(), tt.wantStderr)
		})
	}
}

// TestEveryCommandFlags: every command (pulse bench's tools, drain and
// cluster) prints its usage for -h and exits 0, and for a flag it does not know
// prints the error and its usage and exits 1.
func TestEveryCommandFlags(t *testing.T) {
	var cmds []struct{ name, cmd string }
	for _, c := range commands {
		if c.name == "bench" {
			cmds = append(cmds, struct{ name, cmd string }{"bench drain", c.name}, struct{ name, cmd string }{"bench cluster", c.name})
			continue
		}
		cmds = append(cmds, struct{ name, cmd string }{c.name, c.name})
	}
	for _, c := range cmds {
		name := c.name
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&stderr, nil))
			cmd := strings.Fields(name)
			assert.Equal(t, 0, run(context.Background(), append(cmd, "-h"), strings.NewReader(""), &stdout, &stderr, logger))
			assert.Empty(t, stdout.String())
			assert.True(t, strings.HasPrefix(stderr.String(), "usage: pulse "+name+" "), "usage first: %q", stderr.String())
			assert.Contains(t, stderr.String(), "\nflags:\n  -")

			stderr.Reset()
			assert.Equal(t, 1, run(context.Background(), append(cmd, "--nope"), strings.NewReader(""), &stdout, &stderr, logger))
			assert.Empty(t, stdout.String())
			assert.True(t, strings.HasPrefix(stderr.String(), "flag provided but not defined: -nope\nusage: pulse "+name+" "), "error, then usage: %q", stderr.String())
			assert.Contains(t, stderr.String(), "pulse "+c.cmd+" failed")
		})
	}
}

func TestUsageListsEveryCommand(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	for _, c := range commands {
		assert.Contains(t, b.String(), "  "+c.name+" ")
	}
}

func TestCommandsSorted(t *testing.T) {
	for i := 1; i < len(commands); i++ {
		assert.Less(t, commands[i-1].name, commands[i].name)
	}
}
