package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runParse runs Run in-process and returns stdout split into lines, stderr
// and the error.
func runParse(t *testing.T, ctx context.Context, stdin string, args ...string) ([]string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	out := strings.TrimSuffix(stdout.String(), "\n")
	if out == "" {
		return nil, stderr.String(), err
	}
	return strings.Split(out, "\n"), stderr.String(), err
}

// decode checks that line is valid JSON and returns it as a map.
func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	require.True(t, json.Valid([]byte(line)), line)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &m))
	return m
}

const sampleFrames = "../../../logfmt/testdata/frames.txt"

func TestSampleFrames(t *testing.T) {
	lines, stderr, err := runParse(t, context.Background(), "", sampleFrames)
	require.NoError(t, err)
	require.Len(t, lines, 24)
	assert.Equal(t, "events=24 unparsed=0 badtime=0 mismatches=0\n", stderr)

	first := decode(t, lines[0])
	assert.Equal(t, map[string]any{
		"time": "2026-03-14T17:02:11.482113Z", "host": "host", "app": "heroku", "proc": "router",
		"facility": "local3", "severity": "info", "msgid": "-",
		"msg": `at=info method=GET path="/api/orders?page=2" host=shop-example.herokuapp.com request_id=5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41 fwd="203.0.113.7" dyno=web.2 connect=1ms service=43ms status=200 bytes=5321 protocol=https`,
		"fields": map[string]any{
			"at": "info", "method": "GET", "path": "/api/orders?page=2", "host": "shop-example.herokuapp.com",
			"request_id": "5f0c6a1e-8d3b-4c4e-9f6a-2b7d1c0e9a41", "fwd": "203.0.113.7", "dyno": "web.2",
			"connect": "1ms", "service": "43ms", "status": "200", "bytes": "5321", "protocol": "https",
		},
	}, first)

	postgres := decode(t, lines[20])
	assert.Equal(t, "2026-03-14T17:05:00Z", postgres["time"], "second precision stays so")
	assert.Equal(t, "local0", postgres["facility"])

	r14 := decode(t, lines[9])
	assert.Equal(t, map[string]any{"Error": true, "R14": true, "(Memory": true, "quota": true, "exceeded)": true}, r14["fields"])
	for i, l := range lines {
		m := decode(t, l)
		assert.NotContains(t, m, "unparsed", i)
		assert.Contains(t, m, "time", i)
	}
}

func TestForms(t *testing.T) {
	in := strings.Join([]string{
		"2011-10-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com key=value",
		"2026-11-24T10:00:00.123456+00:00 app[web.1]: at=info a=1 a=2 flag service=18ms",
		"bare=1",
	}, "\n")
	lines, stderr, err := runParse(t, context.Background(), in)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	assert.Equal(t, "events=3 unparsed=0 badtime=0 mismatches=0\n", stderr)
	assert.Equal(t, map[string]any{
		"time": "2011-10-20T00:14:55Z", "host": "10.1.2.3", "facility": "local3", "severity": "info",
		"app": "hermes", "proc": "12345", "slot": "hermes", "instance": "12", "cloud": "heroku.com",
		"msg": "key=value", "fields": map[string]any{"key": "value"},
	}, decode(t, lines[0]))
	assert.Equal(t, map[string]any{
		"time": "2026-11-24T10:00:00.123456Z", "app": "app", "proc": "web.1",
		"msg":    "at=info a=1 a=2 flag service=18ms",
		"fields": map[string]any{"at": "info", "a": "2", "flag": true, "service": "18ms"},
	}, decode(t, lines[1]))
	assert.Equal(t, `{"msg":"bare=1","fields":{"bare":"1"}}`, lines[2])
}

func TestJSONBody(t *testing.T) {
	in := `2026-03-14T17:02:11.482113+00:00 app[web.1]: {"level":"ERROR","msg":"charge failed","order":{"id":"o_1","total":42.5},"retry":false,"err":null,"tags":["a"]}` + "\n"
	lines, _, err := runParse(t, context.Background(), in)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	assert.Equal(t, map[string]any{
		"level": "ERROR", "msg": "charge failed", "order.id": "o_1", "order.total": "42.5", "retry": "false", "err": "", "tags": `["a"]`,
	}, decode(t, lines[0])["fields"])
}

func TestUnparsedAndInvalidUTF8(t *testing.T) {
	in := "a=\xff\xfe b=\"caf\xc3\" \xe2\x80\xa8=x\n" +
		"<999>1 - h a p m - x=1\n" +
		"2026-03-14T25:00:00Z heroku[router]: bad \xff time\n" +
		"ok=1\n"
	lines, stderr, err := runParse(t, context.Background(), in)
	require.NoError(t, err, "bad lines are not an error")
	require.Len(t, lines, 4)
	assert.Equal(t, "events=2 unparsed=2 badtime=1 mismatches=0\n", stderr)

	m := decode(t, lines[0])
	assert.Equal(t, map[string]any{"a": "\ufffd\ufffd", "b": "caf\ufffd", "\u2028": "x"}, m["fields"])

	bad := decode(t, lines[1])
	assert.Equal(t, true, bad["unparsed"])
	assert.Equal(t, "<999>1 - h a p m - x=1", bad["line"])
	assert.Contains(t, bad["error"], "at offset 21: PRI")

	// A bad time costs the event only its time.
	assert.Equal(t, map[string]any{
		"timestamp": "2026-03-14T25:00:00Z", "app": "heroku", "proc": "router",
		"msg": "bad \ufffd time", "fields": map[string]any{"bad": true, "\ufffd": true, "time": true},
		"error": "logfmt: heroku-logs at offset 43: timestamp is not RFC 3339",
	}, decode(t, lines[2]))

	assert.Equal(t, map[string]any{"ok": "1"}, decode(t, lines[3])["fields"])
}

