//go:build race

package def

const raceEnabled = true
