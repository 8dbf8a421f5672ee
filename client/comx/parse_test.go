package comx

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// specExample is the index example of spec v1.6 section 2.2.2 byte for byte: each record split over three
// indented lines "for readability", with the trailing spaces the document has.
const specExample = "1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,  \n" +
	"    CALL_ANSWERED,221,216,365211,  \n" +
	"    g8266-20130301-093300-1362123180.67.gsm  \n" +
	"1362125482.87,2013/03/01/10:11:31,CALLTYPE_OUTBOUND,8264,0215551111,,  \n" +
	"    CALL_ANSWERED,60,53,98934,  \n" +
	"    OUT8264-20130301-101131-1362125482.87.gsm\n"

var specRecords = []cdr.Record{
	{UniqueID: "1362123180.67", Start: time.Date(2013, 3, 1, 9, 33, 0, 0, time.UTC), Epoch: 1362123180,
		CallType: cdr.CallInbound, RawCallType: "CALLTYPE_INBOUND", Extension: "8266",
		Disposition: cdr.DispAnswered, RawDisposition: "CALL_ANSWERED", DurationS: 221, BillableS: 216,
		RecordingSize: 365211, Recording: "g8266-20130301-093300-1362123180.67.gsm"},
	{UniqueID: "1362125482.87", Start: time.Date(2013, 3, 1, 10, 11, 31, 0, time.UTC), Epoch: 1362125482,
		CallType: cdr.CallOutbound, RawCallType: "CALLTYPE_OUTBOUND", Extension: "8264", DialledNumber: "0215551111",
		Disposition: cdr.DispAnswered, RawDisposition: "CALL_ANSWERED", DurationS: 60, BillableS: 53,
		RecordingSize: 98934, Recording: "OUT8264-20130301-101131-1362125482.87.gsm"},
}

// specLines is the same two records as the PBX really sends them: one line each.
const specLines = "1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,365211,g8266-20130301-093300-1362123180.67.gsm\n" +
	"1362125482.87,2013/03/01/10:11:31,CALLTYPE_OUTBOUND,8264,0215551111,,CALL_ANSWERED,60,53,98934,OUT8264-20130301-101131-1362125482.87.gsm\n"

type parsed struct {
	recs     []cdr.Record
	badLines []int
	err      error
}

func parseAll(t *testing.T, r io.Reader) parsed {
	t.Helper()
	var out parsed
	p := NewParser(r)
	for {
		rec, err := p.Next()
		if err == io.EOF {
			return out
		}
		var le *cdr.LineError
		if errors.As(err, &le) {
			out.badLines = append(out.badLines, le.Line)
			continue
		}
		if err != nil {
			out.err = err
			return out
		}
		out.recs = append(out.recs, rec)
	}
}

func sameRecords(t *testing.T, got, want []cdr.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseSpecExamples(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"verbatim split with trailing spaces", specExample},
		{"one line each", specLines},
		{"CRLF", strings.ReplaceAll(specLines, "\n", "\r\n")},
		{"BOM", "\xef\xbb\xbf" + specLines},
		{"BOM CRLF verbatim", "\xef\xbb\xbf" + strings.ReplaceAll(specExample, "\n", "\r\n")},
		{"trailing spaces and tabs", strings.ReplaceAll(specLines, "\n", " \t \n")},
		{"spaces around fields", strings.ReplaceAll(specLines, ",", " , ")},
		{"no final newline", strings.TrimSuffix(specLines, "\n")},
		{"blank lines", "\n\n" + strings.ReplaceAll(specLines, "\n", "\n\r\n  \n") + "\n\n"},
		{"one byte at a time", specLines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.in)
			if tc.name == "one byte at a time" {
				r = iotest.OneByteReader(r)
			}
			got := parseAll(t, r)
			if got.err != nil || len(got.badLines) != 0 {
				t.Fatalf("err %v, bad lines %v", got.err, got.badLines)
			}
			sameRecords(t, got.recs, specRecords)
		})
	}
}

