// Command merge shows Pulse's receive path across processes, in one
// program: two receivers each fold half of a generated Heroku stream
// through the default stat set and, every second of event time, cut their
// deltas into a fragment batch with a fragment.Sender; a merger applies
// the batches with a fragment.Applier, which drops a duplicate delivery.
// The merger's snapshot is then compared with that of one set fed the
// whole stream, by window.Set.Diff: every stat agrees within the bound its
// kind states (exact kinds are equal).
//
//	go run ./examples/merge -seconds 30 -rate 500
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/logfmt"
	"github.com/pulsehq/pulse/logfmt/logfmttest"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// receiver folds its share of the stream and cuts it into batches.
type receiver struct {
	source string
	set    *window.Set
	snd    *fragment.Sender
}

// cut encodes what the receiver folded since its last cut.
func (r *receiver) cut(now time.Time) ([]byte, error) {
	if r.snd == nil {
		// One merger here; a deployment passes its number of merger
		// shards and sends batch i to shard i.
		r.snd = fragment.NewSender(r.source, 1, nil)
	}
	out, err := r.snd.Cut(r.set, now, nil)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// merger applies every batch once. Its set has a manual clock: the
// merger's own now, which it advances before applying.
type merger struct {
	set     *window.Set
	app     *fragment.Applier
	applied int
	dropped []string // "source/seq" of each duplicate
}

func newMerger(defs []def.Def) (*merger, error) {
	s, err := window.NewDefSet(defs, &window.SetOptions{Clock: window.ManualClock})
	if err != nil {
		return nil, err
	}
	return &merger{set: s, app: fragment.NewApplier(s, nil, nil)}, nil
}

func (m *merger) receive(now time.Time, wire []byte) error {
	if err := m.set.Advance(now); err != nil {
		return err
	}
	res, err := m.app.Apply(wire)
	if err != nil {
		return err
	}
	if res.Duplicate {
		m.dropped = append(m.dropped, fmt.Sprintf("%s/%d", res.Source, res.Seq))
		return nil
	}
	m.applied++
	return nil
}

// result is what a simulation ends with.
type result struct {
	at      time.Time   // the snapshot time: the end of the last event's second
	single  *window.Set // fed the whole stream
	merged  *merger
	lines   int
	batches int // sent by the receivers, duplicates not counted
}

// simulate plays a log stream through two receivers and a merger, and
// through a single set, with the given definitions. The receivers take
// alternate lines and cut every second of event time. The transport
// delivers each receiver's first batch twice.
func simulate(defs []def.Def, stream io.Reader) (*result, error) {
	var sets [3]*window.Set // event time, as replay
	for i := range sets {
		s, err := window.NewDefSet(defs, nil)
		if err != nil {
			return nil, err
		}
		sets[i] = s
	}
	single := sets[0]
	recv := []*receiver{{source: "web.1", set: sets[1]}, {source: "web.2", set: sets[2]}}
	m, err := newMerger(defs)
	if err != nil {
		return nil, err
	}
	res := &result{single: single, merged: m}

	send := func(now time.Time) error {
		for _, r := range recv {
			wire, err := r.cut(now)
			if err != nil {
				return err
			}
			res.batches++
			if err := res.merged.receive(now, wire); err != nil {
				return err
			}
			if r.snd.Seq() == 1 { // an at-least-once transport delivers it again
				if err := res.merged.receive(now, wire); err != nil {
					return err
				}
			}
		}
		return nil
	}

	rd := logfmt.NewReader(stream, nil)
	var lastCut time.Time
	for i := 0; ; i++ {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		share := recv[i%2].set
		if errors.Is(err, logfmt.ErrSyntax) {
			single.Unparsed(1)
			share.Unparsed(1)
			continue
		}
		if err != nil {
			return nil, err
		}
		if lastCut.IsZero() {
			lastCut = ev.Time
		}
		if ev.Time.Sub(lastCut) >= time.Second {
			if err := send(ev.Time); err != nil {
				return nil, err
			}
			lastCut = ev.Time
		}
		single.Fold(ev)
		share.Fold(ev)
		res.lines++
	}
	res.at = single.End()
	if err := send(res.at); err != nil {
		return nil, err
	}
	return res, nil
}

func main() {
	seconds := flag.Int("seconds", 30, "seconds of event time to generate")
	rate := flag.Float64("rate", 500, "request lines per second")
	seed := flag.Uint64("seed", 1, "traffic seed")
	flag.Parse()

	var stream bytes.Buffer
	gen := logfmttest.New(logfmttest.Options{Seed: *seed, Rate: *rate, IncidentEvery: time.Minute})
	_, err := gen.WriteFor(&stream, time.Duration(*seconds)*time.Second)
	var res *result
	if err == nil {
		res, err = simulate(def.Heroku(), &stream)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "merge:", err)
		os.Exit(1)
	}
	single, err := res.single.Snapshot(res.at)
	if err != nil {
		fmt.Fprintln(os.Stderr, "merge:", err)
		os.Exit(1)
	}
	merged, err := res.merged.set.Snapshot(res.at)
	if err != nil {
		fmt.Fprintln(os.Stderr, "merge:", err)
		os.Exit(1)
	}
	fmt.Printf("%d lines, %d batches from 2 receivers, duplicates dropped: %v\n", res.lines, res.batches, res.merged.dropped)
	fmt.Printf("snapshot at %s: %d stats\n", res.at.Format(time.RFC3339), len(merged.Stats))
	identical := 0
	for n, v := range merged.Stats {
		if w, ok := single.Stats[n]; ok && v.String() == w.String() {
			identical++
		}
	}
	// Exact kinds must be equal; t-digests merged in another order answer
	// within their rank bound, not bit for bit, and Diff allows for it.
	diffs := res.single.Diff(single, merged)
	fmt.Printf("%d of %d stats agree within their stated bounds (%d with the same JSON)\n",
		len(merged.Stats)-len(diffs), len(merged.Stats), identical)
	for _, d := range diffs {
		fmt.Println("  MISMATCH", d)
	}
	if len(diffs) > 0 {
		os.Exit(1)
	}
}
