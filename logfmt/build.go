package logfmt

// Building an Event by hand, for inputs whose records arrive as fields
// rather than as a line of text (OpenTelemetry log records, say): Reset,
// then set the header fields, append pairs and at most a few bodies. The
// result is an Event like any the parser makes, so definitions match it
// the same way.

// Reset empties the event for building by hand: every header field is
// nil or zero (Priority -1, Form FormUnknown) and there are no pairs. The
// event keeps its storage, so an event reset and rebuilt for every record
// allocates nothing once its storage has grown to the largest record.
// Copies that SetHeader, AppendPair and AppendPairString made, and every
// field and pair read from the event, are invalid after Reset.
func (e *Event) Reset() { e.reset() }

// SetHeader sets the header field name to a copy of value, kept in the
// event's own storage until the next Reset or parse. The names are those
// Header takes: "app", "proc", "host", "facility", "severity", "msgid",
// "slot", "instance", "cloud", "timestamp" and "sd". It reports false, and
// changes nothing, for any other name. Setting "timestamp" does not set
// Time: set that field directly.
//
// To borrow bytes instead of copying them, assign the field (ev.App = b):
// the bytes must then stay unchanged for as long as the event is used.
func (e *Event) SetHeader(name, value string) bool {
	var f *[]byte
	switch name {
	case "app":
		f = &e.App
	case "proc":
		f = &e.Proc
	case "host":
		f = &e.Host
	case "facility":
		f = &e.Facility
	case "severity":
		f = &e.Severity
	case "msgid":
		f = &e.MsgID
	case "slot":
		f = &e.Slot
	case "instance":
		f = &e.Instance
	case "cloud":
		f = &e.Cloud
	case "timestamp":
		f = &e.Timestamp
	case "sd":
		f = &e.StructuredData
	default:
		return false
	}
	start := len(e.scratch)
	e.scratch = append(e.scratch, value...)
	*f = e.scratch[start:len(e.scratch):len(e.scratch)]
	return true
}

// AppendPair appends the pair key=value after the event's pairs, copying
// both into the event's own storage, where they stay valid until the
// next Reset or parse. The pair is never a flag: a nil value is the empty
// value. Like a parsed pair, it may repeat an earlier key, and Lookup then
// finds it rather than the earlier one.
func (e *Event) AppendPair(key, value []byte) { appendPair(e, key, value) }

// AppendPairString is AppendPair for strings.
func (e *Event) AppendPairString(key, value string) { appendPair(e, key, value) }

func appendPair[T string | []byte](e *Event, key, value T) {
	p := e.addSpan()
	k := len(e.scratch)
	e.scratch = append(e.scratch, key...)
	v := len(e.scratch)
	e.scratch = append(e.scratch, value...)
	p.k, p.ke = uint32(k)|inScratch, uint32(v)
	p.v, p.ve = uint32(v)|inScratch, uint32(len(e.scratch))
}

// AppendBody reads b as a message body, by the rules of the package
// comment's Bodies section (JSON object or logfmt, exactly as ParseBody
// reads it), and appends its pairs after the event's pairs. The pairs
// borrow from b, as ParseBody's do, so b must stay unchanged for as long as
// the event is used. AppendBody leaves Msg and the header fields alone:
// set Msg to b when b is the record's message, as ParseBody does, so that
// definitions reading msg see it.
//
// Order matters only for duplicate keys: Lookup takes the last pair, so
// pairs appended after the body override the body's, and the body's
// override those appended before it.
//
// An event borrows from one body at a time. AppendBody on an event that
// has one already (from an earlier AppendBody, ParseBody, ParseFrame,
// ParseLine or a Reader) first copies that body into the event's own
// storage, which costs a copy of it but keeps every pair valid.
func (e *Event) AppendBody(b []byte) {
	if e.body != nil {
		e.ownBody()
	}
	e.keysOK = false
	if len(b) == 0 {
		return
	}
	e.parseBody(b)
}

// ownBody copies the body the pairs borrow from into the event's scratch
// storage and points the pairs there, so that another body may be read.
func (e *Event) ownBody() {
	base := uint32(len(e.scratch))
	e.scratch = append(e.scratch, e.body...)
	for i := range e.n {
		s := e.spanAt(i)
		if s.k&inScratch == 0 {
			s.k, s.ke = (s.k+base)|inScratch, s.ke+base
		}
		if s.ve != isFlag && s.v&inScratch == 0 {
			s.v, s.ve = (s.v+base)|inScratch, s.ve+base
		}
	}
	e.body = nil
}
