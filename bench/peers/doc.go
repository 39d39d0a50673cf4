// Package peers benchmarks Pulse's logfmt parser side by side with the
// parsers people use for Heroku drains: github.com/go-logfmt/logfmt,
// github.com/kr/logfmt, and github.com/leodido/go-syslog/v4 followed by
// kr/logfmt for whole frames. It is a separate module so that the peers
// never become dependencies of the library. See BENCHMARKS.md at the root
// of the repository for the method and the figures.
package peers
