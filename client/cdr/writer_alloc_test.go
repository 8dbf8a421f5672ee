package cdr

import (
	"io"
	"testing"
	"time"
)

// ordinaryRecord is a row as a busy PBX sends millions of: a quoted caller ID with a comma, a DST zone.
func ordinaryRecord() Record {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		loc = OffsetZone(3600)
	}
	return Record{UniqueID: "1362123180.67", Start: time.Date(2026, 7, 20, 9, 33, 0, 0, loc),
		CallType: CallInbound, RawCallType: "CALLTYPE_INBOUND", Extension: "8266", CallerID: `"Smith, John" <0821234567>`,
		Disposition: DispAnswered, DurationS: 221, BillableS: 216, RecordingSize: 365211,
		Recording: "g8266-20130301-093300-1362123180.67.gsm", FriendlyName: "Zoë Adams", Channel: "SIP/8266-0001",
		DestChannel: "SIP/trunk-00c3"}
}

// The writers of a million-row export must not allocate per row: the old CSV writer built a 15-string slice
// and a string per number and time for every row, the JSON writer a struct of pointers (issue 13).
func TestWritersDoNotAllocatePerRow(t *testing.T) {
	r := ordinaryRecord()
	for _, tc := range []struct {
		name string
		w    interface{ Write(*Record) error }
	}{
		{"csv", NewCSVWriter(io.Discard)},
		{"csv raw", NewRawCSVWriter(io.Discard)},
		{"csv for a terminal", func() *CSVWriter { w := NewCSVWriter(io.Discard); w.ForTerminal(); return w }()},
		{"json", NewJSONWriter(io.Discard)},
	} {
		tc.w.Write(&r) // the header, the first buffer
		if n := testing.AllocsPerRun(1000, func() { tc.w.Write(&r) }); n != 0 {
			t.Errorf("%s: %.1f allocations per row, want 0", tc.name, n)
		}
	}
}
