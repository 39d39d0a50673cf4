package benchdrain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// Defaults of SearchConfig.
const (
	DefaultStartRate  = 100 // bodies/s
	DefaultPrecision  = 0.05
	DefaultMaxSteps   = 16
	DefaultPause      = 2 * time.Second
	DefaultMinOffered = 0.97
)

// SearchConfig is how Search looks for the highest rate. Zero fields
// mean the defaults given on each field.
type SearchConfig struct {
	// Precision ends the search once the lowest rate that failed is at
	// most (1 + Precision) × the highest that passed. Zero means
	// DefaultPrecision (5 %).
	Precision float64
	// MaxSteps bounds the steps. Zero means DefaultMaxSteps (16).
	MaxSteps int
	// Pause is the rest between steps, after the receiver's queue is
	// empty (Config.Settle). Zero means DefaultPause (2 s).
	Pause time.Duration
	// MinOffered is the fraction of its target (Rate × Duration
	// requests) a step must post to pass: a client or a server too slow
	// to keep up fails it. Zero means DefaultMinOffered (0.97).
	MinOffered float64
}

func (sc *SearchConfig) check() error {
	sc.defaults()
	switch {
	case !(sc.Precision > 0) || sc.Precision > 10:
		return fmt.Errorf("benchdrain: --search-precision %v must be above 0 and at most 10", sc.Precision)
	case sc.MaxSteps < 1 || sc.MaxSteps > 1000:
		return fmt.Errorf("benchdrain: --search-steps %d must be between 1 and 1000", sc.MaxSteps)
	case sc.Pause < 0:
		return fmt.Errorf("benchdrain: --search-pause %v must not be negative", sc.Pause)
	case !(sc.MinOffered > 0) || sc.MinOffered > 1:
		return fmt.Errorf("benchdrain: --search-min-offered %v must be above 0 and at most 1", sc.MinOffered)
	}
	return nil
}

func (sc *SearchConfig) defaults() {
	if sc.Precision == 0 {
		sc.Precision = DefaultPrecision
	}
	if sc.MaxSteps == 0 {
		sc.MaxSteps = DefaultMaxSteps
	}
	if sc.Pause == 0 {
		sc.Pause = DefaultPause
	}
	if sc.MinOffered == 0 {
		sc.MinOffered = DefaultMinOffered
	}
}

// Step is one run of a search.
type Step struct {
	// Rate is the step's target in bodies/s, EventRate in events/s.
	Rate      float64 `json:"rate"`
	EventRate float64 `json:"event_rate"`
	// Pass reports whether the step had no 503, no other answer but 2xx,
	// no error, and posted at least SearchConfig.MinOffered of its
	// target; Why says what failed it.
	Pass bool   `json:"pass"`
	Why  string `json:"why,omitempty"`
	// Result is the step's run.
	Result *Result `json:"result"`
}

// SearchResult is what a search found.
type SearchResult struct {
	// Rate is the highest rate that passed, in bodies/s, and EventRate
	// in events/s; 0 when none did. Failed is the lowest that failed, 0
	// when none did (the search ran out of steps doubling).
	Rate      float64 `json:"rate"`
	EventRate float64 `json:"event_rate"`
	Failed    float64 `json:"failed_rate"`
	// Steps are the runs in the order they were made.
	Steps []Step `json:"steps"`
}

// Search finds the highest rate the receiver at cfg.URL takes with no
// 503 and no error: it runs steps of cfg.Duration, the first at cfg.Rate
// (DefaultStartRate bodies/s when zero), doubling the rate until a step
// fails, then bisecting between the highest rate that passed and the
// lowest that failed until they are within sc.Precision. When
// cfg.HealthURL shows a receiver, each step waits for its queue to empty
// (cfg.Settle) and then sc.Pause before the next, so that every step
// starts from an empty queue. It returns an error for a bad Config; when
// ctx ends first, it returns the steps made with ctx.Err().
func Search(ctx context.Context, cfg Config, sc SearchConfig) (*SearchResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := sc.check(); err != nil {
		return nil, err
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = DefaultStartRate
	}
	cfg.EventRate = 0
	out := &SearchResult{}
	var lo, hi float64 // the highest rate that passed, the lowest that failed
	for i := range sc.MaxSteps {
		if i > 0 && !sleep(ctx, sc.Pause) {
			break
		}
		c := cfg
		c.Rate = rate
		res, err := Bench(ctx, c)
		if res == nil {
			return out, err
		}
		st := judge(rate, res, sc.MinOffered)
		if err != nil {
			// Interrupted: the step proved nothing.
			out.Steps = append(out.Steps, st)
			return out, err
		}
		out.Steps = append(out.Steps, st)
		if st.Pass {
			lo = max(lo, rate)
		} else if hi == 0 || rate < hi {
			hi = rate
		}
		if hi > 0 && lo > 0 && hi <= lo*(1+sc.Precision) {
			break
		}
		switch {
		case hi == 0:
			rate = 2 * lo
		case lo == 0:
			rate = hi / 2
		default:
			rate = roundRate((lo + hi) / 2)
		}
		if rate < 1e-3 {
			break
		}
	}
	out.Rate, out.Failed = lo, hi
	out.EventRate = lo * float64(cfg.Frames)
	return out, ctx.Err()
}

