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
//   - [FormSyslog]: a syslog message as a receiver writes it to a file,
//     or as the Dev Center prints its syslog-drain example: RFC 5424
//     without PRI and VERSION,
//     "2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 ...",
//     or with a tag, "2013-04-17T19:04:46+00:00 d.<uuid> heroku[router] at=info ...",
//     giving host, app, proc and (untagged) msgid and structured data.
//   - [FormLogfmt]: a bare logfmt body, with no header.
//
// A line that starts with a timestamp is heroku logs when the next token
// ends in ':'; classic when the fourth does, or the third is
// FACILITY.SEVERITY with a syslog facility name; syslog when the third is
// a tag APP[PROC], or when the line has the three more RFC 5424 fields
// (APP-NAME, PROCID, MSGID: printable ASCII within RFC 5424's lengths);
// and classic otherwise, which then says what is missing ([ParseLine]
// has the whole list).
//
// Logplex frames carry no STRUCTURED-DATA field ("host app web.1 - msg").
// Syslog drains keep the SD NILVALUE ("d.<token> heroku router - - msg"),
// and other senders write "[id k=\"v\"]" elements: after MSGID, a "-"
// followed by a space, or well-formed structured data followed by a space,
// is read as STRUCTURED-DATA, and anything else starts the message. (So a
// logplex message that itself begins with "- " loses that dash.)
//
// Timestamps are RFC 3339 with any fraction (second precision on add-on
// lines, microseconds elsewhere) and "Z" or a ±hh:mm offset, from
// 1970-01-01 up to but not including 2200-01-01 ([MinTimeUnix],
// [MaxTimeUnix]): the years [time.Time.UnixNano] holds with room to
// spare. [Event].Time is in UTC and [Event].Timestamp keeps the text. PRI
// gives Priority and the static Facility and Severity names ("local3",
// "info").
//
// # Bodies
//
// Every form's message is read by [ParseBody]: as JSON when it is a JSON
// object, and as logfmt otherwise.
//
// A message whose first byte that is not a space or a tab is '{', and
// that is exactly one JSON object (white space around it allowed), is
// read as fields, as log/slog's JSONHandler and many Heroku apps write
// them:
//
//   - the members of a nested object are pairs whose keys are joined to
//     the object's with a dot: {"req":{"method":"GET"}} gives
//     req.method=GET;
//   - strings are unquoted and unescaped (a lone surrogate becomes
//     U+FFFD); numbers, true and false are their text as written; null is
//     the empty value;
//   - an array, and an empty object, is its raw JSON text:
//     {"tags":["a","b"]} gives tags=["a","b"];
//   - keys are kept as JSON has them, spaces and '=' included; duplicates
//     are kept in order, as in logfmt; there are no flags.
//
// A message over 1 MiB, nested deeper than 32 objects and arrays, or
// whose joined keys and unescaped strings would take more than four
// times its size plus 1 KiB, and any malformed JSON, is read as logfmt
// instead, by these rules:
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
// Event's own storage, as do joined and unescaped JSON keys and unescaped
// JSON strings, valid until the Event is parsed into again. Invalid UTF-8
// passes through as bytes.
//
// In steady state a Reader allocates nothing per event, logfmt or JSON:
// the first 32 pairs of an event live inline, and buffers are reused. Timestamps are parsed
// without the time package's parser, and nothing calls time.Now.
//
// # Building events
//
// Records that arrive as fields rather than as text, such as OpenTelemetry
// log records, become events too: [Event.Reset] empties an event,
// [Event.SetHeader] copies a header field in (or assign one to borrow
// it), [Event.AppendPair] and [Event.AppendPairString] copy pairs in, and
// [Event.AppendBody] reads a message body by the rules above and appends
// its pairs, borrowing from it as [ParseBody] does. Lookup takes the last
// pair of a key, so the order of the appends decides which value a
// duplicate key gives. Copies live in the event's own storage, valid until
// the next Reset or parse; an event rebuilt for every record allocates
// nothing once that storage has grown.
//
// # Limits and errors
//
// A frame or line may be at most [ReaderOptions].MaxFrame bytes (default
// 64 KiB). A body longer than 2 GiB is parsed only up to there.
//
// A frame or line that cannot be parsed gives a [*SyntaxError] with its
// byte offset, its form and what was wrong; it wraps [ErrHeader],
// [ErrTime], [ErrCount] or [ErrTooLong] and matches [ErrSyntax]. A Reader
// never stops at one: it counts it ([ReaderStats].Unparsed), keeps its
// bytes for [Reader.Raw], and resynchronises at the next line or frame.
//
// On an error wrapping [ErrTime] the event is complete except its time:
// the timestamp is not RFC 3339 (logplex's own documentation writes
// "2012-12-10T04:05:25Z+00:00") or is outside [MinTimeUnix, MaxTimeUnix),
// so Time is zero and Timestamp holds the raw text, and every other
// header field and every pair is filled. [ParseFrame] and [ParseLine]
// fill ev, and [Reader.Next] returns the event with the error (every other
// error comes with a nil event) and counts it in both
// [ReaderStats].Unparsed and [ReaderStats].BadTime. A caller that skips
// every error matching ErrSyntax therefore skips these events too, and
// counts them as unparsed, as before; one that wants them keeps the event
// when errors.Is(err, ErrTime). A bad timestamp never hides a later header
// error, which is returned instead.
//
// Octet counts are not trusted: published examples and hand-written
// fixtures often carry wrong ones. A count that does not land on the
// start of the next frame, a count of zero, and a count over MaxFrame are
// all wrong counts, and none of them is an error: the reader ends the
// frame at the next frame start or after its first newline, whichever
// comes first, else at the end of the input, and counts a
// [ReaderStats].Mismatches. Only a frame with no such end within MaxFrame
// bytes is an error (ErrTooLong), which the reader skips a buffer at a
// time, never reading the claimed length into memory. A count has at most
// 19 digits; more, or a count not followed by a space and '<', is not a
// count (ErrCount when the form is fixed to FormOctet).
//
// # Splitting streams
//
// An input that hands one stream to several Readers in pieces (a syslog
// connection cut into jobs for parse workers) cuts it where a [Splitter]
// says a record ends: by its count for an octet-counted frame, with or
// without a newline after it, where the Reader resynchronises for a wrong
// count, and at the newline for a line. A Splitter finds what a Reader
// with the same MaxFrame would, without parsing, so each piece reads as
// that part of the whole stream does (FuzzSplitter holds it to that).
//
// # Concurrency
//
// As everywhere in Pulse, values are owned by one goroutine: an Event or
// a Reader is not safe for concurrent use. Run one Reader per stream.
package logfmt
