//go:build amd64 || arm64

package detect

// prefetch asks the CPU to start loading the cache line at p without
// waiting for it. The rule states an event needs lie in gigabytes read at
// random, so each is a cache miss (and often a TLB miss); asking for all
// of them before working on the first lets the misses overlap instead of
// following one another. p is an address, not a pointer: a prefetch never
// faults, and the garbage collector need not know of it.
func prefetch(p uintptr)
