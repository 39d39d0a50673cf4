//go:build !unix

package receiver

// processCPU is not available here; the cpu metric is left out.
func processCPU() (int64, bool) { return 0, false }
