// Package input turns the bytes a receiver takes in, from HTTPS log drains,
// syslog connections, an aorta server or files, into bounded jobs for its
// parse workers.
//
// # Jobs and the queue
//
// Every input hands its bytes over as a [Job]: a run of whole frames or
// lines (Data), the input's name, the drain request's Logplex-Msg-Count
// (MsgCount, -1 when none) and when it arrived. Jobs go through one
// [Queue], bounded both in jobs and in bytes, to the workers, which read each
// job's Data with logfmt.NewReader, fold the events, and call
// [Job.Release] to give the buffer back to a pool; in steady state no job
// allocates. Inputs parse nothing: they only find where frames and lines
// end. The one
// exception is OpenTelemetry logs (package cmd/internal/otlp), whose
// handler must decode a request to answer it: its jobs carry the decoded
// request as a Batch instead of Data, counted by their Size.
//
// The network inputs never block on the queue for long. The drain handler
// answers 503 at once when the queue is full (Logplex retries);
// syslog and aorta connections wait up to a short QueueWait and then drop
// the job. Every drop is counted. The file input waits instead, since a
// replay should lose nothing.
//
// # Inputs
//
//   - [NewDrainHandler]: Logplex HTTPS drains and log-shuttle, POST /logs
//     with application/logplex-1 bodies, basic auth, a body limit, and
//     retries recognised by their Logplex-Frame-Id. One request body is
//     one job.
//   - [ServeSyslog]: Logplex syslog drains (syslog:// and, through
//     [ListenSyslogTLS], syslog+tls://) and any other sender of
//     octet-counted frames or newline-delimited lines over TCP, with a
//     connection limit and a deadline on every read.
//   - [Aorta]: the stream of an aorta server, the input of the original
//     Pulse, at aorta://SECRET@host:port, reconnecting with backoff.
//   - [File]: a file or stdin, replayed or followed as it grows.
//
// # Framing of streams
//
// Syslog, aorta and file inputs cut their stream where a record ends, as
// a logfmt.Splitter finds it, so that every job holds whole frames or
// lines and each worker's reader reads its job as it would read that part
// of the whole stream. Octet-counted frames (RFC 6587) are cut by their
// count, whether they end with a newline inside the count (as Logplex
// writes them), have one after them, or follow one another with nothing
// between them (RFC 6587 §3.4.1 allows it, and rsyslog and syslog-ng
// with octet-counted framing do it); a newline inside a message is never
// taken for a frame's end. A wrong count is resynchronised as the reader
// does it: the frame ends at the next frame start or its first newline
// within MaxFrame bytes, and a count of 10¹² makes the input look no
// further than that. Newline-delimited lines end at their newline, and a
// stream may mix both, a line after a frame beginning after a newline.
// Bytes are read into a buffer of 2·MaxFrame bytes; the record after the
// last cut is carried over to the next job. A cut is made when MaxFrame
// bytes are pending, and when complete records have waited FlushAfter
// (100 ms) for more, so a busy stream gives jobs of many records and a
// quiet one is not delayed. A frame whose count ends at the end of what
// was read, with nothing after it to confirm the count, is cut when the
// stream goes quiet for FlushAfter. At the end of a stream, and when a
// followed file is replaced, whatever is pending is handed over, a last
// partial record included.
//
// A record longer than MaxFrame (a line without a newline, a frame with
// no end within MaxFrame bytes) is handed over in pieces as large as the
// buffer once it fills it (counted as overlong); the reader reports the
// pieces, and the record's last piece, up to where the reader
// resynchronises, is a job of its own, so the records after it are read.
// One that fits in the buffer goes whole, and the reader skips it.
//
// A sender that pauses for FlushAfter exactly where a wrong count ends
// has that count trusted, and the rest of that frame is read as a record
// of its own; and a frame with a wrong count that is the last before a
// pause waits for more bytes, or for the connection's end or read
// timeout.
//
// # Limits
//
// Everything a remote peer can make the receiver hold is bounded: a drain
// body by DrainConfig.MaxBody (1 MiB), the frame ids remembered for
// retries by DrainConfig.DedupeTokens and DedupeIDs (64-bit hashes,
// about 600 KiB at the defaults), a syslog connection by its 2·MaxFrame
// buffer (128 KiB), the connections by SyslogConfig.MaxConns (256), an
// idle or slow connection by SyslogConfig.ReadTimeout (5 min) without a
// complete frame or line, and a TLS handshake by SyslogConfig.HandshakeTimeout (10 s); the
// queue holds at most QueueConfig.Jobs jobs and QueueConfig.Bytes bytes
// (4096 and 32 MiB), in buffers of at most about twice that. The drain
// handler leaves request concurrency, header size and timeouts to the
// http.Server that serves it.
//
// # Counters
//
// Every input counts what it does in a [Stats]: requests, bodies and
// bytes accepted, bodies dropped with their bytes and frames, rejections
// by reason, duplicate frame ids, log-shuttle's own drops and losses,
// syslog connections open, served and rejected, read timeouts, aorta
// reconnects, file lines read. [Stats.Snapshot] reads them as plain
// numbers, and [StatsSnapshot.All] yields them by name, ready to become
// the receiver's pulse.* self-stats. Queue depth is [Queue.Len] and
// [Queue.Bytes].
//
// # Concurrency
//
// A Queue, a Stats and the drain handler are safe for use by multiple
// goroutines; each serving function runs its own goroutines and returns
// when its context is done, after closing its connections. A Job belongs
// to one goroutine at a time: the input's until it is queued, then the
// worker's that took it.
package input
