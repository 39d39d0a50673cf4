package peers_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	krlogfmt "github.com/kr/logfmt"
	"github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rateDef is the one definition of the receive-path comparison.
const rateDef = `name=req kind=rate per=1s where="proc=router"`

// pulseFold folds the mix into set, as a receiver folds a drain request.
func pulseFold(tb testing.TB, set *window.Set, r *logfmt.Reader, src *bytes.Reader, stream []byte) {
	src.Reset(stream)
	r.Reset(src)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		set.Fold(ev)
	}
}

// pulseRate folds the mix into a new set holding defs and returns the
// snapshot's "req" at end.
func pulseRate(tb testing.TB, stream []byte, defs []def.Def, end time.Time) float64 {
	set, err := window.NewDefSet(defs, nil)
	require.NoError(tb, err)
	src := bytes.NewReader(stream)
	pulseFold(tb, set, logfmt.NewReader(src, nil), src, stream)
	snap, err := set.Snapshot(end)
	require.NoError(tb, err)
	v, _ := snap.Stats["req"].Number()
	return v
}

// peerRate is the peer pipeline folding the same rate: go-syslog parses
// each frame (SD NILVALUE inserted beforehand), kr/logfmt its body, and
// router events are counted into one-second buckets of event time; the
// rate is the count over the 10 s before end, per second.
func peerRate(tb testing.TB, p syslog.Machine, frames [][]byte, h *nopHandler, buckets map[int64]int, end time.Time) float64 {
	clear(buckets)
	for _, f := range frames {
		msg, err := p.Parse(f)
		if err != nil {
			tb.Fatal(err)
		}
		sm := msg.(*rfc5424.SyslogMessage)
		if sm.Message != nil {
			if err := krlogfmt.Unmarshal([]byte(*sm.Message), h); err != nil {
				tb.Fatal(err)
			}
		}
		if sm.ProcID != nil && *sm.ProcID == "router" && sm.Timestamp != nil {
			buckets[sm.Timestamp.Unix()]++
		}
	}
	n := 0
	for s := end.Unix() - 10; s < end.Unix(); s++ {
		n += buckets[s]
	}
	return float64(n) / 10
}

// mixEnd is the end of the second that holds the mix's last event.
func mixEnd(tb testing.TB, stream []byte) time.Time {
	var last time.Time
	r := logfmt.NewReader(bytes.NewReader(stream), nil)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(tb, err)
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	return last.Truncate(time.Second).Add(time.Second)
}

func TestRateAgree(t *testing.T) {
	m := loadMix(t)
	defs, err := def.Parse(strings.NewReader(rateDef), "rate")
	require.NoError(t, err)
	end := mixEnd(t, m.stream)
	want := pulseRate(t, m.stream, defs, end)
	p := rfc5424.NewParser(rfc5424.WithBestEffort())
	got := peerRate(t, p, m.withSD, &nopHandler{}, map[int64]int{}, end)
	assert.Greater(t, want, 0.0)
	assert.Equal(t, want, got, "both pipelines fold the same rate")
}

// BenchmarkReceiveRate is issue 6's receive-path comparison: parse every
// frame of the mix and fold one rate definition into one-second buckets of
// event time, as a receiver does in steady state (one set, cut after each
// drain request); one op is the whole mix. TestRateAgree checks that both
// pipelines count the same.
func BenchmarkReceiveRate(b *testing.B) {
	m := loadMix(b)
	defs, err := def.Parse(strings.NewReader(rateDef), "rate")
	require.NoError(b, err)
	end := mixEnd(b, m.stream)
	b.Run("pulse", func(b *testing.B) {
		set, err := window.NewDefSet(defs, nil)
		require.NoError(b, err)
		src := bytes.NewReader(m.stream)
		r := logfmt.NewReader(src, nil)
		var deltas []window.Delta
		mt := startMeter(b, len(m.frames), m.frameBytes)
		for b.Loop() {
			pulseFold(b, set, r, src, m.stream)
			deltas = set.Cut(deltas[:0])
		}
		mt.stop()
	})
	b.Run("go-syslog+kr-logfmt", func(b *testing.B) {
		p := rfc5424.NewParser(rfc5424.WithBestEffort())
		h := &nopHandler{}
		buckets := map[int64]int{}
		mt := startMeter(b, len(m.frames), m.frameBytes)
		for b.Loop() {
			peerRate(b, p, m.withSD, h, buckets, end)
		}
		_ = end
		mt.stop()
	})
}
