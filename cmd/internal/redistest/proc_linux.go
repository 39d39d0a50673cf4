package redistest

import "syscall"

// sysProcAttr asks Linux to kill the server when the test process dies,
// so a crashed or timed-out test leaves no redis-server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
