package logfmt

import "bytes"

// maxCountDigits bounds an octet count: 19 digits hold any int64. A count
// over MaxFrame is read as a wrong count, so that a frame with a corrupt
// count of 10^12 is still found.
const maxCountDigits = 19

var facilityNames = [24][]byte{
	[]byte("kern"), []byte("user"), []byte("mail"), []byte("daemon"),
	[]byte("auth"), []byte("syslog"), []byte("lpr"), []byte("news"),
	[]byte("uucp"), []byte("cron"), []byte("authpriv"), []byte("ftp"),
	[]byte("ntp"), []byte("security"), []byte("console"), []byte("solaris-cron"),
	[]byte("local0"), []byte("local1"), []byte("local2"), []byte("local3"),
	[]byte("local4"), []byte("local5"), []byte("local6"), []byte("local7"),
}

var severityNames = [8][]byte{
	[]byte("emerg"), []byte("alert"), []byte("crit"), []byte("err"),
	[]byte("warning"), []byte("notice"), []byte("info"), []byte("debug"),
}

// ParseFrame parses one RFC 5424 message into ev, replacing what ev held:
// "<PRI>VERSION TIMESTAMP HOST APP PROCID MSGID [SD] MSG", optionally
// preceded by an RFC 6587 octet count and a space, and optionally ending in
// a newline (which is not part of Msg).
//
// The STRUCTURED-DATA field is optional, as logplex leaves it out: after
// MSGID, a "-" followed by a space (or the end) is read as the SD
// NILVALUE, and a well-formed "[id k=\"v\"]..." followed by a space (or the
// end) as structured data; anything else starts the message. The octet
// count itself is not checked against len(b): framing is the Reader's job.
//
// Errors are *SyntaxError with the offset in b. On an error wrapping
// [ErrTime] the event is complete except its time: a TIMESTAMP that is not
// RFC 3339, or is outside [MinTimeUnix, MaxTimeUnix), leaves Time zero and
// Timestamp holding the raw text, and every other header field and every
// pair is filled as usual. Any other error leaves ev holding what was
// parsed before the problem.
func ParseFrame(b []byte, ev *Event) error {
	ev.reset()
	b = trimEOL(b)
	i := 0
	form := FormRFC5424
	if len(b) > 0 && isDigit(b[0]) {
		k, ok := countPrefix(b)
		if !ok {
			return syntaxErr(k, FormOctet, ErrCount, "octet count not followed by a space and '<'")
		}
		i, form = k, FormOctet
	}
	return ev.parse5424(b, i, form)
}

// countPrefix checks that b starts with an octet count, a space and '<',
// and returns the index of the '<' (or of the problem).
func countPrefix(b []byte) (int, bool) {
	k := 0
	for k < len(b) && isDigit(b[k]) {
		k++
	}
	if k > maxCountDigits {
		return maxCountDigits, false
	}
	if k+1 >= len(b) || b[k] != ' ' || b[k+1] != '<' {
		return k, false
	}
	return k + 1, true
}

