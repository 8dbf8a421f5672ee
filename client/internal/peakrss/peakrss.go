// Package peakrss lets a test run its body in a child process (the test binary itself, re-run for that one
// test) under a cap on address space, and read the child's peak resident memory. Tests use it to show that an
// answer from a broken or hostile server does not grow the process without bound, without putting the machine
// at risk when the code under test does: the child dies at the cap instead.
//
//	func TestHugeAnswer(t *testing.T) {
//		if peakrss.Child(t) {
//			... the body: fetch the answer, check the error ...
//			return
//		}
//		if rss := peakrss.Run(t, 1<<30); rss > 300<<20 { t.Errorf(...) }
//	}
package peakrss

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envChild names the test a child process runs, and envCap the address space it may add.
const (
	envChild = "CALLSCOPE_PEAKRSS_CHILD"
	envCap   = "CALLSCOPE_PEAKRSS_CAP"
)

// Child reports whether this process is Run's child for test t. In the child it also applies the cap, so the
// body that follows runs under it.
func Child(t testing.TB) bool {
	if os.Getenv(envChild) != t.Name() {
		return false
	}
	if err := applyCap(os.Getenv(envCap)); err != nil {
		t.Fatalf("peakrss: %v", err)
	}
	// The child reports its own peak when the test is over: the rusage the parent reads after it ends also
	// counts the parent's peak (Go starts children with vfork, sharing the parent's memory up to the exec).
	t.Cleanup(func() {
		if peak, err := ownPeak(); err == nil {
			fmt.Printf("\n%s%d\n", peakMarker, peak)
		}
	})
	return true
}

// Run re-runs test t alone in a child process that may map at most headroom bytes more than it holds when the
// test starts, and returns the child's peak resident set size in bytes. A child that fails (a failed check, or
// the cap reached: the Go runtime then stops with "out of memory") fails t with the end of its output. Under the
// race detector, whose shadow memory no cap allows for, and off Linux, t is skipped.
func Run(t testing.TB, headroom int64) int64 {
	t.Helper()
	rss, out, err := Measure(t, headroom)
	if err != nil {
		t.Fatalf("the child process failed (%v):\n%s", err, tail(out, 40))
	}
	return rss
}

// Measure is Run that returns the child's failure, with its output, instead of failing t.
func Measure(t testing.TB, headroom int64) (rss int64, out string, err error) {
	t.Helper()
	if !supported {
		t.Skip("peak memory is measured on Linux without the race detector")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v",
		"-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"="+t.Name(), envCap+"="+strconv.FormatInt(headroom, 10))
	b, err := cmd.CombinedOutput()
	out = string(b)
	if err == nil && !strings.Contains(out, "--- PASS: "+t.Name()) {
		err = errors.New("the child did not run the test")
	}
	return childPeak(out, cmd.ProcessState), out, err
}

// peakMarker starts the line on which a child reports its own peak resident set size in bytes.
const peakMarker = "peakrss: own peak "

// childPeak is the peak the child reported in its output, or failing that the one its rusage gives.
func childPeak(out string, ps *os.ProcessState) int64 {
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, peakMarker); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				return n
			}
		}
	}
	return maxRSS(ps)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
