package logfmt

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one answer of Splitter.Next.
type step struct {
	n     int
	split Split
}

// splitAll runs s over b as a stream that b holds so far, feeding it
// what is left after each answer, until it asks for more.
func splitAll(s *Splitter, b []byte, idle bool) (steps []step, used int) {
	for range len(b) + 2 {
		n, split := s.Next(b[used:], idle)
		if split == SplitMore {
			return steps, used
		}
		if n == 0 && split == SplitLong {
			return steps, used // waiting for more
		}
		steps = append(steps, step{n, split})
		used += n
	}
	panic("splitter makes no progress")
}

// counted returns msg with its octet count.
func counted(msg string) string { return strconv.Itoa(len(msg)) + " " + msg }

func TestSplitterNext(t *testing.T) {
	// (A message that ends in a digit would glue it to the next count
	// when a frame is resynchronised, for the Reader as for a Splitter.)
	const msg = "<158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info path=/x"
	frame := counted(msg + "\n") // as Logplex sends it
	bare := counted(msg)         // as RFC 6587 allows
	F, B := len(frame), len(bare)
	f := func(name string, max int, in string, idle bool, want ...step) {
		t.Helper()
		s := &Splitter{MaxFrame: max}
		got, _ := splitAll(s, []byte(in), idle)
		assert.Equal(t, want, got, name)
	}
	f("empty", 0, "", false)
	f("blank", 0, "\n\r \t", false, step{4, SplitBlank})
	f("line", 0, "a=1\nb=2\npart", false, step{4, SplitRecord}, step{4, SplitRecord})
	f("line waits for its newline when idle", 0, "part", true)
	f("frame with its newline", 0, frame+frame, false, step{F, SplitRecord}, step{F, SplitRecord})
	f("frames without newlines", 0, bare+bare+bare, false, step{B, SplitRecord}, step{B, SplitRecord})
	f("the last waits for the bytes after it", 0, bare+bare, false, step{B, SplitRecord})
	f("... unless idle", 0, bare+bare, true, step{B, SplitRecord}, step{B, SplitRecord})
	f("idle, the next count begun", 0, bare+"12", true, step{B, SplitRecord})
	f("idle, the next count and its space", 0, bare+"12 ", true, step{B, SplitRecord})
	f("a partial frame waits, idle or not", 0, bare[:50], true)
	f("a count waits for its space and '<'", 0, "123", false)
	f("a count waits for its '<'", 0, "123 ", false)
	f("digits and a letter are a line", 0, "123x\n", false, step{5, SplitRecord})
	f("frame then a newline it does not count", 0, bare+"\n"+bare+"\n", false,
		step{B, SplitRecord}, step{1, SplitBlank}, step{B, SplitRecord}, step{1, SplitBlank})
	f("frame then line", 0, frame+"a=1\n", false, step{F, SplitRecord}, step{4, SplitRecord})
	f("line then frames", 0, "a=1\n"+bare+frame, false, step{4, SplitRecord}, step{B, SplitRecord}, step{F, SplitRecord})
	short := strconv.Itoa(len(msg)-9) + " " + msg
	f("count too short: resync at the next frame", 0, short+bare+bare, false,
		step{len(short), SplitRecord}, step{B, SplitRecord})
	long := strconv.Itoa(len(msg)+2) + " " + msg + "\n"
	f("count too long: resync at the newline", 0, long+frame, false, step{len(long), SplitRecord}, step{F, SplitRecord})
	huge := "1000000000000 " + msg
	f("count of 10^12", 0, huge+bare+bare, false, step{len(huge), SplitRecord}, step{B, SplitRecord})
	f("count of 0", 0, "0 "+msg+bare+bare, false, step{len(msg) + 2, SplitRecord}, step{B, SplitRecord})
	inner := "90 " + msg + "\n"
	f("an inner line that starts like a frame", 0, inner+bare+"\n", false,
		step{len(inner), SplitRecord}, step{B, SplitRecord}, step{1, SplitBlank})

	// Limits: a frame of exactly MaxFrame, and one over.
	exact := counted("<13>1 - h\n") // a count of 10
	f("frame of MaxFrame", 10, exact+exact, false, step{13, SplitRecord}, step{13, SplitRecord})
	f("frame over MaxFrame, its end in sight", 9, exact+exact, false, step{13, SplitLongEnd}, step{13, SplitLongEnd})
	over := counted("<13>1 - h a") // 11, no newline: the end is the next frame start
	f("frame over MaxFrame, the next frame start in sight", 9, over+over+exact, false,
		step{14, SplitLongEnd}, step{14, SplitLongEnd}, step{13, SplitLongEnd})
	f("line of MaxFrame", 4, "abcd\n", false, step{5, SplitRecord})
	f("line over MaxFrame", 4, "abcde\nab\n", false, step{6, SplitLongEnd}, step{3, SplitRecord})
	f("line over MaxFrame, no end yet", 4, "abcde", false, step{5, SplitLong})
	f("frame over MaxFrame, no end yet", 40, "999 <13>1 "+strings.Repeat("x", 60), false,
		step{70 - frameStartLen, SplitLong})
}