func TestParseFields(t *testing.T) {
	const head = "1396000115.1,2014/03/28/11:48:35,CALLTYPE_INBOUND,2001,,"
	for _, tc := range []struct {
		name string
		line string
		want func(r *cdr.Record)
	}{
		{"caller ID with a comma and quotes",
			head + `"Smith, John" <0215551234>,CALL_ANSWERED,10,8,1000,a.wav`,
			func(r *cdr.Record) { r.CallerID = `"Smith, John" <0215551234>` }},
		{"caller ID with several commas",
			head + `"Smith, John, Jr, III" <0215551234>,CALL_ANSWERED,10,8,1000,a.wav`,
			func(r *cdr.Record) { r.CallerID = `"Smith, John, Jr, III" <0215551234>` }},
		{"caller ID with four commas looks like 15 fields",
			head + `a,b,c,d,e,CALL_ANSWERED,10,8,1000,a.wav`,
			func(r *cdr.Record) { r.CallerID = `a,b,c,d,e` }},
		{"numeric pieces in the caller ID are not a disposition",
			head + `x,1,2,3,4,5,CALL_ANSWERED,10,8,1000,a.wav`,
			func(r *cdr.Record) { r.CallerID = `x,1,2,3,4,5` }},
		{"extended",
			head + `0215551234,CALL_ANSWERED,10,8,1000,a.wav,Reception,ACC1,SIP/2001-0000001a,SIP/trunk-0000001b`,
			func(r *cdr.Record) {
				r.CallerID = "0215551234"
				r.Extended, r.FriendlyName, r.AccountCode = true, "Reception", "ACC1"
				r.Channel, r.DestChannel = "SIP/2001-0000001a", "SIP/trunk-0000001b"
			}},
		{"extended, empty extended fields",
			head + `0215551234,CALL_ANSWERED,10,8,1000,a.wav,,,,`,
			func(r *cdr.Record) { r.CallerID, r.Extended = "0215551234", true }},
		{"extended, numeric account code",
			head + `0215551234,CALL_ANSWERED,10,8,1000,a.wav,Reception,100,SIP/1-1,`,
			func(r *cdr.Record) {
				r.CallerID, r.Extended, r.FriendlyName, r.AccountCode, r.Channel = "0215551234", true, "Reception", "100", "SIP/1-1"
			}},
		{"extended, commas in caller ID and friendly name",
			head + `"Smith, John" <0215551234>,CALL_ANSWERED,10,8,1000,a.wav,Doe, Jane,ACC1,SIP/1-1,SIP/2-2`,
			func(r *cdr.Record) {
				r.CallerID, r.Extended, r.FriendlyName = `"Smith, John" <0215551234>`, true, "Doe, Jane"
				r.AccountCode, r.Channel, r.DestChannel = "ACC1", "SIP/1-1", "SIP/2-2"
			}},
		{"RFC 4180 quoted fields",
			`"1396000115.1","2014/03/28/11:48:35","CALLTYPE_INBOUND","2001","","""Smith, John"" <0215551234>","CALL_ANSWERED","10","8","1000","a.wav"`,
			func(r *cdr.Record) { r.CallerID = `"Smith, John" <0215551234>` }},
		{"quoted caller ID only",
			head + `"Smith, John",CALL_ANSWERED,10,8,1000,a.wav`,
			func(r *cdr.Record) { r.CallerID = `Smith, John` }},
		{"unknown call type and disposition kept",
			"1396000115.1,2014/03/28/11:48:35,CALLTYPE_CONFERENCE,2001,,,CALL_CONGESTION,10,8,1000,a.wav",
			func(r *cdr.Record) {
				r.CallType, r.RawCallType = "conference", "CALLTYPE_CONFERENCE"
				r.Disposition, r.RawDisposition = "congestion", "CALL_CONGESTION"
			}},
		{"busy, no recording",
			head + ",CALL_BUSY,0,0,0,",
			func(r *cdr.Record) {
				r.Disposition, r.RawDisposition = cdr.DispBusy, "CALL_BUSY"
				r.DurationS, r.BillableS, r.RecordingSize, r.Recording = 0, 0, 0, ""
			}},
		{"empty numbers are unknown",
			head + ",CALL_NOANSWER,,,,",
			func(r *cdr.Record) {
				r.Disposition, r.RawDisposition = cdr.DispNoAnswer, "CALL_NOANSWER"
				r.DurationS, r.BillableS, r.RecordingSize, r.Recording = cdr.Unknown, cdr.Unknown, cdr.Unknown, ""
			}},
		{"unique ID without a Unix time",
			"abc,2014/03/28/11:48:35,CALLTYPE_INBOUND,2001,,,CALL_ANSWERED,10,8,1000,a.wav",
			func(r *cdr.Record) { r.UniqueID, r.Epoch = "abc", 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := cdr.Record{UniqueID: "1396000115.1", Start: time.Date(2014, 3, 28, 11, 48, 35, 0, time.UTC),
				Epoch: 1396000115, CallType: cdr.CallInbound, RawCallType: "CALLTYPE_INBOUND", Extension: "2001",
				Disposition: cdr.DispAnswered, RawDisposition: "CALL_ANSWERED", DurationS: 10, BillableS: 8,
				RecordingSize: 1000, Recording: "a.wav"}
			tc.want(&want)
			got := parseAll(t, strings.NewReader(tc.line+"\n"))
			if got.err != nil || len(got.badLines) != 0 {
				t.Fatalf("err %v, bad lines %v", got.err, got.badLines)
			}
			sameRecords(t, got.recs, []cdr.Record{want})
		})
	}
}

