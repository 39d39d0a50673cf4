package logfmt

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every *SyntaxError unwraps to one of ErrHeader,
// ErrTime, ErrCount or ErrTooLong, and also matches ErrSyntax with
// errors.Is.
var (
	// ErrSyntax matches every *SyntaxError.
	ErrSyntax = errors.New("syntax error")
	// ErrHeader reports a malformed header: a bad PRI or version, or a
	// missing field.
	ErrHeader = errors.New("malformed header")
	// ErrTime reports a timestamp that is not RFC 3339, or is outside
	// [MinTimeUnix, MaxTimeUnix).
	ErrTime = errors.New("bad timestamp")
	// ErrCount reports an octet count that is not followed by a space and
	// '<', or that has too many digits.
	ErrCount = errors.New("malformed octet count")
	// ErrTooLong reports a frame or line longer than the reader's MaxFrame.
	ErrTooLong = errors.New("frame too long")
)

// SyntaxError reports input that could not be parsed: where it starts and
// what was wrong. A Reader returns one per bad frame and then carries on.
type SyntaxError struct {
	// Offset is the byte offset of the problem: from the start of the
	// stream for a Reader, from the start of the input for ParseFrame and
	// ParseLine.
	Offset int64
	// Form is the form the input was being parsed as.
	Form Form
	// Msg says what was wrong, in lower case.
	Msg string
	// Err is the sentinel: ErrHeader, ErrTime, ErrCount or ErrTooLong.
	Err error
}

// Error returns "logfmt: <form> at offset N: <msg>".
func (e *SyntaxError) Error() string {
	return "logfmt: " + e.Form.String() + " at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Unwrap returns the sentinel (ErrHeader, ErrTime, ErrCount or
// ErrTooLong).
func (e *SyntaxError) Unwrap() error { return e.Err }

// Is reports whether target is ErrSyntax, so that every SyntaxError
// matches it.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

func syntaxErr(off int, form Form, sentinel error, msg string) *SyntaxError {
	return &SyntaxError{Offset: int64(off), Form: form, Msg: msg, Err: sentinel}
}
