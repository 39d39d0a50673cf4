package input

import (
	"time"

	"golang.org/x/time/rate"
)

// logEvery is the shortest interval between two log lines about events that
// come in floods (drops, rejected requests); the counters have them all.
const logEvery = 10 * time.Second

// logLimit returns a log limiter that lets the first line through and then
// one every logEvery.
func logLimit() *rate.Sometimes { return &rate.Sometimes{Interval: logEvery} }