// TestSplitterLong follows a record over MaxFrame across calls.
func TestSplitterLong(t *testing.T) {
	s := &Splitter{MaxFrame: 16}
	head := "99 <13>1 " + strings.Repeat("x", 40)
	n, split := s.Next([]byte(head), false)
	assert.Equal(t, SplitLong, split)
	assert.Equal(t, len(head)-frameStartLen, n)
	next := counted("<13>1 - h a")
	rest := head[n:] + strings.Repeat("y", 30) + next
	n, split = s.Next([]byte(rest), false)
	assert.Equal(t, SplitLongEnd, split)
	assert.Equal(t, next, rest[n:], "the skip ends at the next frame start")
	n, split = s.Next([]byte(rest[n:]), true)
	assert.Equal(t, step{14, SplitRecord}, step{n, split})

	// A line over MaxFrame ends at its newline.
	s.Reset()
	n, split = s.Next([]byte(strings.Repeat("z", 20)), false)
	assert.Equal(t, step{20, SplitLong}, step{n, split})
	n, split = s.Next([]byte("zz 12 <13>1 - h a\nnext\n"), false)
	assert.Equal(t, step{18, SplitLongEnd}, step{n, split}, "a line is skipped to its newline")

	// A frame start cut short at the end of one call is kept back, and
	// found in the next.
	s.Reset()
	long := "99 <13>1 " + strings.Repeat("x", 40) + " 1234567890123456789 <123>1 - h a"
	cut := len(long) - len("1 - h a")
	n, split = s.Next([]byte(long[:cut]), false)
	require.Equal(t, SplitLong, split)
	n2, split := s.Next([]byte(long[n:]), false)
	assert.Equal(t, SplitLongEnd, split)
	assert.Equal(t, "1234567890123456789 <123>1 - h a", long[n+n2:])
}

func TestSplitString(t *testing.T) {
	assert.Equal(t, "record", SplitRecord.String())
	assert.Equal(t, "long-end", SplitLongEnd.String())
	assert.Equal(t, "split(9)", Split(9).String())
}

// readOut is what a Reader gives for one record, whatever the offset at
// which it started reading.
type readOut struct {
	raw, err, ev string
}

// readRecords reads data with a Reader of MaxFrame max and returns what
// each Next gave. Plain code: the fuzzer calls it.
func readRecords(data []byte, max int) ([]readOut, ReaderStats) {
	r := NewReader(bytes.NewReader(data), &ReaderOptions{MaxFrame: max})
	var out []readOut
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out, r.Stats()
		}
		o := readOut{raw: string(r.Raw())}
		var se *SyntaxError
		if errors.As(err, &se) {
			o.err = se.Form.String() + "/" + se.Err.Error() + "/" + se.Msg
		}
		if ev != nil {
			o.ev = ev.Form.String() + " " + strconv.FormatInt(ev.Time.UnixNano(), 10) + " " + string(ev.Timestamp) + " " +
				string(ev.Host) + " " + string(ev.App) + " " + string(ev.Proc) + " " + string(ev.MsgID) + " " +
				string(ev.StructuredData) + " " + string(ev.Msg) + " " + string(formatBody(ev))
		}
		out = append(out, o)
	}
}

