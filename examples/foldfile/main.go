// Command foldfile is a small ops tool: it folds a log file through a few
// Heroku stat definitions built in code and prints the snapshot at the end
// of the file's last second, as a table or as JSON.
//
// The file may hold any form package logfmt reads (Logplex drain frames,
// RFC 5424 lines, `heroku logs` output, bare logfmt), mixed; "-" reads
// standard input. Every definition reads the last -window of event time.
//
//	go run ./examples/foldfile -window 5m app.log
//	heroku logs --tail | go run ./examples/foldfile -json -
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// definitions returns the stats foldfile reports, each over span.
func definitions(span time.Duration) []def.Def {
	router := where("proc=router")
	defs := []def.Def{
		{Name: "router.requests", Kind: def.KindRate, Per: time.Second, Where: router, Unit: "req/s"},
		{Name: "router.5xx", Kind: def.KindRate, Where: where("proc=router status>=500")},
		{Name: "router.service", Kind: def.KindQuantiles, Of: "service", Where: router, Unit: "ms"},
		{Name: "router.service.max", Kind: def.KindMax, Of: "service", Where: router, Unit: "ms"},
		{Name: "router.codes", Kind: def.KindTopK, Of: "code", K: 5, Where: router},
		{Name: "router.hosts", Kind: def.KindDistinct, Of: "host", Where: router},
		{Name: "dyno.memory", Kind: def.KindLastSum, Of: "sample#memory_total", By: "source", Unit: "MB"},
		{Name: "dyno.crashes", Kind: def.KindRate, Where: where(`msg="State changed from * to crashed"`)},
	}
	for i := range defs {
		defs[i].Window = span
	}
	return defs
}

// where parses a filter written in the program itself.
func where(s string) def.Where {
	w, err := def.ParseWhere(s)
	if err != nil {
		panic(err)
	}
	return w
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "foldfile:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("foldfile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	span := fs.Duration("window", time.Minute, "span of event time each stat reads")
	asJSON := fs.Bool("json", false, "print the snapshot as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *span <= 0 || *span%time.Second != 0 {
		return fmt.Errorf("-window %v: want a positive whole number of seconds", *span)
	}
	if fs.NArg() != 1 {
		return errors.New("usage: foldfile [-window D] [-json] FILE|-")
	}
	in := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}

	defs := definitions(*span)
	set, err := window.NewDefSet(defs, nil)
	if err != nil {
		return err
	}
	r := logfmt.NewReader(in, nil)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, logfmt.ErrSyntax) {
			set.Unparsed(1)
			continue
		}
		if err != nil {
			return err
		}
		set.Fold(ev)
	}
	st := r.Stats()
	fmt.Fprintf(stderr, "events=%d unparsed=%d\n", st.Events, st.Unparsed)

	snap, err := set.Snapshot(set.End())
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", snap.AppendJSON(nil))
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "at %s, last %s\n", snap.Time.Format(time.RFC3339), *span)
	for _, d := range defs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, snap.Stats[d.Name], d.Unit)
	}
	return tw.Flush()
}
