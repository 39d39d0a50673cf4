//go:build !race

package logfmttest

const raceEnabled = false
