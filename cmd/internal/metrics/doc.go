// Package metrics serves the latest merged snapshot in the Prometheus text
// exposition format (version 0.0.4), for Prometheus and Grafana to scrape
// from the web role's /metrics.
//
// Each stat of the snapshot becomes one metric family, by the form of its
// value:
//
//   - a number (rate, sum, mean, min, max, last, last-sum, last-mean,
//     distinct) is a gauge;
//   - quantiles are a summary, one sample per quantile with a quantile label
//     (see "Summaries" below);
//   - a top-k list is a gauge with a key label, one series per key, at most
//     the definition's K (10 for a stat without a definition);
//   - null is left out, so an empty window has no sample rather than a 0.
//
// The self-stats (pulse.*) are exported like any other stat. Three
// families describe the exposition itself: pulse_snapshot_timestamp_seconds
// (the time of the snapshot, absent before the first), and
// pulse_exporter_collisions and pulse_exporter_omitted (see below).
//
// # Metric names
//
// A stat name becomes a metric name by this rule, in order:
//
//  1. "pulse." is dropped from the front of a self-stat's name (pulse.events
//     → events), so the prefix of step 3 is not doubled.
//  2. ASCII letters are lower-cased, and every character other than a-z,
//     0-9 and _ (a dot, a space, a quote, any non-ASCII rune, each byte of
//     invalid UTF-8) becomes one _. router.H12 → router_h12.
//  3. The result is prefixed with pulse_.
//  4. A unit suffix is appended, from the definition. Its Unit, read before
//     any "/", names a base unit when it is one of: ns, us, µs, ms, s, sec,
//     min, h (seconds: the value is converted, 412 ms → 0.412); B, bytes
//     (bytes); kB, KB, KiB, MB, MiB, GB, GiB, TB, TiB (bytes, in multiples
//     of 1024, as Heroku's log-runtime-metrics and Postgres metrics mean
//     them: a 512MB dyno quota is 512 MiB); % (ratio: the value is divided
//     by 100). Other units (req, msgs, conns, hosts) stay out of the name,
//     in HELP. A rate, sum or topk definition then adds _per_second,
//     _per_minute or _per_hour for a Per of 1 s, 1 min or 1 h, and
//     _per_<n>_seconds otherwise; any other kind takes the same from the
//     Unit's part after "/" (s, min, h), if any. When the name already ends
//     in the suffix's first words they are not repeated (router.bytes in
//     B/s → pulse_router_bytes_per_second).
//  5. A name ending in _total, _count, _sum, _bucket or _created, which
//     would read as a counter or as part of a summary or histogram, gets
//     _value appended (orders.count → pulse_orders_count_value).
//
// For example, with the default Heroku set: router.requests (rate per 1 s)
// → pulse_router_requests_per_second, router.service (quantiles in ms) →
// pulse_router_service_seconds{quantile="0.99"}, router.H12 (rate per
// 1 min) → pulse_router_h12_per_minute, dyno.memory (MB) →
// pulse_dyno_memory_bytes, pulse.publish.latency (ms) →
// pulse_publish_latency_seconds.
//
// Different stats can map to one name (router.h12 and router.H12,
// a.b and a_b). Names are claimed in a fixed order: the three families
// above, then the self-stats, then the others, each group in byte order
// of the stat name. A stat whose name is taken gets _ and the 8 hex digits
// of the FNV-1a 32-bit hash of its stat name inserted before the unit
// suffix (pulse_a_b_5c1f04e2_per_second), which stays the same from scrape
// to scrape whatever else is exported; if that is taken too, the stat is
// left out. pulse_exporter_collisions counts the stats of this exposition
// that collided, and pulse_exporter_omitted the series left out: stats
// whose renamed name was taken, and top-k keys beyond K or equal to an
// earlier key once made valid.
//
// HELP is the definition's label followed by the stat name and unit in
// brackets ("Router service time [router.service; ms, exposed in
// seconds]"), or the stat name and unit without a label. An l2met metric
// (a stat derived by an l2met definition, named Prefix.metric) takes the
// unit of its l2met definition; its kind is not known here, so it gets no
// rate suffix. A stat no definition names is exported without a unit.
//
// Every name is valid whatever the stat name. The names follow
// Prometheus' conventions too (promtool check metrics finds no problem in
// the default Heroku set, its l2met metrics and the self-stats), but a
// stat name with a word that promtool's lint reads as an abbreviated unit
// (db.latency_ms, a.b with b for bytes) or a type (x.counter) keeps it,
// and the lint will say so.
//
// # Summaries
//
// A Value holds quantiles but not the count or sum of the observations
// behind them. client_golang's and expfmt's text writers always print
// x_sum and x_count, as 0 when unknown, which would be a lie that
// rate(x_sum)/rate(x_count) turns into a wrong average. The exposition
// therefore leaves x_sum and x_count out: a summary of quantiles only,
// which the text format allows, Prometheus ingests and promtool check
// metrics accepts. A gauge with a quantile label was the alternative;
// promtool rejects it ("non-summary metrics should not have "quantile"
// label").
//
// # Label values
//
// Top-k keys come from logs and are untrusted. Each becomes the value of
// the key label with invalid UTF-8 and control characters replaced by
// U+FFFD; the text writer escapes backslash, double quote and newline. Two
// keys that become equal keep the first (the larger value) and count the
// other in pulse_exporter_omitted.
//
// # Implementation
//
// Families are built by a prometheus.Collector of const metrics on a
// Registry of their own, so the library checks names, label values and
// uniqueness, and written with expfmt; only the text format is served.
//
// # Concurrency
//
// An Exporter and its handler are safe for use by multiple goroutines.
package metrics
