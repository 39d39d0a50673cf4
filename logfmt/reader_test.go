package logfmt

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is what a test keeps of one Next call.
type result struct {
	app, proc, msg string
	err            error
	raw            string
}

func readAll(t *testing.T, r *Reader) []result {
	t.Helper()
	var out []result
	for range 10000 {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		res := result{err: err, raw: string(r.Raw())}
		if err == nil {
			res.app, res.proc, res.msg = string(ev.App), string(ev.Proc), string(ev.Msg)
		} else {
			var se *SyntaxError
			if !errors.As(err, &se) {
				out = append(out, res)
				return out
			}
		}
		out = append(out, res)
	}
	t.Fatal("reader did not reach EOF")
	return nil
}

// body joins frames, each with its count, optionally without newlines.
func frameBody(frames [][]byte, newlines bool) []byte {
	var b []byte
	for _, f := range frames {
		if newlines {
			b = append(b, f...)
			continue
		}
		// Recount without the newline.
		sp := bytes.IndexByte(f, ' ')
		msg := bytes.TrimSuffix(f[sp+1:], []byte("\n"))
		b = strconv.AppendInt(b, int64(len(msg)), 10)
		b = append(b, ' ')
		b = append(b, msg...)
	}
	return b
}

func TestReaderSampleFrames(t *testing.T) {
	frames := sampleFrames(t)
	for _, tt := range []struct {
		name     string
		body     []byte
		wrap     func(io.Reader) io.Reader
		maxFrame int
	}{
		{"with newlines", frameBody(frames, true), nil, 0},
		{"without newlines", frameBody(frames, false), nil, 0},
		{"one byte at a time", frameBody(frames, true), iotest.OneByteReader, 0},
		{"half reads without newlines", frameBody(frames, false), iotest.HalfReader, 0},
		{"data with EOF", frameBody(frames, true), iotest.DataErrReader, 0},
		{"small buffer", frameBody(frames, false), iotest.OneByteReader, 700},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var src io.Reader = bytes.NewReader(tt.body)
			if tt.wrap != nil {
				src = tt.wrap(src)
			}
			r := NewReader(src, &ReaderOptions{MaxFrame: tt.maxFrame})
			got := readAll(t, r)
			require.Len(t, got, len(frames))
			for i, res := range got {
				require.NoError(t, res.err)
				var want Event
				require.NoError(t, ParseFrame(frames[i], &want))
				assert.Equal(t, string(want.App), res.app, i)
				assert.Equal(t, string(want.Proc), res.proc, i)
				assert.Equal(t, string(want.Msg), res.msg, i)
				frame := string(bytes.TrimSuffix(frames[i][bytes.IndexByte(frames[i], ' ')+1:], []byte("\n")))
				assert.Contains(t, []string{strconv.Itoa(len(frame)) + " " + frame, strconv.Itoa(len(frame)+1) + " " + frame}, res.raw, i)
			}
			st := r.Stats()
			assert.Equal(t, ReaderStats{Events: 24, Bytes: int64(len(tt.body))}, st)
		})
	}
}

