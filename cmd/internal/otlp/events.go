package otlp

import (
	"encoding/base64"
	"iter"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pulsehq/pulse/logfmt"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// The attributes that fill an event's header fields, in order of
// preference; a record's own attribute wins over its resource's. Every
// attribute is also a field under its own name, so a definition may use
// either.
var (
	appAttrs  = [...]string{"heroku.app.name", "service.name"}
	procAttrs = [...]string{"heroku.dyno.name", "heroku.dyno", "heroku.process.type", "service.instance.id"}
	hostAttrs = [...]string{"host.name"}
)

// severityNames are the syslog severity names a SeverityNumber maps to
// when a record has no severity_text, the names a drain frame's PRI
// gives, so that severity=err matches both. Static: not to be modified.
var severityNames = [...][]byte{[]byte("debug"), []byte("info"), []byte("warning"), []byte("err"), []byte("crit")}

// severityName maps an OpenTelemetry SeverityNumber: TRACE and DEBUG
// (1–8) to debug, INFO (9–12) to info, WARN (13–16) to warning, ERROR
// (17–20) to err, FATAL (21–24) to crit; anything else to nil.
func severityName(n logspb.SeverityNumber) []byte {
	switch {
	case n <= 0 || n > 24:
		return nil
	case n <= 8:
		return severityNames[0]
	case n <= 12:
		return severityNames[1]
	case n <= 16:
		return severityNames[2]
	case n <= 20:
		return severityNames[3]
	}
	return severityNames[4]
}

// invalidTime is the Timestamp of an event whose record's time is past
// what an event may have: with Time zero, a set counts it as unparsed,
// as it does a drain frame whose timestamp did not parse.
var invalidTime = []byte("time_unix_nano")

// A Mapper turns the records of a Batch into events, as the package
// comment's Mapping section says. A worker keeps one and reuses it: in
// steady state it allocates nothing per record.
//
// A Mapper is not safe for concurrent use. The zero value is ready.
type Mapper struct {
	ev                    logfmt.Event
	res                   logfmt.Event  // the current resource's attributes, flattened
	resPairs              []logfmt.Pair // res's pairs, borrowed from res
	resApp, resProc, host []byte        // header fields from the resource, borrowed from res
	key, val, body        []byte        // scratch for joined keys, rendered values and the body
}

// Events yields each record of b that was not rejected as an event,
// reused for every record: the event and what it holds are valid until
// the next one is yielded. arrival is the time of a record that has
// neither time_unix_nano nor observed_time_unix_nano.
func (m *Mapper) Events(b *Batch, arrival time.Time) iter.Seq[*logfmt.Event] {
	return func(yield func(*logfmt.Event) bool) {
		for _, rl := range b.Logs.GetResourceLogs() {
			ready := false
			for _, sl := range rl.GetScopeLogs() {
				for _, rec := range sl.GetLogRecords() {
					if rec == nil {
						continue
					}
					if !ready {
						m.resource(rl.GetResource())
						ready = true
					}
					m.record(rec, arrival)
					if !yield(&m.ev) {
						return
					}
				}
			}
		}
	}
}

// resource flattens r's attributes into m.res and finds its header
// fields.
func (m *Mapper) resource(r *resourcepb.Resource) {
	m.res.Reset()
	for _, kv := range r.GetAttributes() {
		m.appendAttr(&m.res, kv)
	}
	m.resPairs = m.resPairs[:0]
	for i := range m.res.Len() {
		m.resPairs = append(m.resPairs, m.res.Pair(i))
	}
	m.resApp = lookupFirst(&m.res, appAttrs[:])
	m.resProc = lookupFirst(&m.res, procAttrs[:])
	m.host = lookupFirst(&m.res, hostAttrs[:])
}

func lookupFirst(ev *logfmt.Event, keys []string) []byte {
	for _, k := range keys {
		if v, ok := ev.Lookup(k); ok && v != nil {
			return v
		}
	}
	return nil
}

// rank is the position of key in keys, or len(keys) when it is not there.
func rank(key string, keys []string) int {
	for i, k := range keys {
		if k == key {
			return i
		}
	}
	return len(keys)
}

// record builds m.ev from rec: header, then the resource's pairs, the
// record's attributes and the body's pairs, so that Lookup prefers the
// body to the record's attributes, and those to the resource's.
func (m *Mapper) record(rec *logspb.LogRecord, arrival time.Time) {
	ev := &m.ev
	ev.Reset()
	t := rec.GetTimeUnixNano()
	if t == 0 {
		t = rec.GetObservedTimeUnixNano()
	}
	switch {
	case t == 0:
		ev.Time = arrival
	case t >= maxTimeNano:
		ev.Timestamp = invalidTime
	default:
		ev.Time = time.Unix(0, int64(t)).UTC()
	}
	ev.App, ev.Proc, ev.Host = m.resApp, m.resProc, m.host

	// A record's own header attributes win over its resource's.
	attrs := rec.GetAttributes()
	app, proc, host := len(appAttrs), len(procAttrs), len(hostAttrs)
	for _, kv := range attrs {
		s, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_StringValue)
		if !ok {
			continue
		}
		if r := rank(kv.GetKey(), appAttrs[:]); r < app {
			app = r
			ev.SetHeader("app", s.StringValue)
		}
		if r := rank(kv.GetKey(), procAttrs[:]); r < proc {
			proc = r
			ev.SetHeader("proc", s.StringValue)
		}
		if r := rank(kv.GetKey(), hostAttrs[:]); r < host {
			host = r
			ev.SetHeader("host", s.StringValue)
		}
	}
	if s := rec.GetSeverityText(); s != "" {
		ev.SetHeader("severity", s)
	} else {
		ev.Severity = severityName(rec.GetSeverityNumber())
	}

	for _, p := range m.resPairs {
		ev.AppendPair(p.Key, p.Value)
	}
	for _, kv := range attrs {
		m.appendAttr(ev, kv)
	}
	switch b := rec.GetBody().GetValue().(type) {
	case nil:
	case *commonpb.AnyValue_StringValue:
		m.body = append(m.body[:0], b.StringValue...)
		ev.Msg = m.body
		ev.AppendBody(m.body)
	case *commonpb.AnyValue_KvlistValue:
		m.key = m.key[:0]
		m.appendMap(ev, b.KvlistValue, 1)
	default:
		m.body = appendText(m.body[:0], rec.GetBody(), 0)
		ev.Msg = m.body
		ev.AppendBody(m.body)
	}
}

