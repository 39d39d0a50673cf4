package logfmt

import (
	"errors"
	"strconv"
)

// Form is the shape of one input line or frame.
type Form uint8

// The input forms, in the order Pulse meets them.
const (
	// FormUnknown means "not yet known"; in ReaderOptions it asks the reader
	// to detect the form of every frame or line.
	FormUnknown Form = iota
	// FormOctet is an octet-counted RFC 5424 frame (RFC 6587), as Heroku's
	// logplex posts to HTTPS drains and writes to syslog drains.
	FormOctet
	// FormRFC5424 is a newline-delimited RFC 5424 message without a count.
	FormRFC5424
	// FormClassic is the classic Pulse line:
	// "TIME HOST FACILITY.SEVERITY APP[PROC]: - SLOT.INSTANCE@CLOUD MSG".
	FormClassic
	// FormHerokuLogs is a line as "heroku logs" prints it:
	// "TIME SOURCE[DYNO]: MSG".
	FormHerokuLogs
	// FormLogfmt is a bare logfmt line with no header.
	FormLogfmt
	// FormSyslog is a syslog message as a receiver writes it to a file or
	// a web page prints it, without PRI and VERSION: an RFC 5424 header
	// "TIME HOST APP PROCID MSGID [SD] MSG" (Dev Center's syslog-drain
	// example "2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567
	// heroku logplex - - Error L10 ..."), or a tag,
	// "TIME HOST APP[PROC] MSG" or "TIME HOST APP[PROC]: MSG". It has no
	// Priority, Facility or Severity; the tagged shape has no MsgID.
	FormSyslog
)

var formNames = [...]string{
	FormUnknown:    "unknown",
	FormOctet:      "octet",
	FormRFC5424:    "rfc5424",
	FormClassic:    "classic",
	FormHerokuLogs: "heroku-logs",
	FormLogfmt:     "logfmt",
	FormSyslog:     "syslog",
}

// String returns the form's name ("octet", "rfc5424", "classic",
// "heroku-logs", "logfmt", "syslog", "unknown"). It never panics: an out-of-range
// value prints as "form(N)".
func (f Form) String() string {
	if int(f) < len(formNames) {
		return formNames[f]
	}
	return "form(" + strconv.Itoa(int(f)) + ")"
}

// MarshalText returns the form's name, as String does.
func (f Form) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText sets the form from its name ("octet", "rfc5424",
// "classic", "heroku-logs", "logfmt", "syslog"; "unknown", "auto" or "" for
// FormUnknown), so a Form can be a flag.TextVar.
func (f *Form) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "auto":
		*f = FormUnknown
		return nil
	}
	for i, name := range formNames {
		if name == string(b) {
			*f = Form(i)
			return nil
		}
	}
	return errors.New("logfmt: unknown form " + strconv.Quote(string(b)))
}
