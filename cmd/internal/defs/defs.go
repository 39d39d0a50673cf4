// Package defs implements `pulse defs`: it prints the default Heroku stat
// set, or checks a definitions file.
package defs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pulsehq/pulse/stat/def"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "print the default Heroku stat definitions, or check a definitions file"

// Run prints the embedded default definitions file, or with --check FILE
// parses FILE and reports its definitions or its first error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pulse defs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.String("check", "", "parse and validate this definitions `file` instead of printing the defaults")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pulse defs [--check FILE]\n\nPrints the default Heroku stat set, the definitions used when --defs is not given.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("pulse defs: unexpected argument %q", fs.Arg(0))
	}
	if *check == "" {
		_, err := io.WriteString(stdout, def.HerokuFile())
		return err
	}
	defs, err := Load(*check)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d definitions\n", *check, len(defs))
	return nil
}

// Load reads a definitions file, or returns the default Heroku set when
// path is empty.
func Load(path string) ([]def.Def, error) {
	if path == "" {
		return def.Heroku(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return def.Parse(f, path)
}
