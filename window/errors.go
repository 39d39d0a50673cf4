package window

import "errors"

// Sentinel errors. Errors from this package wrap one of these, or
// stat.ErrIncompatible for a delta that does not fit a window; match with
// errors.Is.
var (
	// ErrOptions reports Options out of range for New and NewFunc.
	ErrOptions = errors.New("invalid options")
	// ErrUnknown reports a delta for a name a Set does not hold.
	ErrUnknown = errors.New("unknown window")
	// ErrDuplicate reports a second window with a name a Set already holds.
	ErrDuplicate = errors.New("duplicate window")
	// ErrClock reports a call the clock does not allow: Apply or Snapshot
	// before the clock is set, Advance on a set that follows event time
	// (EventClock), a snapshot time after End, or a read that needs a
	// bucket Advance dropped while it held data. See the package
	// documentation, section Clock.
	ErrClock = errors.New("clock misuse")
)