func TestParseMalformedLines(t *testing.T) {
	good := strings.Split(strings.TrimSpace(specLines), "\n")
	in := strings.Join([]string{
		good[0],
		"not,an,index,line", // 2: too few fields
		"1.1,2013/02/30/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f",                    // 3: no 30 February
		"1.1,2013/03/01 9:33,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f",                        // 4: short time
		"1.1,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,ten,1,1,f",                  // 5: bad number
		",2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f",                       // 6: no ID
		"1.1,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,99999999999999999999,f", // 7: too big
		"1.1,2013/03/01/09:33:00,X,8266,,a,b,c,d,e,f,g,h",                                          // 8: 13 fields, no numbers
		"1.1,2013/03/01/09:33:00,X,8266,,,CALL_ANSWERED,1,2,3,f,x,y",                               // 9: 13 fields: neither layout
		"uniqueid,calldate,type,ext,dst,src,disp,dur,bill,size,file",                               // 10: a header
		"",
		good[1],
		"1.1,2013/03/01/09:33", // 13: partial last line
	}, "\n")
	got := parseAll(t, strings.NewReader(in))
	if got.err != nil {
		t.Fatal(got.err)
	}
	wantBad := []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 13}
	if !equalInts(got.badLines, wantBad) {
		t.Errorf("bad lines %v, want %v", got.badLines, wantBad)
	}
	sameRecords(t, got.recs, specRecords)
}

func TestParseLineErrorText(t *testing.T) {
	_, err := NewParser(strings.NewReader("\n\nnot,an,index,line\n")).Next()
	if err == nil || err.Error() != "line 3: 4 fields where a Com.X index line has 11 (15 with extended)" {
		t.Fatalf("got %v", err)
	}
}

func TestParseLongLine(t *testing.T) {
	lines := strings.Split(specLines, "\n")
	in := lines[0] + "\n" + strings.Repeat("x", MaxLineBytes*2+17) + "\n" + lines[1] + "\n"
	got := parseAll(t, strings.NewReader(in))
	if got.err != nil || !equalInts(got.badLines, []int{2}) {
		t.Fatalf("err %v, bad lines %v", got.err, got.badLines)
	}
	sameRecords(t, got.recs, specRecords)
}

