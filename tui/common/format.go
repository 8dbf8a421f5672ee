package common

import (
	"fmt"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// CallKey names a call across reloads, as the call table's marks and selection and the detail pane's decoded
// lengths remember it: its unique ID, or its start time and extension when the PBX gave no ID.
func CallKey(r *cdr.Record) string {
	if r.UniqueID != "" {
		return r.UniqueID
	}
	return r.Start.Format("20060102150405") + "/" + r.Extension
}

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
