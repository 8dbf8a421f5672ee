package common

import (
	"testing"
	"time"
)

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
