package dashtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on Linux.
const clockTick = 10 * time.Millisecond

// chromiumCPU returns the CPU time (user and system) that the browser's
// processes have used so far: its renderers, where the page's script,
// style, layout, paint and raster run, and all of its processes
// together (the GPU process composites). It reads /proc, so it measures
// work done rather than time waited on a busy machine; ok is false where
// there is no /proc.
func chromiumCPU(b *browser) (renderer, all time.Duration, ok bool) {
	p := chromedp.FromContext(b.ctx).Browser.Process()
	if p == nil {
		return 0, 0, false
	}
	type proc struct {
		ppid     int
		cpu      time.Duration
		renderer bool
	}
	procs := map[int]proc{}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		return 0, 0, false
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: fields 4, 14 and 15.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		cmd, _ := os.ReadFile(d + "/cmdline")
		procs[pid] = proc{ppid: ppid, cpu: time.Duration(utime+stime) * clockTick, renderer: strings.Contains(string(cmd), "--type=renderer")}
	}
	for pid, pr := range procs {
		for a := pid; a > 1; a = procs[a].ppid {
			if a == p.Pid {
				all += pr.cpu
				if pr.renderer {
					renderer += pr.cpu
				}
				break
			}
			if _, ok := procs[a]; !ok {
				break
			}
		}
	}
	return renderer, all, all > 0
}
