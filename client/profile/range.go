package profile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// ParseRange reads a default range as a person writes it in a profile — "today", "yesterday", "this week",
// "last week", "this month", "last month", "last 7 days", "last 12 hours", "all" — relative to now, the PBX's
// wall clock. It returns wall-clock times read as UTC (as cdr.ParseTime does): from inclusive, to exclusive, a
// zero time for an open end. Weeks start on Monday.
func ParseRange(spec string, now time.Time) (from, to time.Time, err error) {
	now = cdr.WallClock(now)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	words := strings.Fields(strings.ToLower(spec))
	switch strings.Join(words, " ") {
	case "all":
		return time.Time{}, time.Time{}, nil
	case "today":
		return day, day.AddDate(0, 0, 1), nil
	case "yesterday":
		return day.AddDate(0, 0, -1), day, nil
	case "this week":
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return monday, monday.AddDate(0, 0, 7), nil
	case "last week":
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return monday.AddDate(0, 0, -7), monday, nil
	case "this month":
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(0, 1, 0), nil
	case "last month":
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		return first.AddDate(0, -1, 0), first, nil
	}
	if len(words) == 3 && words[0] == "last" {
		n, err := strconv.Atoi(words[1])
		if err == nil && n > 0 && n <= 100000 {
			switch strings.TrimSuffix(words[2], "s") {
			case "day":
				// The last N days include today: "last 7 days" on a Friday starts on the Saturday before.
				return day.AddDate(0, 0, 1-n), day.AddDate(0, 0, 1), nil
			case "hour":
				return now.Add(-time.Duration(n) * time.Hour), time.Time{}, nil
			case "week":
				return day.AddDate(0, 0, 1-7*n), day.AddDate(0, 0, 1), nil
			}
		}
	}
	return time.Time{}, time.Time{}, fmt.Errorf("range %q: use today, yesterday, this week, last week, this month, last month, last N days, last N hours or all", spec)
}
