// Package cli holds what pulse's commands share for their command lines:
// a flag set with a usage text, and 12-factor configuration, where every
// setting comes from an environment variable and a flag of the same name
// overrides it.
//
// A bad value is an error at start that names the variable or the flag it
// came from, so an operator who sets MERGER_COUNT=two on a platform learns
// which setting is wrong from the process's first log line.
package cli

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FlagSet is a flag.FlagSet whose settings may also come from the
// environment. Register settings with String, Int, Uint64, Float64, Bool,
// Duration and Text, then call Parse.
type FlagSet struct {
	*flag.FlagSet
	env    func(string) string
	errs   []error
	envs   map[string]string // flag name → environment variable
	synop  string
	detail string
}

// NewFlagSet returns a flag set for the command name ("pulse replay"),
// printing errors and usage to stderr. synopsis is the usage line
// ("pulse replay [--defs FILE] [LOG...]") and detail the paragraph under
// it. Environment variables are read with os.Getenv; see SetEnv.
func NewFlagSet(name, synopsis, detail string, stderr io.Writer) *FlagSet {
	fs := &FlagSet{
		FlagSet: flag.NewFlagSet(name, flag.ContinueOnError),
		env:     os.Getenv,
		envs:    map[string]string{},
		synop:   synopsis,
		detail:  detail,
	}
	fs.SetOutput(stderr)
	fs.Usage = fs.usage
	return fs
}

// SetEnv replaces the environment lookup (os.Getenv by default); tests
// pass a map's lookup. Call it before registering settings.
func (fs *FlagSet) SetEnv(getenv func(string) string) { fs.env = getenv }

// EnvMap returns a lookup over m, for SetEnv.
func EnvMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func (fs *FlagSet) usage() {
	w := fs.Output()
	fmt.Fprintf(w, "usage: %s\n", fs.synop)
	if fs.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(fs.detail, "\n"))
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nflags:\n")
		fs.PrintDefaults()
	}
}

// Parse parses args. Errors found while reading the environment come
// first, each naming its variable. For a flag it cannot parse it prints
// the error and the usage, and returns the error. For -h it prints the
// usage and returns flag.ErrHelp, which a command returns from its Run
// and pulse's dispatcher treats as success (exit status 0).
func (fs *FlagSet) Parse(args []string) error {
	if err := errors.Join(fs.errs...); err != nil {
		return err
	}
	return fs.FlagSet.Parse(args)
}

// NoArgs returns an error when positional arguments remain after Parse.
func (fs *FlagSet) NoArgs() error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// Env returns the environment variable that sets the flag name, or "".
func (fs *FlagSet) Env(name string) string { return fs.envs[name] }

// Settings lists every setting as "FLAG (ENV)" lines with their usage, in
// flag order, for documentation tests.
func (fs *FlagSet) Settings() []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		line := "--" + f.Name
		if e := fs.envs[f.Name]; e != "" {
			line += " (" + e + ")"
		}
		out = append(out, line)
	})
	sort.Strings(out)
	return out
}

// lookup reads env when it is set, recording the variable for the usage.
func (fs *FlagSet) lookup(name, env string) (string, bool) {
	if env == "" {
		return "", false
	}
	fs.envs[name] = env
	v := fs.env(env)
	return v, v != ""
}

func (fs *FlagSet) bad(env, v string, err error) {
	fs.errs = append(fs.errs, fmt.Errorf("%s=%q: %v", env, v, err))
}

func withEnv(usage, env string) string {
	if env == "" {
		return usage
	}
	return usage + " (env " + env + ")"
}

// String registers a string setting: the flag --name, defaulting to the
// environment variable env when set, else to def. env may be empty, for a
// setting that only a flag sets.
//
// The usage shows the environment's value as the default, except for a
// variable whose name says it may hold a credential (see Sensitive): it
// shows def instead, so that -h or a mistyped flag never prints a password.
func (fs *FlagSet) String(p *string, name, env, def, usage string) {
	shown := def
	if v, ok := fs.lookup(name, env); ok {
		def = v
	}
	fs.StringVar(p, name, def, withEnv(usage, env))
	if Sensitive(env) {
		fs.Lookup(name).DefValue = shown
	}
}

// Sensitive reports whether the environment variable env may hold a
// credential, by its name: *_AUTH (user:pass), *_URL and *_URLS (a
// password in the user info), *_PASSWORD, *_SECRET, *_TOKEN and *_KEY.
// Their values never appear in a usage text.
func Sensitive(env string) bool {
	for _, s := range []string{"_AUTH", "_URL", "_URLS", "_PASSWORD", "_SECRET", "_TOKEN", "_KEY"} {
		if strings.HasSuffix(env, s) {
			return true
		}
	}
	return false
}

