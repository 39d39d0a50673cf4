package window

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const logWriterDefs = `
name=requests kind=rate where=path
name=errors   kind=rate where=level=ERROR
name=slowest  kind=max of=duration
name=duration kind=quantiles of=duration q=0.5
`

func newLogWriter(t *testing.T) *LogWriter {
	t.Helper()
	d, err := def.Parse(strings.NewReader(logWriterDefs), "x")
	require.NoError(t, err)
	s, err := NewDefSet(d, nil)
	require.NoError(t, err)
	return NewLogWriter(s)
}

// logAt logs one record at an explicit time through h.
func logAt(t *testing.T, h slog.Handler, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
	t.Helper()
	r := slog.NewRecord(at, level, msg, 0)
	r.AddAttrs(attrs...)
	require.NoError(t, h.Handle(context.Background(), r))
}

// parsesJSONBodies reports whether package logfmt reads a JSON object
// body as fields, as slog's JSONHandler needs.
func parsesJSONBodies() bool {
	var ev logfmt.Event
	if logfmt.ParseLine([]byte(`{"level":"ERROR","msg":"x"}`), &ev) != nil {
		return false
	}
	v, ok := ev.Lookup("level")
	return ok && string(v) == "ERROR"
}

// TestLogWriterCountsEverything logs through both of slog's handlers: an
// ERROR line 90 s before the others, which a 1-minute window would have
// left out, still counts.
func TestLogWriterCountsEverything(t *testing.T) {
	for _, tt := range []struct {
		name      string
		mk        func(lw *LogWriter) slog.Handler
		p50, slow string // duration: TextHandler writes "4ms", JSONHandler 4000000 (ns)
	}{
		{"text", func(lw *LogWriter) slog.Handler { return slog.NewTextHandler(lw, nil) }, `{"p50":2}`, "4"},
		{"json", func(lw *LogWriter) slog.Handler { return slog.NewJSONHandler(lw, nil) }, `{"p50":2000000}`, "4000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "json" && !parsesJSONBodies() {
				t.Skip("needs logfmt JSON bodies")
			}
			lw := newLogWriter(t)
			h := tt.mk(lw)
			t1 := time.Date(2026, 3, 14, 17, 2, 0, 500_000_000, time.UTC)
			logAt(t, h, t1.Add(-90*time.Second), slog.LevelError, "request failed",
				slog.String("path", "/fail"), slog.Int("status", 500), slog.Duration("duration", 3*time.Millisecond))
			for i := range 4 {
				logAt(t, h, t1.Add(time.Duration(i)*time.Second), slog.LevelInfo, "request",
					slog.String("path", "/orders"), slog.Int("status", 200), slog.Duration("duration", time.Duration(i+1)*time.Millisecond))
			}
			// A line older than everything, out of order: not late here.
			logAt(t, h, t1.Add(-10*time.Minute), slog.LevelInfo, "request",
				slog.String("path", "/orders"), slog.Int("status", 200), slog.Duration("duration", 2*time.Millisecond))
			snap := lw.Snapshot()
			assert.Equal(t, time.Date(2026, 3, 14, 17, 2, 4, 0, time.UTC), snap.Time, "the end of the latest line's second")
			assert.Equal(t, "6", snap.Stats["requests"].String(), "every request line")
			assert.Equal(t, "1", snap.Stats["errors"].String(), "the ERROR line 90 s before the last")
			assert.Equal(t, tt.slow, snap.Stats["slowest"].String())
			assert.Equal(t, tt.p50, snap.Stats["duration"].String())
			assert.Equal(t, "0", snap.Stats[StatLate].String())
		})
	}
}

func TestLogWriterEmpty(t *testing.T) {
	lw := newLogWriter(t)
	snap := lw.Snapshot()
	assert.True(t, snap.Time.IsZero())
	assert.Equal(t, "0", snap.Stats["requests"].String())

	nl := NewLogWriter(nil) // no definitions: self-stats only
	_, err := nl.Write([]byte("time=2026-03-14T17:02:00Z level=INFO msg=hello\nmsg=no-newline"))
	require.NoError(t, err)
	snap = nl.Snapshot()
	assert.Equal(t, "0.2", snap.Stats[StatEvents].String(), "two lines, read as one 10 s window")
}
