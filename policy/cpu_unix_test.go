//go:build unix

package policy

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used. Benchmarks report it
// per operation next to wall time: on a shared, busy machine wall time
// includes the time other processes held the CPU.
func processCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
