package stat

import "errors"

// Sentinel errors. Every error this package returns wraps exactly one of
// them; match with errors.Is.
var (
	// ErrIncompatible reports a merge of stats of different kinds or with
	// different parameters.
	ErrIncompatible = errors.New("incompatible stats")
	// ErrCorrupt reports an encoding that is truncated, has trailing bytes,
	// carries another kind's tag, or holds a value that cannot occur (a NaN,
	// a count that does not add up).
	ErrCorrupt = errors.New("corrupt encoding")
	// ErrVersion reports an encoding version this package does not read.
	ErrVersion = errors.New("unknown encoding version")
	// ErrLimit reports a parameter or length beyond a documented limit, in
	// an encoding or a constructor.
	ErrLimit = errors.New("beyond limit")
)
