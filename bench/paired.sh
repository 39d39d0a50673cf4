#!/bin/sh
# paired.sh BINARY BENCH-A BENCH-B ROUNDS BENCHTIME
#
# Runs the test binary's benchmark A and then B, ROUNDS times, each with
# -test.benchtime BENCHTIME, and prints per round the records/cpu-s metric
# of A and of B and their ratio B/A. Pairing the runs keeps a comparison
# fair on a shared machine whose load changes from minute to minute.
set -eu
bin=$1 a=$2 b=$3 n=$4 bt=$5
metric() {
	"$bin" -test.run '^$' -test.bench "$1" -test.benchtime "$bt" 2>&1 |
		awk '{for (i = 1; i <= NF; i++) if ($i == "records/cpu-s") print $(i-1)}'
}
for _ in $(seq 1 "$n"); do
	ra=$(metric "$a")
	rb=$(metric "$b")
	echo "$ra $rb" | awk '{printf "%.0f %.0f %.3f\n", $1, $2, $2/$1}'
done
