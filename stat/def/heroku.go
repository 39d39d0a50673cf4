package def

import _ "embed"

//go:embed heroku.defs
var herokuDefs string

// HerokuFile returns the default Heroku definitions file as text, the file
// `pulse defs` prints: a starting point to edit.
func HerokuFile() string { return herokuDefs }

// Heroku returns the default Heroku stat set, parsed from HerokuFile:
// router traffic, latency and errors (each H code, and the apps affected
// by the important ones), dyno errors, crashes, memory and load, Logplex
// and log-shuttle drops (L10 to L13), Postgres and Redis connections,
// releases, and every l2met metric. Each call returns a new slice.
func Heroku() []Def { return MustParse(herokuDefs, "heroku.defs") }
