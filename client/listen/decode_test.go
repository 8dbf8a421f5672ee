package listen

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// TestDecodeMapping pins what a push adds to the Difuse row mapping: Asterisk column names, times with an
// offset, a start taken from the timestamp, duration and billsec when there is no end, and the zone.
func TestDecodeMapping(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	for _, tc := range []struct {
		name  string
		body  string
		loc   *time.Location
		check func(cdr.Record) bool
	}{
		{"difuse fields", sample, zone, func(r cdr.Record) bool {
			return r.UniqueID == "1706950109.0" && r.CallType == cdr.CallInternal && r.Extension == "4001" &&
				r.DialledNumber == "2011" && r.DurationS == 7 && r.BillableS == 7 && r.Epoch == 1706950109 &&
				r.Start.Location() == zone && r.Start.Hour() == 8 && r.RawCallType == "sip_internal"
		}},
		{"asterisk columns", `{"uniqueid":"9.1","src":"0825550000","dst":"4002","dcontext":"from-trunk",
			"clid":"\"Bob\" <0825550000>","calldate":"2024-02-03 08:00:00","duration":"65","billsec":60,
			"disposition":"ANSWERED","recordingfile":"a.wav","account_code":"sales","dstchannel":"SIP/4002-1"}`, zone,
			func(r cdr.Record) bool {
				return r.UniqueID == "9.1" && r.CallType == cdr.CallInbound && r.Extension == "4002" &&
					r.CallerID == `"Bob" <0825550000>` && r.DurationS == 65 && r.BillableS == 60 &&
					r.Recording == "a.wav" && r.AccountCode == "sales" && r.DestChannel == "SIP/4002-1"
			}},
		{"end time wins over duration", `{"call_id":"9.2","start":"2024-02-03 08:00:00","end":"2024-02-03 08:00:10",
			"answer":"2024-02-03 08:00:04","duration":99,"billsec":99,"disposition":"ANSWERED"}`, zone,
			func(r cdr.Record) bool { return r.DurationS == 10 && r.BillableS == 6 }},
		{"no end, no duration", `{"call_id":"9.3","start_time":"2024-02-03 08:00:00"}`, zone,
			func(r cdr.Record) bool { return r.DurationS == cdr.Unknown && r.BillableS == cdr.Unknown }},
		{"offset time into the zone", `{"call_id":"9.4","start_time":"2024-02-03T06:00:00Z"}`, zone,
			func(r cdr.Record) bool { return r.Start.Equal(time.Date(2024, 2, 3, 8, 0, 0, 0, zone)) }},
		{"start from timestamp", `{"call_id":"9.5","timestamp":1706940000}`, zone,
			func(r cdr.Record) bool { return r.Start.Equal(time.Unix(1706940000, 0)) }},
		{"zone from timestamp", `{"call_id":"9.6","start_time":"2024-02-03 08:00:00","timestamp":1706940000}`, nil,
			func(r cdr.Record) bool {
				_, off := r.Start.Zone()
				return off == 2*3600 && r.Start.Equal(time.Date(2024, 2, 3, 8, 0, 0, 0, plus2))
			}},
	} {
		recs, err := Decode([]byte(tc.body), tc.loc)
		if err != nil || len(recs) != 1 {
			t.Errorf("%s: %d records, error %v", tc.name, len(recs), err)
			continue
		}
		if !tc.check(recs[0]) {
			t.Errorf("%s: record %+v", tc.name, recs[0])
		}
	}
	if _, err := Decode([]byte(`{"call_id":"9.7","timestamp":"soon"}`), zone); err == nil ||
		!strings.Contains(err.Error(), `timestamp "soon" is not a Unix time`) {
		t.Errorf("bad timestamp: error %v", err)
	}
}

// FuzzDecode: whatever a push holds, decoding never panics; it either refuses the body with a *BadRequest or
// returns entries that each have a call ID and a start.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{sample, "[" + sample + "," + sample + "]", "[]", " \n[ ] ", `[1, 2]`, `{"call_id": "1",`,
		sample + sample, `[` + sample + `]]`, `{"call_id":"9.5","timestamp":1706940000}`, `"x"`, ``, `[{"call_id":"9.1","start":"2024-02-03T06:00:00Z"}] x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := Decode(body, zone)
		if err != nil {
			var bad *BadRequest
			if !errors.As(err, &bad) {
				t.Fatalf("error %v is not a *BadRequest", err)
			}
			return
		}
		for i, r := range recs {
			if r.UniqueID == "" || r.Start.IsZero() {
				t.Fatalf("entry %d: %+v", i+1, r)
			}
		}
	})
}

// TestDecodeEntryCap: one entry larger than MaxEntry is refused, however large the body may be, so decoding
// never holds more than about one entry beside the body.
func TestDecodeEntryCap(t *testing.T) {
	big := `{"call_id":"9.1","start_time":"2024-02-03 08:00:00","lastdata":"` + strings.Repeat("x", MaxEntry+1) + `"}`
	small := `{"call_id":"9.2","start_time":"2024-02-03 08:00:00","lastdata":"` + strings.Repeat("x", MaxEntry-200) + `"}`
	for _, tc := range []struct {
		name, body, says string
		n                int
	}{
		{"one big entry", big, "larger than 64 KB", 0},
		{"a big entry in an array", "[" + small + "," + big + "]", "entry 2: larger than 64 KB", 0},
		{"entries just under the cap", "[" + small + "," + small + "," + small + "]", "", 3},
	} {
		recs, err := Decode([]byte(tc.body), zone)
		if tc.says == "" && (err != nil || len(recs) != tc.n) {
			t.Errorf("%s: %d entries, %v", tc.name, len(recs), err)
		}
		if tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.says)
		}
	}
}
