// Package gen implements `pulse gen`: it writes realistic, deterministic
// Heroku log traffic from package logfmttest to stdout.
package gen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// detail is the paragraph of the usage, under its synopsis.
const detail = `Writes generated Heroku log traffic to stdout: router, app, runtime-metrics,
Postgres and Redis lines with a timeline of incidents (deploys, crashes and
H10s, H12 bursts, R14, scaling, L10). The same flags give the same bytes.`

// Usage is the one-line summary for pulse's command list.
const Usage = "write realistic, deterministic Heroku log traffic to stdout"

// Run parses args (the flags after "gen") and writes the traffic they ask
// for to stdout until the span is written, ctx is done, or a write fails.
// It returns flag.ErrHelp for -h, an error for bad flags (after printing
// the usage to stderr), ctx.Err() when ctx ends first, and write errors.
// stdin is not read.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse gen", "pulse gen [flags]", detail, stderr)
	var (
		seconds, rate    float64
		seed             uint64
		start, format    string
		apps             int
		every            time.Duration
		syslog, realtime bool
	)
	fs.Float64(&seconds, "seconds", "", 60, "`seconds` of event time to write; 0 writes until interrupted")
	fs.Float64(&rate, "rate", "", logfmttest.DefaultRate, "request-driven `lines` per second of event time (router and app lines; metrics and incidents come on top)")
	fs.Uint64(&seed, "seed", "", 1, "`seed` of the traffic: the same seed and flags give the same bytes")
	fs.String(&start, "start", "", "", "`time` where event time begins, RFC 3339, or \"now\" (default 2026-03-14T17:00:00Z, or now with --realtime)")
	fs.String(&format, "format", "", "drain", "output `format`: drain (octet-counted frames as Logplex posts them), lines (RFC 5424, one per line) or heroku-logs")
	fs.Int(&apps, "apps", "", logfmttest.DefaultApps, "number of `apps`, with Zipf-distributed traffic")
	fs.Duration(&every, "incidents", "", 10*time.Minute, "length of one episode of the incident timeline (at least 1m); 0 turns incidents off")
	fs.Bool(&syslog, "syslog-drain", "", false, "write messages as a syslog drain delivers them: the app's drain token (d.<uuid>) as HOSTNAME and the structured-data NILVALUE kept (\"- -\")")
	fs.Bool(&realtime, "realtime", "", false, "pace the output to the wall clock, as a live drain would arrive")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bad := func(msg string, a ...any) error {
		return fs.UsageError(fmt.Errorf("gen: "+msg, a...))
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if !(seconds >= 0) || math.IsInf(seconds, 1) || seconds > 1e9 {
		return bad("--seconds %v must be between 0 and 1e9", seconds)
	}
	if !(rate > 0) || rate > logfmttest.MaxRate {
		return bad("--rate %v must be above 0 and at most %v", rate, float64(logfmttest.MaxRate))
	}
	if apps < 1 || apps > logfmttest.MaxApps {
		return bad("--apps %d must be between 1 and %d", apps, logfmttest.MaxApps)
	}
	if every < 0 || every > 0 && every < time.Minute {
		return bad("--incidents %v must be 0 or at least 1m", every)
	}
	f, err := logfmttest.ParseFormat(format)
	if err != nil {
		return bad("--format: %w", err)
	}
	opts := logfmttest.Options{
		Seed: seed, Rate: rate, Apps: apps, Format: f,
		IncidentEvery: every, SyslogDrain: syslog,
	}
	if every == 0 {
		opts.IncidentEvery = -1
	}
	switch {
	case start == "now" || start == "" && realtime:
		opts.Start = time.Now().UTC()
	case start != "":
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return bad("--start %q is not an RFC 3339 time", start)
		}
		opts.Start = t
	}
	return write(ctx, logfmttest.New(opts), stdout, time.Duration(seconds*1e9), realtime)
}

// write copies d of the generator's traffic (forever when d is 0) to w in
// steps, checking ctx between them and, in real time, sleeping until the
// wall clock catches up with the event time.
func write(ctx context.Context, g *logfmttest.Generator, w io.Writer, d time.Duration, realtime bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	step := time.Second
	if realtime {
		step = 100 * time.Millisecond
	}
	began := time.Now()
	for done := time.Duration(0); d == 0 || done < d; {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := step
		if d > 0 {
			s = min(s, d-done)
		}
		if _, err := g.WriteFor(bw, s); err != nil {
			return fmt.Errorf("gen: write: %w", err)
		}
		done += s
		if realtime {
			if wait := done - time.Since(began); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
	}
	return nil
}
