// Package benchcluster implements `pulse bench cluster`: it starts a
// fleet of real processes on loopback (R receivers, M merger shards and a
// web, each `pulse run --role …` of the pulse binary, over one Redis),
// drives every receiver with the load of `pulse bench drain`, and reports
// what the fleet did with it.
//
// The report follows the events through each stage, so that a loss shows
// where it happened: accepted (frames of drain bodies answered 2xx),
// folded (the receivers' receiver_events in /healthz), published (the
// pulse.events counts in the batches on the shards' Redis streams,
// decoded) and merged (pulse.events as the web's history shows it). Beside
// them: the CPU time (utime+stime in /proc/PID/stat) of every receiver,
// merger shard and the web, and Redis's own (INFO cpu); the bytes through
// Redis (INFO stats total_net_input_bytes and total_net_output_bytes) and
// the batches per shard (count, bytes, bytes per batch); and freshness
// (pulse.lag, from the end of a snapshot's second to its arrival at the
// web).
//
// # Method
//
// The receivers stamp events with their arrival time (TIME_SOURCE=arrival):
// bench drain's bodies repeat every few seconds of event time, and in
// event time a run longer than the self-stats' 10 s window would count the
// repeats as late. Each receiver runs WORKERS workers with GOMAXPROCS of
// the same number, and gets its own bench drain load (its own clients and
// its share of the rate) from this process, whose CPU time is reported as
// the load client's.
//
// The load starts once every process answers /healthz and the web holds
// a snapshot of every shard. CPU is measured from the start of the load
// to the end of the settle:
// after the load stops, the bench waits until every receiver's queue is
// empty and the web holds a snapshot of a second after the last event,
// which takes a flush, the grace and the merger's poll (about 2.5 s at the
// defaults). The merged total is read from pulse.events, a rate per
// second over 10 s: at snapshot time T it is the count of [T−10 s, T) ÷
// 10, so the count of everything before T is 10 × (r(T) + r(T−10 s) +
// r(T−20 s) + …), back to before the first event. A snapshot missing from
// the web's history leaves the merged figure unknown (−1), never guessed.
//
// Processes are started in their own process group with, on Linux,
// SIGKILL as their parent-death signal, so a bench that is killed leaves
// no processes behind; on exit, error or interrupt they get SIGTERM and,
// after StopTimeout, SIGKILL.
package benchcluster
