//go:build !linux

package benchcluster

import (
	"syscall"
	"time"
)

// sysProcAttr is nil: without Linux's parent-death signal a bench that is
// killed (not interrupted) leaves its children running.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func cpuTime(int) (time.Duration, error) { return 0, errNoProc }

func peakRSS(int) (int64, error) { return 0, errNoProc }

func loadAvg() (string, error) { return "", errNoProc }
