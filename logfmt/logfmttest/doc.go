// Package logfmttest generates realistic, deterministic Heroku log traffic
// for tests and benchmarks, in the spirit of net/http/httptest.
//
// A [Generator] plays a small Heroku platform: a number of apps whose
// request volume follows a Zipf law, each with web and worker dynos,
// Postgres and Redis add-ons, and a timeline of incidents. It writes the
// lines that Logplex would deliver for them, one at a time with
// [Generator.Next] or for a span of event time with [Generator.WriteFor],
// as octet-counted drain frames, newline-delimited RFC 5424 lines, or
// `heroku logs` output (see [Format]). The same [Options] always give the
// same bytes: the output depends on nothing but the options, never on the
// clock or on scheduling.
//
// # The traffic
//
// Request-driven lines arrive as a Poisson process at [Options.Rate] lines
// per second of event time. Of these, about 60 % are router lines and 40 %
// are app lines:
//
//   - Router lines (`<158>1 TS host heroku router -`) carry every field of
//     the current router format. The host is chosen by a Zipf law (s = 1.1)
//     over the apps, `service` is a whole number of milliseconds with a
//     lognormal body (median about 20 ms, depending on the path) and a heavy
//     tail, `connect` is 0 to a few ms, and the status mix of successful
//     routing is about 77 % 200, 9 % 304, 7.5 % 201, 2.3 % 404, 1.3 % 204,
//     1 % 301/302, 1.5 % other 4xx and 0.4 % 5xx from the apps. About
//     0.5 % of requests end in a background H error (mostly H27 with
//     `sock=client`, then H13, H18 with `sock=backend`, H28, H15, H26,
//     H25, H21, H19, H11, H22, H99); with the incidents below, H lines
//     are 2 to 3 % of router lines over ten minutes. Error
//     lines leave empty values where the router has none (`dyno= connect=
//     service= bytes=`), and the least busy app is in maintenance mode
//     (H80). About a third of the apps run on Router 2.0 (`protocol=http1.1`
//     or `http2.0`, `tls=`, `tls_version=`).
//   - App lines (`<190>1 TS host app web.N -`) are what the apps print:
//     lograge-style logfmt, slog text with `level=`, Morgan and Rails free
//     text, Sidekiq lines from worker dynos, and about one in five in l2met
//     style with `count#`, `measure#`, `sample#` and `unique#` keys.
//
// Periodic lines come on top of the rate: every up dyno logs a
// log-runtime-metrics load sample and memory sample every 20 s
// (`<45>1 … host heroku web.1 -`), and every Postgres and Redis add-on a
// metrics sample every 20 s with a second-precision timestamp
// (`<134>1 … host app heroku-postgres -`). With the default 20 apps this
// is about 7 lines per second.
//
// # Incidents
//
// Every [Options.IncidentEvery] of event time (10 minutes by default)
// brings a new episode of the same timeline, at offsets drawn from the
// seed: a deploy and release from `app[api]` followed by a restart of the
// app's web dynos; an app whose web dynos crash (`State changed from up to
// crashed`), so that its requests become H10 lines for 75 to 120 s, with
// one dyno failing to boot (R10) before recovering; an H12 burst on a busy
// app for 30 to 90 s (`service=30000ms`, with H13s, H27s from impatient
// clients and slow successes); an R14 episode on a dyno whose memory grows
// past its quota for two to three minutes, ending in R15 and a crash or in
// a restart; a scaling and a config change from `app[api]`; a daily
// `Cycling` of one dyno; and a Logplex L10 line (`Error L10 (output buffer
// overflow): N messages dropped since TS.`).
//
// A Generator is not safe for concurrent use.
package logfmttest
