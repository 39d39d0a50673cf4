package logfmt

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"math/rand/v2"
	"strconv"
	"time"
)

// herokuMix returns n deterministic logplex frames (octet count, RFC 5424
// header without SD, body, newline) shaped like a busy app's drain, after
// the samples in HEROKU-LOGS.md §3.9: router lines dominate (about 70 %,
// one in ten an error, a third on Router 2.0), then dyno runtime metrics
// (12 %), app logfmt lines (10 %), dyno manager free text (4 %), API
// lines (2 %) and Postgres/Redis metrics (2 %). Values (ids, paths,
// timings, sizes) vary per line. It also returns the message bodies.
func herokuMix(n int, seed uint64) (frames, bodies [][]byte) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	t := time.Date(2026, 3, 14, 17, 2, 11, 0, time.UTC)
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	uuid := func() string { return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-8" + hex(3) + "-" + hex(12) }
	ip := func() string {
		return strconv.Itoa(rng.IntN(223)+1) + "." + strconv.Itoa(rng.IntN(256)) + "." + strconv.Itoa(rng.IntN(256)) + "." + strconv.Itoa(rng.IntN(256))
	}
	paths := []string{`"/api/orders?page=2"`, `"/api/cart"`, `"/"`, `"/checkout"`, `"/assets/app-3f9c2ab.js"`, `"/api/products/8812"`, `"/events/stream"`, `"/login"`}
	hosts := []string{"shop-example.herokuapp.com", "www.shop-example.com"}
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	errs := []string{`at=error code=H12 desc="Request timeout"`, `at=error code=H10 desc="App crashed"`, `sock=client at=warning code=H27 desc="Client Request Interrupted"`, `sock=backend at=error code=H18 desc="Server Request Interrupted"`}
	for range n {
		t = t.Add(time.Duration(rng.IntN(20000)) * time.Microsecond)
		ts := t.Format("2006-01-02T15:04:05.000000+00:00")
		var pri, app, proc, body string
		switch r := rng.IntN(100); {
		case r < 70:
			pri, app, proc = "158", "heroku", "router"
			proto := "protocol=https"
			if rng.IntN(3) == 0 {
				proto = "protocol=http2.0 tls=true tls_version=tls1.3"
			}
			head, dyno, connect, service, status, bytes := "at=info", "web."+strconv.Itoa(rng.IntN(4)+1), strconv.Itoa(rng.IntN(3))+"ms", strconv.Itoa(rng.IntN(400)+1)+"ms", strconv.Itoa([]int{200, 200, 200, 201, 204, 301, 304, 404}[rng.IntN(8)]), strconv.Itoa(rng.IntN(60000))
			if rng.IntN(10) == 0 {
				head = errs[rng.IntN(len(errs))]
				status = "503"
				if rng.IntN(2) == 0 {
					dyno, connect, service, bytes = "", "", "", ""
				}
			}
			fwd := `"` + ip() + `"`
			if rng.IntN(4) == 0 {
				fwd = `"` + ip() + "," + ip() + `"`
			}
			body = head + " method=" + methods[rng.IntN(len(methods))] + " path=" + paths[rng.IntN(len(paths))] + " host=" + hosts[rng.IntN(2)] +
				" request_id=" + uuid() + " fwd=" + fwd + " dyno=" + dyno + " connect=" + connect + " service=" + service +
				" status=" + status + " bytes=" + bytes + " " + proto
		case r < 82:
			pri, app, proc = "45", "heroku", "web."+strconv.Itoa(rng.IntN(4)+1)
			src := "source=" + proc + " dyno=heroku.184512937." + uuid()
			if rng.IntN(2) == 0 {
				body = src + fmt.Sprintf(" sample#load_avg_1m=%.2f sample#load_avg_5m=%.2f sample#load_avg_15m=%.2f", rng.Float64(), rng.Float64(), rng.Float64())
			} else {
				body = src + fmt.Sprintf(" sample#memory_total=%.2fMB sample#memory_rss=%.2fMB sample#memory_cache=%.2fMB sample#memory_swap=0.00MB sample#memory_pgpgin=%dpages sample#memory_pgpgout=%dpages sample#memory_quota=512.00MB",
					rng.Float64()*500, rng.Float64()*500, rng.Float64()*20, rng.IntN(200000), rng.IntN(60000))
			}
		case r < 92:
			pri, app, proc = "190", "app", "web."+strconv.Itoa(rng.IntN(4)+1)
			body = fmt.Sprintf("at=info fn=list_orders count#orders.listed=%d measure#db.query=%.1fms sample#pool.busy=%d unique#orders.customer=c_%d",
				rng.IntN(50), rng.Float64()*40, rng.IntN(10), rng.IntN(100000))
		case r < 96:
			pri, app, proc = "45", "heroku", "web."+strconv.Itoa(rng.IntN(4)+1)
			body = []string{"State changed from starting to up", "Cycling", "Stopping all processes with SIGTERM", "Process exited with status 143",
				"Error R14 (Memory quota exceeded)", "Process running mem=563M(110.0%)", "Starting process with command `bundle exec puma -C config/puma.rb`"}[rng.IntN(7)]
		case r < 98:
			pri, app, proc = "134", "app", "api"
			body = []string{"Deploy " + hex(7) + " by user dev@example.com", "Release v" + strconv.Itoa(rng.IntN(500)) + " created by user dev@example.com",
				"Scaled to web@4:Standard-2X worker@2:Standard-1X by user ops@example.com"}[rng.IntN(3)]
		default:
			pri, app = "134", "app"
			ts = t.Format("2006-01-02T15:04:05+00:00")
			if rng.IntN(2) == 0 {
				proc = "heroku-postgres"
				body = fmt.Sprintf("source=DATABASE addon=postgresql-curved-12345 sample#current_transaction=%d sample#db_size=%dbytes sample#tables=61 sample#active-connections=%d sample#waiting-connections=0 sample#index-cache-hit-rate=%.5f sample#table-cache-hit-rate=%.5f sample#load-avg-1m=%.3f sample#load-avg-5m=0.21 sample#load-avg-15m=0.2 sample#read-iops=%.1f sample#write-iops=%.2f sample#tmp-disk-used=543600640 sample#tmp-disk-available=72435191808 sample#memory-total=8024288kB sample#memory-free=%dkB sample#memory-cached=6911204kB sample#memory-postgres=401332kB sample#wal-percentage-used=0.0712",
					rng.IntN(1e8), rng.IntN(1e10), rng.IntN(100), rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()*10, rng.Float64()*100, rng.IntN(1e6))
			} else {
				proc = "heroku-redis"
				body = fmt.Sprintf("source=REDIS addon=redis-shaped-67890 sample#active-connections=%d sample#load-avg-1m=0.06 sample#load-avg-5m=0.04 sample#load-avg-15m=0.03 sample#read-iops=0 sample#write-iops=12.4 sample#memory-total=16167800kB sample#memory-free=%dkB sample#memory-cached=611034kB sample#memory-redis=%dbytes sample#hit-rate=%.4f sample#evicted-keys=0",
					rng.IntN(100), rng.IntN(2e7), rng.IntN(1e8), rng.Float64())
			}
		}
		msg := "<" + pri + ">1 " + ts + " host " + app + " " + proc + " - " + body + "\n"
		frames = append(frames, []byte(strconv.Itoa(len(msg))+" "+msg))
		bodies = append(bodies, []byte(body))
	}
	return frames, bodies
}

// TestMixFile keeps testdata/mix.log, the Heroku mix the peer benchmarks
// in bench/peers read, equal to what herokuMix generates. Regenerate with
// go test -run TestMixFile -update.
func TestMixFile(t *testing.T) {
	frames, _ := herokuMix(mixSize, 1)
	want := bytes.Join(frames, nil)
	if *update {
		require.NoError(t, os.WriteFile("testdata/mix.log", want, 0o644))
	}
	got, err := os.ReadFile("testdata/mix.log")
	require.NoError(t, err)
	assert.Equal(t, want, got, "regenerate with -update")

	// The mix is clean: every frame is an event, counts all land.
	r := NewReader(bytes.NewReader(got), nil)
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, ReaderStats{Events: mixSize, Bytes: int64(len(got))}, r.Stats())
}

var update = flag.Bool("update", false, "rewrite golden files in testdata")