// Int registers an integer setting; see String.
func (fs *FlagSet) Int(p *int, name, env string, def int, usage string) {
	def = fromEnv(fs, name, env, def, strconv.Atoi, "not an integer")
	fs.IntVar(p, name, def, withEnv(usage, env))
}

// Uint64 registers a non-negative integer setting; see String.
func (fs *FlagSet) Uint64(p *uint64, name, env string, def uint64, usage string) {
	def = fromEnv(fs, name, env, def, parseUint64, "not a non-negative integer")
	fs.Uint64Var(p, name, def, withEnv(usage, env))
}

// Float64 registers a number setting; see String.
func (fs *FlagSet) Float64(p *float64, name, env string, def float64, usage string) {
	def = fromEnv(fs, name, env, def, parseFloat64, "not a number")
	fs.Float64Var(p, name, def, withEnv(usage, env))
}

// Bool registers a boolean setting; see String. The environment accepts
// what strconv.ParseBool does (1, true, 0, false, ...).
func (fs *FlagSet) Bool(p *bool, name, env string, def bool, usage string) {
	def = fromEnv(fs, name, env, def, strconv.ParseBool, "not a boolean (want 1, true, 0 or false)")
	fs.BoolVar(p, name, def, withEnv(usage, env))
}

// Duration registers a duration setting ("1s", "500ms"); see String.
func (fs *FlagSet) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	def = fromEnv(fs, name, env, def, time.ParseDuration, "not a duration (like 500ms, 1s, 10m)")
	fs.DurationVar(p, name, def, withEnv(usage, env))
}

// Text registers a setting of a type that reads itself from text, as
// flag.TextVar does: p is set to def, then to the environment variable env
// when set (through p's UnmarshalText, whose error names the variable);
// see String.
func (fs *FlagSet) Text(p encoding.TextUnmarshaler, name, env string, def encoding.TextMarshaler, usage string) {
	fs.TextVar(p, name, def, withEnv(usage, env))
	if v, ok := fs.lookup(name, env); ok {
		f := fs.Lookup(name)
		if err := f.Value.Set(strings.TrimSpace(v)); err != nil {
			fs.bad(env, v, err)
		} else {
			f.DefValue = f.Value.String()
		}
	}
}

// fromEnv returns the environment variable env parsed by parse when it is
// set, else def. A value parse rejects is recorded for Parse to report,
// as what is wrong with it.
func fromEnv[T any](fs *FlagSet, name, env string, def T, parse func(string) (T, error), what string) T {
	v, ok := fs.lookup(name, env)
	if !ok {
		return def
	}
	x, err := parse(strings.TrimSpace(v))
	if err != nil {
		fs.bad(env, v, errors.New(what))
		return def
	}
	return x
}

func parseUint64(s string) (uint64, error)   { return strconv.ParseUint(s, 10, 64) }
func parseFloat64(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// UsageError prints err and the usage to the flag set's output, as Parse
// does for a flag it cannot parse, and returns err: for a value that
// parsed but is out of range, or an argument that should not be there.
func (fs *FlagSet) UsageError(err error) error {
	fmt.Fprintln(fs.Output(), err)
	fs.Usage()
	return err
}

// Positive returns an error naming the setting when v ≤ 0.
func (fs *FlagSet) Positive(name string, v float64) error {
	if v > 0 {
		return nil
	}
	return fs.Errorf(name, "must be positive, got %v", v)
}

// Errorf returns an error about the setting name that names both its flag
// and its environment variable.
func (fs *FlagSet) Errorf(name, format string, args ...any) error {
	what := "--" + name
	if e := fs.envs[name]; e != "" {
		what = e + " (--" + name + ")"
	}
	return fmt.Errorf("%s: %s: %s", fs.Name(), what, fmt.Sprintf(format, args...))
}

// UserPass splits "user:pass" as DRAIN_AUTH and WEB_AUTH give it. Empty
// means no auth.
func UserPass(s string) (user, pass string, err error) {
	if s == "" {
		return "", "", nil
	}
	u, p, ok := strings.Cut(s, ":")
	if !ok || u == "" || p == "" {
		return "", "", errors.New("want user:pass")
	}
	return u, p, nil
}

// ListenAddr turns a PORT value into a listen address: "5000" listens on
// every interface, as the platform expects; "127.0.0.1:5000" and ":5000"
// are kept.
func ListenAddr(port string) (string, error) {
	if port == "" {
		return "", nil
	}
	if strings.Contains(port, ":") {
		return port, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q is not a port", port)
	}
	return ":" + port, nil
}

// List splits a comma- or space-separated setting, dropping empties.
func List(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// RedactURL returns u with any password replaced, for logs.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}
