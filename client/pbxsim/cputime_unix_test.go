//go:build unix

package pbxsim

import "syscall"

// cpuTime is the process's user+system CPU time in ns. On a shared machine wall time swings with the load;
// CPU time says what the work costs.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
