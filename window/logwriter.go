package window

import (
	"bytes"
	"math"
	"sync"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// MaxLogLine is the longest line a LogWriter folds; a longer one is counted
// as unparsed and dropped.
const MaxLogLine = 64 << 10

// LogWriter is an io.Writer that reads what is written to it as log lines,
// in any form package logfmt reads, and folds each into a definitions set.
// Point a log/slog handler at it to derive stats from a program's own
// logs, for example in its tests: a TextHandler's lines are logfmt, and a
// JSONHandler's are JSON objects, whose fields package logfmt reads as
// the body's pairs (time, level, msg and the attributes). A line with no
// timestamp header takes its time from its "time" field (RFC 3339, as
// slog writes it), else from the wall clock.
//
// A LogWriter counts everything it was given: Snapshot reads each
// definition as if every line fell in one window, so a line logged 90 s
// before the last one still counts in a 1-minute stat. Lines may come in
// any order; none is late.
//
// A LogWriter is safe for use by multiple goroutines; it owns its set, so
// read the set only through the LogWriter.
type LogWriter struct {
	mu      sync.Mutex
	set     *Set
	partial []byte
	ev      logfmt.Event
	skip    bool // the partial line is over MaxLogLine: drop until its end
}

// NewLogWriter returns a LogWriter that folds into set, which it takes
// over: from then on the set follows the time of the lines folded,
// whatever its Clock, and each of its windows keeps what leaves retention
// in one more stat (so its memory grows by one stat per window, not with
// time). A nil set is a set with no definitions, which counts lines in
// the self-stats only.
func NewLogWriter(set *Set) *LogWriter {
	if set == nil {
		set = new(Set)
	}
	set.keepAll()
	return &LogWriter{set: set}
}

// Write folds every complete line in p; a trailing partial line waits for
// the rest. It never fails.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.keep(p)
			break
		}
		if len(w.partial) > 0 || w.skip {
			w.keep(p[:i])
			w.foldLine(w.partial)
			w.partial = w.partial[:0]
		} else {
			w.foldLine(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// keep appends to the partial line, or marks it to be skipped once it is
// over the limit.
func (w *LogWriter) keep(p []byte) {
	if w.skip {
		return
	}
	if len(w.partial)+len(p) > MaxLogLine {
		w.skip = true
		w.partial = w.partial[:0]
		return
	}
	w.partial = append(w.partial, p...)
}

func (w *LogWriter) foldLine(line []byte) {
	if w.skip {
		w.skip = false
		w.set.Unparsed(1)
		return
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if err := logfmt.ParseLine(line, &w.ev); err != nil {
		w.set.Unparsed(1)
		return
	}
	if w.ev.Time.IsZero() {
		if _, ok := fieldTime(&w.ev); !ok {
			w.ev.Time = time.Now()
		}
	}
	w.set.Fold(&w.ev)
}

// Flush folds a trailing line that has no newline yet.
func (w *LogWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 || w.skip {
		w.foldLine(w.partial)
		w.partial = w.partial[:0]
	}
}

// Snapshot flushes, then reads every definition over everything folded
// since NewLogWriter, as if every line fell in one window of the
// definition's: each definition's stat merges every line it matched, and
// reads as the definition reads its window. So a count (kind=rate with no
// per, which is per window) is the number of lines, and quantiles, max and
// distinct cover every line; a rate per second is that count divided by
// the window's seconds, the true rate only while the lines span at most
// one window. Time is the end of the second that holds the latest line.
// Before any line, Time is zero and every stat reads as empty.
func (w *LogWriter) Snapshot() Snapshot {
	w.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.set.snapshotAll()
}

// keepAll makes the set a LogWriter's: every window keeps what leaves
// retention, and the clock follows the lines.
func (s *Set) keepAll() {
	if s.keep {
		return
	}
	s.keep = true
	s.first = math.MaxInt64
	for _, win := range s.byName {
		if win.keep == nil {
			win.keep = win.newBucket()
		}
	}
	if s.self == nil {
		_ = s.addSelf()
	}
}

// snapshotAll reads a LogWriter's set over everything it folded.
func (s *Set) snapshotAll() Snapshot {
	s.setup()
	if !s.started || s.first == math.MaxInt64 {
		snap, _ := s.snapshot(time.Time{}, time.Duration(s.tick))
		return snap
	}
	end := s.End()
	snap, _ := s.snapshot(end, time.Duration(end.UnixNano()-s.first)) // nothing is dropped: no error
	return snap
}
