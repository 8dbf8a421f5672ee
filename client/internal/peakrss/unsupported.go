//go:build !linux || race

package peakrss

const supported = false