// checkSplitReads cuts data wherever s says a record ends (at each cut
// with probability 1/every, and at least at the ends of records over
// MaxFrame's pieces never), reads the pieces apart, and checks that they
// give what reading the whole gives: the same records, errors and counts.
func checkSplitReads(t *testing.T, data []byte, max, every int, seed uint64) {
	t.Helper()
	want, wantSt := readRecords(data, max)
	s := &Splitter{MaxFrame: max}
	r := rand.New(rand.NewPCG(seed, 1))
	var got []readOut
	var gotSt ReaderStats
	read := func(piece []byte) {
		out, st := readRecords(piece, max)
		got = append(got, out...)
		gotSt.Events += st.Events
		gotSt.Unparsed += st.Unparsed
		gotSt.BadTime += st.BadTime
		gotSt.Mismatches += st.Mismatches
		gotSt.Bytes += st.Bytes
	}
	start, pos, long := 0, 0, false
	for calls := 0; ; calls++ {
		if calls > 2*len(data)+4 {
			t.Fatalf("no progress after %d calls on %d bytes", calls, len(data))
		}
		n, split := s.Next(data[pos:], false)
		if split == SplitMore || split == SplitLong && n == 0 {
			break
		}
		if n == 0 && split != SplitLongEnd {
			t.Fatalf("%v of 0 bytes at %d", split, pos)
		}
		pos += n
		long = split == SplitLong
		if !long && r.IntN(every) == 0 {
			read(data[start:pos])
			start = pos
		}
	}
	read(data[start:])
	if len(got) != len(want) {
		t.Fatalf("max %d: %d records read in pieces, %d read whole:\n got %q\nwant %q", max, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("max %d: record %d read in pieces differs:\n got %q\nwant %q", max, i, got[i], want[i])
		}
	}
	if gotSt != wantSt {
		t.Fatalf("max %d: stats read in pieces %+v, whole %+v", max, gotSt, wantSt)
	}
}

// splitSeeds are streams for the splitter: frames with and without their
// newlines, lines, mixes, wrong counts, records over the limits below.
func splitSeeds(t testing.TB) [][]byte {
	frames := sampleFrames(t)
	bare := frameBody(frames, false)
	lines, err := os.ReadFile("testdata/lines.txt")
	require.NoError(t, err)
	mix, err := os.ReadFile("testdata/mix.log")
	require.NoError(t, err)
	out := [][]byte{
		frameBody(frames, true), bare, lines, mix,
		append(append(frameBody(frames[:5], false), lines[:500]...), bare...),
		[]byte(strings.ReplaceAll(string(bare), "<", "1000000000000 <")),
		[]byte("5" + string(bare)),
		[]byte(strings.Repeat("x", 300) + "\n" + string(bare[:400]) + strings.Repeat("9 ", 200) + string(bare)),
	}
	for _, body := range realBodies(t) {
		out = append(out, body)
	}
	return out
}

// TestSplitterAgreesWithReader: pieces cut where the splitter says read
// as the whole stream does, over the seeds at several limits.
func TestSplitterAgreesWithReader(t *testing.T) {
	for i, data := range splitSeeds(t) {
		for _, max := range []int{64, 200, 1000, DefaultMaxFrame} {
			for _, every := range []int{1, 3} {
				checkSplitReads(t, data, max, every, uint64(i))
			}
		}
	}
}

// TestSplitterIdle: valid frames in any framing, split with idle at every
// possible end of what was read so far, give the frames sent.
func TestSplitterIdle(t *testing.T) {
	frames := sampleFrames(t)
	for _, data := range [][]byte{frameBody(frames, true), frameBody(frames, false)} {
		want, _ := readRecords(data, DefaultMaxFrame)
		require.Len(t, want, len(frames))
		for end := 1; end <= len(data); end += 7 {
			// Read data[:end], idle, then go on with the rest.
			_, used := splitAll(&Splitter{}, data[:end], true)
			first, _ := readRecords(data[:used], DefaultMaxFrame)
			second, _ := readRecords(data[used:], DefaultMaxFrame)
			got := append(first, second...)
			require.Equal(t, want, got, "idle cut at %d of %d (used %d)", end, len(data), used)
		}
	}
}

func TestSplitterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	data := frameBody(sampleFrames(t), false)
	var s Splitter
	allocs := testing.AllocsPerRun(100, func() {
		for b := data; ; {
			n, split := s.Next(b, true)
			if split == SplitMore || n == 0 {
				break
			}
			b = b[n:]
		}
	})
	assert.Zero(t, allocs)
}
