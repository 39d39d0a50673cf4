// Package parse implements "pulse parse", the debugger: it parses Heroku
// log frames or lines and prints one JSON object per event.
package parse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/logfmt"
)

// Usage is the one-line summary the pulse command lists.
const Usage = "parse Heroku log frames or lines (files or stdin) and print one JSON object per event"

// Run runs "pulse parse [flags] [FILE...]": it reads each file in turn, or
// stdin when there is none (or for "-"), and writes one JSON object per
// event to stdout:
//
//	{"time":"2026-11-24T10:00:00.123456Z","host":"host","app":"heroku","proc":"router",
//	 "facility":"local3","severity":"info","msgid":"-","msg":"<raw body>",
//	 "fields":{"at":"info","service":"18ms","flag":true}}
//
// time is RFC 3339 in UTC with the fraction as written; header keys appear
// only when the input has them (classic lines add slot, instance, cloud);
// in fields a flag is true, values are strings and a duplicate key's last
// value wins (a JSON body's fields are as logfmt.ParseBody flattens them:
// "req.method", numbers as written, null as ""). An event whose timestamp is damaged or out of range
// (logfmt.ErrTime) is complete but for its time: it prints without "time",
// with the raw "timestamp" and the "error". Other input that cannot be
// parsed prints {"unparsed":true,"line":"...","error":"..."} and parsing
// goes on. Invalid UTF-8 becomes U+FFFD, so the output is always valid
// JSON.
//
// At the end it writes "events=N unparsed=M badtime=B mismatches=K" to
// stderr, where unparsed counts the badtime events too. It returns an
// error when a file cannot be read (after trying the others), when stdout
// fails, or ctx's error when ctx is cancelled. For -h it prints the
// usage to stderr and returns flag.ErrHelp.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pulse parse", "pulse parse [flags] [FILE...]", Usage+".", stderr)
	var (
		maxFrame int
		form     logfmt.Form
	)
	fs.Int(&maxFrame, "max-frame", "", logfmt.DefaultMaxFrame, "longest frame or line in bytes")
	fs.Text(&form, "form", "", logfmt.FormUnknown, "input form: auto, octet, rfc5424, classic, heroku-logs, logfmt or syslog")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if maxFrame <= 0 {
		return fmt.Errorf("parse: -max-frame %d must be positive", maxFrame)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	opts := &logfmt.ReaderOptions{MaxFrame: maxFrame, Form: form}
	var total logfmt.ReaderStats
	var readErrs []error
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			break
		}
		st, err := parseOne(ctx, name, stdin, out, opts)
		total.Events += st.Events
		total.Unparsed += st.Unparsed
		total.BadTime += st.BadTime
		total.Mismatches += st.Mismatches
		total.Bytes += st.Bytes
		if err != nil {
			var werr writeError
			if errors.As(err, &werr) {
				return err
			}
			readErrs = append(readErrs, err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("parse: write: %w", err)
	}
	fmt.Fprintf(stderr, "events=%d unparsed=%d badtime=%d mismatches=%d\n", total.Events, total.Unparsed, total.BadTime, total.Mismatches)
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(readErrs...)
}

// writeError marks a failure to write stdout, which ends the run.
type writeError struct{ error }

func (e writeError) Unwrap() error { return e.error }

