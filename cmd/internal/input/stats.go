package input

import (
	"iter"
	"sync/atomic"

	"github.com/pulsehq/pulse/cmd/internal/counters"
)

// Stats counts what the inputs see. Every input adds to the Stats it is
// given; one Stats may be shared by all the inputs of a receiver. Take a
// Snapshot to read it.
//
// A Stats is safe for use by multiple goroutines. The zero value is ready.
type Stats struct {
	c [numCounters]atomic.Int64
}

// A counter indexes Stats.c. The constants run in the order of the fields
// of StatsSnapshot, and are named after them (TestStatsFieldOrder checks).
type counter int

const (
	drainRequests counter = iota
	drainAccepted
	drainBytes
	drainMsgCount
	drainEmpty
	drainDropped
	drainDroppedBytes
	drainDroppedFrames
	drainDuplicates
	drainDedupeEvicted
	drainBadMethod
	drainUnauthorized
	drainBadContentType
	drainTooLarge
	drainBadMsgCount
	drainReadErrors
	logshuttleDrops
	logshuttleLost

	syslogConnsOpen
	syslogConns
	syslogConnsRejected
	syslogTLSErrors
	syslogReadTimeouts
	syslogConnErrors
	syslogJobs
	syslogBytes
	syslogOverlong
	syslogDropped
	syslogDroppedBytes
	syslogDroppedLines

	aortaConnects
	aortaReconnects
	aortaDialErrors
	aortaReadTimeouts
	aortaConnErrors
	aortaJobs
	aortaBytes
	aortaOverlong
	aortaDropped
	aortaDroppedBytes
	aortaDroppedLines

	fileLines
	fileJobs
	fileBytes
	fileOverlong
	fileReopens

	numCounters
)

