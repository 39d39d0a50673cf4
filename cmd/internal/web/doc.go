// Package web is the core of Pulse's web role: a [History] of the
// snapshots the mergers publish, and the [Handler] that serves it to
// browsers and tools.
//
// Mergers are sharded by stat name, each shard owning a disjoint set of
// names, and each publishes a [window.Snapshot] of its stats every second.
// Whoever follows the bus calls [History.Add] with each snapshot and its
// shard; the History keeps a ring of points per stat name and the latest
// snapshot of every shard, and tells its subscribers. The handler serves:
//
//	GET /              the dashboard (static files; no inline script)
//	GET /stats         the history: {"<name>":[[unix_ms,value],...],...}
//	                   ?since=<unix_ms> keeps points after it, ?names=a,b only those stats
//	GET /stats/latest  the latest snapshot merged across shards, in the snapshot JSON form
//	GET /stats/meta    the definitions in Config.Defs and the self-stats, for the page:
//	                   {"stats":[{"name":..,"kind":..,"label":..,"group":..,"unit":..,"warn":..,"crit":..},...]}
//	GET /stats/stream  Server-Sent Events: the latest snapshot, then one per Add
//	GET /healthz       freshness of the snapshots and of the checks in Config.Health
//
// Values are written in stat.Value's JSON form: a number, null, a
// quantiles object or a top-k list.
//
// # The page
//
// The dashboard is static files (static/, embedded): a tile per stat of
// the latest snapshot, grouped and ordered as /stats/meta lists the
// definitions, with its label, its value formatted for people, a chart of
// the history drawn on a canvas (quantiles as one line each) or a ranked
// list with bars (top-k), colored green, orange or red by the
// definition's warn and crit (a tile at crit is red all over, with a
// pulsing border). It fills its charts from /stats, then follows
// /stats/stream; after a reconnect it fetches what it missed with
// ?since=, and it shows a banner when no snapshot came for 5 s. The URL
// fragment picks the range and the view, so that both can be bookmarked:
// #range=1 (or 5, 10 minutes), #group=router, #stat=router.service.
//
// Stat names come from logs (l2met metrics), so they are untrusted: the
// History caps how many it keeps, the page writes them with textContent
// only, and every response carries a Content-Security-Policy that forbids
// inline script.
//
// # Concurrency
//
// A History is safe for use by multiple goroutines, and so is the handler.
package web
