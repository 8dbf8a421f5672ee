package human

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567",
		-1: "-1", -999: "-999", -1000: "-1,000", -123456: "-123,456", math.MaxInt64: "9,223,372,036,854,775,807",
		math.MinInt64: "-9,223,372,036,854,775,808"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// One size style everywhere: decimal units, lower-case k (the app said "72.1 KB", the CLI "70.4 kB" for the
// same file).
func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{-1: "unknown", 0: "0 B", 999: "999 B", 1000: "1.0 kB", 72058: "72.1 kB",
		999_949: "999.9 kB", 999_950: "1.0 MB", 1_500_000: "1.5 MB", 2_000_000_000: "2.0 GB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzCount(f *testing.F) {
	for _, n := range []int64{0, 999, 1000, -1000, math.MinInt64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		s := Count(n)
		if back, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64); err != nil || back != n {
			t.Fatalf("Count(%d) = %q reads back as %d, %v", n, s, back, err)
		}
		for _, g := range strings.Split(strings.TrimPrefix(s, "-"), ",")[1:] {
			if len(g) != 3 {
				t.Fatalf("Count(%d) = %q: a group of %d digits", n, s, len(g))
			}
		}
	})
}
