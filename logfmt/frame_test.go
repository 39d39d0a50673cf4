package logfmt

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleFrames returns the frames of HEROKU-LOGS.md §3.9, each with its
// count and trailing newline.
func sampleFrames(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.ReadFile("testdata/frames.txt")
	require.NoError(t, err)
	var frames [][]byte
	for line := range bytes.Lines(f) {
		frames = append(frames, line)
	}
	require.Len(t, frames, 24)
	return frames
}

// tokenRE matches one logfmt token where quoted values hold no escapes.
var tokenRE = regexp.MustCompile(`[^\s=]+(=("[^"]*"|\S*))?`)

// TestSampleFrames checks every sample frame against a naive split of its
// header on spaces, which is exact for logplex frames (no SD, single
// spaces).
func TestSampleFrames(t *testing.T) {
	for i, frame := range sampleFrames(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			parts := strings.SplitN(strings.TrimSuffix(string(frame), "\n"), " ", 8)
			require.Len(t, parts, 8)
			count, err := strconv.Atoi(parts[0])
			require.NoError(t, err)
			assert.Equal(t, len(frame)-len(parts[0])-1, count, "count includes the newline")
			pri, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(parts[1], "<"), ">1"))
			require.NoError(t, err)
			wantTime, err := time.Parse(time.RFC3339Nano, parts[2])
			require.NoError(t, err)

			for _, parse := range []struct {
				name string
				fn   func([]byte, *Event) error
			}{{"frame", ParseFrame}, {"line", ParseLine}} {
				var ev Event
				require.NoError(t, parse.fn(frame, &ev), parse.name)
				assert.Equal(t, FormOctet, ev.Form)
				assert.Equal(t, pri, ev.Priority)
				assert.Equal(t, string(facilityNames[pri/8]), string(ev.Facility))
				assert.Equal(t, string(severityNames[pri%8]), string(ev.Severity))
				assert.True(t, wantTime.Equal(ev.Time))
				assert.Equal(t, parts[2], string(ev.Timestamp))
				assert.Equal(t, parts[3], string(ev.Host))
				assert.Equal(t, parts[4], string(ev.App))
				assert.Equal(t, parts[5], string(ev.Proc))
				assert.Equal(t, parts[6], string(ev.MsgID))
				assert.Nil(t, ev.StructuredData, "logplex frames carry no SD")
				assert.Equal(t, parts[7], string(ev.Msg))
				assert.Len(t, tokenRE.FindAllString(parts[7], -1), ev.Len(), "one pair per token")
			}
		})
	}
}

func TestSampleFrameBodies(t *testing.T) {
	frames := sampleFrames(t)
	tests := []struct {
		name  string
		frame int
		want  map[string]string // "" marks a flag
		nums  map[string]float64
	}{
		{"router info", 0, map[string]string{"at": "info", "path": "/api/orders?page=2", "fwd": "203.0.113.7", "protocol": "https"},
			map[string]float64{"connect": 1, "service": 43, "status": 200, "bytes": 5321}},
		{"router 2.0", 1, map[string]string{"fwd": "198.51.100.23,172.70.1.9", "protocol": "http2.0", "tls": "true", "tls_version": "tls1.3"},
			map[string]float64{"service": 118}},
		{"H12", 2, map[string]string{"code": "H12", "desc": "Request timeout"}, map[string]float64{"service": 30000, "status": 503}},
		{"H10 empty values", 3, map[string]string{"dyno": "", "connect": "", "service": "", "bytes": ""}, map[string]float64{"status": 503}},
		{"H27 sock first", 4, map[string]string{"sock": "client", "at": "warning", "desc": "Client Request Interrupted"}, map[string]float64{"status": 499}},
		{"H18", 5, map[string]string{"sock": "backend", "tls_version": "unknown"}, map[string]float64{"bytes": 4096}},
		{"load", 6, map[string]string{"source": "web.1"}, map[string]float64{"sample#load_avg_1m": 0.42, "sample#load_avg_15m": 0.22}},
		{"memory", 7, nil, map[string]float64{"sample#memory_total": 412.37, "sample#memory_pgpgin": 153211, "sample#memory_quota": 512}},
		{"mem free text", 8, map[string]string{"Process": "", "running": "", "mem": "563M(110.0%)"}, nil},
		{"R14", 9, map[string]string{"Error": "", "R14": "", "(Memory": ""}, nil},
		{"state", 12, map[string]string{"State": "", "crashed": ""}, nil},
		{"postgres", 20, map[string]string{"addon": "postgresql-curved-12345"},
			map[string]float64{"sample#db_size": 9831245312, "sample#memory-total": 8024288, "sample#wal-percentage-used": 0.0712}},
		{"redis", 21, map[string]string{"source": "REDIS"}, map[string]float64{"sample#memory-redis": 21843392, "sample#hit-rate": 0.9412}},
		{"app metrics", 22, map[string]string{"fn": "list_orders", "unique#orders.customer": "c_81723"},
			map[string]float64{"count#orders.listed": 1, "measure#db.query": 12.4, "sample#pool.busy": 3}},
		{"L10", 23, map[string]string{"Error": "", "L10": "", "(output": "", "dropped": ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			require.NoError(t, ParseFrame(frames[tt.frame], &ev))
			for k, want := range tt.want {
				v, ok := ev.Lookup(k)
				require.True(t, ok, k)
				if want == "" {
					assert.Empty(t, v, k)
				} else {
					assert.Equal(t, want, string(v), k)
				}
			}
			for k, want := range tt.nums {
				v, ok := ev.Number(k)
				require.True(t, ok, k)
				assert.InDelta(t, want, v, 1e-9, k)
			}
		})
	}
}

