package otlp

import (
	"iter"
	"sync/atomic"

	"github.com/pulsehq/pulse/cmd/internal/counters"
)

// Stats counts what the OTLP handler sees. Take a Snapshot to read it.
//
// A Stats is safe for use by multiple goroutines. The zero value is ready.
type Stats struct {
	c [numCounters]atomic.Int64
}

// A counter indexes Stats.c. The constants run in the order of the fields
// of StatsSnapshot (TestStatsFieldOrder checks).
type counter int

const (
	requests counter = iota
	accepted
	records
	wireBytes
	decodedBytes
	empty
	rejected
	dropped
	droppedRecords
	badMethod
	unauthorized
	badContentType
	tooLarge
	badPayload
	readErrors

	numCounters
)

// StatsSnapshot holds the counters of a Stats at one moment. Every field
// only grows. Each field's tag names it as All yields it.
type StatsSnapshot struct {
	// Requests counts every request the handler saw.
	Requests int64 `name:"otlp.requests"`
	// Accepted counts requests whose records were queued (answered 200).
	Accepted int64 `name:"otlp.accepted"`
	// Records counts the log records queued: records in.
	Records int64 `name:"otlp.records"`
	// WireBytes counts the bytes of the bodies queued, as sent
	// (compressed when they were).
	WireBytes int64 `name:"otlp.wire_bytes"`
	// DecodedBytes counts the bytes of the bodies queued, decompressed.
	DecodedBytes int64 `name:"otlp.decoded_bytes"`
	// Empty counts requests without a record, answered 200 and not
	// queued.
	Empty int64 `name:"otlp.empty"`
	// Rejected counts the records answered as rejected in a partial
	// success: a time after 2199, or values nested too deep.
	Rejected int64 `name:"otlp.rejected"`
	// Dropped counts requests refused with 503 because the queue was
	// full; the sender retries them.
	Dropped int64 `name:"otlp.dropped"`
	// DroppedRecords counts the records of the requests dropped.
	DroppedRecords int64 `name:"otlp.dropped_records"`
	// BadMethod counts requests other than POST (405).
	BadMethod int64 `name:"otlp.bad_method"`
	// Unauthorized counts requests without the configured basic auth or
	// bearer token (401).
	Unauthorized int64 `name:"otlp.unauthorized"`
	// BadContentType counts requests whose Content-Type or
	// Content-Encoding is not one OTLP/HTTP allows (415).
	BadContentType int64 `name:"otlp.bad_content_type"`
	// TooLarge counts bodies over Config.MaxBody, or over
	// Config.MaxDecoded once decompressed (413).
	TooLarge int64 `name:"otlp.too_large"`
	// BadPayload counts bodies that are not a valid gzip stream, or not
	// an ExportLogsServiceRequest in the encoding their Content-Type names
	// (400): input that could not be parsed.
	BadPayload int64 `name:"otlp.bad_payload"`
	// ReadErrors counts bodies that could not be read to the end, mostly
	// clients that went away (400).
	ReadErrors int64 `name:"otlp.read_errors"`
}

func (s *Stats) add(c counter, n int64) { s.c[c].Add(n) }

// Snapshot returns the counters as they are now. Each counter is read
// atomically, but not all of them at one instant.
func (s *Stats) Snapshot() StatsSnapshot { return counters.Load[StatsSnapshot](s.c[:]) }

// All yields every counter as a name and its value, in a fixed order:
// "otlp.requests", "otlp.records", and so on, made to follow a prefix
// such as "pulse.input.".
func (s StatsSnapshot) All() iter.Seq2[string, int64] { return counters.All(s) }
