package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunDispatch(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no arguments prints usage", nil, 0},
		{"help", []string{"help"}, 0},
		{"unknown command", []string{"nope"}, 2},
		{"parse help", []string{"parse", "-h"}, 0},
		{"parse unreadable file", []string{"parse", "/nonexistent/pulse-test"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, run(context.Background(), tt.args, logger))
		})
	}
}

func TestCommandsSorted(t *testing.T) {
	for i := 1; i < len(commands); i++ {
		assert.Less(t, commands[i-1].name, commands[i].name)
	}
}
