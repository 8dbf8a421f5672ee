package cdr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseWords(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		ct   CallType
		disp Disposition
	}{
		{"CALLTYPE_INBOUND", CallInbound, ""},
		{"CALLTYPE_OUTBOUND", CallOutbound, ""},
		{"CALLTYPE_INTERNAL", CallInternal, ""},
		{"CALLTYPE_OTHER", CallOther, ""},
		{"CALLTYPE_UNKNOWN", CallUnknown, ""},
		{"CALLTYPE_CONFERENCE", "conference", ""},
		{"CALL_ANSWERED", "answered", DispAnswered},
		{"CALL_NOANSWER", "noanswer", DispNoAnswer},
		{"CALL_BUSY", "busy", DispBusy},
		{"CALL_FAILED", "failed", DispFailed},
		{"NO ANSWER", "no answer", DispNoAnswer},
		{"CALL_CONGESTION", "call congestion", "congestion"},
		{"", "", ""},
	} {
		if tc.ct != "" && ParseCallType(tc.raw) != tc.ct && strings.HasPrefix(tc.raw, "CALLTYPE") {
			t.Errorf("ParseCallType(%q) = %q, want %q", tc.raw, ParseCallType(tc.raw), tc.ct)
		}
		if strings.HasPrefix(tc.raw, "CALL_") || tc.raw == "NO ANSWER" {
			if got := ParseDisposition(tc.raw); got != tc.disp {
				t.Errorf("ParseDisposition(%q) = %q, want %q", tc.raw, got, tc.disp)
			}
		}
	}
}

func TestZoneInference(t *testing.T) {
	// The spec's example: 1362123180.67 at 2013/03/01/09:33:00 local is UTC+2.
	z := NewZone(nil)
	wall := time.Date(2013, 3, 1, 9, 33, 0, 0, time.UTC)
	var got []Record
	p := z.NewPlacer(func(r Record) error { got = append(got, r); return nil })
	if err := p.Push(Record{UniqueID: "1362123180.67", Start: wall, Epoch: 1362123180}); err != nil {
		t.Fatal(err)
	}
	// A row whose epoch lags by a few seconds still rounds to +2; an outlier does not win the vote.
	p.Push(Record{Start: wall.Add(time.Hour), Epoch: 1362123180 + 3600 - 7})
	p.Push(Record{Start: wall, Epoch: 1362123180 + 5*3600})
	if len(got) != 0 {
		t.Fatalf("placer passed rows before the zone was settled")
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3", len(got))
	}
	if s := FormatTime(got[0].Start); s != "2013-03-01T09:33:00+02:00" {
		t.Errorf("start = %s, want 2013-03-01T09:33:00+02:00", s)
	}
	info := z.Info()
	if !info.Inferred || info.Votes != 2 || info.Samples != 3 {
		t.Errorf("info = %+v", info)
	}
	if !strings.Contains(info.String(), "UTC+02:00") {
		t.Errorf("info string %q does not name the offset", info)
	}
	// After the decision rows are placed at once.
	p.Push(Record{Start: wall, Epoch: 0})
	if len(got) != 4 || FormatTime(got[3].Start) != "2013-03-01T09:33:00+02:00" {
		t.Errorf("late row not placed with the settled zone: %v", got[len(got)-1].Start)
	}
}

func TestZoneNegativeAndQuarterHour(t *testing.T) {
	for _, tc := range []struct {
		offset int
		want   string
	}{{-5 * 3600, "-05:00"}, {5*3600 + 1800, "+05:30"}, {5*3600 + 2700, "+05:45"}, {0, "Z"}} {
		z := NewZone(nil)
		wall := time.Date(2024, 2, 3, 8, 48, 29, 0, time.UTC)
		z.Vote(wall, wall.Unix()-int64(tc.offset)+3)
		got := FormatTime(z.Place(wall))
		if !strings.HasSuffix(got, tc.want) {
			t.Errorf("offset %d: %s, want suffix %s", tc.offset, got, tc.want)
		}
	}
}