// parse5424 parses the message that starts at b[i] ('<'):
// "<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG". For
// FormSyslog it starts at TIMESTAMP, and also takes "TIMESTAMP HOSTNAME
// APP[PROC] MSG". A bad timestamp does not stop it: the rest is parsed,
// and the ErrTime error is returned at the end.
func (e *Event) parse5424(b []byte, i int, form Form) error {
	e.Form = form
	if form != FormSyslog {
		if i >= len(b) || b[i] != '<' {
			return syntaxErr(i, form, ErrHeader, "missing '<' of PRI")
		}
		i++
		pri, k := 0, i
		for k < len(b) && isDigit(b[k]) && k-i < 3 {
			pri = pri*10 + int(b[k]-'0')
			k++
		}
		if k == i || k >= len(b) || b[k] != '>' || pri > 191 {
			return syntaxErr(i, form, ErrHeader, "PRI is not 0 to 191 followed by '>'")
		}
		e.Priority = pri
		e.Facility = facilityNames[pri>>3]
		e.Severity = severityNames[pri&7]
		i = k + 1
		k = i
		for k < len(b) && isDigit(b[k]) && k-i < 2 {
			k++
		}
		if k == i || b[i] == '0' || k >= len(b) || b[k] != ' ' {
			return syntaxErr(i, form, ErrHeader, "VERSION is not 1 to 99 followed by a space")
		}
		i = k + 1
	}

	start := i
	var ok bool
	if e.Timestamp, i, ok = field(b, i); !ok {
		return syntaxErr(i, form, ErrHeader, "missing TIMESTAMP")
	}
	var terr error
	if len(e.Timestamp) != 1 || e.Timestamp[0] != '-' {
		if e.Time, ok = e.times.parse(e.Timestamp); !ok {
			terr = syntaxErr(start, form, ErrTime, timeMsg("TIMESTAMP", e.Timestamp))
		}
	}
	if e.Host, i, ok = field(b, i); !ok {
		return syntaxErr(i, form, ErrHeader, "missing HOSTNAME")
	}
	if form == FormSyslog {
		if t, next, _ := field(b, i); isTag(t) {
			e.App, e.Proc, _ = procField(t, false)
			e.Msg = b[next:]
			e.parseBody(e.Msg)
			return terr
		}
	}
	if e.App, i, ok = field(b, i); !ok {
		return syntaxErr(i, form, ErrHeader, "missing APP-NAME")
	}
	if e.Proc, i, ok = field(b, i); !ok {
		return syntaxErr(i, form, ErrHeader, "missing PROCID")
	}
	if e.MsgID, i, ok = field(b, i); !ok {
		return syntaxErr(i, form, ErrHeader, "missing MSGID")
	}
	rest := b[i:]
	if len(rest) > 0 {
		switch rest[0] {
		case '-':
			if len(rest) == 1 || rest[1] == ' ' {
				e.StructuredData = rest[:1:1]
				rest = rest[min(2, len(rest)):]
			}
		case '[':
			if n := sdLen(rest); n > 0 && (n == len(rest) || rest[n] == ' ') {
				e.StructuredData = rest[:n:n]
				rest = rest[min(n+1, len(rest)):]
			}
		}
	}
	e.Msg = rest
	e.parseBody(rest)
	return terr
}

// field returns the header field that starts at b[i] and ends at the next
// space (or the end of b), and the index after that space. ok is false for
// an empty field or when i is at the end; next is at most len(b).
func field(b []byte, i int) (f []byte, next int, ok bool) {
	if i >= len(b) {
		return nil, i, false
	}
	k := scanSpace(b, i) - i
	if k == 0 {
		return nil, i, false
	}
	return b[i : i+k : i+k], min(i+k+1, len(b)), true
}

// sdLen returns the length of the well-formed RFC 5424 STRUCTURED-DATA at
// the start of b ("[id k=\"v\" ...]" repeated), or 0.
func sdLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] == '[' {
		i++
		// SD-ID and each PARAM-NAME: printable, no space, '=', ']', '"'.
		n := sdName(b[i:])
		if n == 0 {
			return 0
		}
		i += n
		for i < len(b) && b[i] == ' ' {
			i++
			n := sdName(b[i:])
			if n == 0 || i+n+1 >= len(b) || b[i+n] != '=' || b[i+n+1] != '"' {
				return 0
			}
			i += n + 2
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0
			}
			i++ // closing quote
		}
		if i >= len(b) || b[i] != ']' {
			return 0
		}
		i++
	}
	return i
}

func sdName(b []byte) int {
	n := 0
	for n < len(b) && n < 32 {
		c := b[n]
		if c <= ' ' || c >= 127 || c == '=' || c == ']' || c == '"' {
			break
		}
		n++
	}
	return n
}

