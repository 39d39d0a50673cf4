package logfmttest

import (
	"math"
	"time"
)

// Syslog PRI and version prefixes, by source.
const (
	priRouter  = "<158>1 " // local3.info
	priDyno    = "<45>1 "  // dyno manager
	priApp     = "<190>1 " // local7.info, app stdout
	priAPI     = "<134>1 " // local0.info, API and add-ons
	priLogplex = "<172>1 "
)

var (
	procRouter   = []byte("router")
	procAPI      = []byte("api")
	procPostgres = []byte("heroku-postgres")
	procRedis    = []byte("heroku-redis")
	procLogplex  = []byte("logplex")
	hostLiteral  = []byte("host")
)

// hcode describes one router error line.
type hcode struct {
	code, desc, at, sock string
	status               int
	empty                bool // dyno= connect= service= bytes= are empty
}

var (
	hH10 = hcode{code: "H10", desc: "App crashed", at: "error", status: 503, empty: true}
	hH12 = hcode{code: "H12", desc: "Request timeout", at: "error", status: 503}
	hH13 = hcode{code: "H13", desc: "Connection closed without response", at: "error", status: 503}
	hH27 = hcode{code: "H27", desc: "Client Request Interrupted", at: "warning", sock: "client", status: 499}
	hH80 = hcode{code: "H80", desc: "Maintenance mode", at: "info", status: 503, empty: true}

	bgErrors = []hcode{
		hH27, hH13,
		{code: "H18", desc: "Server Request Interrupted", at: "error", sock: "backend", status: 503},
		{code: "H28", desc: "Client Connection Idle", at: "warning", sock: "client", status: 499},
		{code: "H15", desc: "Idle connection", at: "error", status: 503},
		{code: "H26", desc: "Request Error", at: "error", status: 400, empty: true},
		{code: "H25", desc: "HTTP Restriction", at: "error", status: 502},
		{code: "H21", desc: "Backend connection refused", at: "error", status: 503, empty: true},
		{code: "H19", desc: "Backend connection timeout", at: "error", status: 503},
		{code: "H11", desc: "Backlog too deep", at: "error", status: 503, empty: true},
		{code: "H22", desc: "Connection limit reached", at: "error", status: 503, empty: true},
		{code: "H99", desc: "Platform error", at: "error", status: 503, empty: true},
	}
	bgTable  = newAliasTable([]float64{40, 12, 10, 8, 5, 6, 3, 4, 3, 4, 2, 1})
	h26Cause = []string{"unsupported expect header", "bad header", "bad chunk"}
)

// Shares of request-driven lines and of router outcomes.
const (
	routerShare  = 0.6
	bgErrorShare = 0.005
	l2metShare   = 0.2
)

// request appends one request-driven line.
func (g *Generator) request(dst []byte) []byte {
	r := g.r
	ai := g.appTable.pick(r.u64())
	a := &g.apps[ai]
	if a.mode == modeCrashed || a.maint || r.float() < routerShare {
		g.routerLine(a)
		return g.frame(dst, priRouter, a, "heroku", procRouter, false)
	}
	d := g.appLine(a)
	return g.frame(dst, priApp, a, "app", g.dynos[d].name, false)
}

// webDyno picks a web dyno of a to route to: any but the spare, or the
// spare when it is scaled in.
func (g *Generator) webDyno(a *app) int {
	n := len(a.web) - 1
	if g.dynos[a.web[n]].state == stateUp {
		n++
	}
	return a.web[g.r.intn(max(n, 1))]
}

