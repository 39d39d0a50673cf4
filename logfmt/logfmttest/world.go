package logfmttest

import "math"

// Dyno states, as the dyno manager names them.
const (
	stateUp = iota
	stateStarting
	stateCrashed
	stateDown
)

var stateNames = [...]string{"up", "starting", "crashed", "down"}

// App modes that change what the router logs for an app.
const (
	modeNormal = iota
	modeCrashed
	modeSlow
)

// App stacks, which decide what an app prints.
const (
	stackRails = iota
	stackNode
	stackGo
	nStacks
)

type app struct {
	name     string
	host     []byte // router host= value
	herokuH  bool   // host is *.herokuapp.com
	drainTok []byte // header HOSTNAME when Options.SyslogDrain is set
	id       int64  // numeric app id in dyno= values
	router2  bool   // on Router 2.0
	stack    int
	maint    bool // in maintenance mode (H80)
	mode     int
	web      []int // indexes into Generator.dynos; the last is the spare
	workers  []int
	release  int64
	command  string
}

type dyno struct {
	app     int
	name    []byte // "web.1"
	worker  bool
	state   int
	uuid    []byte // changes on every start
	memBase float64
	quota   float64
	memOver float64 // fraction of quota above 1 during an R14 episode
	load    float64
}

type addon struct {
	app      int
	redis    bool
	name     []byte // addon=
	conns    float64
	txn      int64
	dbSize   float64
	memTotal float64
}

// Router status mixes by kind of path. Weights in per mille.
type statusMix struct {
	codes []int
	table aliasTable
}

func newStatusMix(pairs ...int) statusMix {
	var m statusMix
	w := make([]float64, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		m.codes = append(m.codes, pairs[i])
		w = append(w, float64(pairs[i+1]))
	}
	m.table = newAliasTable(w)
	return m
}

var (
	mixPage   = newStatusMix(200, 880, 304, 60, 301, 20, 302, 10, 404, 25, 500, 3, 503, 2)
	mixAPI    = newStatusMix(200, 930, 304, 20, 401, 10, 403, 5, 404, 25, 422, 5, 500, 4, 502, 1)
	mixCreate = newStatusMix(201, 720, 200, 150, 302, 50, 400, 30, 422, 40, 500, 6, 503, 4)
	mixDelete = newStatusMix(204, 940, 404, 50, 500, 10)
	mixAsset  = newStatusMix(200, 700, 304, 290, 404, 10)
	mixHealth = newStatusMix(200, 1000)
	mixBot    = newStatusMix(404, 980, 301, 20)
)

type route struct {
	method  string
	path    string
	id      bool   // append a numeric id
	query   string // append ?query=N
	median  float64
	bytes   float64
	mix     *statusMix
	weight  float64
	fn      string // l2met fn= and controller action
	control string
}

var routes = []route{
	{method: "GET", path: "/", median: 28, bytes: 14200, mix: &mixPage, weight: 120, fn: "home", control: "HomeController#index"},
	{method: "GET", path: "/api/orders", query: "page", median: 35, bytes: 5321, mix: &mixAPI, weight: 160, fn: "list_orders", control: "OrdersController#index"},
	{method: "GET", path: "/api/products/", id: true, median: 18, bytes: 2100, mix: &mixAPI, weight: 220, fn: "show_product", control: "ProductsController#show"},
	{method: "GET", path: "/api/search", query: "q", median: 60, bytes: 8800, mix: &mixAPI, weight: 70, fn: "search", control: "SearchController#index"},
	{method: "POST", path: "/api/cart", median: 55, bytes: 742, mix: &mixCreate, weight: 60, fn: "add_to_cart", control: "CartsController#create"},
	{method: "DELETE", path: "/api/cart/items/", id: true, median: 25, bytes: 0, mix: &mixDelete, weight: 15, fn: "remove_item", control: "CartItemsController#destroy"},
	{method: "POST", path: "/checkout", median: 180, bytes: 910, mix: &mixCreate, weight: 20, fn: "checkout", control: "CheckoutsController#create"},
	{method: "PUT", path: "/api/account", median: 40, bytes: 480, mix: &mixAPI, weight: 10, fn: "update_account", control: "AccountsController#update"},
	{method: "GET", path: "/login", median: 12, bytes: 6400, mix: &mixPage, weight: 30, fn: "login_form", control: "SessionsController#new"},
	{method: "POST", path: "/login", median: 95, bytes: 300, mix: &mixCreate, weight: 25, fn: "login", control: "SessionsController#create"},
	{method: "GET", path: "/assets/application-5f0c6a1e.css", median: 2, bytes: 48000, mix: &mixAsset, weight: 140, fn: "asset", control: "Assets#show"},
	{method: "GET", path: "/assets/application-9b2d77c4.js", median: 3, bytes: 212000, mix: &mixAsset, weight: 120, fn: "asset", control: "Assets#show"},
	{method: "GET", path: "/health", median: 1, bytes: 2, mix: &mixHealth, weight: 60, fn: "health", control: "HealthController#show"},
	{method: "GET", path: "/events/stream", median: 900, bytes: 4096, mix: &mixHealth, weight: 8, fn: "stream", control: "EventsController#stream"},
	{method: "POST", path: "/upload", median: 400, bytes: 120, mix: &mixCreate, weight: 6, fn: "upload", control: "UploadsController#create"},
	{method: "GET", path: "/wp-login.php", median: 4, bytes: 160, mix: &mixBot, weight: 6, fn: "not_found", control: "ErrorsController#not_found"},
}