func TestZoneFixed(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	z := NewZone(loc)
	summer := z.Place(time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC))
	winter := z.Place(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	if FormatTime(summer) != "2024-07-01T12:00:00+01:00" || FormatTime(winter) != "2024-01-01T12:00:00Z" {
		t.Errorf("DST not honoured: %s %s", FormatTime(summer), FormatTime(winter))
	}
	if z.Info().Inferred {
		t.Error("fixed zone reported as inferred")
	}
}

func sample() Record {
	return Record{
		UniqueID: "1362123180.67", Start: time.Date(2013, 3, 1, 9, 33, 0, 0, OffsetZone(7200)),
		CallType: CallInbound, Extension: "8266", CallerID: `"Smith, John" <2001>`, Disposition: DispNoAnswer,
		DurationS: 221, BillableS: 216, RecordingSize: Unknown, Recording: "g8266.gsm", FriendlyName: "Reception",
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	r := sample()
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "unique_id,start,call_type,extension,friendly_name,dialled_number,caller_id,disposition,duration_s,billable_s,recording_size,recording_file,account_code,channel,destination_channel\n" +
		`1362123180.67,2013-03-01T09:33:00+02:00,inbound,8266,Reception,,"""Smith, John"" <2001>",no answer,221,216,,g8266.gsm,,,` + "\n"
	if buf.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	w = NewCSVWriter(&buf)
	w.Flush()
	if buf.String() != strings.Join(Columns, ",")+"\n" {
		t.Errorf("empty export should still have the header, got %q", buf.String())
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSONWriter(&buf)
	r := sample()
	w.Write(&r)
	w.Flush()
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(Columns) {
		t.Errorf("json has %d keys, want %d", len(m), len(Columns))
	}
	for _, c := range Columns {
		if _, ok := m[c]; !ok {
			t.Errorf("json lacks key %s", c)
		}
	}
	if m["recording_size"] != nil || m["duration_s"] != float64(221) || m["caller_id"] != `"Smith, John" <2001>` {
		t.Errorf("json values: %v", m)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("C@11Me")
	u := User{Extension: "100", Name: "Ann", PIN: "4321"}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, u, u, s, s),
	}
	b, _ := json.Marshal(u)
	outs = append(outs, string(b))
	for _, o := range outs {
		if strings.Contains(o, "C@11Me") || strings.Contains(o, "4321") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != "C@11Me" {
		t.Error("Reveal lost the value")
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2013, 3, 1, 23, 0, 0, 0, time.UTC)
	for _, in := range []string{"2013-03-01T23:00", "201303012300", "2013-03-01 23:00", "20130301230000", "2013/03/01/23:00:00", "2013-03-01T23:00:00+02:00"} {
		got, err := ParseTime(in, OffsetZone(7200))
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if got, _ := ParseTime("20130301", nil); !got.Equal(time.Date(2013, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v", got)
	}
	for _, bad := range []string{"", "yesterday", "2013-13-01", "2013030", "20130301250000"} {
		if _, err := ParseTime(bad, nil); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2013-03-01", "201303012300", "2013-03-01T23:00:00+02:00", "2013/03/01/09:33:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, nil)
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) not a UTC wall clock: %v", s, got)
		}
	})
}