// ParseLine parses one line of any form into ev, replacing what ev held.
// The form is detected from the line's start:
//
//   - digits, a space and '<': an octet-counted frame (see ParseFrame);
//   - '<': an RFC 5424 message;
//   - an RFC 3339 timestamp, then "SOURCE[DYNO]:": the heroku logs view;
//   - an RFC 3339 timestamp, a host, "FACILITY.SEVERITY" (a syslog
//     facility name such as local3, a dot and a severity) or any third
//     token, then "APP[PROC]:" or "APP:": the classic Pulse line;
//   - an RFC 3339 timestamp, a host, then "APP[PROC]" (with or without a
//     colon), or then three more header fields (APP-NAME, PROCID, MSGID;
//     printable ASCII within RFC 5424's lengths): the syslog form;
//   - any other line that starts with an RFC 3339 timestamp: the classic
//     Pulse line, which will report what is missing;
//   - anything else: a bare logfmt body, which never fails.
//
// A trailing "\n" or "\r\n" is ignored. Errors are *SyntaxError with the
// offset in b.
//
// On an error wrapping [ErrTime] the event is complete except its time: a
// timestamp that is not RFC 3339, or is outside [MinTimeUnix,
// MaxTimeUnix), leaves Time zero and Timestamp holding the raw text, and
// every other header field and every pair is filled as usual. Any other
// error leaves ev holding what was parsed before the problem.
func ParseLine(b []byte, ev *Event) error {
	b = trimEOL(b)
	form := detect(b)
	return parseAs(b, form, ev)
}

// detect returns the form of line b.
func detect(b []byte) Form {
	if len(b) == 0 {
		return FormLogfmt
	}
	switch c := b[0]; {
	case c == '<':
		return FormRFC5424
	case isDigit(c):
		if _, ok := countPrefix(b); ok {
			return FormOctet
		}
		if looksLikeTime(b) {
			return detectTimed(b)
		}
	}
	return FormLogfmt
}

// detectTimed returns the form of line b, which starts with a timestamp:
// heroku logs, classic or syslog, by the rules in ParseLine's comment.
func detectTimed(b []byte) Form {
	_, i, _ := field(b, 0)
	host, i, ok := field(b, i)
	if !ok {
		return FormClassic
	}
	if host[len(host)-1] == ':' {
		return FormHerokuLogs
	}
	t2, i, ok2 := field(b, i)
	t3, i, ok3 := field(b, i)
	switch {
	case ok3 && t3[len(t3)-1] == ':':
		return FormClassic
	case !ok2:
		return FormClassic
	case isTag(t2):
		return FormSyslog
	case isFacilitySeverity(t2):
		return FormClassic
	}
	t4, _, ok4 := field(b, i)
	if ok3 && ok4 && headerToken(t2, 48) && headerToken(t3, 128) && headerToken(t4, 32) {
		return FormSyslog
	}
	return FormClassic
}

// isTag reports whether t is a syslog tag "APP[PROC]" or "APP[PROC]:",
// with APP and PROC not empty.
func isTag(t []byte) bool {
	app, proc, ok := procField(t, false)
	return ok && len(app) > 0 && len(proc) > 0
}

// isFacilitySeverity reports whether t is "FACILITY.SEVERITY" with a
// syslog facility name ("local3.info").
func isFacilitySeverity(t []byte) bool {
	dot := bytes.IndexByte(t, '.')
	if dot <= 0 || dot == len(t)-1 {
		return false
	}
	for _, name := range facilityNames {
		if string(name) == string(t[:dot]) {
			return true
		}
	}
	return false
}