// StatsSnapshot holds the counters of a Stats at one moment, as plain
// numbers. Every field but SyslogConnsOpen, a gauge, only grows. Each
// field's tag names it as All yields it.
type StatsSnapshot struct {
	// DrainRequests counts every request the drain handler saw.
	DrainRequests int64 `name:"drain.requests"`
	// DrainAccepted counts bodies queued (answered 204).
	DrainAccepted int64 `name:"drain.accepted"`
	// DrainBytes counts the bytes of the bodies queued.
	DrainBytes int64 `name:"drain.bytes"`
	// DrainMsgCount sums the Logplex-Msg-Count of the bodies queued: the
	// frames their senders say they hold.
	DrainMsgCount int64 `name:"drain.msg_count"`
	// DrainEmpty counts empty bodies, answered 204 and not queued.
	DrainEmpty int64 `name:"drain.empty"`
	// DrainDropped counts bodies refused with 503 because the queue was
	// full; Logplex sends them again.
	DrainDropped int64 `name:"drain.dropped"`
	// DrainDroppedBytes counts the bytes of the bodies refused.
	DrainDroppedBytes int64 `name:"drain.dropped_bytes"`
	// DrainDroppedFrames sums the Logplex-Msg-Count of the bodies refused,
	// where they had one.
	DrainDroppedFrames int64 `name:"drain.dropped_frames"`
	// DrainDuplicates counts bodies answered 204 and not queued because a
	// body with the same Logplex-Frame-Id from the same drain token had
	// been queued already: a retry of a request whose answer was lost.
	DrainDuplicates int64 `name:"drain.duplicates"`
	// DrainDedupeEvicted counts drain tokens whose recent frame ids were
	// forgotten to make room for another token (DrainConfig.DedupeTokens).
	DrainDedupeEvicted int64 `name:"drain.dedupe_evicted"`
	// DrainBadMethod counts requests other than POST (405).
	DrainBadMethod int64 `name:"drain.bad_method"`
	// DrainUnauthorized counts requests with missing or wrong basic
	// auth (401).
	DrainUnauthorized int64 `name:"drain.unauthorized"`
	// DrainBadContentType counts requests whose Content-Type was not
	// application/logplex-1 (415).
	DrainBadContentType int64 `name:"drain.bad_content_type"`
	// DrainTooLarge counts bodies over DrainConfig.MaxBody (413).
	DrainTooLarge int64 `name:"drain.too_large"`
	// DrainBadMsgCount counts Logplex-Msg-Count headers that were not a
	// number from 0 to 2³¹−1; such a body still goes on, with MsgCount -1.
	DrainBadMsgCount int64 `name:"drain.bad_msg_count"`
	// DrainReadErrors counts bodies that could not be read to the end,
	// mostly clients that went away (400).
	DrainReadErrors int64 `name:"drain.read_errors"`
	// LogshuttleDrops sums the Logshuttle-Drops headers: lines log-shuttle
	// says it dropped before sending.
	LogshuttleDrops int64 `name:"logshuttle.drops"`
	// LogshuttleLost sums the Logshuttle-Lost headers: lines log-shuttle
	// says it lost after failed posts.
	LogshuttleLost int64 `name:"logshuttle.lost"`

	// SyslogConnsOpen is the number of syslog connections open now.
	SyslogConnsOpen int64 `name:"syslog.conns_open"`
	// SyslogConns counts syslog connections accepted and served.
	SyslogConns int64 `name:"syslog.conns"`
	// SyslogConnsRejected counts connections closed at once because
	// SyslogConfig.MaxConns were open.
	SyslogConnsRejected int64 `name:"syslog.conns_rejected"`
	// SyslogTLSErrors counts TLS handshakes that failed or timed out.
	SyslogTLSErrors int64 `name:"syslog.tls_errors"`
	// SyslogReadTimeouts counts connections closed after
	// SyslogConfig.ReadTimeout without a complete frame or line: idle, or a
	// slowloris.
	SyslogReadTimeouts int64 `name:"syslog.read_timeouts"`
	// SyslogConnErrors counts connections that ended with an error other
	// than a timeout (a reset, say); a clean close is not counted.
	SyslogConnErrors int64 `name:"syslog.conn_errors"`
	// SyslogJobs counts jobs queued from syslog connections.
	SyslogJobs int64 `name:"syslog.jobs"`
	// SyslogBytes counts the bytes of those jobs.
	SyslogBytes int64 `name:"syslog.bytes"`
	// SyslogOverlong counts jobs that end inside a frame or line longer
	// than MaxFrame: pieces of one that filled the connection's buffer.
	SyslogOverlong int64 `name:"syslog.overlong"`
	// SyslogDropped counts jobs dropped because the queue stayed full.
	SyslogDropped int64 `name:"syslog.dropped"`
	// SyslogDroppedBytes counts the bytes of the jobs dropped.
	SyslogDroppedBytes int64 `name:"syslog.dropped_bytes"`
	// SyslogDroppedLines counts the frames and lines in the jobs dropped.
	SyslogDroppedLines int64 `name:"syslog.dropped_lines"`

	// AortaConnects counts connections made to aorta.
	AortaConnects int64 `name:"aorta.connects"`
	// AortaReconnects counts waits before connecting again, after a lost
	// connection or a failed dial.
	AortaReconnects int64 `name:"aorta.reconnects"`
	// AortaDialErrors counts failed dials (and failed writes of the secret).
	AortaDialErrors int64 `name:"aorta.dial_errors"`
	// AortaReadTimeouts counts connections dropped after
	// AortaConfig.ReadTimeout without data.
	AortaReadTimeouts int64 `name:"aorta.read_timeouts"`
	// AortaConnErrors counts connections that ended with an error other
	// than a timeout; a clean close by the server is not counted.
	AortaConnErrors int64 `name:"aorta.conn_errors"`
	// AortaJobs counts jobs queued from aorta.
	AortaJobs int64 `name:"aorta.jobs"`
	// AortaBytes counts the bytes of those jobs.
	AortaBytes int64 `name:"aorta.bytes"`
	// AortaOverlong counts jobs that end inside a line longer than
	// MaxFrame: pieces of one that filled the connection's buffer.
	AortaOverlong int64 `name:"aorta.overlong"`
	// AortaDropped counts jobs dropped because the queue stayed full.
	AortaDropped int64 `name:"aorta.dropped"`
	// AortaDroppedBytes counts the bytes of the jobs dropped.
	AortaDroppedBytes int64 `name:"aorta.dropped_bytes"`
	// AortaDroppedLines counts the lines (and frames) in the jobs dropped.
	AortaDroppedLines int64 `name:"aorta.dropped_lines"`

	// FileLines counts the lines and frames read from files and stdin (a
	// last line without a newline included).
	FileLines int64 `name:"file.lines"`
	// FileJobs counts jobs queued from files.
	FileJobs int64 `name:"file.jobs"`
	// FileBytes counts the bytes of those jobs.
	FileBytes int64 `name:"file.bytes"`
	// FileOverlong counts jobs that end inside a line or frame longer than
	// MaxFrame: pieces of one that filled the buffer.
	FileOverlong int64 `name:"file.overlong"`
	// FileReopens counts files opened again while following them, after
	// they were truncated or replaced.
	FileReopens int64 `name:"file.reopens"`
}

func (s *Stats) add(c counter, n int64) { s.c[c].Add(n) }

// Snapshot returns the counters as they are now. Each counter is read
// atomically, but not all of them at one instant.
func (s *Stats) Snapshot() StatsSnapshot { return counters.Load[StatsSnapshot](s.c[:]) }

// All yields every counter as a name and its value, in a fixed order. The
// names are lower case and dotted, "drain.requests" or "syslog.dropped",
// made to follow a prefix such as "pulse.input.".
func (s StatsSnapshot) All() iter.Seq2[string, int64] { return counters.All(s) }