// parseOne reads one input to the end.
func parseOne(ctx context.Context, name string, stdin io.Reader, out *bufio.Writer, opts *logfmt.ReaderOptions) (logfmt.ReaderStats, error) {
	var src io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return logfmt.ReaderStats{}, fmt.Errorf("parse: %w", err)
		}
		defer f.Close()
		src = f
	}
	// A read blocked on a pipe or terminal returns when ctx is cancelled.
	if f, ok := src.(*os.File); ok {
		stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
		defer stop()
	}
	r := logfmt.NewReader(src, opts)
	var buf []byte
	var se *logfmt.SyntaxError
	for n := 0; ; n++ {
		ev, err := r.Next()
		switch {
		case err == nil:
			buf = AppendJSON(buf[:0], ev)
		case ev != nil && errors.Is(err, logfmt.ErrTime):
			buf = appendEvent(buf[:0], ev, err)
		case errors.As(err, &se):
			buf = appendUnparsed(buf[:0], r.Raw(), se)
		case err == io.EOF:
			return r.Stats(), nil
		default:
			if ctx.Err() != nil {
				return r.Stats(), nil
			}
			return r.Stats(), fmt.Errorf("parse: read %s: %w", name, err)
		}
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			return r.Stats(), writeError{fmt.Errorf("parse: write: %w", err)}
		}
	}
}

// AppendJSON appends ev as the JSON object "pulse parse" prints (without a
// newline).
func AppendJSON(b []byte, ev *logfmt.Event) []byte { return appendEvent(b, ev, nil) }

// appendEvent is AppendJSON with the error that came with the event, if
// any: the raw timestamp and the error are added when there is one.
func appendEvent(b []byte, ev *logfmt.Event, err error) []byte {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	if !ev.Time.IsZero() {
		key("time")
		b = append(b, '"')
		b = ev.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05")
		b = append(b, fraction(ev.Timestamp)...)
		b = append(b, 'Z', '"')
	}
	if err != nil && ev.Timestamp != nil {
		key("timestamp")
		b = appendString(b, ev.Timestamp)
	}
	for _, h := range [...]struct {
		name string
		v    []byte
	}{
		{"host", ev.Host}, {"app", ev.App}, {"proc", ev.Proc},
		{"facility", ev.Facility}, {"severity", ev.Severity}, {"msgid", ev.MsgID},
		{"sd", ev.StructuredData},
		{"slot", ev.Slot}, {"instance", ev.Instance}, {"cloud", ev.Cloud},
	} {
		if h.v != nil {
			key(h.name)
			b = appendString(b, h.v)
		}
	}
	key("msg")
	b = appendString(b, ev.Msg)
	key("fields")
	b = append(b, '{')
	n := ev.Len()
	firstField := true
	for i := range n {
		p := ev.Pair(i)
		if laterKey(ev, i) {
			continue // a later duplicate wins
		}
		if !firstField {
			b = append(b, ',')
		}
		firstField = false
		b = appendString(b, p.Key)
		b = append(b, ':')
		if p.Flag {
			b = append(b, "true"...)
		} else {
			b = appendString(b, p.Value)
		}
	}
	b = append(b, '}')
	if err != nil {
		key("error")
		b = appendString(b, err.Error())
	}
	return append(b, '}')
}

// laterKey reports whether a pair after i has the same key as pair i.
func laterKey(ev *logfmt.Event, i int) bool {
	k := ev.Pair(i).Key
	for j := i + 1; j < ev.Len(); j++ {
		if string(ev.Pair(j).Key) == string(k) {
			return true
		}
	}
	return false
}

// fraction returns ".ddd" from a raw RFC 3339 timestamp, as written, or "".
func fraction(ts []byte) []byte {
	if len(ts) < 20 || ts[19] != '.' {
		return nil
	}
	i := 20
	for i < len(ts) && ts[i] >= '0' && ts[i] <= '9' {
		i++
	}
	return ts[19:i]
}

func appendUnparsed(b, raw []byte, se *logfmt.SyntaxError) []byte {
	b = append(b, `{"unparsed":true,"line":`...)
	b = appendString(b, raw)
	b = append(b, `,"error":`...)
	b = appendString(b, se.Error())
	return append(b, '}')
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune([]byte(string(s[i:min(i+utf8.UTFMax, len(s))])))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u`...)
			b = strconv.AppendInt(b, int64(r), 16)
		default:
			b = append(b, string(s[i:i+size])...)
		}
		i += size
	}
	return append(b, '"')
}
