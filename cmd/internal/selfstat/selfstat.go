// Package selfstat names the figures Pulse's live roles keep about
// themselves, beyond the self-stats of every definitions set
// (window.StatEvents and the rest). A receiver records them into its sets
// as stats named pulse.*, so they are cut, merged and shown on the
// dashboard like any other stat, as the original Pulse's queue watcher was;
// every receiver and merger builds its sets with Defs, or the mergers would
// refuse them as unknown.
package selfstat

import (
	"time"

	"github.com/pulsehq/pulse/stat/def"
)

// Names of the receivers' self-stats. Rates are per second over 10 s;
// Queue and PublishLatency are the largest value seen over 10 s.
const (
	Dropped              = "pulse.dropped"                // events (frames or lines) dropped because the queue was full
	Duplicates           = "pulse.duplicates"             // drain bodies dropped as retries of a body already folded (Logplex-Frame-Id)
	MsgCount             = "pulse.msgcount"               // drain bodies whose Logplex-Msg-Count disagreed with the frames read
	Mismatches           = "pulse.mismatches"             // octet counts that did not land on the next frame (resynchronised)
	InputRejected        = "pulse.input.rejected"         // requests or connections refused: auth, size, content type, connection limit
	ShuttleLost          = "pulse.logshuttle.lost"        // messages log-shuttle reported dropped or lost (Logshuttle-Drops + Logshuttle-Lost)
	PublishErrors        = "pulse.publish.errors"         // failed attempts to publish a cut to the bus
	PublishDropped       = "pulse.publish.dropped"        // cuts given up: not published in time, or the publish queue was full
	PublishDroppedEvents = "pulse.publish.dropped.events" // the events those cuts counted in pulse.events: merged pulse.events plus these is what the receivers folded
	PublishLatency       = "pulse.publish.latency"        // the slowest publish, in milliseconds
	Queue                = "pulse.queue"                  // the most jobs waiting for a worker
	OTLPRecords          = "pulse.otlp.records"           // OTLP log records queued (records in)
	OTLPRejected         = "pulse.otlp.rejected"          // OTLP log records rejected in a partial success (time past 2199, nesting too deep)
	Lag                  = "pulse.lag"                    // the web's: from the end of a snapshot's second to its arrival, in ms
	Shards               = "pulse.shards"                 // the web's: merger shards heard from recently
	window10s            = 10 * time.Second
)

// Defs returns the definitions of the receivers' self-stats, for
// window.SetOptions.SelfStats on receivers and mergers alike.
func Defs() []def.Def {
	rate := func(name, label string) def.Def {
		return def.Def{Name: name, Kind: def.KindRate, Per: time.Second, Window: window10s, Label: label, Group: "pulse", Unit: "/s"}
	}
	return []def.Def{
		rate(Dropped, "Dropped events/s"),
		rate(Duplicates, "Duplicate drain bodies/s"),
		rate(MsgCount, "Msg-count mismatches/s"),
		rate(Mismatches, "Octet-count mismatches/s"),
		rate(InputRejected, "Rejected requests/s"),
		rate(ShuttleLost, "log-shuttle lost/s"),
		rate(PublishErrors, "Publish errors/s"),
		rate(PublishDropped, "Dropped cuts/s"),
		rate(PublishDroppedEvents, "Events in dropped cuts/s"),
		rate(OTLPRecords, "OTLP records/s"),
		rate(OTLPRejected, "OTLP records rejected/s"),
		{Name: PublishLatency, Kind: def.KindMax, Of: "ms", Window: window10s, Label: "Publish latency (max)", Group: "pulse", Unit: "ms"},
		{Name: Queue, Kind: def.KindMax, Of: "jobs", Window: window10s, Label: "Queue depth (max)", Group: "pulse"},
	}
}
