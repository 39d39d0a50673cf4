package window

import (
	"math"
	"strconv"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// Clock says what moves a Set's clock. See the package documentation,
// section Clock, for the rules.
type Clock uint8

const (
	// EventClock sets follow the time of the events they fold, as replay
	// does: the first event sets the clock, an event at most Lateness (at
	// least one bucket) past the end of the clock's bucket moves it to
	// its own bucket, and an event further ahead moves it only when a run
	// of such events proves a jump (LeapEvents of them in a row, or
	// LeapBuckets distinct buckets). Advance is an error. It is the zero
	// value.
	EventClock Clock = iota
	// ManualClock sets are moved only by Advance, to the wall clock at
	// each tick on a live receiver or merger. Events never move the clock:
	// one more than Skew ahead of it is dropped and counted in
	// pulse.future.
	ManualClock
)

var clockNames = [...]string{EventClock: "event clock", ManualClock: "manual clock"}

// String returns "event clock" or "manual clock".
func (c Clock) String() string {
	if int(c) < len(clockNames) {
		return clockNames[c]
	}
	return "clock(" + strconv.Itoa(int(c)) + ")"
}

// The leap rule of an EventClock set.
const (
	// LeapBuckets is how many distinct buckets (seconds, at the default
	// width) a run of events ahead of an EventClock set's clock must
	// cover to move it: a lone outlier covers one.
	LeapBuckets = 3
	// LeapEvents is how many events in a row ahead of the clock move it
	// whatever buckets they cover; it is also the most events the set
	// holds while a run is undecided.
	LeapEvents = 1024
	// LeapBytes bounds the bytes of the events held while a run is
	// undecided. An event that does not fit is dropped and counted in
	// pulse.future, but still counts toward the run.
	LeapBytes = 4 << 20
)

// leap is an EventClock set's run of events ahead of the clock: events
// more than the leap distance past the clock's bucket, with no ordinary
// event between them. Those within Skew were folded at once (without
// moving the clock); those beyond Skew, which no bucket can take yet,
// are held, copied, until the run proves a jump or ends.
type leap struct {
	n       int                // events in the run
	buckets [LeapBuckets]int64 // distinct buckets of the run, the first nb
	nb      int                //
	latest  int64              // the run's latest event time, Unix ns
	folded  int64              // the latest time of the run's events folded at once, or math.MinInt64
	held    []heldEvent        // in arrival order; capacity and buffers reused
	bytes   int                // held bytes
	lost    int64              // events beyond Skew that did not fit in held
}

// heldEvent is a copy of an event, its bytes in buf.
type heldEvent struct {
	ev  logfmt.Event
	buf []byte
	t   time.Time
}

// note adds an event at ns in bucket b to the run.
func (l *leap) note(ns, b int64) {
	if l.n == 0 {
		l.folded = math.MinInt64
	}
	if l.n == 0 || ns > l.latest {
		l.latest = ns
	}
	l.n++
	for _, x := range l.buckets[:l.nb] {
		if x == b {
			return
		}
	}
	if l.nb < LeapBuckets {
		l.buckets[l.nb] = b
		l.nb++
	}
}

// proven reports whether the run proves a jump.
func (l *leap) proven() bool { return l.nb >= LeapBuckets || l.n >= LeapEvents }

// reset ends the run; the held events must have been dealt with. The
// copies of a small run are kept for the next; a large run's are freed.
func (l *leap) reset() {
	if l.bytes > 64<<10 || len(l.held) > 64 {
		l.held = nil
	}
	l.n, l.nb, l.bytes, l.lost = 0, 0, 0, 0
	l.folded = math.MinInt64
	l.held = l.held[:0]
}

// hold copies ev into the run's held events, or reports false when the
// bounds are reached.
func (l *leap) hold(ev *logfmt.Event, t time.Time) bool {
	size := eventSize(ev)
	if len(l.held) >= LeapEvents || l.bytes+size > LeapBytes {
		return false
	}
	l.bytes += size
	if len(l.held) < cap(l.held) {
		l.held = l.held[:len(l.held)+1]
	} else {
		l.held = append(l.held, heldEvent{})
	}
	h := &l.held[len(l.held)-1]
	h.buf = copyEvent(h.buf[:0], &h.ev, ev)
	h.t = t
	return true
}

// eventSize is the number of bytes copyEvent copies.
func eventSize(ev *logfmt.Event) int {
	return len(ev.Timestamp) + len(ev.Facility) + len(ev.Severity) + len(ev.Host) + len(ev.App) +
		len(ev.Proc) + len(ev.MsgID) + len(ev.StructuredData) + len(ev.Slot) + len(ev.Instance) +
		len(ev.Cloud) + len(ev.Msg)
}

// copyEvent makes dst a copy of src that borrows only from buf, which it
// returns extended: the header fields are copied and the body is parsed
// again from the copied message (every form's message is its body).
func copyEvent(buf []byte, dst, src *logfmt.Event) []byte {
	if need := eventSize(src); cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	field := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		n := len(buf)
		buf = append(buf, b...)
		return buf[n:len(buf):len(buf)]
	}
	msg := field(src.Msg)
	logfmt.ParseBody(msg, dst)
	dst.Form, dst.Time, dst.Priority = src.Form, src.Time, src.Priority
	dst.Timestamp = field(src.Timestamp)
	dst.Facility, dst.Severity = field(src.Facility), field(src.Severity)
	dst.Host, dst.App, dst.Proc, dst.MsgID = field(src.Host), field(src.App), field(src.Proc), field(src.MsgID)
	dst.StructuredData = field(src.StructuredData)
	dst.Slot, dst.Instance, dst.Cloud = field(src.Slot), field(src.Instance), field(src.Cloud)
	return buf
}

