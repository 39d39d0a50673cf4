// Package logfmt parses Heroku's log formats: logplex drain frames,
// syslog lines, "heroku logs" output and bare logfmt, into events with
// ordered key-value pairs.
//
// # Forms
//
// A [Reader] detects the form of every frame or line, so one stream may
// mix them ([ReaderOptions].Form can fix one instead):
//
//   - [FormOctet]: RFC 5424 messages with RFC 6587 octet counting, as
//     logplex posts them to HTTPS drains and writes them to syslog drains:
//     "277 <158>1 2026-03-14T17:02:11.482113+00:00 host heroku router - at=info ...".
//     Frames follow each other with or without newlines; the count
//     includes the frame's trailing newline when there is one.
//   - [FormRFC5424]: the same message, one per line, with no count.
//   - [FormClassic]: the classic Pulse line,
//     "2011-10-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com key=value",
//     giving host, facility, severity, app, proc, slot, instance and cloud.
//   - [FormHerokuLogs]: a line as "heroku logs" prints it,
//     "2026-03-14T17:02:11.482113+00:00 heroku[router]: at=info ...",
//     giving app and proc.
//   - [FormLogfmt]: a bare logfmt body, with no header.
//
// Logplex frames carry no STRUCTURED-DATA field ("host app web.1 - msg").
// Syslog drains keep the SD NILVALUE ("d.<token> heroku router - - msg"),
// and other senders write "[id k=\"v\"]" elements: after MSGID, a "-"
// followed by a space, or well-formed structured data followed by a space,
// is read as STRUCTURED-DATA, and anything else starts the message. (So a
// logplex message that itself begins with "- " loses that dash.)
//
// Timestamps are RFC 3339 with any fraction (second precision on add-on
// lines, microseconds elsewhere) and "Z" or a ±hh:mm offset; [Event].Time
// is in UTC and [Event].Timestamp keeps the text. PRI gives Priority and
// the static Facility and Severity names ("local3", "info").
//
// # Bodies
//
// Every form's message is read as logfmt, by [ParseBody]'s rules:
//
//   - pairs are separated by runs of spaces or tabs;
//   - key=value, where an unquoted value runs to the next space or tab and
//     may contain '=' and '"';
//   - key="quoted value" with the escapes \" \\ \n \t \r and \uXXXX
//     (surrogate pairs combine; other backslashes are kept as written); an
//     unterminated quote runs to the end of the message, and a new token
//     starts right after a closing quote;
//   - a bare key is a flag ([Pair].Flag, nil Value); "key=" has the empty
//     value; "=v" has the empty key;
//   - duplicates are kept in order ([Event.Pairs]); [Event.Lookup] and
//     [Event.Number] take the last, as a map would;
//   - free text is tokenized the same way: its words become flags.
//
// Parsing a body never fails. [ParseNumber] reads values with units:
// durations (ns, us, µs, ms, s, m, h) become milliseconds, any other unit
// suffix (MB, kB, bytes, pages, %) is stripped.
//
// # Borrowing
//
// An [Event]'s byte slices, and the pairs it yields, point into the input:
// the bytes given to [ParseFrame], [ParseLine] or [ParseBody], or the
// [Reader]'s buffer, where they are valid only until the next call to
// [Reader.Next]. Copy what you keep. Unescaped quoted values live in the
// Event's own storage, valid until the Event is parsed into again. Invalid
// UTF-8 passes through as bytes.
//
// In steady state a Reader allocates nothing per event: the first 32 pairs
// of an event live inline, and buffers are reused. Timestamps are parsed
// without the time package's parser, and nothing calls time.Now.
//
// # Limits and errors
//
// A frame or line may be at most [ReaderOptions].MaxFrame bytes (default
// 64 KiB). An octet count over the limit, or one not followed by a space
// and '<', is an error that the reader skips past without reading the
// claimed length into memory. A body longer than 2 GiB is parsed only up
// to there.
//
// A frame or line that cannot be parsed gives a [*SyntaxError] with its
// byte offset, its form and what was wrong; it wraps [ErrHeader],
// [ErrCount] or [ErrTooLong] and matches [ErrSyntax]. A Reader never
// stops at one: it counts it ([ReaderStats].Unparsed), keeps its bytes for
// [Reader.Raw], and resynchronises at the next line or frame. An octet
// count that does not land on the start of the next frame (published
// examples and hand-written fixtures often carry wrong counts) is not an
// error: the reader ends the frame at its newline, or at the next frame
// start, and counts a [ReaderStats].Mismatches.
//
// # Concurrency
//
// As everywhere in Pulse, values are owned by one goroutine: an Event or
// a Reader is not safe for concurrent use. Run one Reader per stream.
package logfmt
