// Command receiver runs Pulse's receiver role: pulse run with ROLE=receiver. Every setting
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
	if err := run.Main(ctx, "receiver", "receiver", os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}
