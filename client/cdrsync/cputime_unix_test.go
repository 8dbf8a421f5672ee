//go:build unix

package cdrsync

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (all threads, GC included), so a benchmark on a busy machine
// can report its own cost rather than the wall clock it waited through.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
