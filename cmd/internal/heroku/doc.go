// Package heroku holds no code, only the tests of Pulse as a Heroku app:
// that app.json has the keys and types Heroku documents for it and
// declares only settings Pulse knows, that every process of the Procfile
// and Procfile.local starts with that environment and answers /healthz,
// and that the processes keep the platform's conventions: logfmt on
// stdout, a shutdown within 30 s of SIGTERM that flushes the last cut even
// with Redis slow, and a restarted dyno's batches merged rather than
// dropped as duplicates of its former self.
//
// The tests build the commands with go build and run them against real
// redis-servers (package redistest); they skip when redis-server is not
// installed, unless PULSE_REQUIRE_SERVICES=1.
package heroku
