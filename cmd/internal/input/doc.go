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
// allocates. Inputs parse nothing: they only find where lines end. The one
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
//     newline-delimited lines over TCP, with a connection limit and a
//     deadline on every read.
//   - [Aorta]: the stream of an aorta server, the input of the original
//     Pulse, at aorta://SECRET@host:port, reconnecting with backoff.
//   - [File]: a file or stdin, replayed or followed as it grows.
//
// # Framing of streams
//
// Syslog, aorta and file inputs cut their stream at newlines. Bytes are
// read into a buffer of 2·MaxFrame bytes; a job is cut at the last newline
// in the buffer, and the partial line after it is carried over to the next
// job. Octet-counted frames (RFC 6587) as Logplex writes them end with a
// newline that their count includes (Logplex ends every message with one,
// on HTTPS and syslog drains alike), and newline-delimited syslog lines end
// with one too, so every job holds whole frames or lines and the reader
// sees each stream exactly as it was sent, only split between lines. A cut
// is made when MaxFrame bytes are pending, and when complete lines have
// waited FlushAfter (100 ms) for more, so a busy stream gives jobs of many
// lines and a quiet one is not delayed. At the end of a stream, and when
// a followed file is replaced, whatever is pending is handed over, a last
// line without a newline included.
//
// Two cases give a job that does not end at a frame's end:
//
//   - A run of MaxFrame bytes without a newline is handed over as it is
//     (counted as overlong); as a line it is longer than the reader
//     accepts, so the reader reports it, and resynchronises in the next
//     job. (A sender of octet-counted frames with no newline between them,
//     which RFC 6587 allows and Logplex does not do, has every job cut so,
//     and loses a frame at each cut.)
//   - A frame whose message itself contains a newline, when the bytes read
//     at a cut end inside that frame, after its inner newline: the last
//     newline in the buffer is then the inner one. The reader sees a frame
//     shorter than its count at the end of one job, ends it at the newline
//     and counts a mismatch (logfmt.ReaderStats.Mismatches); the rest of
//     the message starts the next job and is read as a line of its own (an
//     extra event, or an unparsed line). Heroku logs a dyno's output line
//     by line, so its messages seldom carry an inner newline, and a cut
//     falls inside one only by chance.
//
// # Limits
//
// Everything a remote peer can make the receiver hold is bounded: a drain
// body by DrainConfig.MaxBody (1 MiB), the frame ids remembered for
// retries by DrainConfig.DedupeTokens and DedupeIDs (64-bit hashes,
// about 600 KiB at the defaults), a syslog connection by its 2·MaxFrame
// buffer (128 KiB), the connections by SyslogConfig.MaxConns (256), an
// idle or slow connection by SyslogConfig.ReadTimeout (5 min) without a
// complete line, and a TLS handshake by SyslogConfig.HandshakeTimeout (10 s); the
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