// appendAttr appends an attribute as pairs: one, or one for every member
// of a map value, the keys joined with dots.
func (m *Mapper) appendAttr(ev *logfmt.Event, kv *commonpb.KeyValue) {
	switch v := kv.GetValue().GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		ev.AppendPairString(kv.GetKey(), v.StringValue)
		return
	case *commonpb.AnyValue_KvlistValue:
		if len(v.KvlistValue.GetValues()) > 0 {
			m.key = append(m.key[:0], kv.GetKey()...)
			m.appendMap(ev, v.KvlistValue, 1)
			return
		}
	}
	m.key = append(m.key[:0], kv.GetKey()...)
	m.val = appendText(m.val[:0], kv.GetValue(), 0)
	ev.AppendPair(m.key, m.val)
}

// appendMap appends the members of kvl as pairs whose keys follow m.key
// (with a dot, when m.key is not empty); a non-empty map member becomes
// the pairs of its members in turn, down to MaxDepth.
func (m *Mapper) appendMap(ev *logfmt.Event, kvl *commonpb.KeyValueList, depth int) {
	base := len(m.key)
	for _, kv := range kvl.GetValues() {
		m.key = m.key[:base]
		if base > 0 {
			m.key = append(m.key, '.')
		}
		m.key = append(m.key, kv.GetKey()...)
		if sub, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_KvlistValue); ok && len(sub.KvlistValue.GetValues()) > 0 && depth < MaxDepth {
			m.appendMap(ev, sub.KvlistValue, depth+1)
			continue
		}
		m.val = appendText(m.val[:0], kv.GetValue(), depth)
		ev.AppendPair(m.key, m.val)
	}
	m.key = m.key[:base]
}

// appendText appends v as a field value: a string as it is, a number or
// a boolean as Go's strconv writes it, bytes in standard base64, an
// array or a map as JSON, and no value as nothing.
func appendText(b []byte, v *commonpb.AnyValue, depth int) []byte {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return append(b, x.StringValue...)
	case *commonpb.AnyValue_BoolValue:
		return strconv.AppendBool(b, x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.AppendInt(b, x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.AppendFloat(b, x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BytesValue:
		return base64.StdEncoding.AppendEncode(b, x.BytesValue)
	case *commonpb.AnyValue_ArrayValue, *commonpb.AnyValue_KvlistValue:
		return appendJSON(b, v, depth)
	}
	return b
}

// appendJSON appends v as JSON: null for no value, strings quoted,
// doubles that JSON cannot hold (NaN, ±Inf) and bytes (base64) as
// strings, and nothing nested deeper than MaxDepth (null instead).
func appendJSON(b []byte, v *commonpb.AnyValue, depth int) []byte {
	if depth > MaxDepth {
		return append(b, "null"...)
	}
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return appendQuoted(b, x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return strconv.AppendBool(b, x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.AppendInt(b, x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		if math.IsNaN(x.DoubleValue) || math.IsInf(x.DoubleValue, 0) {
			return appendQuoted(b, strconv.FormatFloat(x.DoubleValue, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BytesValue:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x.BytesValue)
		return append(b, '"')
	case *commonpb.AnyValue_ArrayValue:
		b = append(b, '[')
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, depth+1)
		}
		return append(b, ']')
	case *commonpb.AnyValue_KvlistValue:
		b = append(b, '{')
		for i, kv := range x.KvlistValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, kv.GetKey())
			b = append(b, ':')
			b = appendJSON(b, kv.GetValue(), depth+1)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}
