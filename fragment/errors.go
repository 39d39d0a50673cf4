package fragment

import "errors"

// Sentinel errors. Every error this package returns wraps one of them;
// match with errors.Is.
var (
	// ErrCorrupt reports input that is not a well-formed batch: bad magic,
	// truncated, trailing bytes, an index or value out of range.
	ErrCorrupt = errors.New("corrupt batch")
	// ErrChecksum reports a batch whose CRC-32C does not match its bytes.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrVersion reports a format version or flag this package does not
	// read.
	ErrVersion = errors.New("unknown format version")
	// ErrLimit reports a length or count beyond a Limits value.
	ErrLimit = errors.New("beyond limit")
	// ErrInvalid reports a Batch or Fragment that cannot be encoded: a
	// start not aligned to its width, a width that is not positive, stat
	// bytes that do not begin with the fragment's kind, a time outside the
	// years 1678–2262.
	ErrInvalid = errors.New("invalid batch")
	// ErrApply reports a batch, or fragments of it, that Applier.Apply
	// did not apply to its set. It comes with the set's own error:
	// window.ErrClock, window.ErrUnknown, stat.ErrIncompatible, or
	// ErrCorrupt for a stat that did not decode.
	ErrApply = errors.New("not applied")
)
