package logfmt

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realBodies returns the real drain bodies of testdata/real by name.
func realBodies(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob("testdata/real/*.body")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	out := make(map[string][]byte)
	for _, name := range names {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		out[filepath.Base(name)] = b
	}
	return out
}

// TestRealDrainBodies reads the real drain bodies of testdata/real (public
// test and documentation material; README.md there names each source)
// and checks what their sources say about them, whether the body arrives
// whole or a byte at a time.
func TestRealDrainBodies(t *testing.T) {
	type want struct {
		procs      []string // one per event; a "!" prefix marks ErrTime
		msgs       map[int]string
		mismatches int64
	}
	tests := map[string]want{
		"vector-bad-framing.body": {procs: []string{"router"}, msgs: map[int]string{0: "i'm not that long"}, mismatches: 1},
		"logplex-http-input-10.body": {procs: []string{"!console.1", "!console.1", "!console.1", "!console.1", "!console.1",
			"!console.1", "!console.1", "!console.1", "!console.1", "!console.1"},
			msgs: map[int]string{0: "Logsplat test message 1 from <0.72.0>.", 9: "Logsplat test message 10 from <0.72.0>."}},
		"goodeggs-chunked.body": {procs: []string{"logplex", "router", "logplex", "router", "logplex", "web.1"},
			msgs: map[int]string{4: "Error L10 (output buffer overflow): 4 messages dropped since 2015-06-08T21:46:44+00:00."}},
		"rwdaigle-two-frames.body": {procs: []string{"web.2", "web.1"},
			msgs:       map[int]string{1: `Started GET "/blog.rss" for 54.219.13.100 at 2014-07-18 12:59:25 +0000`},
			mismatches: 1},
		"l2met-logplex-l10.body": {procs: []string{"logplex"},
			msgs:       map[int]string{0: "Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00."},
			mismatches: 1},
		"logplex-logs-rest.body":     {procs: []string{"endosome-ssh-1", "endosome-web-1", "endosome-web-1", "endosome-web-1", "endosome-web-1"}},
		"eauc-test-l10-runtime.body": {procs: []string{"logplex", "web.1", "web.1"}, mismatches: 1},
		"timber-logdrains-example.body": {procs: []string{"web.3", "web.3"},
			msgs:       map[int]string{1: "Starting process with command `bundle exec rackup -p 24405`"},
			mismatches: 1},
		// The first count is one too large and lands on a digit of the
		// next count: the L10 message keeps that digit, as nothing in the
		// stream says otherwise. The second is one too large for the
		// bytes left (the capture lost its newline): a mismatch.
		"eauc-sample1.body": {procs: []string{"logplex", "router"},
			msgs:       map[int]string{0: "Error L10 (output buffer overflow): 302626 messages dropped since 2017-08-28T08:07:27+00:00.2"},
			mismatches: 1},
	}
	bodies := realBodies(t)
	require.Len(t, bodies, len(tests))
	for name, w := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(name+map[bool]string{true: "/one byte at a time"}[chunked], func(t *testing.T) {
				body, ok := bodies[name]
				require.True(t, ok)
				var src io.Reader = bytes.NewReader(body)
				if chunked {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src, nil)
				var procs []string
				msgs := map[int]string{}
				var badTime int64
				for {
					ev, err := r.Next()
					if err == io.EOF {
						break
					}
					prefix := ""
					if errors.Is(err, ErrTime) {
						prefix = "!"
						badTime++
						assert.True(t, ev.Time.IsZero())
					} else {
						require.NoError(t, err)
						assert.False(t, ev.Time.IsZero())
					}
					procs = append(procs, prefix+string(ev.Proc))
					if _, ok := w.msgs[len(procs)-1]; ok {
						msgs[len(procs)-1] = string(ev.Msg)
					}
				}
				assert.Equal(t, w.procs, procs)
				if w.msgs != nil {
					assert.Equal(t, w.msgs, msgs)
				}
				st := r.Stats()
				assert.Equal(t, ReaderStats{
					Events: int64(len(w.procs)) - badTime, Unparsed: badTime, BadTime: badTime,
					Mismatches: w.mismatches, Bytes: int64(len(body)),
				}, st)
			})
		}
	}
}
