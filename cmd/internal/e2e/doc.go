// Package e2e tests Pulse's live roles end to end, as an operator runs
// them: the real receiver, merger, web and pulse binaries, built once per
// test run, started as processes on free ports with their settings in the
// environment, over a real redis-server (package redistest) or the
// in-memory bus of `pulse run`. Logplex bodies from package logfmttest are
// posted to the drains, and what the web serves is checked against the
// snapshot `pulse replay --at T` computes from the same bytes.
//
// The package holds only tests. Tests that need Redis skip when
// redis-server is not installed, unless PULSE_REQUIRE_SERVICES=1.
package e2e
