//go:build unix

package gsm

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time this process has used. Benchmarks
// report it beside wall time because on a busy machine wall time mostly measures the
// other processes.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