func (g *Generator) routerLine(a *app) {
	r := g.r
	rt := &routes[routeTable.pick(r.u64())]
	var h *hcode
	switch {
	case a.mode == modeCrashed:
		h = &hH10
	case a.maint:
		h = &hH80
	case a.mode == modeSlow:
		switch x := r.float(); {
		case x < 0.35:
			h = &hH12
		case x < 0.43:
			h = &hH13
		case x < 0.49:
			h = &hH27
		}
	default:
		if r.float() < bgErrorShare {
			h = &bgErrors[bgTable.pick(r.u64())]
		}
	}
	m := g.msg[:0]
	if h != nil {
		if h.sock != "" {
			m = append(m, "sock="...)
			m = append(m, h.sock...)
			m = append(m, ' ')
		}
		m = append(m, "at="...)
		m = append(m, h.at...)
		m = append(m, " code="...)
		m = append(m, h.code...)
		m = append(m, " desc=\""...)
		m = append(m, h.desc...)
		m = append(m, '"')
		if h.code == "H26" {
			m = append(m, " cause=\""...)
			m = append(m, h26Cause[r.intn(len(h26Cause))]...)
			m = append(m, '"')
		}
	} else {
		m = append(m, "at=info"...)
	}
	m = append(m, " method="...)
	m = append(m, rt.method...)
	m = append(m, " path=\""...)
	m = g.appendPath(m, rt)
	m = append(m, "\" host="...)
	m = append(m, a.host...)
	m = append(m, " request_id="...)
	m = appendUUID(m, r.u64(), r.u64())
	m = append(m, " fwd=\""...)
	x := r.u64()
	m = appendIP(m, x)
	if x>>40&0xff < 50 { // about one in five through a CDN
		m = append(m, ",172.70."...)
		m = append(m, octets[x>>48&0xff]...)
		m = append(m, '.')
		m = append(m, octets[x>>56]...)
	}
	m = append(m, "\" dyno="...)
	if h != nil && h.empty {
		m = append(m, " connect= service= status="...)
		m = appendInt(m, int64(h.status))
		m = append(m, " bytes="...)
	} else {
		m = append(m, g.dynos[g.webDyno(a)].name...)
		connect := int64(0)
		if x := r.u64() & 0xff; x < 60 {
			connect = 1 + int64(x&3)
		}
		if h != nil && h.code == "H19" {
			connect = 5000 + int64(r.intn(10))
		}
		m = append(m, " connect="...)
		m = appendInt(m, connect)
		m = append(m, "ms service="...)
		svc := g.service(rt.median)
		status := 0
		bytes := int64(0)
		if h != nil {
			status = h.status
			switch h.code {
			case "H12":
				svc = 30000
			case "H15":
				svc = 55000 + int64(r.intn(3000))
			case "H18":
				bytes = int64(r.lognormal(rt.bytes+100, 1))
			case "H27", "H28":
				svc = svc*4 + int64(r.intn(2000))
			}
		} else {
			status = rt.mix.codes[rt.mix.table.pick(r.u64())]
			if a.mode == modeSlow {
				svc = min(svc*8+int64(r.intn(5000)), 29999)
			}
			switch status {
			case 204, 304:
			case 301, 302:
				bytes = 180 + int64(r.intn(200))
			default:
				bytes = int64(r.lognormal(rt.bytes+100, 0.5))
			}
		}
		m = appendInt(m, svc)
		m = append(m, "ms status="...)
		m = appendInt(m, int64(status))
		m = append(m, " bytes="...)
		m = appendInt(m, bytes)
	}
	if a.router2 {
		y := r.u64() & 0xff
		switch {
		case y < 13:
			m = append(m, " protocol=http1.1 tls=false"...)
		case y < 120:
			m = append(m, " protocol=http1.1 tls=true tls_version="...)
		default:
			m = append(m, " protocol=http2.0 tls=true tls_version="...)
		}
		if y >= 13 {
			switch {
			case a.herokuH:
				m = append(m, "unknown"...)
			case y&7 == 0:
				m = append(m, "tls1.2"...)
			default:
				m = append(m, "tls1.3"...)
			}
		}
	} else if r.u64()&0xf == 0 {
		m = append(m, " protocol=http"...)
	} else {
		m = append(m, " protocol=https"...)
	}
	g.msg = m
}

