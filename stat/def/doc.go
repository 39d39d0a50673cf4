// Package def holds stat definitions: which log events a stat takes, what
// it observes and how a snapshot reports it, the definitions file that
// writes them, and the default Heroku set.
//
// A [Def] is what a user writes, in code or as a line of a definitions
// file ([Parse]):
//
//	name=router.service kind=quantiles of=service q=0.5,0.95,0.99 where="proc=router !code"
//	name=router.H12 kind=rate per=1m where="proc=router code=H12" label="H12 Request timeout/min"
//	name=dyno.memory kind=last-sum of=sample#memory_total by=dyno where=sample#memory_total
//	name=l2met kind=l2met
//
// [Heroku] is the default set ([HerokuFile] its text). Hand definitions to
// window.NewDefSet, which compiles them ([Compile]: defaults applied,
// lookups prepared) and folds events through them.
//
// # Where filters
//
// A [Where] is a conjunction of terms over an event's message fields and
// header fields (see [ParseWhere]): key, !key, key=glob, key!=glob,
// key~=glob, key!~=glob, key>N, key>=N, key<N, key<=N. Matching is
// case-sensitive: level=error does not match slog's level=ERROR; the ~=
// forms fold ASCII letters (level~=error matches both). Numbers are read
// with their units, strictly in a filter (status>=5xx is an error) and as
// logfmt.ParseNumber reads them in events.
//
// # Limits and budget
//
// A name is at most [MaxNameLen] bytes of UTF-8 text, a window at most
// [MaxWindow], a definitions file line at most [MaxLineLen] bytes. A set's
// definitions together must fit a [Budget] ([DefaultMaxStats] unless
// raised): Parse and CompileSet check it, so a file that `pulse defs
// --check` accepts is one that window.NewDefSet accepts. Names beginning
// with [ReservedPrefix] ("pulse.") belong to the pipeline's self-stats.
//
// # For package window
//
// [Compiled] carries the hooks that fold an event into a stat and read a
// merged stat as the number a person sees (NewStat, Observe, Read), the
// derivation of l2met metrics (DeriveL2met, L2metKey, IsL2metKey), and a
// [Matcher] that finds the definitions an event matches without
// evaluating every filter. Most programs never call them.
//
// [Compiled.Agree] holds two values a definition reports to the error bound
// its kind states (exact kinds equal, sums within stat.Sum's bound,
// sketches within theirs); window.Set.Diff compares whole snapshots with it.
//
// # Concurrency
//
// Defs are plain values. A Compiled and a Matcher never change once made
// and are safe for concurrent use; the stats they observe into are owned
// by one goroutine (see package stat).
package def
