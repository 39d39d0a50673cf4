// Command merger runs Pulse's merger role: pulse run with ROLE=merger. Every setting
// comes from the environment (see the README), and a flag of the same name
// overrides it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pulsehq/pulse/cmd/internal/run"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run.Main(ctx, "merger", "merger", os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "merger:", err)
		os.Exit(1)
	}
}