// service draws a service time in whole ms: lognormal around the route's
// median, with a heavy (Pareto) tail on one request in a hundred.
func (g *Generator) service(median float64) int64 {
	v := g.r.lognormal(median, 0.8)
	if g.r.u64()&0x7f == 0 {
		v *= math.Pow(g.r.float()+1e-9, -1/1.3)
	}
	return int64(min(v, 29999))
}

func (g *Generator) appendPath(m []byte, rt *route) []byte {
	m = append(m, rt.path...)
	if rt.id {
		m = appendInt(m, int64(1+g.r.intn(5000)))
	}
	if rt.query != "" {
		m = append(m, '?')
		m = append(m, rt.query...)
		m = append(m, '=')
		m = appendInt(m, int64(1+g.r.intn(12)))
	}
	return m
}

var sidekiqClasses = []string{"MailerJob", "ImportJob", "ChargeJob", "SyncInventoryJob", "ReportJob"}

// appLine builds a line an app prints and returns the dyno it came from.
func (g *Generator) appLine(a *app) int {
	r := g.r
	m := g.msg[:0]
	rt := &routes[routeTable.pick(r.u64())]
	if len(a.workers) > 0 && r.u64()&0x7 == 0 {
		d := a.workers[r.intn(len(a.workers))]
		m = append(m, "pid=4 tid="...)
		m = appendHex(m, r.u64(), 5)
		m = append(m, " class="...)
		m = append(m, sidekiqClasses[r.intn(len(sidekiqClasses))]...)
		m = append(m, " jid="...)
		m = appendHex(m, r.u64(), 12)
		m = appendHex(m, r.u64(), 12)
		if r.u64()&1 == 0 {
			m = append(m, " INFO: start"...)
		} else {
			m = append(m, " elapsed="...)
			m = appendFixed(m, r.lognormal(0.4, 1), 3)
			m = append(m, " INFO: done"...)
		}
		g.msg = m
		return d
	}
	d := g.webDyno(a)
	if r.float() < l2metShare {
		m = append(m, "at=info fn="...)
		m = append(m, rt.fn...)
		m = append(m, " count#"...)
		m = append(m, rt.fn...)
		m = append(m, ".calls=1"...)
		x := r.u64()
		if x&3 != 0 {
			m = append(m, " measure#db.query="...)
			m = appendFixed(m, r.lognormal(rt.median/3, 0.7), 1)
			m = append(m, "ms"...)
		}
		if x>>8&3 == 0 {
			m = append(m, " sample#pool.busy="...)
			m = appendInt(m, int64(x>>16&7))
		}
		if x>>24&7 < 2 {
			m = append(m, " unique#"...)
			m = append(m, rt.fn...)
			m = append(m, ".customer=c_"...)
			m = appendInt(m, int64(10000+x>>32%90000))
		}
		g.msg = m
		return d
	}
	status := rt.mix.codes[rt.mix.table.pick(r.u64())]
	svc := g.service(rt.median)
	switch a.stack {
	case stackRails:
		switch r.u64() & 3 {
		case 0:
			m = append(m, "Started "...)
			m = append(m, rt.method...)
			m = append(m, " \""...)
			m = g.appendPath(m, rt)
			m = append(m, "\" for "...)
			m = appendIP(m, r.u64())
			m = append(m, " at "...)
			m = g.appendLongTS(m)
			m = append(m, " +0000"...)
		case 1:
			m = append(m, "Completed "...)
			m = appendInt(m, int64(status))
			m = append(m, ' ')
			m = append(m, statusText(status)...)
			m = append(m, " in "...)
			m = appendInt(m, svc)
			m = append(m, "ms (Views: "...)
			m = appendFixed(m, float64(svc)*0.3, 1)
			m = append(m, "ms | ActiveRecord: "...)
			m = appendFixed(m, float64(svc)*0.4, 1)
			m = append(m, "ms)"...)
		default:
			m = append(m, "method="...)
			m = append(m, rt.method...)
			m = append(m, " path="...)
			m = append(m, rt.path...)
			m = append(m, " format=json controller="...)
			i := 0
			for i < len(rt.control) && rt.control[i] != '#' {
				i++
			}
			m = append(m, rt.control[:i]...)
			m = append(m, " action="...)
			m = append(m, rt.control[min(i+1, len(rt.control)):]...)
			m = append(m, " status="...)
			m = appendInt(m, int64(status))
			m = append(m, " duration="...)
			m = appendFixed(m, float64(svc)*0.97, 2)
			m = append(m, " view="...)
			m = appendFixed(m, float64(svc)*0.3, 2)
			m = append(m, " db="...)
			m = appendFixed(m, float64(svc)*0.4, 2)
		}
	case stackNode:
		if status >= 500 && r.u64()&1 == 0 {
			m = append(m, "Error: connect ECONNREFUSED 10.0.3.17:6379"...)
			break
		}
		m = append(m, rt.method...)
		m = append(m, ' ')
		m = g.appendPath(m, rt)
		m = append(m, ' ')
		m = appendInt(m, int64(status))
		m = append(m, ' ')
		m = appendFixed(m, float64(svc)+r.float(), 3)
		m = append(m, " ms - "...)
		m = appendInt(m, int64(r.lognormal(rt.bytes+100, 0.5)))
	default:
		m = append(m, "time="...)
		m = g.appendMillisTS(m)
		switch {
		case status >= 500:
			m = append(m, " level=ERROR msg=\"request failed\""...)
		case status >= 400:
			m = append(m, " level=WARN msg=request"...)
		default:
			m = append(m, " level=INFO msg=request"...)
		}
		m = append(m, " method="...)
		m = append(m, rt.method...)
		m = append(m, " path="...)
		m = append(m, rt.path...)
		m = append(m, " status="...)
		m = appendInt(m, int64(status))
		m = append(m, " duration="...)
		m = appendFixed(m, float64(svc)+r.float(), 1)
		m = append(m, "ms"...)
		if status >= 500 {
			m = append(m, " err=\"context deadline exceeded\""...)
		}
	}
	g.msg = m
	return d
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 422:
		return "Unprocessable Entity"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	}
	return "Unknown"
}

