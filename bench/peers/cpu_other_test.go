//go:build !linux

package peers_test

// threadCPU is not available here; the cpu metrics are left out.
func threadCPU() (int64, bool) { return 0, false }
