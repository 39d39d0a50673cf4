package logfmt

import (
	"iter"
	"strconv"
	"time"
)

// inlinePairs is how many pairs an Event keeps without allocating. Router
// lines carry about 15, Postgres metrics lines about 25.
const inlinePairs = 32

// Pair is one key-value pair of a body. Key and Value are borrowed like
// the Event's fields.
type Pair struct {
	// Key is the key as written (never quoted). In a JSON body it is
	// unescaped, and a member of a nested object has the keys of the
	// objects around it in front, joined with dots ("req.headers.host").
	Key []byte
	// Value is the value, unquoted and unescaped; empty (not nil) for
	// "key=" and for JSON null, nil for a flag. A JSON number or boolean
	// is its text as written, an array or an empty object its raw JSON.
	Value []byte
	// Flag is true for a bare key with no '=' (a word of free text is a
	// flag too).
	Flag bool
}

// Event is one parsed log line or frame: the header fields of its form and
// the ordered pairs of its body, read as logfmt or as JSON.
//
// Every []byte field, and every Pair, is borrowed: it points into the
// input (for ParseFrame, ParseLine, ParseBody) or into the Reader's buffer,
// and is valid only until the input is changed or the next call to
// [Reader.Next]. Copy what you keep. Header fields absent from the form are
// nil; fields written as the RFC 5424 NILVALUE hold "-".
//
// An Event is reused: parse functions reset it first. It can also be
// built by hand: Reset, then set header fields, AppendPair and
// AppendBody (the package comment's Building events). The zero Event is
// empty and ready. An Event is not safe for concurrent use.
type Event struct {
	// Form is the form the event was parsed from.
	Form Form
	// Time is the timestamp in UTC, zero when the form has none or it is
	// the NILVALUE.
	Time time.Time
	// Timestamp is the raw timestamp as written.
	Timestamp []byte
	// Priority is the syslog PRI (0..191), or -1 when absent (the classic
	// form gives facility and severity names instead).
	Priority int
	// Facility and Severity are names such as "local3" and "info", derived
	// from Priority or read from a classic line. Derived names are static
	// and must not be modified.
	Facility, Severity []byte
	// Host, App, Proc and MsgID are the RFC 5424 HOSTNAME, APP-NAME, PROCID
	// and MSGID; the classic and heroku-logs forms fill those they have.
	Host, App, Proc, MsgID []byte
	// StructuredData is the raw RFC 5424 STRUCTURED-DATA ("-" or
	// "[id k=\"v\"]..."), nil when the frame has none, as logplex sends.
	StructuredData []byte
	// Slot, Instance and Cloud come from the classic form's
	// "slot.instance@cloud" token, and are nil otherwise.
	Slot, Instance, Cloud []byte
	// Msg is the raw message body, without the frame's trailing newline.
	Msg []byte

	body    []byte            // what the spans index
	n       int               // pairs in use
	inline  [inlinePairs]span // the first pairs
	more    []span            // pairs after the first inlinePairs
	scratch []byte            // unescaped quoted values, joined JSON keys
	path    []byte            // the key path of the JSON object being read
	json    bool              // the body was read as JSON
	times   timeCache         // the last timestamp's minute
	keys    [keySlots]uint8   // open-addressed index: pair number + 1 of each key's last pair
	keysOK  bool              // keys indexes the current pairs
}

// keySlots is the size of an Event's key index, which Lookup builds on
// its first call for an event with at most maxIndexed pairs: most events
// are looked up many times (once per stat definition), and the index
// answers each in a probe or two instead of a scan of every pair.
const (
	keySlots   = 64
	maxIndexed = 40
)

// keyHash places a key in the index, from its length and its first and
// last bytes.
func keyHash(first, last byte, n int) uint {
	return (uint(first)*31 + uint(n)*17 + uint(last)*7) & (keySlots - 1)
}

// indexKeys builds the key index of the current pairs.
func (e *Event) indexKeys() {
	e.keys = [keySlots]uint8{}
	for i := range e.n {
		s := e.spanAt(i)
		k := e.keyOf(s)
		h := uint(0)
		if len(k) > 0 {
			h = keyHash(k[0], k[len(k)-1], len(k))
		}
		for ; ; h = (h + 1) & (keySlots - 1) {
			j := e.keys[h]
			if j == 0 {
				e.keys[h] = uint8(i + 1)
				break
			}
			if o := e.spanAt(int(j - 1)); string(e.keyOf(o)) == string(k) {
				e.keys[h] = uint8(i + 1) // a later duplicate wins
				break
			}
		}
	}
	e.keysOK = true
}

// span locates one pair: the key is body[k:ke], or scratch[k&^inScratch:ke]
// when k has the inScratch bit (a joined or unescaped JSON key); the value
// is body[v:ve], or scratch[v&^inScratch:ve] when v has the inScratch bit,
// or absent (a flag) when ve is isFlag. Offsets keep a pair at 16 bytes, a third of a
// Pair, which is most of what a parse writes.
type span struct {
	k, ke, v, ve uint32
}

