package logfmttest

// Scheduled events: periodic samples and the incident timeline. Request-
// driven lines are not events; Next interleaves them with the heap.

const (
	evEpoch    = iota // silent: schedule the next episode of incidents
	evMode            // silent: app.mode = n
	evMemOver         // silent: dyno.memOver = n per mille
	evSetState        // silent: dyno.state = n
	evLoad            // runtime-metrics load sample (silent unless the dyno is up)
	evMem             // runtime-metrics memory sample (silent unless the dyno is up)
	evAddon           // Postgres or Redis metrics sample of addons[n]
	evDynoMsg         // fixed dyno manager message n
	evState           // "State changed from n to m"
	evProcMem         // "Process running mem=…"
	evAPI             // app[api] message n, user m
	evL10             // Logplex L10 for app, n messages, m seconds back
)

// Dyno manager messages for evDynoMsg.
const (
	msgCycling = iota
	msgRestarting
	msgSIGTERM
	msgSIGKILL
	msgExit143
	msgExit137
	msgExit1
	msgStarting
	msgR10
	msgR14
	msgR15
)

var dynoMsgs = [...]string{
	msgCycling:    "Cycling",
	msgRestarting: "Restarting",
	msgSIGTERM:    "Stopping all processes with SIGTERM",
	msgSIGKILL:    "Stopping process with SIGKILL",
	msgExit143:    "Process exited with status 143",
	msgExit137:    "Process exited with status 137",
	msgExit1:      "Process exited with status 1",
	msgStarting:   "Starting process with command `",
	msgR10:        "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch",
	msgR14:        "Error R14 (Memory quota exceeded)",
	msgR15:        "Error R15 (Memory quota vastly exceeded)",
}

// API messages for evAPI.
const (
	apiBuildStarted = iota
	apiBuildOK
	apiDeploy
	apiRelease
	apiScale
	apiConfig
)

type event struct {
	at   int64
	seq  uint64
	kind uint8
	app  int32
	dyno int32
	n, m int32
}

// eventHeap is a min-heap on (at, seq), so that equal times keep the order
// they were scheduled in.
type eventHeap []event

func (e *event) less(o *event) bool {
	return e.at < o.at || e.at == o.at && e.seq < o.seq
}

