//go:build unix

package redistest

import "syscall"

// The signals of Pause and Resume.
var pauseSignal, resumeSignal = syscall.SIGSTOP, syscall.SIGCONT
