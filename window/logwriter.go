package window

import (
	"bytes"
	"sync"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// MaxLogLine is the longest line a LogWriter folds; a longer one is counted
// as unparsed and dropped.
const MaxLogLine = 64 << 10

// LogWriter is an io.Writer that reads what is written to it as log lines,
// in any form package logfmt reads, and folds each into a definitions set.
// Point a log/slog TextHandler at it to derive stats from a program's own
// logs, for example in its tests. A line with no timestamp header takes its
// time from its "time" field (RFC 3339, as slog writes it), else from the
// wall clock.
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

// NewLogWriter returns a LogWriter that folds into set.
func NewLogWriter(set *Set) *LogWriter { return &LogWriter{set: set} }

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

// Snapshot flushes, then reads the set at the end of the bucket that holds
// the latest event, so that every event folded counts.
func (w *LogWriter) Snapshot() Snapshot {
	w.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.set.Snapshot(w.set.End())
}
