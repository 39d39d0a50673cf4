// Package replay implements `pulse replay`: it folds logs through stat
// definitions in event time and prints the snapshot a live receiver and
// merger would report at a given moment.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/cmd/internal/defs"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/window"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "fold logs through stat definitions in event time and print one snapshot as JSON"

// Run parses the flags and replays the logs named in args (stdin when
// none). For -h it prints the usage to stderr and returns flag.ErrHelp.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse replay", "pulse replay [--defs FILE] [--budget N] [--at TIME] [LOG...]",
		"Folds logs (stdin when none; every form logfmt reads) through the definitions\nin event time and prints one snapshot as JSON.", stderr)
	var defsPath, atFlag string
	fs.String(&defsPath, "defs", "", "", "definitions `file` (default: the embedded Heroku set; see pulse defs)")
	fs.String(&atFlag, "at", "", "", "snapshot `time`, RFC 3339: what a live system shows then (default: the end of the second that holds the last event)")
	budget := defs.BudgetFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var at time.Time
	if atFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, atFlag)
		if err != nil {
			return fmt.Errorf("pulse replay: --at: %w", err)
		}
		at = t
	}
	b, err := budget()
	if err != nil {
		return err
	}
	d, err := defs.LoadBudget(defsPath, b)
	if err != nil {
		return fmt.Errorf("pulse replay: %w", err)
	}
	// Without --at, the set follows event time and the snapshot is at the
	// end of the last event's second. With --at, the set's clock is at,
	// as a live merger's would be then with every event delivered: the
	// events of the windows that end at at are folded, older ones are
	// late and later ones ahead, whatever the order of the input.
	opts := &window.SetOptions{Budget: b}
	if !at.IsZero() {
		opts.Clock = window.ManualClock
	}
	set, err := window.NewDefSet(d, opts)
	if err != nil {
		return fmt.Errorf("pulse replay: %w", err)
	}
	if !at.IsZero() {
		if err := set.Advance(at); err != nil {
			return fmt.Errorf("pulse replay: %w", err)
		}
	}
	r := Replayer{Set: set}
	if fs.NArg() == 0 {
		if err := r.Fold(ctx, stdin); err != nil {
			return err
		}
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("pulse replay: %w", err)
		}
		err = r.Fold(ctx, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("pulse replay: %s: %w", name, err)
		}
	}
	if set.Now().IsZero() {
		return fmt.Errorf("pulse replay: no event with a time to snapshot (events=%d unparsed=%d)", r.Events, r.Unparsed)
	}
	if at.IsZero() {
		at = set.End()
	}
	snap, err := set.Snapshot(at)
	if err != nil {
		return fmt.Errorf("pulse replay: --at: %w", err)
	}
	out := snap.AppendJSON(nil)
	out = append(out, '\n')
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "events=%d unparsed=%d\n", r.Events, r.Unparsed)
	return nil
}

// Replayer folds streams into a definitions set, as a receiver does,
// counting what it reads.
type Replayer struct {
	Set              *window.Set
	Events, Unparsed int64
}

// Fold reads every event of rd into the set. It returns only I/O errors
// and ctx's error; input it cannot parse is counted.
func (r *Replayer) Fold(ctx context.Context, rd io.Reader) error {
	lr := logfmt.NewReader(rd, nil)
	for n := 0; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ev, err := lr.Next()
		switch {
		case err == nil:
			r.Set.Fold(ev)
			r.Events++
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, logfmt.ErrSyntax):
			r.Set.Unparsed(1)
			r.Unparsed++
		default:
			return err
		}
	}
}