// TestBadTimePrinted: logplex's own http-input example carries
// "2012-12-10T04:05:25Z+00:00"; the events print with their error instead
// of being dropped, and the summary counts them.
func TestBadTimePrinted(t *testing.T) {
	in := "130 <134>1 2012-12-10T04:05:25Z+00:00 erlang t.d6799f88-4a77-402f-b197-2b722a02cdbc console.1 - Logsplat test message 1 from <0.72.0>." +
		"130 <134>1 1600-12-10T04:05:25.50000Z erlang t.d6799f88-4a77-402f-b197-2b722a02cdbc console.1 - Logsplat test message 2 from <0.72.0>."
	lines, stderr, err := runParse(t, context.Background(), in)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, "events=0 unparsed=2 badtime=2 mismatches=0\n", stderr)
	assert.Equal(t, map[string]any{
		"timestamp": "2012-12-10T04:05:25Z+00:00", "host": "erlang", "app": "t.d6799f88-4a77-402f-b197-2b722a02cdbc", "proc": "console.1",
		"facility": "local0", "severity": "info", "msgid": "-", "msg": "Logsplat test message 1 from <0.72.0>.",
		"fields": map[string]any{"Logsplat": true, "test": true, "message": true, "1": true, "from": true, "<0.72.0>.": true},
		"error":  "logfmt: octet at offset 11: TIMESTAMP is not RFC 3339",
	}, decode(t, lines[0]))
	second := decode(t, lines[1])
	assert.NotContains(t, second, "time")
	assert.Equal(t, "1600-12-10T04:05:25.50000Z", second["timestamp"])
	assert.Equal(t, "logfmt: octet at offset 145: TIMESTAMP in year 1600 is outside 1970-01-01 to 2200-01-01", second["error"])
}

func TestWrongCountsAreCounted(t *testing.T) {
	in := "10 <13>1 - h a p m - a=1\n" + "5 <13>1 - h a p m - b=2\n"
	lines, stderr, err := runParse(t, context.Background(), in)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, "events=2 unparsed=0 badtime=0 mismatches=2\n", stderr)
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	require.NoError(t, os.WriteFile(good, []byte("a=1\nb=2\n"), 0o644))
	missing := filepath.Join(dir, "missing.log")

	t.Run("unreadable file is an error, others still parsed", func(t *testing.T) {
		lines, stderr, err := runParse(t, context.Background(), "", missing, good)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), "missing.log")
		assert.Len(t, lines, 2)
		assert.Equal(t, "events=2 unparsed=0 badtime=0 mismatches=0\n", stderr)
	})
	t.Run("a directory cannot be read", func(t *testing.T) {
		_, _, err := runParse(t, context.Background(), "", dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "parse: read "+dir)
	})
	t.Run("dash is stdin", func(t *testing.T) {
		lines, _, err := runParse(t, context.Background(), "c=3\n", good, "-")
		require.NoError(t, err)
		assert.Len(t, lines, 3)
	})
}

func TestFlags(t *testing.T) {
	t.Run("help", func(t *testing.T) {
		_, stderr, err := runParse(t, context.Background(), "", "-h")
		require.ErrorIs(t, err, flag.ErrHelp)
		assert.Contains(t, stderr, "usage: pulse parse")
		assert.Contains(t, stderr, "-max-frame")
	})
	t.Run("bad form", func(t *testing.T) {
		_, _, err := runParse(t, context.Background(), "", "-form", "xml")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `unknown form "xml"`)
	})
	t.Run("bad max-frame", func(t *testing.T) {
		_, _, err := runParse(t, context.Background(), "", "-max-frame", "0")
		require.EqualError(t, err, "parse: -max-frame 0 must be positive")
	})
	t.Run("forced form", func(t *testing.T) {
		lines, stderr, err := runParse(t, context.Background(), "2026-03-14T17:02:11Z heroku[router]: a=1\n", "-form", "logfmt")
		require.NoError(t, err)
		require.Len(t, lines, 1)
		assert.Equal(t, map[string]any{"2026-03-14T17:02:11Z": true, "heroku[router]:": true, "a": "1"}, decode(t, lines[0])["fields"])
		assert.Equal(t, "events=1 unparsed=0 badtime=0 mismatches=0\n", stderr)
	})
	t.Run("max-frame", func(t *testing.T) {
		lines, stderr, err := runParse(t, context.Background(), strings.Repeat("x", 100)+"\nok=1\n", "-max-frame", "50")
		require.NoError(t, err)
		require.Len(t, lines, 2)
		assert.Equal(t, true, decode(t, lines[0])["unparsed"])
		assert.Equal(t, "events=1 unparsed=1 badtime=0 mismatches=0\n", stderr)
	})
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, stderr, err := runParse(t, ctx, "a=1\n")
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "events=0 unparsed=0 badtime=0 mismatches=0\n", stderr)
}

func TestCancelUnblocksPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pw.Close()
	defer pr.Close()
	_, err = pw.WriteString("a=1\n")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() { done <- Run(ctx, nil, pr, &stdout, &stderr) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