func TestReaderWrongCounts(t *testing.T) {
	frames := sampleFrames(t)
	recount := func(f []byte, delta int) []byte {
		sp := bytes.IndexByte(f, ' ')
		n, _ := strconv.Atoi(string(f[:sp]))
		return append(strconv.AppendInt(nil, int64(n+delta), 10), f[sp:]...)
	}
	tests := []struct {
		name           string
		body           [][]byte
		wantEvents     int64
		wantMismatches int64
	}{
		{"short by 18 (router example)", [][]byte{frames[0], recount(frames[1], -18), frames[2]}, 3, 1},
		{"long by 22", [][]byte{recount(frames[0], 22), frames[1], frames[2]}, 3, 1},
		{"long by a whole frame", [][]byte{recount(frames[0], len(frames[1])), frames[1], frames[2]}, 3, 1},
		{"every count wrong", [][]byte{recount(frames[0], -5), recount(frames[1], 7), recount(frames[2], -100), recount(frames[3], 300)}, 4, 4},
		{"long by one: lands inside the next count", [][]byte{recount(frames[0], 1), frames[1], frames[2]}, 3, 1},
		{"long by two", [][]byte{recount(frames[0], 2), frames[1], frames[2]}, 3, 1},
		{"last frame long", [][]byte{frames[0], recount(frames[1], 50)}, 2, 1},
		{"count not including newline", [][]byte{recount(frames[0], -1), frames[1]}, 2, 0},
	}
	for _, tt := range tests {
		for _, wrap := range []func(io.Reader) io.Reader{nil, iotest.OneByteReader} {
			name := tt.name
			var src io.Reader = bytes.NewReader(bytes.Join(tt.body, nil))
			if wrap != nil {
				name += ", one byte at a time"
				src = wrap(src)
			}
			t.Run(name, func(t *testing.T) {
				r := NewReader(src, nil)
				got := readAll(t, r)
				for _, res := range got {
					require.NoError(t, res.err)
					assert.NotContains(t, res.msg, "\n")
				}
				st := r.Stats()
				assert.Equal(t, tt.wantEvents, st.Events)
				assert.Equal(t, tt.wantMismatches, st.Mismatches)
				assert.Zero(t, st.Unparsed)
			})
		}
	}
	t.Run("without newlines, wrong count resyncs at the next frame start", func(t *testing.T) {
		body := frameBody(frames[:3], false)
		body = append([]byte("250"), body[3:]...) // 277-1 → 250: short
		r := NewReader(bytes.NewReader(body), nil)
		got := readAll(t, r)
		require.Len(t, got, 3)
		assert.Equal(t, "router", got[1].proc)
		assert.Equal(t, int64(1), r.Stats().Mismatches)
	})
}

func TestReaderBadRecords(t *testing.T) {
	frames := sampleFrames(t)
	t.Run("count over the limit is skipped without reading it", func(t *testing.T) {
		body := "999999999 <158>1 " + strings.Repeat("x", 3000) + "\n" + string(frames[0]) + string(frames[1])
		r := NewReader(bytes.NewReader([]byte(body)), &ReaderOptions{MaxFrame: 1024})
		got := readAll(t, r)
		require.Len(t, got, 3)
		require.ErrorIs(t, got[0].err, ErrTooLong)
		assert.Contains(t, got[0].err.Error(), "octet count 999999999 exceeds limit 1024")
		assert.Equal(t, "999999999 <158>1 xxx", got[0].raw[:20])
		assert.Len(t, got[0].raw, 10+1024, "the count and MaxFrame bytes")
		assert.Equal(t, "router", got[1].proc)
		assert.Equal(t, ReaderStats{Events: 2, Unparsed: 1, Bytes: int64(len(body))}, r.Stats())
	})
	t.Run("count under the limit on a frame over it", func(t *testing.T) {
		body := "500 <158>1 " + strings.Repeat("x", 3000) + "\n" + string(frames[0])
		r := NewReader(bytes.NewReader([]byte(body)), &ReaderOptions{MaxFrame: 1024})
		got := readAll(t, r)
		require.Len(t, got, 2)
		require.ErrorIs(t, got[0].err, ErrTooLong)
		assert.Contains(t, got[0].err.Error(), "frame with octet count 500 runs past limit 1024")
		assert.Equal(t, "router", got[1].proc)
	})
	t.Run("count zero is a wrong count", func(t *testing.T) {
		r := NewReader(strings.NewReader("0 <13>1\n"+string(frames[0])), nil)
		got := readAll(t, r)
		require.Len(t, got, 2)
		require.ErrorIs(t, got[0].err, ErrHeader)
		assert.Equal(t, "0 <13>1", got[0].raw)
		assert.NoError(t, got[1].err)
		assert.Equal(t, ReaderStats{Events: 1, Unparsed: 1, Mismatches: 1, Bytes: int64(8 + len(frames[0]))}, r.Stats())
	})
	t.Run("bad header", func(t *testing.T) {
		body := string(frames[0]) + "20 <999>1 - h a p m - x\n" + string(frames[1])
		r := NewReader(strings.NewReader(body), nil)
		got := readAll(t, r)
		require.Len(t, got, 3)
		require.ErrorIs(t, got[1].err, ErrHeader)
		var se *SyntaxError
		require.ErrorAs(t, got[1].err, &se)
		assert.Equal(t, int64(len(frames[0])+4), se.Offset, "offset of the PRI digits in the stream")
		assert.Equal(t, "20 <999>1 - h a p m - x", got[1].raw)
		assert.Equal(t, ReaderStats{Events: 2, Unparsed: 1, Bytes: int64(len(body))}, r.Stats())
	})
	t.Run("line over the limit", func(t *testing.T) {
		body := "a=1\n" + strings.Repeat("k=v ", 1000) + "\nb=2\n" + strings.Repeat("x", 5000)
		r := NewReader(strings.NewReader(body), &ReaderOptions{MaxFrame: 100})
		got := readAll(t, r)
		require.Len(t, got, 4)
		assert.NoError(t, got[0].err)
		require.ErrorIs(t, got[1].err, ErrTooLong)
		assert.Len(t, got[1].raw, 100)
		assert.Equal(t, "b=2", got[2].msg)
		require.ErrorIs(t, got[3].err, ErrTooLong)
		var se *SyntaxError
		require.ErrorAs(t, got[3].err, &se)
		assert.Equal(t, int64(4+4000+1+4), se.Offset)
	})
	t.Run("forced octet form rejects a line", func(t *testing.T) {
		body := "hello world\n" + string(frames[0])
		r := NewReader(strings.NewReader(body), &ReaderOptions{Form: FormOctet})
		got := readAll(t, r)
		require.Len(t, got, 2)
		require.ErrorIs(t, got[0].err, ErrCount)
		assert.NoError(t, got[1].err)
	})
}

