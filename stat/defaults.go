package stat

import _ "embed"

//go:embed heroku.defs
var herokuDefs string

// HerokuDefaultsFile returns the default Heroku definitions file as text,
// the file `pulse defs` prints.
func HerokuDefaultsFile() string { return herokuDefs }

// HerokuDefaults returns the default Heroku stat set: router traffic,
// latency and errors (each H code), dyno errors, crashes, memory and load,
// Logplex drops, add-on connections, releases, and every l2met metric.
func HerokuDefaults() []Def { return MustParseDefs(herokuDefs, "heroku.defs") }