// emit appends the line of a scheduled event.
func (g *Generator) emit(dst []byte, e *event) []byte {
	r := g.r
	m := g.msg[:0]
	switch e.kind {
	case evLoad, evMem:
		dy := &g.dynos[e.dyno]
		a := &g.apps[dy.app]
		m = append(m, "source="...)
		m = append(m, dy.name...)
		m = append(m, " dyno=heroku."...)
		m = appendInt(m, a.id)
		m = append(m, '.')
		m = append(m, dy.uuid...)
		if e.kind == evLoad {
			l := dy.load * math.Exp(0.3*r.r.NormFloat64())
			if a.mode == modeSlow {
				l *= 3
			}
			m = append(m, " sample#load_avg_1m="...)
			m = appendFixed(m, l, 2)
			m = append(m, " sample#load_avg_5m="...)
			m = appendFixed(m, (l+2*dy.load)/3, 2)
			m = append(m, " sample#load_avg_15m="...)
			m = appendFixed(m, dy.load, 2)
			g.push(event{at: e.at + 200e3 + int64(r.intn(500e3)), kind: evMem, dyno: e.dyno})
			g.push(event{at: e.at + 20e9, kind: evLoad, dyno: e.dyno})
			if dy.memOver > 0 && dy.memOver < 0.5 {
				t := e.at + 1e9 + int64(r.intn(1e9))
				g.push(event{at: t, kind: evProcMem, dyno: e.dyno})
				g.push(event{at: t + 500e3 + int64(r.intn(2e6)), kind: evDynoMsg, dyno: e.dyno, n: msgR14})
			}
		} else {
			total := g.memTotal(dy)
			swap := max(total-dy.quota, 0)
			cache := (total - swap) * 0.035
			m = append(m, " sample#memory_total="...)
			m = appendFixed(m, total, 2)
			m = append(m, "MB sample#memory_rss="...)
			m = appendFixed(m, total-swap-cache, 2)
			m = append(m, "MB sample#memory_cache="...)
			m = appendFixed(m, cache, 2)
			m = append(m, "MB sample#memory_swap="...)
			m = appendFixed(m, swap, 2)
			m = append(m, "MB sample#memory_pgpgin="...)
			m = appendInt(m, int64(total*370+float64(r.intn(1000))))
			m = append(m, "pages sample#memory_pgpgout="...)
			m = appendInt(m, int64(total*120+float64(r.intn(1000))))
			m = append(m, "pages sample#memory_quota="...)
			m = appendFixed(m, dy.quota, 2)
			m = append(m, "MB"...)
		}
		g.msg = m
		return g.frame(dst, priDyno, a, "heroku", dy.name, false)
	case evProcMem:
		dy := &g.dynos[e.dyno]
		total := g.memTotal(dy)
		m = append(m, "Process running mem="...)
		m = appendInt(m, int64(total))
		m = append(m, "M("...)
		m = appendFixed(m, total/dy.quota*100, 1)
		m = append(m, "%)"...)
		g.msg = m
		return g.frame(dst, priDyno, &g.apps[dy.app], "heroku", dy.name, false)
	case evDynoMsg:
		dy := &g.dynos[e.dyno]
		a := &g.apps[dy.app]
		m = append(m, dynoMsgs[e.n]...)
		if e.n == msgStarting {
			m = append(m, a.command...)
			m = append(m, '`')
		}
		g.msg = m
		return g.frame(dst, priDyno, a, "heroku", dy.name, false)
	case evState:
		dy := &g.dynos[e.dyno]
		from := dy.state
		if from == int(e.m) {
			from = int(e.n)
		}
		m = append(m, "State changed from "...)
		m = append(m, stateNames[from]...)
		m = append(m, " to "...)
		m = append(m, stateNames[e.m]...)
		g.msg = m
		g.setState(int(e.dyno), int(e.m))
		return g.frame(dst, priDyno, &g.apps[dy.app], "heroku", dy.name, false)
	case evAPI:
		a := &g.apps[e.app]
		switch e.n {
		case apiBuildStarted:
			m = append(m, "Build started by user "...)
		case apiBuildOK:
			m = append(m, "Build succeeded"...)
		case apiDeploy:
			m = append(m, "Deploy "...)
			m = appendHex(m, r.u64(), 7)
			m = append(m, " by user "...)
		case apiRelease:
			a.release++
			m = append(m, "Release v"...)
			m = appendInt(m, a.release)
			m = append(m, " created by user "...)
		case apiScale:
			m = append(m, "Scaled to web@"...)
			n := len(a.web) - 1
			if g.dynos[a.web[n]].state == stateDown {
				n++ // scaling out
			}
			m = appendInt(m, int64(n))
			if g.dynos[a.web[0]].quota > 512 {
				m = append(m, ":Standard-2X"...)
			} else {
				m = append(m, ":Standard-1X"...)
			}
			if len(a.workers) > 0 {
				m = append(m, " worker@"...)
				m = appendInt(m, int64(len(a.workers)))
				m = append(m, ":Standard-1X"...)
			}
			m = append(m, " by user "...)
		case apiConfig:
			m = append(m, "Set "...)
			m = append(m, configVars[r.intn(len(configVars))]...)
			m = append(m, " config vars by user "...)
		}
		if e.n != apiBuildOK {
			m = append(m, users[e.m]...)
		}
		g.msg = m
		return g.frame(dst, priAPI, a, "app", procAPI, false)
	case evAddon:
		ad := &g.addons[e.n]
		g.push(event{at: e.at + 20e9, kind: evAddon, n: e.n})
		g.msg = g.addonLine(m, ad)
		proc := procPostgres
		if ad.redis {
			proc = procRedis
		}
		return g.frame(dst, priAPI, &g.apps[ad.app], "app", proc, true)
	case evL10:
		m = append(m, "Error L10 (output buffer overflow): "...)
		m = appendInt(m, int64(e.n))
		m = append(m, " messages dropped since "...)
		m = g.appendTS(m, e.at-int64(e.m)*1e9, true)
		m = append(m, '.')
		g.msg = m
		return g.frame(dst, priLogplex, &g.apps[e.app], "heroku", procLogplex, true)
	}
	panic("logfmttest: unknown event kind") // unreachable: kinds are ours
}