// A body cut off mid-line: the rows before the cut are kept, the partial line is dropped rather than read as
// a record with a shortened file name, and the read error is returned.
func TestParseCutOff(t *testing.T) {
	cut := errors.New("the answer was cut off")
	full := specLines + specLines
	in := full[:len(specLines)+60]
	got := parseAll(t, io.MultiReader(strings.NewReader(in), iotest.ErrReader(cut)))
	if !errors.Is(got.err, cut) {
		t.Fatalf("err %v, want the cut", got.err)
	}
	sameRecords(t, got.recs, specRecords)

	// Cut inside the last field of a line: what arrived would parse as a record with a shortened file name, so
	// it must be dropped.
	in = full[:len(specLines)+strings.Index(specLines, "\n")-6]
	got = parseAll(t, io.MultiReader(strings.NewReader(in), iotest.ErrReader(cut)))
	if !errors.Is(got.err, cut) || len(got.badLines) != 0 {
		t.Fatalf("err %v, bad lines %v", got.err, got.badLines)
	}
	sameRecords(t, got.recs, specRecords)

	// Cut right after a full line: that line is kept.
	got = parseAll(t, io.MultiReader(strings.NewReader(specLines), iotest.ErrReader(cut)))
	if !errors.Is(got.err, cut) {
		t.Fatalf("err %v, want the cut", got.err)
	}
	sameRecords(t, got.recs, specRecords)
}

func TestParseCallback(t *testing.T) {
	var warns []error
	var recs []cdr.Record
	rows, skipped, err := Parse(strings.NewReader(specLines+"bad\n"+specLines),
		func(r cdr.Record) error { recs = append(recs, r); return nil },
		func(err error) { warns = append(warns, err) })
	if err != nil || rows != 4 || skipped != 1 || len(warns) != 1 || len(recs) != 4 {
		t.Fatalf("rows %d skipped %d err %v warns %v", rows, skipped, err, warns)
	}
	stop := errors.New("enough")
	rows, _, err = Parse(strings.NewReader(specLines), func(cdr.Record) error { return stop }, nil)
	if err != stop || rows != 0 {
		t.Fatalf("rows %d err %v", rows, err)
	}
}

func TestAppendLineRoundTrip(t *testing.T) {
	for _, ext := range []bool{false, true} {
		recs := parseAll(t, strings.NewReader(specLines)).recs
		var b []byte
		for i := range recs {
			if ext {
				recs[i].Extended, recs[i].FriendlyName, recs[i].AccountCode = true, "Doe, Jane", "7"
				recs[i].CallerID = `"Smith, John" <2001>`
			}
			b = AppendLine(b, &recs[i], ext)
			b = append(b, '\n')
		}
		sameRecords(t, parseAll(t, strings.NewReader(string(b))).recs, recs)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseWall does its own calendar arithmetic; check it against the time package day by day over two centuries,
// the seconds drifting so every time of day is met.
func TestParseWallCalendar(t *testing.T) {
	end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC); d.Before(end); d = d.Add(24*time.Hour - 7*time.Second) {
		v := d.Format(TimeLayout)
		if got, err := parseWall(v); err != nil || got != d {
			t.Fatalf("%s: got %v, %v", v, got, err)
		}
	}
	for _, v := range []string{"2023/02/29/00:00:00", "2100/02/29/00:00:00", "2024/04/31/00:00:00", "2024/00/10/00:00:00",
		"2024/01/10/24:00:00", "0001/01/01/00:00:00", "1969/12/31/23:59:59", "2024/01/10/23:60:00", "2024/01/10/23:00:60", "2024/01/1a/23:00:00", "2024/01/10023:00:00"} {
		if _, err := parseWall(v); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
	if _, err := parseWall("2000/02/29/23:59:59"); err != nil {
		t.Error(err)
	}
}

func TestAppendLineUnknownsAndLineBreaks(t *testing.T) {
	r := cdr.Record{UniqueID: "1.2", Start: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), CallType: cdr.CallInbound,
		Extension: "2001", CallerID: "Smith\r\nJohn", Disposition: cdr.DispNoAnswer, DurationS: 5,
		BillableS: cdr.Unknown, RecordingSize: cdr.Unknown, Recording: "a.wav"}
	line := string(AppendLine(nil, &r, false))
	if want := "1.2,2024/01/02/03:04:05,CALLTYPE_INBOUND,2001,,Smith  John,CALL_NOANSWER,5,,,a.wav"; line != want {
		t.Fatalf("got  %q\nwant %q", line, want)
	}
	got := parseAll(t, strings.NewReader(line)).recs
	if len(got) != 1 || got[0].BillableS != cdr.Unknown || got[0].RecordingSize != cdr.Unknown || !got[0].HasRecording() {
		t.Fatalf("read back as %+v", got)
	}
}
