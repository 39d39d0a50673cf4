// Command pulse runs Pulse's roles and tools. With no arguments it runs
// the live system in one process (pulse run): a receiver, a merger and the
// web dashboard on an in-memory bus, fed by generated Heroku traffic when
// no input is configured. "pulse help" lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pulsehq/pulse/cmd/internal/benchcluster"
	"github.com/pulsehq/pulse/cmd/internal/benchdrain"
	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/cmd/internal/demo"
	"github.com/pulsehq/pulse/cmd/internal/gen"
	"github.com/pulsehq/pulse/cmd/internal/parse"
	"github.com/pulsehq/pulse/cmd/internal/replay"
	liverun "github.com/pulsehq/pulse/cmd/internal/run"
)

// A command is one subcommand: its name, a one-line summary for the usage,
// and its Run.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands is the dispatch table; keep it sorted by name.
var commands = []command{
	{"bench", "load tools: pulse bench drain, pulse bench cluster", bench},
	{"defs", defs.Usage, defs.Run},
	{"demo", demo.Usage, demo.Run},
	{"gen", gen.Usage, gen.Run},
	{"parse", parse.Usage, parse.Run},
	{"replay", replay.Usage, replay.Run},
	{"run", liverun.Usage, liverun.Run},
}

// bench dispatches pulse bench's tools.
func bench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "drain":
			return benchdrain.Run(ctx, args[1:], stdin, stdout, stderr)
		case "cluster":
			return benchcluster.Run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "usage: pulse bench <tool> [flags]\n\n  drain    %s\n  cluster  %s\n", benchdrain.Usage, benchcluster.Usage)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		return flag.ErrHelp
	}
	return fmt.Errorf("pulse bench: unknown tool %q", args[0])
}

// defaultCommand runs when pulse is given no command.
const defaultCommand = "run"

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, logger))
}

// run dispatches to a subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) int {
	if len(args) == 0 {
		args = []string{defaultCommand}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp), errors.Is(err, context.Canceled):
			return 0
		default:
			logger.Error("pulse "+c.name+" failed", "err", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "pulse: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: pulse [command] [arguments]\n\nWith no command, pulse runs %q.\n\ncommands:\n", defaultCommand)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"pulse <command> -h\" for a command's flags.\n")
}
