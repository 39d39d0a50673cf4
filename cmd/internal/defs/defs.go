// Package defs implements `pulse defs`: it prints the default Heroku stat
// set, or checks a definitions file.
package defs

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// Usage is the one-line summary for pulse's command list.
const Usage = "print the default Heroku stat definitions, or check a definitions file"

// Run prints the embedded default definitions file, or with --check FILE
// checks FILE as `pulse replay --defs FILE` and the live roles load it
// (def.Parse, then window.NewDefSet) and reports its definitions and cost,
// or its first error as FILE:LINE: what is wrong. For -h it prints the
// usage to stderr and returns flag.ErrHelp.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse defs", "pulse defs [--check FILE [--budget N]]",
		"Prints the default Heroku stat set, the definitions used when --defs is not given.", stderr)
	var check string
	fs.String(&check, "check", "", "", "parse and validate this definitions `file` instead of printing the defaults")
	budget := BudgetFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	b, err := budget()
	if err != nil {
		return err
	}
	if check == "" {
		_, err := io.WriteString(stdout, def.HerokuFile())
		return err
	}
	defs, err := LoadBudget(check, b)
	if err != nil {
		return err
	}
	// What replay and the roles do next: a set that fails here fails there.
	if _, err := window.NewDefSet(defs, &window.SetOptions{Budget: b}); err != nil {
		return fmt.Errorf("%s: %w", check, err)
	}
	compiled, err := def.CompileSet(defs, b)
	if err != nil {
		return fmt.Errorf("%s: %w", check, err)
	}
	cost := 0
	for _, c := range compiled {
		cost += c.Cost()
	}
	limit := b.MaxStats
	if limit <= 0 {
		limit = def.DefaultMaxStats
	}
	fmt.Fprintf(stdout, "%s: %d definitions, cost %d of a budget of %d stats\n", check, len(defs), cost, limit)
	return nil
}

// BudgetFlag registers --budget on fs, def.Budget's MaxStats with 0 for
// the default, and returns the function that gives its def.Budget after
// fs.Parse, or an error naming the command when the flag is negative.
func BudgetFlag(fs *cli.FlagSet) func() (def.Budget, error) {
	var n int
	fs.Int(&n, "budget", "", 0, fmt.Sprintf("the most the definitions may cost, in one-minute stats (0: the default, %d; see def.Budget)", def.DefaultMaxStats))
	return func() (def.Budget, error) {
		if n < 0 {
			return def.Budget{}, fmt.Errorf("%s: --budget %d: want 0 (the default) or more", fs.Name(), n)
		}
		return def.Budget{MaxStats: n}, nil
	}
}

// Load reads a definitions file, or returns the default Heroku set when
// path is empty, checked against the default def.Budget.
func Load(path string) ([]def.Def, error) { return LoadBudget(path, def.Budget{}) }

// LoadBudget is Load with a def.Budget other than the default.
func LoadBudget(path string, b def.Budget) ([]def.Def, error) {
	if path == "" {
		return def.Heroku(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return def.ParseBudget(f, path, b)
}
