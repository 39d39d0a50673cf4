package stat

import "runtime"

// allocated returns the bytes f allocates on the heap: the least of three
// runs, since other goroutines may allocate during one.
func allocated(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		least = min(least, allocatedOnce(f))
	}
	return least
}

// allocatedOnce returns the bytes allocated on the heap while f runs, by
// anyone: an upper bound on f's own allocation. ReadMemStats stops the
// world and so counts every allocation, which cheaper counters do not.
func allocatedOnce(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
