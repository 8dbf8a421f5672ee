//go:build !unix

package pbxsim

// cpuTime is not measured here; the benchmarks report 0 for it.
func cpuTime() int64 { return 0 }
