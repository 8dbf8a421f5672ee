// Package human writes numbers for people, one way everywhere (the app, its export, the command line): counts
// with thousands separators and sizes in decimal units.
package human

import (
	"fmt"
	"strconv"
)

// Count writes n with thousands separators: 12,345.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Bytes writes a size in decimal (SI) units: 512 B, 41.3 kB, 2.0 MB; "unknown" for a negative size (cdr.Unknown).
func Bytes(n int64) string {
	switch {
	case n < 0:
		return "unknown"
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 999_950:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 999_950_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
