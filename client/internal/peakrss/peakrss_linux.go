//go:build linux

package peakrss

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// applyCap limits the address space to what the process maps now plus headroom bytes (RLIMIT_AS): the Go
// runtime reserves a good deal up front, so an absolute figure would say more about the runtime than the test.
func applyCap(headroom string) error {
	extra, err := strconv.ParseInt(headroom, 10, 64)
	if err != nil || extra <= 0 {
		return fmt.Errorf("bad cap %q", headroom)
	}
	now, err := vmSize()
	if err != nil {
		return err
	}
	lim := uint64(now + extra)
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
}

// vmSize is the process's mapped address space in bytes, from /proc/self/status.
func vmSize() (int64, error) { return statusBytes("VmSize:") }

// ownPeak is the process's own peak resident set size in bytes (VmHWM), which starts afresh at its exec.
func ownPeak() (int64, error) { return statusBytes("VmHWM:") }

// statusBytes reads a figure in kB from /proc/self/status, in bytes.
func statusBytes(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// maxRSS is a finished process's peak resident set size in bytes (Linux reports kilobytes), from its rusage:
// that counts the parent's peak too, so it stands in only when the child did not report its own.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}