// Years an event time may have: time.Time.UnixNano is defined only
// between them.
var (
	minEventTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxEventTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// eventTime returns the time to fold ev at, or false when ev is not to be
// folded, having counted it: an event whose header timestamp is present
// but did not parse (Time zero, Timestamp neither empty nor the NILVALUE
// "-"), or whose time is outside the years 1678–2261, is unparsed; one
// with no time at all takes the clock's, and waits to be counted as
// rejected while the clock is unset.
func (s *Set) eventTime(ev *logfmt.Event) (time.Time, bool) {
	t := ev.Time
	if t.IsZero() {
		if ts := ev.Timestamp; len(ts) > 0 && !(len(ts) == 1 && ts[0] == '-') {
			s.Unparsed(1)
			return t, false
		}
		t, _ = fieldTime(ev)
	}
	if t.IsZero() {
		if !s.started {
			s.dropped++
			return t, false
		}
		return time.Unix(0, s.clock), true
	}
	if t.Before(minEventTime) || !t.Before(maxEventTime) {
		s.Unparsed(1)
		return t, false
	}
	return t, true
}

// foldEvent places ev at t by the EventClock rules and folds it, or holds
// it, or drops and counts it.
func (s *Set) foldEvent(ev *logfmt.Event, t time.Time) {
	ns := t.UnixNano()
	if !s.started || ns < addSat(s.clock, s.tick+max(s.lateNs, s.tick)) { // ordinary: near or behind the clock
		s.advanceTo(ns)
		s.latest = max(s.latest, ns)
		if s.leap.n > 0 {
			s.endRun()
		}
		s.fold(ev, t)
		return
	}
	// Ahead of the clock by more than the stream's disorder: alone it
	// proves nothing.
	b := floorDiv(ns, s.tick)
	s.leap.note(ns, b)
	switch {
	case s.withinSkew(b):
		s.fold(ev, t) // a bucket takes it now; the clock stays
		s.leap.folded = max(s.leap.folded, ns)
	case !s.leap.hold(ev, t):
		s.leap.lost++ // counted in pulse.future when the run ends
	}
	if s.leap.proven() {
		s.leapForward()
	}
}

// withinSkew reports whether bucket b is within Skew of the clock, where
// the windows can take it.
func (s *Set) withinSkew(b int64) bool {
	return b <= floorDiv(addSat(s.clock, s.skewNs), s.tick)
}

// endRun ends a run that proved nothing: each held event that a bucket
// can now take is folded, and the others are dropped and counted in
// pulse.future.
func (s *Set) endRun() {
	future := s.leap.lost
	for i := range s.leap.held {
		h := &s.leap.held[i]
		if s.withinSkew(floorDiv(h.t.UnixNano(), s.tick)) {
			s.fold(&h.ev, h.t)
		} else {
			future++
		}
	}
	s.leap.reset()
	if future > 0 {
		s.countAtClock(selfFuture, future)
	}
}

// leapForward moves the clock as a proven run says: the held events are
// folded in the order they came, each moving the clock as an ordinary
// event would, and then the clock moves to the run's latest event. Events
// of the run that could not be held are counted in pulse.future, at the
// new clock.
func (s *Set) leapForward() {
	for i := range s.leap.held {
		h := &s.leap.held[i]
		s.advanceTo(h.t.UnixNano())
		s.fold(&h.ev, h.t)
	}
	s.advanceTo(s.leap.latest)
	s.latest = max(s.latest, s.leap.latest)
	if s.leap.lost > 0 {
		s.countAtClock(selfFuture, s.leap.lost)
	}
	s.leap.reset()
}

// admitManual reports whether a ManualClock set folds an event at ns,
// counting it when not: before the clock is set it waits to be counted as
// rejected, and more than Skew ahead of the clock it is counted in
// pulse.future.
func (s *Set) admitManual(ns int64) bool {
	if !s.started {
		s.dropped++
		return false
	}
	if !s.withinSkew(floorDiv(ns, s.tick)) {
		s.countAtClock(selfFuture, 1)
		return false
	}
	return true
}

// countAtClock adds n to self-stat i at the set's clock.
func (s *Set) countAtClock(i int, n int64) {
	if s.self != nil && s.started {
		s.self[i].w.add(time.Unix(0, s.clock), n)
	}
}
