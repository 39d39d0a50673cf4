package window

import (
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Delta is one bucket's stat handed from a Cut to an Apply: what window
// Name observed in [Start, Start + Width) since the previous cut. Start is
// a multiple of Width in Unix time.
type Delta struct {
	Name  string
	Kind  stat.Kind
	Start time.Time
	Width time.Duration
	Stat  stat.Stat
}
