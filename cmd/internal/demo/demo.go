// Package demo implements `pulse demo`, what `pulse` runs with no
// arguments: it folds a stretch of generated Heroku traffic through the
// default stat set and prints the snapshot, a table for people and, with
// --json, the snapshot's JSON.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/cmd/internal/replay"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "fold generated Heroku traffic through the default stats and print the last minute (the default)"

// detail is the paragraph of the usage, under its synopsis.
const detail = `Folds generated Heroku traffic through the default stat set and prints the
snapshot of its last minute: a table, or the snapshot's JSON with --json.
pulse with no command runs this.`

// Run generates traffic, replays it through the default set and prints the
// snapshot at the end of the last second. For -h it prints the usage to
// stderr and returns flag.ErrHelp.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse demo", "pulse demo [flags]", detail, stderr)
	var (
		seconds int
		rate    float64
		seed    uint64
		asJSON  bool
	)
	fs.Int(&seconds, "seconds", "", 330, "seconds of traffic to generate (the default ends in an app crash and an H12 burst)")
	fs.Float64(&rate, "rate", "", 500, "router and app lines per second")
	fs.Uint64(&seed, "seed", "", 1, "generator seed")
	fs.Bool(&asJSON, "json", "", false, "print the snapshot as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if seconds <= 0 || seconds > 3600 {
		return fmt.Errorf("pulse demo: --seconds %d out of range 1..3600", seconds)
	}
	defs := def.Heroku()
	set, err := window.NewDefSet(defs, nil)
	if err != nil {
		return err
	}
	// With the default seed, the generator's first incident episode has
	// an app crashing (H10s) from about 3 minutes in and an H12 burst from
	// about 5: the last minute of 330 s shows both.
	gen := logfmttest.New(logfmttest.Options{Seed: seed, Start: logfmttest.DefaultStart, Rate: rate})
	var buf bytes.Buffer
	if _, err := gen.WriteFor(&buf, time.Duration(seconds)*time.Second); err != nil {
		return err
	}
	r := replay.Replayer{Set: set}
	began := time.Now()
	if err := r.Fold(ctx, &buf); err != nil {
		return err
	}
	took := time.Since(began)
	snap, err := set.Snapshot(set.End())
	if err != nil {
		return fmt.Errorf("pulse demo: %w", err)
	}
	if asJSON {
		_, err := stdout.Write(append(snap.AppendJSON(nil), '\n'))
		return err
	}
	fmt.Fprintf(stdout, "Pulse: %d events of generated Heroku traffic (%d s at %.0f lines/s, seed %d), folded in %v (%.2f M events/s),\nthrough %d default stat definitions. Snapshot at %s:\n\n",
		r.Events, seconds, rate, seed, took.Round(time.Millisecond), float64(r.Events)/took.Seconds()/1e6, len(defs), snap.Time.Format(time.RFC3339))
	return Table(stdout, defs, snap)
}

// Table prints a snapshot grouped as the definitions group it, with
// labels, units, and "!" (warn) or "!!" (crit) beside values over their
// thresholds. Stats with no definition (l2met and self-stats) follow
// under their name prefixes.
func Table(w io.Writer, defs []def.Def, snap window.Snapshot) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	shown := map[string]bool{}
	group := ""
	for _, d := range defs {
		v, ok := snap.Stats[d.Name]
		if !ok {
			continue
		}
		shown[d.Name] = true
		if d.Group != group {
			group = d.Group
			fmt.Fprintf(tw, "\n%s\n", strings.ToUpper(group))
		}
		label := d.Label
		if label == "" {
			label = d.Name
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", label, format(v), d.Unit, alarm(d, v))
	}
	var rest []string
	for name := range snap.Stats {
		if !shown[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	group = ""
	for _, name := range rest {
		g, _, _ := strings.Cut(name, ".")
		if g != group {
			group = g
			fmt.Fprintf(tw, "\n%s\n", strings.ToUpper(g))
		}
		fmt.Fprintf(tw, "  %s\t%s\t\t\n", name, format(snap.Stats[name]))
	}
	return tw.Flush()
}

// format renders a value briefly: numbers to 4 significant digits,
// quantiles as p50=… lists, top-k as its first entries.
func format(v stat.Value) string {
	if n, ok := v.Number(); ok {
		return num(n)
	}
	if qs := v.Quantiles(); qs != nil {
		parts := make([]string, len(qs))
		for i, q := range qs {
			parts[i] = stat.QuantileName(q.Q) + "=" + num(q.Value)
		}
		return strings.Join(parts, " ")
	}
	if top := v.Top(); top != nil {
		parts := make([]string, 0, 3)
		for _, e := range top[:min(3, len(top))] {
			parts = append(parts, e.Key+"="+num(e.Value))
		}
		if len(top) > 3 {
			parts = append(parts, fmt.Sprintf("(+%d)", len(top)-3))
		}
		return strings.Join(parts, " ")
	}
	return "-"
}

func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// alarm marks a numeric value at or over the definition's thresholds.
func alarm(d def.Def, v stat.Value) string {
	n, ok := v.Number()
	switch {
	case !ok:
		return ""
	case d.Crit != nil && n >= *d.Crit:
		return "!! crit"
	case d.Warn != nil && n >= *d.Warn:
		return "! warn"
	}
	return ""
}
