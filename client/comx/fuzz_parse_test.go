package comx

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/callscope/callscope/client/cdr"
)

// parseSeeds run in every `go test` as FuzzParse's corpus.
var parseSeeds = []string{
	specExample,
	specLines,
	"\xef\xbb\xbf" + strings.ReplaceAll(specLines, "\n", "\r\n"),
	strings.TrimSuffix(specLines, "\n"),
	"1396000115.1,2014/03/28/11:48:35,CALLTYPE_INBOUND,2001,,\"Smith, John\" <0215551234>,CALL_ANSWERED,10,8,1000,a.wav\n",
	"1396000115.1,2014/03/28/11:48:35,CALLTYPE_INBOUND,2001,,\"Smith, John\" <0215551234>,CALL_ANSWERED,10,8,1000,a.wav,Doe, Jane,ACC1,SIP/1-1,SIP/2-2\n",
	"1396000115.1,2014/03/28/11:48:35,CALLTYPE_INTERNAL,2001,2002,,CALL_BUSY,0,0,0,,Reception,,SIP/2001-1,SIP/2002-2\n",
	`"1396000115.1","2014/03/28/11:48:35","CALLTYPE_INBOUND","2001","","""Smith, John"" <0215551234>","CALL_ANSWERED","10","8","1000","a.wav"` + "\n",
	"1.1,2013/03/01/09:33:00,CALLTYPE_CONFERENCE,8266,,,CALL_CONGESTION,,,,\n",
	"1.1,2013/02/30/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,1,1,1,f\nnot,a,line\n\n",
	"1.1,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,a,b,c,d,e,CALL_ANSWERED,1,2,3,f\n",
	"1.1,2013/03/01/09:33:00,X,8266,,\"a\",\"b,c\",\"\",CALL_ANSWERED,1,2,3,f,\"x\"\"y\",1,2,3\n",
	"   \n\t\n,,,,,,,,,,\n\"\n\"\"\"\n",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := parseAll(t, bytes.NewReader(data))
		if whole.err != nil {
			t.Fatalf("error from a clean reader: %v", whole.err)
		}
		// Streaming must not depend on how the bytes arrive.
		bytewise := parseAll(t, iotest.OneByteReader(bytes.NewReader(data)))
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("one byte at a time differs:\n%+v\n%+v", whole, bytewise)
		}
		// Nor on chunks cut on another goroutine, copied or lent.
		wantIDs, wantBad, _ := ids(whole)
		for _, lend := range []bool{false, true} {
			gotIDs, gotBad, err := ids(parseAhead(iotest.HalfReader(bytes.NewReader(data)), lend))
			if err != nil || !reflect.DeepEqual(gotIDs, wantIDs) || !reflect.DeepEqual(gotBad, wantBad) {
				t.Fatalf("read ahead (lend %v): ids %v bad %v err %v; want %v %v", lend, gotIDs, gotBad, err, wantIDs, wantBad)
			}
		}
		last := 0
		for _, l := range whole.badLines {
			if l <= last {
				t.Fatalf("bad line numbers not increasing: %v", whole.badLines)
			}
			last = l
		}
		for i := range whole.recs {
			r := &whole.recs[i]
			if r.UniqueID == "" || r.Start.IsZero() {
				t.Fatalf("record without ID or start: %+v", r)
			}
			if !roundTrips(r) {
				continue
			}
			line := AppendLine(nil, r, r.Extended)
			again := parseAll(t, bytes.NewReader(line))
			if again.err != nil || len(again.badLines) != 0 || len(again.recs) != 1 {
				t.Fatalf("AppendLine output %q does not parse back: %+v", line, again)
			}
			if again.recs[0] != *r {
				t.Fatalf("round trip through %q:\n got %+v\nwant %+v", line, again.recs[0], *r)
			}
		}
	})
}

// roundTrips says whether AppendLine's unquoted output of r can be read back unambiguously: only the caller ID
// and friendly name may hold commas (as a real PBX's do), no quoted-looking field, no piece of a split caller ID
// that would pass for a number, and no unknown number beside a split name.
func roundTrips(r *cdr.Record) bool {
	for _, v := range []string{r.UniqueID, r.RawCallType, r.Extension, r.DialledNumber, r.RawDisposition,
		r.Recording, r.AccountCode, r.Channel, r.DestChannel} {
		if strings.ContainsAny(v, ",\"\r\n") {
			return false
		}
	}
	if isDigits(r.RawDisposition) {
		return false
	}
	// An unknown number goes out as an empty field, which cannot anchor the layout when a comma split a name.
	unknown := r.DurationS < 0 || r.BillableS < 0 || r.RecordingSize < 0
	if unknown && strings.Contains(r.CallerID+r.FriendlyName, ",") {
		return false
	}
	quoted := 0
	for _, v := range []string{r.CallerID, r.FriendlyName} {
		if strings.ContainsAny(v, "\r\n") {
			return false
		}
		if strings.Contains(v, `"`) {
			quoted++
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				return false
			}
		}
	}
	if quoted > 1 {
		return false
	}
	pieces := strings.Split(r.CallerID, ",")
	for _, pc := range pieces[1:] {
		if isDigits(strings.Trim(pc, "\" \t")) {
			return false
		}
	}
	return true
}
