package receiver

import (
	"bytes"
	"context"
	"time"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// DemoIncidents is how often the demo generator replays its incident
// timeline (an H12 burst, a crash, R14, an L10, a deploy), so that the
// dashboard of a new user moves within minutes.
const DemoIncidents = 3 * time.Minute

// demoStep is the event time the demo writes at once.
const demoStep = 100 * time.Millisecond

// runDemo writes generated Heroku traffic in real time, about rate
// request lines per second plus the platform's metrics lines, handing each
// step's octet-counted frames to put with the step's arrival time. It
// returns ctx's error when ctx is done.
func runDemo(ctx context.Context, rate float64, seed uint64, put func(data []byte, arrival time.Time)) error {
	began := time.Now()
	g := logfmttest.New(logfmttest.Options{
		Seed: seed, Rate: rate, Start: began.UTC(),
		Format: logfmttest.Drain, IncidentEvery: DemoIncidents,
	})
	var buf bytes.Buffer
	t := time.NewTicker(demoStep)
	defer t.Stop()
	for done := time.Duration(0); ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		// Catch up with the wall clock in whole steps, so a stalled
		// process writes what it missed rather than drifting.
		for done+demoStep <= time.Since(began) {
			buf.Reset()
			if _, err := g.WriteFor(&buf, demoStep); err != nil {
				return err
			}
			done += demoStep
			if buf.Len() > 0 {
				put(buf.Bytes(), time.Now())
			}
		}
	}
}