// TestReaderCountOverLimit: a count over MaxFrame on a frame that is in
// fact short is a wrong count like any other. Vector's heroku_logs source
// tests this with "1000000 <158>1 ... i'm not that long".
func TestReaderCountOverLimit(t *testing.T) {
	frames := sampleFrames(t)
	const vector = "1000000 <158>1 2020-01-08T22:33:57.353034+00:00 host heroku router - i'm not that long"
	long := "<158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info path=/" + strings.Repeat("x", 60)
	tests := []struct {
		name       string
		body       string
		maxFrame   int
		wantMsgs   []string
		mismatches int64
	}{
		{"vector's test, alone", vector, 0, []string{"i'm not that long"}, 1},
		{"vector's test, then a frame", vector + "\n" + string(frames[8]), 0, []string{"i'm not that long", "Process running mem=563M(110.0%)"}, 1},
		{"vector's test, glued to a frame", vector + string(frames[8]), 0, []string{"i'm not that long", "Process running mem=563M(110.0%)"}, 1},
		{"count of 10^12, then a frame", "1000000000000 <158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info\n" + string(frames[8]), 0,
			[]string{"at=info", "Process running mem=563M(110.0%)"}, 1},
		{"count of 19 digits", "9999999999999999999 <158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info", 0, []string{"at=info"}, 1},
		{"small limit", "1025 " + string(frames[8][3:]) + string(frames[9]), 100, []string{"Process running mem=563M(110.0%)", "Error R14 (Memory quota exceeded)"}, 1},
		// The frame is MaxFrame bytes; the next one's start runs past.
		{"the next frame starts at the limit", "1025 " + long + string(frames[8]), len(long), []string{long[strings.Index(long, "at="):], "Process running mem=563M(110.0%)"}, 1},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{true: ", one byte at a time"}[chunked], func(t *testing.T) {
				var src io.Reader = strings.NewReader(tt.body)
				if chunked {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src, &ReaderOptions{MaxFrame: tt.maxFrame})
				got := readAll(t, r)
				var msgs []string
				for _, res := range got {
					require.NoError(t, res.err)
					msgs = append(msgs, res.msg)
				}
				assert.Equal(t, tt.wantMsgs, msgs)
				assert.Equal(t, ReaderStats{Events: int64(len(tt.wantMsgs)), Mismatches: tt.mismatches, Bytes: int64(len(tt.body))}, r.Stats())
			})
		}
	}
	t.Run("a frame over the limit is not read whole", func(t *testing.T) {
		// A claimed terabyte, and 10 MB without a newline: the reader gives
		// up after MaxFrame bytes and skips the rest a buffer at a time.
		src := &countingReader{r: io.MultiReader(strings.NewReader("1000000000000 <158>1 "), &repeatReader{c: 'x', n: 10 << 20}, strings.NewReader("\n"+string(frames[8])))}
		r := NewReader(src, &ReaderOptions{MaxFrame: 1024})
		_, err := r.Next()
		require.ErrorIs(t, err, ErrTooLong)
		assert.Contains(t, err.Error(), "octet count 1000000000000 exceeds limit 1024")
		assert.Less(t, src.n, int64(4096), "bytes read before the error")
		ev, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, "worker.1", string(ev.Proc))
		assert.Equal(t, int64(1), r.Stats().Unparsed)
		assert.Zero(t, r.Stats().Mismatches)
	})
	t.Run("skipping does not depend on the reads", func(t *testing.T) {
		// A frame over the limit, then 170 digits ending like a frame
		// start: 19 digits at most make a count, so there is none, read
		// whole or a byte at a time (the skip keeps back a tail that
		// starts inside the digits).
		body := "0 <" + strings.Repeat("0", 170) + " <000>00"
		whole := readAll(t, NewReader(strings.NewReader(body), &ReaderOptions{MaxFrame: 172}))
		require.Len(t, whole, 1)
		assert.ErrorIs(t, whole[0].err, ErrTooLong)
		bytewise := readAll(t, NewReader(iotest.OneByteReader(strings.NewReader(body)), &ReaderOptions{MaxFrame: 172}))
		assert.Equal(t, whole, bytewise)
	})
	t.Run("the error names the count after the buffer moved", func(t *testing.T) {
		// The first line leaves the frame in the middle of the buffer, so
		// reading on to find the frame's end moves it to the front.
		body := strings.Repeat("a", 600) + "\n1000 <158>1 " + strings.Repeat("x", 2000) + "\n" + string(frames[8])
		r := NewReader(strings.NewReader(body), &ReaderOptions{MaxFrame: 1024})
		_, err := r.Next()
		require.NoError(t, err)
		_, err = r.Next()
		require.ErrorIs(t, err, ErrTooLong)
		assert.Contains(t, err.Error(), "frame with octet count 1000 runs past limit 1024")
		assert.True(t, strings.HasPrefix(string(r.Raw()), "1000 <158>1 xxx"), "raw %.20q", r.Raw())
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeatReader yields n copies of c.
type repeatReader struct {
	c byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return k, nil
}

func TestReaderMixedForms(t *testing.T) {
	lines := "\n\n" + strings.Join([]string{
		"2026-03-14T17:02:11.482113+00:00 heroku[router]: at=info service=43ms",
		string(bytes.TrimSuffix(sampleFrames(t)[0], []byte("\n"))),
		"<158>1 2026-03-14T17:02:11.482113+00:00 d.x heroku router - - at=info",
		"2011-10-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com key=value",
		"at=info a=1",
		"2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10",
		"2026-03-14T17:02:11 heroku[router]: x",
		"  \t",
		"last=line",
	}, "\r\n")
	r := NewReader(strings.NewReader(lines), nil)
	var forms []Form
	var errs int
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			errs++
			continue
		}
		forms = append(forms, ev.Form)
	}
	assert.Equal(t, []Form{FormHerokuLogs, FormOctet, FormRFC5424, FormClassic, FormLogfmt, FormSyslog, FormLogfmt}, forms)
	assert.Equal(t, 1, errs)
	assert.Equal(t, ReaderStats{Events: 7, Unparsed: 1, BadTime: 1, Bytes: int64(len(lines))}, r.Stats())
}