func TestParseLineForms(t *testing.T) {
	lines, err := os.ReadFile("testdata/lines.txt")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(lines))
	var got []Event
	for sc.Scan() {
		var ev Event
		require.NoError(t, ParseLine(sc.Bytes(), &ev))
		got = append(got, ev)
	}
	require.Len(t, got, 4)

	t.Run("heroku logs", func(t *testing.T) {
		ev := got[0]
		assert.Equal(t, FormHerokuLogs, ev.Form)
		assert.Equal(t, time.Date(2026, 3, 14, 17, 2, 11, 482113000, time.UTC), ev.Time)
		assert.Equal(t, "heroku", string(ev.App))
		assert.Equal(t, "router", string(ev.Proc))
		assert.Nil(t, ev.Host)
		assert.Equal(t, -1, ev.Priority)
		assert.True(t, strings.HasPrefix(string(ev.Msg), "at=info method=GET"))
		v, _ := ev.Lookup("service")
		assert.Equal(t, "43ms", string(v))
	})
	t.Run("syslog drain with SD NILVALUE", func(t *testing.T) {
		ev := got[1]
		assert.Equal(t, FormRFC5424, ev.Form)
		assert.Equal(t, 158, ev.Priority)
		assert.Equal(t, "d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc", string(ev.Host))
		assert.Equal(t, "heroku", string(ev.App))
		assert.Equal(t, "router", string(ev.Proc))
		assert.Equal(t, "-", string(ev.MsgID))
		assert.Equal(t, "-", string(ev.StructuredData))
		assert.True(t, strings.HasPrefix(string(ev.Msg), "at=info method=GET"))
		assert.Equal(t, 12, ev.Len())
	})
	t.Run("classic", func(t *testing.T) {
		ev := got[2]
		assert.Equal(t, FormClassic, ev.Form)
		assert.Equal(t, time.Date(2011, 10, 20, 0, 14, 55, 0, time.UTC), ev.Time)
		for name, want := range map[string]string{
			"host": "10.1.2.3", "facility": "local3", "severity": "info", "app": "hermes", "proc": "12345",
			"slot": "hermes", "instance": "12", "cloud": "heroku.com",
		} {
			v, ok := ev.Header(name)
			assert.True(t, ok, name)
			assert.Equal(t, want, string(v), name)
		}
		assert.Equal(t, "key=value count=3 elapsed=12.5ms", string(ev.Msg))
		n, ok := ev.Number("elapsed")
		assert.True(t, ok)
		assert.InDelta(t, 12.5, n, 1e-12)
	})
	t.Run("bare logfmt", func(t *testing.T) {
		ev := got[3]
		assert.Equal(t, FormLogfmt, ev.Form)
		assert.True(t, ev.Time.IsZero())
		assert.Equal(t, 4, ev.Len())
	})
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		form Form
		want string // header summary then pairs
	}{
		{"empty", "", FormLogfmt, "||||"},
		{"crlf", "a=1\r\n", FormLogfmt, `|||| a="1"`},
		{"digits without <", "123 foo=bar", FormLogfmt, `|||| 123 foo="bar"`},
		{"5424 with SD", `<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3" eventID="1011"] a=1`, FormRFC5424,
			`mymachine|evntslog|-|ID47|[exampleSDID@32473 iut="3" eventID="1011"] a="1"`},
		{"5424 with two SD elements", `<165>1 2003-10-11T22:14:15.003Z h a p m [x@1 a="\]"][y@2] msg`, FormRFC5424, `h|a|p|m|[x@1 a="\]"][y@2] msg`},
		{"5424 SD only", `<165>1 2003-10-11T22:14:15.003Z h a p m [x@1]`, FormRFC5424, `h|a|p|m|[x@1]`},
		{"5424 broken SD is message", `<165>1 2003-10-11T22:14:15.003Z h a p m [x@1 a=b] msg`, FormRFC5424, `h|a|p|m| [x@1 a="b]" msg`},
		{"5424 nil SD, no message", `<165>1 2003-10-11T22:14:15.003Z h a p m -`, FormRFC5424, `h|a|p|m|-`},
		{"5424 no SD, no message", `<165>1 2003-10-11T22:14:15.003Z h a p m`, FormRFC5424, `h|a|p|m|`},
		{"5424 nil timestamp", `<13>1 - h a p m - x=1`, FormRFC5424, `h|a|p|m|- x="1"`},
		{"5424 dash message is not SD when glued", `<13>1 - h a p m -x=1`, FormRFC5424, `h|a|p|m| -x="1"`},
		{"labs layout", `<40>1 2012-11-30T06:45:29+00:00 heroku web.3 d.73ea7440-270a-435a-a0ea-adf50b4e5f5a - Starting process`, FormRFC5424,
			`heroku|web.3|d.73ea7440-270a-435a-a0ea-adf50b4e5f5a|-| Starting process`},
		{"octet frame line", `70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang`, FormOctet, `host|erlang|console|-| Hi from erlang`},
		{"heroku logs app", `2026-03-14T17:02:11.470002+00:00 app[web.2]: at=info fn=list_orders`, FormHerokuLogs, `|app|web.2|| at="info" fn="list_orders"`},
		{"heroku logs api", `2026-03-14T16:58:02.551367+00:00 app[api]: Release v42 created by user dev@example.com`, FormHerokuLogs,
			`|app|api|| Release v42 created by user dev@example.com`},
		{"classic without slot", `2011-10-19T17:14:55Z host local0.notice app: x=1`, FormClassic, `host|app||| x="1"`},
		{"classic with dash only", `2011-10-19T17:14:55Z host local0.notice app[1]: - x=1`, FormClassic, `host|app|1|| x="1"`},
		{"classic with any third token", `2011-10-19T17:14:55Z host x.y app: a=1`, FormClassic, `host|app||| a="1"`},
		{"classic with a tag", `2011-10-19T17:14:55Z host local0.notice heroku[web.1]: a=1`, FormClassic, `host|heroku|web.1|| a="1"`},
		{"syslog drain text (Dev Center L10)", `2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.`,
			FormSyslog, `d.1234-drain-identifier-567|heroku|logplex|-|- Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.`},
		{"syslog without SD", `2013-04-17T19:04:46+00:00 host app web.1 - a=1`, FormSyslog, `host|app|web.1|-| a="1"`},
		{"syslog with SD", `2013-04-17T19:04:46+00:00 host app web.1 - [x@1 a="b"] a=1`, FormSyslog, `host|app|web.1|-|[x@1 a="b"] a="1"`},
		{"syslog receiver tag", `2022-01-01T01:01:01.000000+00:00 d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc heroku[router] at=info method=GET`,
			FormSyslog, `d.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc|heroku|router|| at="info" method="GET"`},
		{"syslog tag with colon", `2022-01-01T01:01:01Z myhost app[web.1]: a=1`, FormSyslog, `myhost|app|web.1|| a="1"`},
		{"syslog tag, no message", `2022-01-01T01:01:01Z myhost app[web.1]`, FormSyslog, `myhost|app|web.1||`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			require.NoError(t, ParseLine([]byte(tt.in), &ev))
			assert.Equal(t, tt.form, ev.Form)
			got := strings.Join([]string{string(ev.Host), string(ev.App), string(ev.Proc), string(ev.MsgID), string(ev.StructuredData)}, "|")
			if pairs := kv(&ev); pairs != "" {
				got += " " + pairs
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		frame    bool // ParseFrame rather than ParseLine
		form     Form
		sentinel error
		offset   int64
	}{
		{"count without <", "12 x", true, FormOctet, ErrCount, 2},
		{"count too many digits", "12345678901234567890 <1>1 - h a p m", true, FormOctet, ErrCount, 19},
		{"missing <", "foo", true, FormRFC5424, ErrHeader, 0},
		{"PRI too big", "<192>1 - h a p m", false, FormRFC5424, ErrHeader, 1},
		{"PRI four digits", "<0001>1 - h a p m", false, FormRFC5424, ErrHeader, 1},
		{"PRI empty", "<>1 - h a p m", false, FormRFC5424, ErrHeader, 1},
		{"PRI unterminated", "<13", false, FormRFC5424, ErrHeader, 1},
		{"version 0", "<13>0 - h a p m", false, FormRFC5424, ErrHeader, 4},
		{"version missing", "<13> - h a p m", false, FormRFC5424, ErrHeader, 4},
		{"bad timestamp", "<13>1 2026-03-14 h a p m", false, FormRFC5424, ErrTime, 6},
		{"bad timestamp in octet frame", "9 <13>1 x h a p m", false, FormOctet, ErrTime, 8},
		{"year 1600", "<13>1 1600-01-01T00:00:00Z h a p m", false, FormRFC5424, ErrTime, 6},
		{"year 2610 that UnixNano would wrap into 2026", "<13>1 2610-10-03T16:36:03.709551616Z h a p m", false, FormRFC5424, ErrTime, 6},
		{"just before 1970", "12 <13>1 1970-01-01T00:30:00+01:00 h a p m", false, FormOctet, ErrTime, 9},
		{"2200 exactly", "<13>1 2200-01-01T00:00:00Z h a p m", true, FormRFC5424, ErrTime, 6},
		{"missing timestamp", "<13>1 ", false, FormRFC5424, ErrHeader, 6},
		{"missing host", "<13>1 -", false, FormRFC5424, ErrHeader, 7},
		{"empty host", "<13>1 -  a p m", false, FormRFC5424, ErrHeader, 8},
		{"missing app", "<13>1 - h", false, FormRFC5424, ErrHeader, 9},
		{"missing proc", "<13>1 - h a", false, FormRFC5424, ErrHeader, 11},
		{"missing msgid", "<13>1 - h a p", false, FormRFC5424, ErrHeader, 13},
		{"heroku logs bad time", "2026-03-14T25:02:11.482113+00:00 heroku[router]: x", false, FormHerokuLogs, ErrTime, 0},
		{"heroku logs year 1600", "1600-03-14T23:02:11.482113+00:00 heroku[router]: x", false, FormHerokuLogs, ErrTime, 0},
		{"heroku logs bad source", "2026-03-14T17:02:11.482113+00:00 heroku: x", false, FormHerokuLogs, ErrHeader, 33},
		{"classic bad time", "2011-10-19T17:14:55 host local0.info app: x", false, FormClassic, ErrTime, 0},
		{"classic year 9999", "9999-10-19T17:14:55Z host local0.info app: x", false, FormClassic, ErrTime, 0},
		{"classic missing facility", "2011-10-19T17:14:55Z host", false, FormClassic, ErrHeader, 25},
		{"classic bad facility", "2011-10-19T17:14:55Z host local0 app: x", false, FormClassic, ErrHeader, 26},
		{"classic missing app", "2011-10-19T17:14:55Z host local0.info app x", false, FormClassic, ErrHeader, 38},
		{"free text after a timestamp", "2026-01-01T00:00:00Z hello world", false, FormClassic, ErrHeader, 27},
		{"syslog header token too long", "2026-01-01T00:00:00Z host app proc " + strings.Repeat("m", 33) + " x", false, FormClassic, ErrHeader, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			var err error
			if tt.frame {
				err = ParseFrame([]byte(tt.in), &ev)
			} else {
				err = ParseLine([]byte(tt.in), &ev)
			}
			require.ErrorIs(t, err, tt.sentinel)
			require.ErrorIs(t, err, ErrSyntax)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.form, se.Form)
			assert.Equal(t, tt.offset, se.Offset)
			assert.True(t, strings.HasPrefix(err.Error(), "logfmt: "+tt.form.String()+" at offset "+strconv.FormatInt(tt.offset, 10)+": "), err.Error())
		})
	}
}

func TestParseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	frames := sampleFrames(t)
	lines, err := os.ReadFile("testdata/lines.txt")
	require.NoError(t, err)
	body := []byte(`a="x\"y" b=2`)
	var ev Event
	assert.Zero(t, testing.AllocsPerRun(50, func() {
		for _, f := range frames {
			_ = ParseFrame(f, &ev)
		}
		for l := range bytes.Lines(lines) {
			_ = ParseLine(l, &ev)
		}
		ParseBody(body, &ev)
	}))
}

// TestParseBadTimeKeepsEvent: a damaged or out-of-range timestamp costs
// the event its time only. The first row is logplex's own documented
// input (doc/README.http_input.md).
func TestParseBadTimeKeepsEvent(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		frame  bool
		form   Form
		offset int64
		ts     string
		want   string // host|app|proc|msgid|sd then pairs
	}{
		{"logplex input doc", "130 <134>1 2012-12-10T04:05:25Z+00:00 erlang t.d6799f88-4a77-402f-b197-2b722a02cdbc console.1 - Logsplat test message 1 from <0.72.0>.\n",
			true, FormOctet, 11, "2012-12-10T04:05:25Z+00:00", "erlang|t.d6799f88-4a77-402f-b197-2b722a02cdbc|console.1|-| Logsplat test message 1 from <0.72.0>."},
		{"rfc5424 line, year 1600", "<158>1 1600-01-01T00:00:00Z host heroku router - at=info status=200",
			false, FormRFC5424, 7, "1600-01-01T00:00:00Z", `host|heroku|router|-| at="info" status="200"`},
		{"rfc5424 with SD", `<158>1 2610-10-03T16:36:03.709551616Z d.x heroku router - - a=1`,
			true, FormRFC5424, 7, "2610-10-03T16:36:03.709551616Z", `d.x|heroku|router|-|- a="1"`},
		{"heroku logs", "2026-03-14T17:02:11 heroku[router]: at=info service=43ms",
			false, FormHerokuLogs, 0, "2026-03-14T17:02:11", `|heroku|router|| at="info" service="43ms"`},
		{"classic", "2011-13-19T17:14:55-07:00 10.1.2.3 local3.info hermes[12345]: - hermes.12@heroku.com key=value",
			false, FormClassic, 0, "2011-13-19T17:14:55-07:00", `10.1.2.3|hermes|12345|| key="value"`},
		{"syslog", "2012-12-10T04:05:25Z+00:00 d.1234 heroku logplex - - Error L10",
			false, FormSyslog, 0, "2012-12-10T04:05:25Z+00:00", `d.1234|heroku|logplex|-|- Error L10`},
		{"syslog tag", "2012-12-10T04:05:25Z+00:00 d.1234 heroku[router] at=info",
			false, FormSyslog, 0, "2012-12-10T04:05:25Z+00:00", `d.1234|heroku|router|| at="info"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parsers := []func([]byte, *Event) error{ParseLine}
			if tt.frame {
				parsers = append(parsers, ParseFrame)
			}
			for _, parse := range parsers {
				var ev Event
				err := parse([]byte(tt.in), &ev)
				require.ErrorIs(t, err, ErrTime)
				require.ErrorIs(t, err, ErrSyntax)
				assert.NotErrorIs(t, err, ErrHeader)
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.form, se.Form)
				assert.Equal(t, tt.offset, se.Offset)
				assert.Equal(t, tt.form, ev.Form)
				assert.True(t, ev.Time.IsZero())
				assert.Equal(t, tt.ts, string(ev.Timestamp))
				got := strings.Join([]string{string(ev.Host), string(ev.App), string(ev.Proc), string(ev.MsgID), string(ev.StructuredData)}, "|")
				assert.Equal(t, tt.want, got+" "+kv(&ev))
			}
		})
	}
	t.Run("a later header error wins", func(t *testing.T) {
		var ev Event
		err := ParseLine([]byte("<13>1 1600-01-01T00:00:00Z host"), &ev)
		require.ErrorIs(t, err, ErrHeader)
		assert.NotErrorIs(t, err, ErrTime)
	})
}

// TestParseLineSyslog: the Dev Center's syslog-drain L10 example, as its
// article prints it (no PRI and VERSION), gives the header fields it has.
func TestParseLineSyslog(t *testing.T) {
	var ev Event
	require.NoError(t, ParseLine([]byte("2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.\n"), &ev))
	assert.Equal(t, FormSyslog, ev.Form)
	assert.Equal(t, time.Date(2013, 4, 17, 19, 4, 46, 0, time.UTC), ev.Time)
	assert.Equal(t, -1, ev.Priority)
	_, ok := ev.Header("facility")
	assert.False(t, ok)
	assert.Equal(t, "Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.", string(ev.Msg))

	// A forced form: the Reader with ReaderOptions.Form.
	r := NewReader(strings.NewReader("2026-03-14T17:02:11Z host heroku[router] a=1\n- host app proc - b=2\n"), &ReaderOptions{Form: FormSyslog})
	e, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "router", string(e.Proc))
	e, err = r.Next()
	require.NoError(t, err, "the NILVALUE timestamp")
	assert.True(t, e.Time.IsZero())
	assert.Equal(t, "proc", string(e.Proc))
}