// memTotal is a dyno's memory in MB now.
func (g *Generator) memTotal(dy *dyno) float64 {
	if dy.memOver > 0 {
		return dy.quota * (1 + dy.memOver) * (1 + 0.01*g.r.r.NormFloat64())
	}
	return dy.memBase * (1 + 0.03*g.r.r.NormFloat64())
}

func (g *Generator) addonLine(m []byte, ad *addon) []byte {
	r := g.r
	a := &g.apps[ad.app]
	ad.conns = max(1, ad.conns+r.r.NormFloat64())
	conns := ad.conns
	if a.mode == modeSlow {
		conns *= 2.5
	}
	load := r.between(0.02, 0.3)
	if ad.redis {
		m = append(m, "source=REDIS addon="...)
		m = append(m, ad.name...)
		m = append(m, " sample#active-connections="...)
		m = appendInt(m, int64(conns))
		m = append(m, " sample#load-avg-1m="...)
		m = appendTrim(m, load, 3)
		m = append(m, " sample#load-avg-5m="...)
		m = appendTrim(m, load*0.8, 3)
		m = append(m, " sample#load-avg-15m="...)
		m = appendTrim(m, load*0.7, 3)
		m = append(m, " sample#read-iops="...)
		m = appendTrim(m, r.lognormal(2, 1), 2)
		m = append(m, " sample#write-iops="...)
		m = appendTrim(m, r.lognormal(12, 0.5), 2)
		free := ad.memTotal * r.between(0.85, 0.95)
		m = append(m, " sample#memory-total="...)
		m = appendInt(m, int64(ad.memTotal))
		m = append(m, "kB sample#memory-free="...)
		m = appendInt(m, int64(free))
		m = append(m, "kB sample#memory-cached="...)
		m = appendInt(m, int64(ad.memTotal*0.04))
		m = append(m, "kB sample#memory-redis="...)
		m = appendInt(m, int64(r.between(1.5e7, 3e7)))
		m = append(m, "bytes sample#hit-rate="...)
		m = appendTrim(m, r.between(0.9, 0.99), 4)
		m = append(m, " sample#evicted-keys=0"...)
		return m
	}
	ad.txn += int64(1000 + r.intn(20000))
	ad.dbSize += float64(r.intn(100000))
	m = append(m, "source=DATABASE addon="...)
	m = append(m, ad.name...)
	m = append(m, " sample#current_transaction="...)
	m = appendInt(m, ad.txn)
	m = append(m, " sample#db_size="...)
	m = appendInt(m, int64(ad.dbSize))
	m = append(m, "bytes sample#tables="...)
	m = appendInt(m, int64(20+ad.app%50))
	m = append(m, " sample#active-connections="...)
	m = appendInt(m, int64(conns))
	m = append(m, " sample#waiting-connections="...)
	if a.mode == modeSlow {
		m = appendInt(m, int64(r.intn(8)))
	} else {
		m = append(m, '0')
	}
	m = append(m, " sample#index-cache-hit-rate="...)
	m = appendTrim(m, r.between(0.99, 0.9999), 5)
	m = append(m, " sample#table-cache-hit-rate="...)
	m = appendTrim(m, r.between(0.98, 0.999), 5)
	m = append(m, " sample#load-avg-1m="...)
	m = appendTrim(m, load, 3)
	m = append(m, " sample#load-avg-5m="...)
	m = appendTrim(m, load*0.9, 3)
	m = append(m, " sample#load-avg-15m="...)
	m = appendTrim(m, load*0.8, 3)
	m = append(m, " sample#read-iops="...)
	m = appendTrim(m, r.lognormal(3, 1), 2)
	m = append(m, " sample#write-iops="...)
	m = appendTrim(m, r.lognormal(40, 0.5), 2)
	m = append(m, " sample#tmp-disk-used=543600640 sample#tmp-disk-available=72435191808 sample#memory-total="...)
	m = appendInt(m, int64(ad.memTotal))
	m = append(m, "kB sample#memory-free="...)
	m = appendInt(m, int64(r.between(200000, 300000)))
	m = append(m, "kB sample#memory-cached="...)
	m = appendInt(m, int64(r.between(6.8e6, 7e6)))
	m = append(m, "kB sample#memory-postgres="...)
	m = appendInt(m, int64(r.between(3.9e5, 4.1e5)))
	m = append(m, "kB sample#wal-percentage-used="...)
	m = appendTrim(m, r.between(0.05, 0.09), 4)
	return m
}

