// Package otlp is the receiver's OpenTelemetry logs input: OTLP/HTTP at
// POST /v1/logs, protobuf or JSON, gzip-compressed or not, as Heroku's
// Fir generation sends through telemetry drains and as an OpenTelemetry
// Collector's otlphttp exporter sends.
//
// # Requests
//
// [NewHandler] answers each request as the OTLP/HTTP specification says:
// 200 with an ExportLogsServiceResponse, whose partial_success counts the
// records it rejected and says why; 400 for a body that does not decode
// (not to be retried); 413 past the size limits; 415 for another
// Content-Type or Content-Encoding; 401 without the configured
// credentials (the drain's basic auth, or a bearer token); 503 with
// Retry-After when the queue is full. Errors carry a google.rpc.Status in
// the request's encoding.
//
// Design note: the handler decodes each request itself and queues the
// decoded records; the workers only build events and fold them. The
// answer depends on the decoding: a body that does not decode must be
// answered 400, not 200 and then lost, and partial_success must count the
// records rejected; a handler that queued bytes and answered at once
// could do neither. Decoding once, where the answer is made, costs no
// more than decoding in a worker, and the handler still never waits on
// the workers or the bus: decoding a request of 100 records takes about
// 0.2 ms of one core (BenchmarkDecode), and a full queue is answered 503
// at once.
//
// # Limits
//
// A body is read through http.MaxBytesReader (Config.MaxBody, 4 MiB by
// default) into a pooled buffer, and a gzipped one is decompressed
// through an io.LimitReader (Config.MaxDecoded, 16 MiB), so a
// decompression bomb stops after MaxDecoded+1 bytes. The protobuf and
// JSON decoders allocate in proportion to the bytes they read, checking
// every length against what remains, and their nesting is bounded; a
// record whose values nest deeper than [MaxDepth] is rejected. A queued
// request counts four times its decompressed size against the queue's
// byte budget, about the memory its decoded records hold.
//
// Strings in protobuf must be valid UTF-8: a request with a string field
// that is not is refused whole (400), as the protobuf decoder requires.
//
// # Mapping
//
// A [Mapper] turns each record into a [logfmt.Event], the type the
// parser makes of a drain frame, so every definition applies to OTLP
// input unchanged wherever the same fields exist:
//
//   - Time is time_unix_nano, else observed_time_unix_nano, else the
//     request's arrival. A record with a time at or after 2200 is
//     rejected.
//   - Severity is severity_text when set, else severity_number mapped to
//     the syslog names a drain frame's PRI gives: 1–8 debug, 9–12 info,
//     13–16 warning, 17–20 err, 21–24 crit.
//   - App is the attribute heroku.app.name, else service.name (Heroku's
//     dyno metadata maps the app name to service.name); Proc is
//     heroku.dyno.name, heroku.dyno, heroku.process.type, else
//     service.instance.id; Host is host.name. A record's own attribute
//     wins over its resource's. So proc=router and app=... filters work
//     where Fir sends those attributes; only the opening of Heroku's
//     attribute reference could be checked, so the dyno and process names
//     are Pulse's best reading, and every attribute is also a field under
//     its own name for definitions to use directly.
//   - Pairs: the resource's attributes, then the record's, then the
//     body's, so that a lookup (which takes the last pair of a key)
//     prefers the body, as a drain frame would give it, then the record,
//     then the resource. A map value becomes one pair per member, keys
//     joined with dots (a map in a map: "http.request.method"); an
//     array is its JSON text; bytes are standard base64; numbers and
//     booleans are written as Go's strconv writes them.
//   - Body: a string body is the message, read exactly as a drain
//     message (logfmt, or JSON when it is a JSON object) and kept as Msg,
//     so msg= filters and l2met metrics (count#, sample#...) work on it; a
//     map body becomes pairs as above, without a prefix, and no Msg; any
//     other body is rendered as text and read as a string body; an empty
//     body gives no pairs.
//
// Not mapped: scope name and attributes, trace and span ids, flags,
// event_name and dropped-attribute counts.
//
// # Heroku's default definitions on Fir
//
// Fir apps have no log drains, and some of what the default set reads is
// not sent there as log lines, or is sent differently:
//
//   - log-runtime-metrics (dyno.memory, dyno.load) and Heroku Postgres and
//     Key-Value Store metrics lines (postgres.connections,
//     redis.connections) are not available on Fir (Fir's dyno metrics are
//     OTLP metrics, which this input does not take);
//   - Logplex's L10–L13 (logplex.*) do not exist without Logplex;
//   - the platform's R10/R14/R15 and crash definitions (dyno.*) match
//     syslog.app=heroku, a drain's APP-NAME, where an OTLP record's App is
//     the app's name; releases matches syslog.proc=api;
//   - the router definitions (router.*) need router records whose Proc is
//     router (from the attributes above) and whose string body carries the
//     router's logfmt fields; Heroku sends router logs through telemetry,
//     but their attributes and body are not documented where we could
//     read them.
//
// l2met metrics (count#, measure#, sample#, unique#) in apps' string
// bodies, and every definition over an app's own fields, work as on a
// drain.
//
// # Concurrency
//
// The handler and a Stats are safe for use by multiple goroutines. A
// Mapper belongs to one worker.
package otlp
