// Package wire reads the binary encodings of packages stat and fragment:
// unsigned and zig-zag varints as encoding/binary writes them, single
// bytes, little-endian IEEE 754 floats and length-prefixed bytes, from a
// byte slice, front to back.
//
// A [Reader] checks every read against the bytes that remain and every
// length or count against a limit the caller states, before the caller
// allocates for it. The first failure sticks: later reads return zero
// values, so a decoder reads every field and checks [Reader.Err] (or calls
// [Reader.Finish]) once. Failures are [*Error] values that say where the
// field began, what was wrong, with the numbers, and whether the input is
// malformed ([Corrupt]), beyond a limit ([Limit]) or of a version the
// caller does not read ([Version]); each package wraps them in its own
// sentinel errors. A Reader never allocates except to build that error,
// and never keeps its input past the caller's use of it: the byte slices
// it returns alias the input.
package wire