// appendTS appends an RFC 3339 UTC timestamp with microseconds, or whole
// seconds when secOnly is set, as Logplex writes them.
func (g *Generator) appendTS(dst []byte, ns int64, secOnly bool) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	if sec != g.tsSec {
		g.tsSec = sec
		g.tsPrefix = time.Unix(sec, 0).UTC().AppendFormat(g.tsPrefix[:0], "2006-01-02T15:04:05")
	}
	dst = append(dst, g.tsPrefix...)
	if !secOnly {
		dst = append(dst, '.')
		dst = appendPad(dst, (ns-sec*1e9)/1000, 6)
	}
	return append(dst, "+00:00"...)
}

// appendLongTS appends the current second as Rails prints it.
func (g *Generator) appendLongTS(dst []byte) []byte {
	sec := g.now / 1e9
	if g.now%1e9 < 0 {
		sec--
	}
	if sec != g.tsSec2 {
		g.tsSec2 = sec
		g.tsLong = time.Unix(sec, 0).UTC().AppendFormat(g.tsLong[:0], "2006-01-02 15:04:05")
	}
	return append(dst, g.tsLong...)
}

// appendMillisTS appends the current time as slog's text handler prints it
// in UTC.
func (g *Generator) appendMillisTS(dst []byte) []byte {
	dst = g.appendTS(dst, g.now, true)
	dst = dst[:len(dst)-len("+00:00")]
	dst = append(dst, '.')
	dst = appendPad(dst, (g.now%1e9+1e9)%1e9/1e6, 3)
	return append(dst, 'Z')
}