// headerToken reports whether t is an RFC 5424 header field: at most max
// bytes of printable US-ASCII.
func headerToken(t []byte, max int) bool {
	if len(t) > max {
		return false
	}
	for _, c := range t {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// parseAs parses line b (without its end of line) as the given form.
func parseAs(b []byte, form Form, ev *Event) error {
	switch form {
	case FormOctet, FormRFC5424:
		return ParseFrame(b, ev)
	case FormClassic:
		return ev.parseClassic(b)
	case FormHerokuLogs:
		return ev.parseHerokuLogs(b)
	case FormSyslog:
		ev.reset()
		return ev.parse5424(b, 0, FormSyslog)
	}
	ParseBody(b, ev)
	return nil
}

func looksLikeTime(b []byte) bool {
	return len(b) >= 20 && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) && b[4] == '-' && b[7] == '-' && (b[10] == 'T' || b[10] == 't')
}

// timeField reads the leading timestamp of a classic or heroku-logs line.
// A missing one is an error (err); one that is there but bad is not, and
// gives terr, wrapping ErrTime, for the caller to return once the rest of
// the line is parsed.
func (e *Event) timeField(b []byte) (i int, terr, err error) {
	ts, i, ok := field(b, 0)
	if !ok {
		return 0, nil, syntaxErr(0, e.Form, ErrHeader, "missing timestamp")
	}
	e.Timestamp = ts
	if e.Time, ok = e.times.parse(ts); !ok {
		terr = syntaxErr(0, e.Form, ErrTime, timeMsg("timestamp", ts))
	}
	return i, terr, nil
}

// procField splits "APP[PROC]:" (or "APP:") into its parts. With colon
// false the colon is optional.
func procField(t []byte, colon bool) (app, proc []byte, ok bool) {
	if len(t) > 0 && t[len(t)-1] == ':' {
		t = t[:len(t)-1]
	} else if colon {
		return nil, nil, false
	}
	if len(t) == 0 {
		return nil, nil, false
	}
	if t[len(t)-1] != ']' {
		return t, nil, true
	}
	open := bytes.IndexByte(t, '[')
	if open <= 0 {
		return nil, nil, false
	}
	return t[:open:open], t[open+1 : len(t)-1 : len(t)-1], true
}

// parseHerokuLogs parses "TIME SOURCE[DYNO]: MSG".
func (e *Event) parseHerokuLogs(b []byte) error {
	e.reset()
	e.Form = FormHerokuLogs
	i, terr, err := e.timeField(b)
	if err != nil {
		return err
	}
	t, next, _ := field(b, i)
	var ok bool
	if e.App, e.Proc, ok = procField(t, true); !ok || e.Proc == nil {
		return syntaxErr(i, e.Form, ErrHeader, "source is not SOURCE[DYNO]:")
	}
	e.Msg = b[min(next, len(b)):]
	e.parseBody(e.Msg)
	return terr
}

// parseClassic parses
// "TIME HOST FACILITY.SEVERITY APP[PROC]: - SLOT.INSTANCE@CLOUD MSG"; the
// "- " and the slot token are optional.
func (e *Event) parseClassic(b []byte) error {
	e.reset()
	e.Form = FormClassic
	i, terr, err := e.timeField(b)
	if err != nil {
		return err
	}
	var ok bool
	if e.Host, i, ok = field(b, i); !ok {
		return syntaxErr(i, e.Form, ErrHeader, "missing host")
	}
	fs, next, ok := field(b, i)
	dot := bytes.IndexByte(fs, '.')
	if !ok || dot <= 0 || dot == len(fs)-1 {
		return syntaxErr(i, e.Form, ErrHeader, "missing facility.severity")
	}
	e.Facility, e.Severity = fs[:dot:dot], fs[dot+1:]
	i = next
	t, next, _ := field(b, i)
	if e.App, e.Proc, ok = procField(t, true); !ok {
		return syntaxErr(i, e.Form, ErrHeader, "missing APP[PROC]:")
	}
	i = next
	if i+1 < len(b) && b[i] == '-' && b[i+1] == ' ' {
		i += 2
	} else if i+1 == len(b) && b[i] == '-' {
		i++
	}
	if t, next, ok := field(b, i); ok {
		if at := bytes.IndexByte(t, '@'); at > 0 {
			slot := t[:at:at]
			e.Cloud = t[at+1:]
			if dot := bytes.LastIndexByte(slot, '.'); dot > 0 {
				e.Slot, e.Instance = slot[:dot:dot], slot[dot+1:]
			} else {
				e.Slot = slot
			}
			i = next
		}
	}
	e.Msg = b[min(i, len(b)):]
	e.parseBody(e.Msg)
	return terr
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