func TestReaderForcedForm(t *testing.T) {
	r := NewReader(strings.NewReader("2026-03-14T17:02:11Z heroku[router]: a=1\n"), &ReaderOptions{Form: FormLogfmt})
	ev, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, FormLogfmt, ev.Form)
	assert.Equal(t, 3, ev.Len())
}

func TestReaderIOError(t *testing.T) {
	boom := errors.New("boom")
	frames := sampleFrames(t)
	r := NewReader(io.MultiReader(bytes.NewReader(frames[0]), iotest.ErrReader(boom)), nil)
	ev, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "router", string(ev.Proc))
	_, err = r.Next()
	require.ErrorIs(t, err, boom)
	_, err = r.Next()
	require.ErrorIs(t, err, boom, "the error is sticky")
}

func TestReaderNoProgress(t *testing.T) {
	r := NewReader(zeroReader{}, nil)
	_, err := r.Next()
	require.ErrorIs(t, err, io.ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// loopReader repeats a body forever without allocating.
type loopReader struct {
	body []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.body[l.off:])
	l.off = (l.off + n) % len(l.body)
	return n, nil
}

func TestReaderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	frames := sampleFrames(t)
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"frames", frameBody(frames, true)},
		{"frames without newlines", frameBody(frames, false)},
		{"lines", []byte("2026-03-14T17:02:11.482113+00:00 heroku[router]: at=info service=43ms desc=\"a \\\"b\\\"\"\nat=info\n")},
		{"json lines", []byte(`2026-03-14T17:02:11.482113+00:00 app[web.1]: {"level":"INFO","msg":"a \"b\"","req":{"id":"r1","ms":12.5}}` + "\n" +
			`<190>1 2026-03-14T17:02:11.482113+00:00 host app web.1 - {"time":"2026-03-14T17:02:11Z","k\u00e9":[1,2]}` + "\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(&loopReader{body: tt.body}, nil)
			for range 100 { // warm up: buffer, scratch
				_, err := r.Next()
				require.NoError(t, err)
			}
			allocs := testing.AllocsPerRun(1000, func() {
				ev, err := r.Next()
				if err != nil || ev.Len() == 0 {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}

func TestReaderRawOfRejectedLine(t *testing.T) {
	r := NewReader(strings.NewReader("hello world\r\nnext"), &ReaderOptions{Form: FormOctet})
	_, err := r.Next()
	require.ErrorIs(t, err, ErrCount)
	assert.Equal(t, "hello world", string(r.Raw()))
}

func TestReaderReset(t *testing.T) {
	frames := sampleFrames(t)
	r := NewReader(strings.NewReader("a=1\nbad <13>\n"), &ReaderOptions{MaxFrame: 1000, Form: FormOctet})
	got := readAll(t, r)
	require.Len(t, got, 2)
	require.Equal(t, int64(2), r.Stats().Unparsed)

	r.Reset(bytes.NewReader(frames[0]))
	assert.Equal(t, ReaderStats{}, r.Stats())
	ev, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "router", string(ev.Proc))
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, ReaderStats{Events: 1, Bytes: int64(len(frames[0]))}, r.Stats())

	// The options survive: a frame over 1000 bytes is still too long.
	r.Reset(strings.NewReader("2000 <13>1 - h a p m - " + strings.Repeat("x", 1500) + "\n"))
	_, err = r.Next()
	require.ErrorIs(t, err, ErrTooLong)
}

func TestReaderResetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	stream := frameBody(sampleFrames(t), true)
	src := bytes.NewReader(stream)
	r := NewReader(src, nil)
	assert.Zero(t, testing.AllocsPerRun(20, func() {
		src.Reset(stream)
		r.Reset(src)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}))
}

// TestReaderBadTime: the ten frames of logplex's http-input example all
// carry "2012-12-10T04:05:25Z+00:00"; each comes back complete but for its
// time, with an ErrTime error, and counts as unparsed and bad time.
func TestReaderBadTime(t *testing.T) {
	var body strings.Builder
	for i := range 10 {
		msg := "<134>1 2012-12-10T04:05:25Z+00:00 erlang t.d6799f88-4a77-402f-b197-2b722a02cdbc console.1 - Logsplat test message " + strconv.Itoa(i+1) + " from <0.72.0>."
		body.WriteString(strconv.Itoa(len(msg)) + " " + msg)
	}
	body.WriteString(string(sampleFrames(t)[0]))
	in := body.String()

	t.Run("the event comes with the error", func(t *testing.T) {
		r := NewReader(strings.NewReader(in), nil)
		for i := range 10 {
			ev, err := r.Next()
			require.ErrorIs(t, err, ErrTime)
			require.ErrorIs(t, err, ErrSyntax)
			require.NotNil(t, ev)
			assert.Equal(t, FormOctet, ev.Form)
			assert.True(t, ev.Time.IsZero())
			assert.Equal(t, "2012-12-10T04:05:25Z+00:00", string(ev.Timestamp))
			assert.Equal(t, "console.1", string(ev.Proc))
			assert.Equal(t, "Logsplat test message "+strconv.Itoa(i+1)+" from <0.72.0>.", string(ev.Msg))
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, int64(i*134+4+7), se.Offset, "offset of the timestamp in the stream")
		}
		ev, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, "router", string(ev.Proc))
		assert.Equal(t, ReaderStats{Events: 1, Unparsed: 10, BadTime: 10, Bytes: int64(len(in))}, r.Stats())
	})
	t.Run("a caller that skips syntax errors skips them", func(t *testing.T) {
		r := NewReader(strings.NewReader(in), nil)
		var events, skipped int
		for {
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrSyntax) {
				skipped++
				continue
			}
			require.NoError(t, err)
			assert.False(t, ev.Time.IsZero())
			events++
		}
		assert.Equal(t, 1, events)
		assert.Equal(t, 10, skipped)
	})
}