// frame appends g.msg framed in the Generator's format, stamped g.now.
func (g *Generator) frame(dst []byte, pri string, a *app, appName string, proc []byte, secOnly bool) []byte {
	if g.format == HerokuLogs {
		dst = g.appendTS(dst, g.now, secOnly)
		dst = append(dst, ' ')
		dst = append(dst, appName...)
		dst = append(dst, '[')
		dst = append(dst, proc...)
		dst = append(dst, "]: "...)
		dst = append(dst, g.msg...)
		return append(dst, '\n')
	}
	host, sep := hostLiteral, " - "
	if g.opts.SyslogDrain {
		host, sep = a.drainTok, " - - "
	}
	if g.format == Drain {
		n := len(pri) + len("2006-01-02T15:04:05+00:00 ") + len(host) + 1 + len(appName) + 1 + len(proc) + len(sep) + len(g.msg) + 1
		if !secOnly {
			n += len(".000000")
		}
		dst = appendInt(dst, int64(n))
		dst = append(dst, ' ')
	}
	dst = append(dst, pri...)
	dst = g.appendTS(dst, g.now, secOnly)
	dst = append(dst, ' ')
	dst = append(dst, host...)
	dst = append(dst, ' ')
	dst = append(dst, appName...)
	dst = append(dst, ' ')
	dst = append(dst, proc...)
	dst = append(dst, sep...)
	dst = append(dst, g.msg...)
	return append(dst, '\n')
}
