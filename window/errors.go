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
)