const (
	inScratch = 1 << 31
	isFlag    = 1<<32 - 1
	// maxBody is the longest body whose every byte is parsed; the rest of
	// a longer one is ignored (a Reader's MaxFrame is far below it).
	maxBody = 1<<31 - 1
)

// reset clears the event for reuse, keeping its storage.
func (e *Event) reset() {
	e.Form = FormUnknown
	e.Time = time.Time{}
	e.Timestamp = nil
	e.Priority = -1
	e.Facility, e.Severity = nil, nil
	e.Host, e.App, e.Proc, e.MsgID = nil, nil, nil, nil
	e.StructuredData = nil
	e.Slot, e.Instance, e.Cloud = nil, nil, nil
	e.Msg = nil
	e.resetPairs()
}

func (e *Event) resetPairs() {
	e.body = nil
	e.n = 0
	e.keysOK = false
	e.more = e.more[:0]
	e.scratch = e.scratch[:0]
	e.json = false
}

// Len returns the number of pairs in the body.
func (e *Event) Len() int { return e.n }

// Pair returns the i-th pair, in the order written. It panics if i is out
// of range [0, Len()), like a slice index.
func (e *Event) Pair(i int) Pair {
	if uint(i) >= uint(e.n) {
		panic("logfmt: pair index " + itoa(i) + " out of range [0:" + itoa(e.n) + "]")
	}
	return e.pairOf(e.spanAt(i))
}

func (e *Event) spanAt(i int) *span {
	if i < inlinePairs {
		return &e.inline[i]
	}
	return &e.more[i-inlinePairs]
}

// keyOf returns the key that s locates.
func (e *Event) keyOf(s *span) []byte {
	if s.k&inScratch != 0 {
		return e.scratch[s.k&^inScratch : s.ke : s.ke]
	}
	return e.body[s.k:s.ke:s.ke]
}

// pairOf builds the Pair that s locates.
func (e *Event) pairOf(s *span) Pair {
	p := Pair{Key: e.keyOf(s)}
	switch {
	case s.ve == isFlag:
		p.Flag = true
	case s.v&inScratch != 0:
		p.Value = e.scratch[s.v&^inScratch : s.ve : s.ve]
	default:
		p.Value = e.body[s.v:s.ve:s.ve]
	}
	return p
}

// Pairs yields every pair in order, duplicates kept.
func (e *Event) Pairs() iter.Seq[Pair] {
	return func(yield func(Pair) bool) {
		for i := range e.n {
			if !yield(e.pairOf(e.spanAt(i))) {
				return
			}
		}
	}
}

// Lookup returns the value of the last pair with the given key, as a map
// would hold it. A flag gives (nil, true); a missing key (nil, false).
// The first Lookup of an event indexes its keys, so that later lookups
// cost a probe or two, whether the key is there or not.
func (e *Event) Lookup(key string) (value []byte, ok bool) {
	if e.n <= maxIndexed {
		if !e.keysOK {
			e.indexKeys()
		}
		h := uint(0)
		if len(key) > 0 {
			h = keyHash(key[0], key[len(key)-1], len(key))
		}
		for ; ; h = (h + 1) & (keySlots - 1) {
			j := e.keys[h]
			if j == 0 {
				return nil, false
			}
			if s := e.spanAt(int(j - 1)); string(e.keyOf(s)) == key {
				return e.pairOf(s).Value, true
			}
		}
	}
	for i := e.n - 1; i >= 0; i-- {
		s := e.spanAt(i)
		if string(e.keyOf(s)) == key {
			p := e.pairOf(s)
			return p.Value, true
		}
	}
	return nil, false
}

// Number returns the value of the last pair with the given key read with
// [ParseNumber]: durations in milliseconds, other units stripped.
func (e *Event) Number(key string) (float64, bool) {
	v, ok := e.Lookup(key)
	if !ok {
		return 0, false
	}
	return ParseNumber(v)
}

// Header returns a header field by name: "app", "proc", "host",
// "facility", "severity", "msgid", "slot", "instance", "cloud", and also
// "timestamp" and "sd". ok is false for an unknown name or a field the
// event's form does not carry.
func (e *Event) Header(name string) ([]byte, bool) {
	var v []byte
	switch name {
	case "app":
		v = e.App
	case "proc":
		v = e.Proc
	case "host":
		v = e.Host
	case "facility":
		v = e.Facility
	case "severity":
		v = e.Severity
	case "msgid":
		v = e.MsgID
	case "slot":
		v = e.Slot
	case "instance":
		v = e.Instance
	case "cloud":
		v = e.Cloud
	case "timestamp":
		v = e.Timestamp
	case "sd":
		v = e.StructuredData
	default:
		return nil, false
	}
	return v, v != nil
}

// addSpan appends a pair and returns it for filling.
func (e *Event) addSpan() *span {
	i := e.n
	e.n++
	e.keysOK = false
	if i < inlinePairs {
		return &e.inline[i]
	}
	e.more = append(e.more, span{})
	return &e.more[len(e.more)-1]
}

func itoa(n int) string { return strconv.Itoa(n) }