// TestAudioExt: each format SniffAudio names has its own extension, and bytes that name none get .audio.
func TestAudioExt(t *testing.T) {
	gsm := make([]byte, SniffLen)
	for i := 0; i < len(gsm); i += 33 {
		gsm[i] = 0xd0
	}
	for _, tc := range []struct {
		name string
		head []byte
		want string
	}{
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), ".wav"},
		{"gsm", gsm, ".gsm"},
		{"text", []byte("<html>"), ".audio"},
		{"empty", nil, ".audio"},
	} {
		if got := AudioExt(SniffAudio(tc.head)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestInvolvesExtension(t *testing.T) {
	for _, tc := range []struct {
		r    Record
		ext  string
		want bool
		peer string
	}{
		{Record{CallType: CallInternal, Extension: "8260", DialledNumber: "8266"}, "8266", true, "8266"},
		{Record{CallType: CallInternal, Extension: "8260", DialledNumber: "8266"}, "8260", true, "8266"},
		{Record{CallType: CallInternal, Extension: "8260", DialledNumber: "8266"}, " 8266 ", true, "8266"},
		{Record{CallType: CallInternal, Extension: "8260", DialledNumber: "8270"}, "8266", false, "8270"},
		{Record{CallType: CallOther, Extension: "8260", DialledNumber: "8266"}, "8266", true, "8266"},
		{Record{CallType: CallUnknown, Extension: "8260", DialledNumber: "8266"}, "8266", true, "8266"},
		{Record{CallType: "transfer", Extension: "8260", DialledNumber: "8266"}, "8266", true, "8266"},
		{Record{CallType: CallInbound, Extension: "8266", DialledNumber: "8266"}, "8266", true, ""},
		{Record{CallType: CallInbound, Extension: "8270", DialledNumber: "8266"}, "8266", false, ""},
		{Record{CallType: CallOutbound, Extension: "8266", DialledNumber: "0215551234"}, "8266", true, ""},
		{Record{CallType: CallOutbound, Extension: "8260", DialledNumber: "8266"}, "8266", false, ""},
		{Record{CallType: CallInternal, Extension: "8266", DialledNumber: "8266"}, "8266", true, ""},
		{Record{CallType: CallInternal}, "", false, ""},
		{Record{CallType: CallInternal, Extension: "8260"}, "", false, ""},
	} {
		if got := tc.r.InvolvesExtension(tc.ext); got != tc.want {
			t.Errorf("%+v InvolvesExtension(%q) = %v, want %v", tc.r, tc.ext, got, tc.want)
		}
		if got := tc.r.PeerExtension(); got != tc.peer {
			t.Errorf("%+v PeerExtension() = %q, want %q", tc.r, got, tc.peer)
		}
	}
}

func TestRef(t *testing.T) {
	start := time.Date(2014, 3, 28, 11, 48, 35, 0, time.FixedZone("UTC+02:00", 7200))
	for _, tc := range []struct {
		r    Record
		want string
	}{
		{Record{UniqueID: "1396000115.1", Start: start}, "1396000115.1"},
		{Record{Start: start}, "at 2014-03-28 11:48:35"}, // the PBX's wall clock, as everywhere
	} {
		if got := tc.r.Ref(); got != tc.want {
			t.Errorf("Ref() = %q, want %q", got, tc.want)
		}
	}
}

// The offset a wall clock and its Unix time imply, to the quarter hour, within real zones only.
func TestEpochOffset(t *testing.T) {
	wall := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		skew   time.Duration // wall clock minus the real instant
		offset int
		ok     bool
	}{
		{2 * time.Hour, 7200, true},
		{2*time.Hour + 7*time.Minute, 7200, true}, // a PBX clock a few minutes off
		{2*time.Hour + 8*time.Minute, 8100, true},
		{-(5*time.Hour + 30*time.Minute), -19800, true},
		{5*time.Hour + 45*time.Minute, 20700, true}, // Nepal
		{14 * time.Hour, 14 * 3600, true},
		{-12 * time.Hour, -12 * 3600, true},
		{15 * time.Hour, 0, false},
		{-13 * time.Hour, 0, false},
		{-7 * time.Minute, 0, true},
	} {
		off, ok := EpochOffset(wall, wall.Add(-tc.skew).Unix())
		if ok != tc.ok || (ok && off != tc.offset) {
			t.Errorf("skew %v: offset %d, %v; want %d, %v", tc.skew, off, ok, tc.offset, tc.ok)
		}
	}
}
