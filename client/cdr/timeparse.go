package cdr

import (
	"fmt"
	"strings"
	"time"
)

// timeForms are the forms a person may type for a time: ISO dates and date-times, and the Com.X spec's compact
// YYYYMMDD[hhmm[ss]].
var timeForms = []string{
	"2006-01-02",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"20060102",
	"200601021504",
	"20060102150405",
	"2006/01/02/15:04:05", // the Com.X index's own form
}

// ParseTime reads a wall-clock time in one of the accepted forms and returns it read as UTC (a PBX wall clock,
// not yet placed in a zone). An explicit offset (2013-03-01T09:33:00+02:00) is accepted too and converted to
// loc's wall clock when loc is not nil.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, f := range timeForms {
		if len(f) != len(s) {
			continue
		}
		if t, err := time.ParseInLocation(f, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if loc != nil {
			t = t.In(loc)
		}
		return WallClock(t), nil
	}
	return time.Time{}, fmt.Errorf("cannot read time %q: use 2013-03-01, 2013-03-01T23:00, 2013-03-01 23:00:05 or 201303012300", s)
}

// WallClock drops a time's zone, keeping its wall clock, read as UTC.
func WallClock(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// SameWallClock reports whether two times show the same wall clock, whatever their zones.
func SameWallClock(a, b time.Time) bool { return WallClock(a).Equal(WallClock(b)) }
