package common

import (
	"fmt"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// TypeGlyph is the one-cell mark for a call type, readable without colour.
func TypeGlyph(t cdr.CallType) string {
	switch t {
	case cdr.CallInbound:
		return "↓"
	case cdr.CallOutbound:
		return "↑"
	case cdr.CallInternal:
		return "↔"
	}
	return "·"
}

// Duration renders seconds as 0:42, 12:05 or 1:02:03; "?" when the PBX did not report it.
func Duration(s int) string {
	if s < 0 {
		return "?"
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// RangeWords says which calls a [from, to) range of PBX wall-clock times holds, in the words the app and the
// CLI share: "from 2026-11-01 00:00 to before 2026-11-20 00:00". "to" is exclusive, as in the Com.X spec and
// the CLI's --to; a zero end is open.
func RangeWords(from, to time.Time) string {
	stamp := func(t time.Time) string {
		if t.Second() != 0 {
			return t.Format("2006-01-02 15:04:05")
		}
		return t.Format("2006-01-02 15:04")
	}
	switch {
	case from.IsZero() && to.IsZero():
		return "of any time"
	case to.IsZero():
		return "from " + stamp(from) + " on"
	case from.IsZero():
		return "before " + stamp(to)
	}
	return "from " + stamp(from) + " to before " + stamp(to)
}
