//go:build unix

package receiver

import "syscall"

// processCPU returns the CPU time the process has used, user and system,
// in nanoseconds, and true: what a benchmark costs in CPU whatever else
// the machine is running.
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
