// Package dashtest holds the browser tests of Pulse's dashboard: headless
// Chromium (Debian's chromium package, at /usr/bin/chromium), driven with
// chromedp, against `pulse run` with the demo traffic and against the web
// handler fed by a History.
//
// The tests skip when Chromium is missing, unless PULSE_REQUIRE_SERVICES=1
// (as in CI), when they fail. PULSE_SCREENSHOT_DIR keeps the screenshots
// they take (otherwise written to a temporary directory and removed).
// PULSE_DASHBOARD_PNG=path runs TestDashboardH12Screenshot, which writes
// the README's picture of the page during the demo's H12 incident (about
// two minutes).
package dashtest