var routeTable = func() aliasTable {
	w := make([]float64, len(routes))
	for i, r := range routes {
		w[i] = r.weight
	}
	return newAliasTable(w)
}()

var (
	adjectives = []string{"sleepy", "curved", "shaped", "quiet", "brave", "rapid", "mossy", "frosty", "golden", "hidden", "lively", "misty", "polar", "rustic", "silent", "sunny", "tidal", "vast", "wild", "young", "amber", "calm", "dusty", "eager"}
	nouns      = []string{"river", "shop", "forest", "harbor", "meadow", "canyon", "comet", "falcon", "garden", "island", "lagoon", "mesa", "orchard", "prairie", "reef", "summit", "tundra", "valley", "willow", "basin", "cove", "dune", "glade", "ridge"}
	users      = []string{"dev@example.com", "ops@example.com", "ci@example.com", "alice@example.com", "bob@example.com"}
	configVars = []string{"FEATURE_CHECKOUT_V2", "RAILS_MAX_THREADS", "WEB_CONCURRENCY", "LOG_LEVEL", "SENTRY_DSN", "STRIPE_API_KEY"}
	commands   = [nStacks]string{"bundle exec puma -C config/puma.rb", "node server.js", "bin/server"}
)

// build makes the platform: apps, dynos and add-ons, from the world RNG.
func (g *Generator) build(r *rng, nApps int) {
	weights := make([]float64, nApps)
	var sum float64
	for i := range weights {
		weights[i] = 1 / math.Pow(float64(i+1), 1.1)
		if i == nApps-1 && nApps > 2 {
			weights[i] /= 5 // in maintenance mode: people stop coming
		}
		sum += weights[i]
	}
	g.appTable = newAliasTable(weights)
	g.apps = make([]app, nApps)
	for i := range g.apps {
		a := &g.apps[i]
		adj, noun := adjectives[r.intn(len(adjectives))], nouns[r.intn(len(nouns))]
		a.name = adj + "-" + noun + "-" + itoa(1000+r.intn(9000))
		if r.float() < 0.4 {
			a.host = []byte("www." + adj + noun + ".com")
		} else {
			a.host = []byte(a.name + ".herokuapp.com")
			a.herokuH = true
		}
		a.drainTok = appendUUID([]byte("d."), r.u64(), r.u64())
		a.id = int64(100000000 + r.intn(900000000))
		a.router2 = r.float() < 0.35
		a.stack = r.intn(nStacks)
		a.command = commands[a.stack]
		a.release = int64(10 + r.intn(300))
		a.maint = i == nApps-1 && nApps > 2
		share := weights[i] / sum
		nWeb := int(math.Ceil(share * 30))
		nWeb = min(max(nWeb, 1), 8)
		nWorker := 0
		if r.float() < 0.5 {
			nWorker = 1 + r.intn(2)
		}
		for j := 0; j <= nWeb; j++ { // one spare for scaling
			d := g.newDyno(r, i, false, j+1)
			if j == nWeb {
				g.dynos[d].state = stateDown
			}
			a.web = append(a.web, d)
		}
		for j := 0; j < nWorker; j++ {
			a.workers = append(a.workers, g.newDyno(r, i, true, j+1))
		}
		if i%3 != 2 {
			g.addons = append(g.addons, addon{
				app: i, name: []byte("postgresql-" + adjectives[r.intn(len(adjectives))] + "-" + itoa(10000+r.intn(90000))),
				conns: float64(2 + 3*nWeb), txn: int64(1e6 + r.intn(5e7)),
				dbSize: float64(1e8 + r.intn(2e10)), memTotal: 8024288,
			})
		}
		if r.float() < 0.4 {
			g.addons = append(g.addons, addon{
				app: i, redis: true, name: []byte("redis-" + adjectives[r.intn(len(adjectives))] + "-" + itoa(10000+r.intn(90000))),
				conns: float64(4 + 2*nWeb), memTotal: 16167800,
			})
		}
	}
}

func (g *Generator) newDyno(r *rng, appIdx int, worker bool, n int) int {
	kind := "web."
	if worker {
		kind = "worker."
	}
	quota := 512.0
	if !worker && r.float() < 0.4 {
		quota = 1024
	}
	g.dynos = append(g.dynos, dyno{
		app:     appIdx,
		name:    []byte(kind + itoa(n)),
		worker:  worker,
		uuid:    appendUUID(make([]byte, 0, 36), r.u64(), r.u64()),
		memBase: quota * r.between(0.35, 0.8),
		quota:   quota,
		load:    r.between(0.05, 0.6),
	})
	return len(g.dynos) - 1
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }
