#!/usr/bin/env bash
# bench/cluster.sh measures a fleet for BENCHMARKS.md, section "Cluster".
# Run it from the repository root:
#
#   bench/cluster.sh fleet     pulse bench cluster as fast as answered:
#                              R=1 M=1, R=2 M=1, R=2 M=2 (FLEET), DURATION each
#   bench/cluster.sh mergers   the merger's cost against the number of
#                              receivers: R=4, 8, 16 with M=1 and R=16 with M=2
#                              (MERGERS), each at PER_RECEIVER events/s
#   bench/cluster.sh mix       R=2 M=2 on bench drain's 20k traffic
#                              (--gen-rate 20000 --bodies 1000): batch bytes
#   bench/cluster.sh redis     redis-benchmark: XADD of batch-sized entries
#                              (SIZES bytes) and XRANGE reads of them
#
# Settings from the environment (defaults in brackets): DURATION [45s],
# MERGER_DURATION [30s], PER_RECEIVER [10000], FLEET ["1:1 2:1 2:2"],
# MERGERS ["4:1 8:1 16:1 16:2"], SIZES ["2000 10000 20000"]. Output goes
# to stdout: keep it under bench/results/.
#
# Needs: go, redis-server; redis-benchmark for redis.
set -euo pipefail

DURATION=${DURATION:-45s}
MERGER_DURATION=${MERGER_DURATION:-30s}
PER_RECEIVER=${PER_RECEIVER:-10000}
FLEET=${FLEET:-1:1 2:1 2:2}
MERGERS=${MERGERS:-4:1 8:1 16:1 16:2}
SIZES=${SIZES:-2000 10000 20000}
TMP=${TMP_DIR:-$(mktemp -d /tmp/pulse-cluster.XXXXXX)}
BIN=$TMP/pulse

say() { printf '%s\n' "$*"; }

header() {
	say "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty) $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
	say "# $(nproc) CPUs: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

build() { go build -o "$BIN" ./cmd/pulse; }

# cluster ARGS...: one run, its command line first.
cluster() {
	say
	say "\$ pulse bench cluster $*"
	"$BIN" bench cluster "$@" 2>/dev/null
}

case ${1:-} in
fleet)
	build
	header
	for rm in $FLEET; do
		cluster -receivers "${rm%%:*}" -mergers "${rm##*:}" -duration "$DURATION"
	done
	;;
mergers)
	build
	header
	for rm in $MERGERS; do
		r=${rm%%:*}
		cluster -receivers "$r" -mergers "${rm##*:}" -duration "$MERGER_DURATION" -rate $((r * PER_RECEIVER)) -clients 1
	done
	;;
mix)
	build
	header
	cluster -receivers 2 -mergers 2 -duration "$DURATION" -gen-rate 20000 -bodies 1000
	;;
redis)
	header
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile "$TMP/redis.log" &
	rpid=$!
	trap 'kill $rpid 2>/dev/null || true' EXIT
	for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	say "# $(redis-server --version)"
	redis_cpu() { redis-cli -p "$port" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {print s}'; }
	for size in $SIZES; do
		payload=$(head -c "$size" /dev/zero | tr '\0' x)
		for c in 1 8; do
			before=$(redis_cpu)
			say
			say "\$ redis-benchmark -q -n 20000 -c $c XADD bench:$size MAXLEN ~ 10000 '*' b <$size bytes>"
			redis-benchmark -p "$port" -q -n 20000 -c "$c" XADD "bench:$size" MAXLEN '~' 10000 '*' b "$payload" | tr '\r' '\n' | grep -v '^$' | tail -1 | sed -E 's/x{100,}/<payload>/'
			after=$(redis_cpu)
			say "# redis-server CPU (INFO used_cpu_sys + used_cpu_user): $(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.2f s", a - b}')"
		done
		before=$(redis_cpu)
		say
		say "\$ redis-benchmark -q -n 20000 -c 8 XRANGE bench:$size - + COUNT 10"
		redis-benchmark -p "$port" -q -n 20000 -c 8 XRANGE "bench:$size" - + COUNT 10 | tr '\r' '\n' | grep -v '^$' | tail -1
		after=$(redis_cpu)
		say "# redis-server CPU (INFO used_cpu_sys + used_cpu_user): $(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.2f s", a - b}')"
		redis-cli -p "$port" del "bench:$size" >/dev/null
	done
	;;
*)
	sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'
	exit 2
	;;
esac