// judge makes a Step of the run res at rate.
func judge(rate float64, res *Result, minOffered float64) Step {
	st := Step{Rate: rate, EventRate: rate * float64(res.Frames), Result: res}
	var why []string
	if n := res.Status[http.StatusServiceUnavailable]; n > 0 {
		why = append(why, fmt.Sprintf("%d answered 503", n))
	}
	for code, n := range res.Status {
		if (code < 200 || code >= 300) && code != http.StatusServiceUnavailable {
			why = append(why, fmt.Sprintf("%d answered %d", n, code))
		}
	}
	if res.Errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", res.Errors))
	}
	want := rate * res.Duration
	if float64(res.Requests) < minOffered*want {
		why = append(why, fmt.Sprintf("posted %d of %.0f requests", res.Requests, want))
	}
	st.Pass = len(why) == 0
	st.Why = strings.Join(why, ", ")
	return st
}

// runSearch runs Search for Run and writes its result.
func runSearch(ctx context.Context, cfg Config, sc SearchConfig, asJSON bool, stdout io.Writer) error {
	res, err := Search(ctx, cfg, sc)
	if res == nil {
		return err
	}
	var werr error
	if asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		_, werr = fmt.Fprintf(stdout, "%s\n", b)
	} else {
		werr = res.writeText(stdout, cfg)
	}
	return cmpErr(err, werr)
}

// writeText writes r for people: one line a step, then the rate found.
func (r *SearchResult) writeText(w io.Writer, cfg Config) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "pulse bench drain --search: %d clients posting %d-frame bodies, steps of %gs\n",
		cfg.Clients, cfg.Frames, cfg.Duration.Seconds())
	sb.WriteString("step  bodies/s   events/s  offered/s  accepted/s     503  errors  p99_ms  health_p99_ms  queue_max  cores  runq_wait  load  verdict\n")
	for i, st := range r.Steps {
		res := st.Result
		hp99, qmax := "-", "-"
		if res.Health != nil {
			hp99 = fmt.Sprintf("%.1f", res.Health.Latency.P99)
			if res.Health.QueueMax >= 0 {
				qmax = fmt.Sprint(res.Health.QueueMax)
			}
		}
		cores, wait := "-", "-"
		if p := res.Process; p != nil {
			cores = fmt.Sprintf("%.2f", p.Cores)
			if p.WaitPerS != nil {
				wait = fmt.Sprintf("%.2f", *p.WaitPerS)
			}
		}
		load := "-"
		if len(res.LoadAvgEnd) == 3 {
			load = fmt.Sprintf("%.2f", res.LoadAvgEnd[0])
		}
		verdict := "pass"
		if !st.Pass {
			verdict = "fail: " + st.Why
		}
		fmt.Fprintf(&sb, "%4d  %8.1f  %9.0f  %9.0f  %10.0f  %6d  %6d  %6.1f  %13s  %9s  %5s  %9s  %4s  %s\n",
			i+1, st.Rate, st.EventRate, res.OfferedEventsPerSec, res.EventsPerSec,
			res.Status[http.StatusServiceUnavailable], res.Errors, res.Latency.P99, hp99, qmax, cores, wait, load, verdict)
	}
	switch {
	case r.Rate == 0:
		sb.WriteString("no rate passed\n")
	case r.Failed == 0:
		fmt.Fprintf(&sb, "highest rate with no drop: %g bodies/s = %g events/s (no step failed)\n", r.Rate, r.EventRate)
	default:
		fmt.Fprintf(&sb, "highest rate with no drop: %g bodies/s = %g events/s (%g bodies/s failed, %.1f %% above)\n",
			r.Rate, r.EventRate, r.Failed, 100*(r.Failed/r.Rate-1))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// roundRate is rate rounded to 4 significant digits, for the steps'
// targets.
func roundRate(rate float64) float64 {
	if rate <= 0 {
		return rate
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(rate)))
	return math.Round(rate*p) / p
}
