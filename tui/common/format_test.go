package common

import (
	"testing"
	"time"
)

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

// "to" is exclusive, and the words say so.
func TestRangeWords(t *testing.T) {
	d := func(day, h, m, s int) time.Time { return time.Date(2026, 11, day, h, m, s, 0, time.UTC) }
	for _, tc := range []struct {
		from, to time.Time
		want     string
	}{
		{d(1, 0, 0, 0), d(20, 0, 0, 0), "from 2026-11-01 00:00 to before 2026-11-20 00:00"},
		{d(20, 9, 0, 0), d(20, 17, 30, 5), "from 2026-11-20 09:00 to before 2026-11-20 17:30:05"},
		{d(1, 0, 0, 0), time.Time{}, "from 2026-11-01 00:00 on"},
		{time.Time{}, d(20, 0, 0, 0), "before 2026-11-20 00:00"},
		{time.Time{}, time.Time{}, "of any time"},
	} {
		if got := RangeWords(tc.from, tc.to); got != tc.want {
			t.Errorf("RangeWords(%v, %v) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}