func (g *Generator) push(e event) {
	g.seq++
	e.seq = g.seq
	h := append(g.events, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	g.events = h
}

func (g *Generator) pop() event {
	h := g.events
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].less(&h[l]) {
			c = r
		}
		if !h[c].less(&h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	g.events = h
	return top
}

// silent reports whether e produces no line.
func (g *Generator) silent(e *event) bool {
	switch e.kind {
	case evEpoch, evMode, evMemOver, evSetState:
		return true
	case evLoad, evMem:
		return g.dynos[e.dyno].state != stateUp
	}
	return false
}

// apply carries out a silent event.
func (g *Generator) apply(e *event) {
	switch e.kind {
	case evEpoch:
		g.schedule(e.at)
		g.push(event{at: e.at + g.incEvery, kind: evEpoch})
	case evMode:
		g.apps[e.app].mode = int(e.n)
	case evMemOver:
		g.dynos[e.dyno].memOver = float64(e.n) / 1000
	case evSetState:
		g.setState(int(e.dyno), int(e.n))
	case evLoad:
		g.push(event{at: e.at + 20e9, kind: evLoad, dyno: e.dyno})
	case evMem:
	}
}

func (g *Generator) setState(d, state int) {
	dy := &g.dynos[d]
	if state == stateStarting && dy.state != stateStarting {
		dy.uuid = appendUUID(dy.uuid[:0], g.r.u64(), g.r.u64())
	}
	dy.state = state
}

// schedule draws one episode of the incident timeline starting at t0.
func (g *Generator) schedule(t0 int64) {
	r := newRNG(g.opts.Seed, 2+g.epoch)
	g.epoch++
	E := float64(g.incEvery)
	at := func(lo, hi float64) int64 { return t0 + int64(E*r.between(lo, hi)) }
	sec := func(lo, hi float64) int64 { return int64(r.between(lo, hi) * 1e9) }
	n := len(g.apps)
	user := func() int32 { return int32(r.intn(len(users))) }

	// A deploy: build, release, and a restart of every dyno of the app.
	{
		a := g.appTable.pick(r.u64())
		u := user()
		t := at(0.02, 0.12)
		g.push(event{at: t, kind: evAPI, app: int32(a), n: apiBuildStarted, m: u})
		t += sec(40, 90)
		g.push(event{at: t, kind: evAPI, app: int32(a), n: apiBuildOK, m: u})
		t += sec(0.2, 0.8)
		g.push(event{at: t, kind: evAPI, app: int32(a), n: apiDeploy, m: u})
		g.push(event{at: t + 1000, kind: evAPI, app: int32(a), n: apiRelease, m: u})
		for _, d := range g.running(a, true) {
			g.restart(r, d, t+sec(1, 4), msgRestarting)
		}
	}

	// A crash: every web dyno of a fairly busy app exits, the router answers
	// H10 until they are back, and the first boot attempt times out (R10).
	{
		a := 0 // with two apps or fewer, the busiest crashes
		if n > 2 {
			a = 1 + r.intn(min(n-2, 5)) // the 2nd to 6th busiest, never the one in maintenance
		}
		t := at(0.22, 0.35)
		d := sec(75, 120)
		web := g.running(a, false)
		for i, w := range web {
			tw := t + int64(i)*sec(0.001, 0.05)
			g.push(event{at: tw, kind: evDynoMsg, dyno: int32(w), n: msgExit1})
			g.push(event{at: tw + sec(0.001, 0.01), kind: evState, dyno: int32(w), n: stateUp, m: stateCrashed})
		}
		g.push(event{at: t + sec(0.2, 0.5), kind: evMode, app: int32(a), n: modeCrashed})
		w := int32(web[0])
		tr := t + sec(4, 8)
		g.push(event{at: tr, kind: evState, dyno: w, n: stateCrashed, m: stateStarting})
		g.push(event{at: tr + sec(0.5, 1), kind: evDynoMsg, dyno: w, n: msgStarting})
		tr += 60e9 + sec(0.5, 1.5)
		g.push(event{at: tr, kind: evDynoMsg, dyno: w, n: msgR10})
		g.push(event{at: tr + sec(0.01, 0.1), kind: evDynoMsg, dyno: w, n: msgSIGKILL})
		g.push(event{at: tr + sec(0.2, 0.8), kind: evState, dyno: w, n: stateStarting, m: stateCrashed})
		tu := t + d
		for i, w := range web {
			tw := tu + int64(i)*sec(0.01, 0.2)
			g.push(event{at: tw, kind: evState, dyno: int32(w), n: stateCrashed, m: stateStarting})
			g.push(event{at: tw + sec(0.5, 1.5), kind: evDynoMsg, dyno: int32(w), n: msgStarting})
			g.push(event{at: tw + sec(3, 7), kind: evState, dyno: int32(w), n: stateStarting, m: stateUp})
		}
		g.push(event{at: tu + sec(3, 4), kind: evMode, app: int32(a), n: modeNormal})
	}

	// An H12 burst on a busy app.
	{
		a := r.intn(min(n, 3)) // one of the three busiest
		if g.apps[a].maint {
			a = 0
		}
		t := at(0.42, 0.52)
		g.push(event{at: t, kind: evMode, app: int32(a), n: modeSlow})
		g.push(event{at: t + sec(30, 90), kind: evMode, app: int32(a), n: modeNormal})
	}

	// An R14 episode: memory grows past the quota for a few minutes and
	// ends in R15 and a crash, or in a restart.
	{
		var d int
		if a := g.apps[r.intn(n)]; len(a.workers) > 0 {
			d = a.workers[r.intn(len(a.workers))]
		} else {
			d = a.web[r.intn(len(a.web)-1)]
		}
		t := at(0.55, 0.63)
		end := t + sec(120, 180)
		g.push(event{at: t, kind: evMemOver, dyno: int32(d), n: int32(50 + r.intn(150))})
		if r.float() < 0.5 {
			g.push(event{at: end, kind: evMemOver, dyno: int32(d), n: 700})
			g.push(event{at: end + sec(0.5, 1), kind: evDynoMsg, dyno: int32(d), n: msgR15})
			g.push(event{at: end + sec(1, 1.5), kind: evDynoMsg, dyno: int32(d), n: msgSIGKILL})
			g.push(event{at: end + sec(1.5, 2), kind: evDynoMsg, dyno: int32(d), n: msgExit137})
			g.push(event{at: end + sec(2, 2.5), kind: evState, dyno: int32(d), n: stateUp, m: stateCrashed})
			g.push(event{at: end + sec(2.5, 3), kind: evMemOver, dyno: int32(d), n: 0})
			tu := end + sec(3, 6)
			g.push(event{at: tu, kind: evState, dyno: int32(d), n: stateCrashed, m: stateStarting})
			g.push(event{at: tu + sec(0.5, 1), kind: evDynoMsg, dyno: int32(d), n: msgStarting})
			g.push(event{at: tu + sec(3, 6), kind: evState, dyno: int32(d), n: stateStarting, m: stateUp})
		} else {
			g.push(event{at: end + sec(1, 2), kind: evMemOver, dyno: int32(d), n: 0})
			g.restart(r, d, end, msgRestarting)
		}
	}

	// Scaling the spare web dyno in or out, then a config change.
	{
		a := r.intn(n)
		u := user()
		t := at(0.68, 0.76)
		spare := g.apps[a].web[len(g.apps[a].web)-1]
		g.push(event{at: t, kind: evAPI, app: int32(a), n: apiScale, m: u})
		if g.dynos[spare].state == stateDown {
			g.push(event{at: t + 1, kind: evSetState, dyno: int32(spare), n: stateStarting})
			g.push(event{at: t + sec(0.5, 1.5), kind: evDynoMsg, dyno: int32(spare), n: msgStarting})
			g.push(event{at: t + sec(3, 7), kind: evState, dyno: int32(spare), n: stateStarting, m: stateUp})
		} else {
			g.push(event{at: t + sec(0.5, 1.5), kind: evDynoMsg, dyno: int32(spare), n: msgSIGTERM})
			g.push(event{at: t + sec(2, 3), kind: evDynoMsg, dyno: int32(spare), n: msgExit143})
			g.push(event{at: t + sec(3, 4), kind: evState, dyno: int32(spare), n: stateUp, m: stateDown})
		}
		tc := t + sec(20, 40)
		g.push(event{at: tc, kind: evAPI, app: int32(a), n: apiConfig, m: u})
		g.push(event{at: tc + 1000, kind: evAPI, app: int32(a), n: apiRelease, m: u})
	}

	// A daily restart of one dyno.
	{
		a := &g.apps[r.intn(n)]
		d := a.web[r.intn(len(a.web)-1)]
		g.restart(r, d, at(0, 0.98), msgCycling)
	}

	// Logplex drops messages for one app's drain.
	{
		t := at(0.78, 0.92)
		t -= t % 1e9
		g.push(event{at: t, kind: evL10, app: int32(g.appTable.pick(r.u64())), n: int32(20 + r.intn(1500)), m: int32(1 + r.intn(30))})
	}
}

// running returns the app's web dynos (with the spare when it is scaled
// in) and, when workers is set, its worker dynos.
func (g *Generator) running(a int, workers bool) []int {
	ap := &g.apps[a]
	n := len(ap.web) - 1
	if g.dynos[ap.web[n]].state != stateDown {
		n++
	}
	out := make([]int, 0, len(ap.web)+len(ap.workers))
	out = append(out, ap.web[:n]...)
	if workers {
		out = append(out, ap.workers...)
	}
	return out
}

// restart schedules a graceful restart of dyno d at t, introduced by msg
// (Restarting or Cycling).
func (g *Generator) restart(r *rng, d int, t int64, msg int32) {
	sec := func(lo, hi float64) int64 { return int64(r.between(lo, hi) * 1e9) }
	g.push(event{at: t, kind: evDynoMsg, dyno: int32(d), n: msg})
	g.push(event{at: t + sec(0.001, 0.01), kind: evState, dyno: int32(d), n: stateUp, m: stateStarting})
	g.push(event{at: t + sec(0.2, 0.8), kind: evDynoMsg, dyno: int32(d), n: msgSIGTERM})
	g.push(event{at: t + sec(0.8, 1.6), kind: evDynoMsg, dyno: int32(d), n: msgExit143})
	g.push(event{at: t + sec(1.8, 2.5), kind: evDynoMsg, dyno: int32(d), n: msgStarting})
	g.push(event{at: t + sec(4, 9), kind: evState, dyno: int32(d), n: stateStarting, m: stateUp})
}
