package receiver

import (
	"net/http"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/otlp"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
)

// OTLPHandler is the OpenTelemetry logs input: POST /v1/logs (OTLP/HTTP,
// protobuf or JSON), configured by Config.OTLP. It queues on the same
// queue as the drain, for the same workers.
func (r *Receiver) OTLPHandler() http.Handler { return r.otlp }

// OTLPStats returns the OTLP input's counters.
func (r *Receiver) OTLPStats() otlp.StatsSnapshot { return r.ost.Snapshot() }

// foldOTLP folds the records of one OTLP request, which the handler
// decoded and validated.
func (w *worker) foldOTLP(b *otlp.Batch, j input.Job) {
	defer j.Release()
	var events int64
	for ev := range w.otlp.Events(b, j.Arrival) {
		if w.r.cfg.Arrival {
			ev.Time = j.Arrival
		}
		w.set.Fold(ev)
		events++
	}
	w.r.events.Add(events)
	w.observe(selfstat.Queue, float64(w.r.q.Len()))
}

// recordOTLP adds what the OTLP input counted since the previous cut to
// the self-stats: records in and rejected, records dropped on a full
// queue (pulse.dropped), requests refused (pulse.input.rejected), and
// bodies that did not decode (pulse.unparsed, as input the parser could
// not read; one per request, since its records cannot be counted).
func (w *worker) recordOTLP() {
	s, p := w.r.ost.Snapshot(), w.lastOTLP
	w.observe(selfstat.OTLPRecords, float64(s.Records-p.Records))
	w.observe(selfstat.OTLPRejected, float64(s.Rejected-p.Rejected))
	w.observe(selfstat.Dropped, float64(s.DroppedRecords-p.DroppedRecords))
	w.observe(selfstat.InputRejected, float64(s.BadMethod+s.Unauthorized+s.BadContentType+s.TooLarge-
		(p.BadMethod+p.Unauthorized+p.BadContentType+p.TooLarge)))
	if n := s.BadPayload - p.BadPayload; n > 0 {
		w.set.Unparsed(n)
	}
	w.lastOTLP = s
}
