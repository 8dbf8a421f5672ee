package difuse

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// specSample is the answer shown in the Difuse documentation, byte for byte.
const specSample = `{
  "data": [
    {
      "db_id": 1,
      "call_id": "1706950109.0",
      "caller_id": "\"4001\" <4001>",
      "source": "4001",
      "destination_context": "sip_internal",
      "destination": "2011",
      "initial_destination": "2011",
      "computed_destination": "",
      "disposition": "ANSWERED",
      "timestamp": "1706950109",
      "date": "2024-02-03 08:48:29",
      "start_time": "2024-02-03 08:48:29",
      "answer_time": "2024-02-03 08:48:29",
      "end_time": "2024-02-03 08:48:36",
      "recording_url": ""
    }
  ],
  "page": "1",
  "limit": "1",
  "total_pages": 15905
}`

// servePage is a real HTTP server answering every authorised request with body.
func servePage(t *testing.T, body string) *fakePBX {
	f := newFake(t, nil)
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		if _, pass, _ := r.BasicAuth(); pass != sha(f.secret) {
			return false // let the fake answer 401
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
		return true
	}
	return f
}

func TestSpecSample(t *testing.T) {
	f := servePage(t, specSample)
	c := f.client(t, func(c *Config) { c.Zone = nil }) // infer the zone: timestamp = date read as UTC
	var got []cdr.Record
	res, err := c.Calls(t.Context(), cdr.Query{Page: 1, Limit: 1}, func(r cdr.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalPages != 15905 || res.Page != 1 || res.Rows != 1 || len(got) != 1 {
		t.Fatalf("result %+v, %d rows", res, len(got))
	}
	r := got[0]
	want := cdr.Record{
		UniqueID: "1706950109.0", Epoch: 1706950109, CallType: cdr.CallInternal, RawCallType: "sip_internal",
		Extension: "4001", DialledNumber: "2011", CallerID: `"4001" <4001>`, Disposition: cdr.DispAnswered,
		RawDisposition: "ANSWERED", DurationS: 7, BillableS: 7, RecordingSize: cdr.Unknown,
	}
	start := r.Start
	r.Start = time.Time{}
	if r != want {
		t.Errorf("record\n got %+v\nwant %+v", r, want)
	}
	if cdr.FormatTime(start) != "2024-02-03T08:48:29Z" {
		t.Errorf("start %s, want 2024-02-03T08:48:29Z (timestamp equals the wall clock read as UTC)", cdr.FormatTime(start))
	}
	if zi := c.Zone(); !zi.Inferred || zi.Samples != 1 || zi.Votes != 1 {
		t.Errorf("zone info %+v", zi)
	}
}

func TestZoneInferredFromTimestamp(t *testing.T) {
	// The same call on a PBX two hours ahead of UTC: the wall clock says 10:48:29.
	body := strings.NewReplacer("08:48", "10:48").Replace(specSample)
	f := servePage(t, body)
	c := f.client(t, func(c *Config) { c.Zone = nil })
	var got cdr.Record
	if _, err := c.Calls(t.Context(), cdr.Query{Page: 1}, func(r cdr.Record) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if s := cdr.FormatTime(got.Start); s != "2024-02-03T10:48:29+02:00" {
		t.Errorf("start %s, want 2024-02-03T10:48:29+02:00", s)
	}
	if got.Start.Unix() != 1706950109 {
		t.Errorf("start instant %d, want the timestamp 1706950109", got.Start.Unix())
	}
}

func TestLenientNumbers(t *testing.T) {
	for _, tc := range []struct{ page, limit, total string }{
		{`"2"`, `"5"`, `7`},
		{`2`, `5`, `"7"`},
		{`2.0`, `"5"`, `7.0`},
	} {
		body := `{"data":[],"page":` + tc.page + `,"limit":` + tc.limit + `,"total_pages":` + tc.total + `}`
		pj, err := decodePage(strings.NewReader(body), func(*rowJSON, error) error { return nil })
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if pj.Page != 2 || pj.Limit != 5 || pj.TotalPages != 7 {
			t.Errorf("%s: got %+v", body, pj)
		}
	}
	var r rowJSON
	if err := json.Unmarshal([]byte(`{"db_id":"9","call_id":1706950109.5,"timestamp":1706950109,"recording_url":null}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.DBID != "9" || r.CallID != "1706950109.5" || r.Timestamp != "1706950109" || r.RecordingURL != "" {
		t.Errorf("row %+v", r)
	}
	if _, err := decodePage(strings.NewReader(`{"page":"x"}`), func(*rowJSON, error) error { return nil }); err == nil {
		t.Error("page \"x\" accepted")
	}
}

func TestRowMapping(t *testing.T) {
	base := func() rowJSON {
		return rowJSON{DBID: "1", CallID: "1706950109.0", Source: "4001", DestinationContext: "sip_outbound",
			Destination: "0215551234", Disposition: "ANSWERED", Timestamp: "1706950109",
			Date: "2024-02-03 08:48:29", StartTime: "2024-02-03 08:48:29", AnswerTime: "2024-02-03 08:48:40",
			EndTime: "2024-02-03 08:50:00"}
	}
	for _, tc := range []struct {
		name   string
		mod    func(*rowJSON)
		check  func(cdr.Record) bool
		errSub string
	}{
		{"outbound", nil, func(r cdr.Record) bool {
			return r.CallType == cdr.CallOutbound && r.Extension == "4001" && r.DurationS == 91 && r.BillableS == 80
		}, ""},
		{"no answer copies start into answer_time", func(w *rowJSON) { w.Disposition = "NO ANSWER"; w.AnswerTime = w.StartTime },
			func(r cdr.Record) bool {
				return r.Disposition == cdr.DispNoAnswer && r.BillableS == 0 && r.DurationS == 91
			}, ""},
		{"never answered: zero date", func(w *rowJSON) { w.Disposition = "BUSY"; w.AnswerTime = "0000-00-00 00:00:00" },
			func(r cdr.Record) bool { return r.Disposition == cdr.DispBusy && r.BillableS == 0 }, ""},
		{"failed", func(w *rowJSON) { w.Disposition = "FAILED"; w.AnswerTime = "" },
			func(r cdr.Record) bool { return r.Disposition == cdr.DispFailed && r.BillableS == 0 }, ""},
		{"unknown disposition kept", func(w *rowJSON) { w.Disposition = "CONGESTION" },
			func(r cdr.Record) bool { return r.Disposition == "congestion" && r.RawDisposition == "CONGESTION" }, ""},
		{"inbound", func(w *rowJSON) {
			w.DestinationContext, w.Source, w.Destination, w.CallerID = "sip_inbound", "0825550000", "4002", `"Smith, John" <0825550000>`
		}, func(r cdr.Record) bool {
			return r.CallType == cdr.CallInbound && r.Extension == "4002" && r.CallerID == `"Smith, John" <0825550000>`
		}, ""},
		{"feature code via s", func(w *rowJSON) {
			w.DestinationContext, w.Destination, w.ComputedDestination = "sip_internal", "s", "*97"
		}, func(r cdr.Record) bool { return r.CallType == cdr.CallOther && r.DialledNumber == "*97" }, ""},
		{"unknown context, unclear numbers", func(w *rowJSON) { w.DestinationContext, w.Source, w.Destination = "custom", "", "" },
			func(r cdr.Record) bool { return r.CallType == cdr.CallUnknown && r.Extension == "" }, ""},
		{"date when start_time missing", func(w *rowJSON) { w.StartTime = ""; w.Date = "2024-02-03 08:48:30" },
			func(r cdr.Record) bool { return r.Start.Second() == 30 && r.DurationS == 90 }, ""},
		{"no end time", func(w *rowJSON) { w.EndTime = "" },
			func(r cdr.Record) bool { return r.DurationS == cdr.Unknown && r.BillableS == cdr.Unknown }, ""},
		{"channels", func(w *rowJSON) { w.Channel, w.DstChannel = "SIP/4001-0001", "SIP/trunk-0002" },
			func(r cdr.Record) bool { return r.Channel == "SIP/4001-0001" && r.DestChannel == "SIP/trunk-0002" }, ""},
		{"recording", func(w *rowJSON) { w.RecordingURL = "/rec/a.wav" },
			func(r cdr.Record) bool { return r.HasRecording() && r.RecordingSize == cdr.Unknown }, ""},
		{"bad start", func(w *rowJSON) { w.StartTime, w.Date = "yesterday", "" }, nil, "start time"},
		{"no start", func(w *rowJSON) { w.StartTime, w.Date = "", "" }, nil, "no start time"},
	} {
		w := base()
		if tc.mod != nil {
			tc.mod(&w)
		}
		r, err := w.toRow()
		if tc.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(r.rec) {
			t.Errorf("%s: record %+v", tc.name, r.rec)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		ctx, src, dst string
		dialplan      bool
		ct            cdr.CallType
		ext           string
	}{
		{"sip_internal", "4001", "2011", false, cdr.CallInternal, "4001"},
		{"from-internal", "4001", "0215551234", false, cdr.CallOutbound, "4001"},
		{"sip_outbound", "4001", "0215551234", false, cdr.CallOutbound, "4001"},
		{"sip_inbound", "anonymous", "4002", false, cdr.CallInbound, "4002"},
		{"from-trunk", "+27825550000", "4002", false, cdr.CallInbound, "4002"},
		{"default", "+27825550000", "4002", false, cdr.CallInbound, "4002"},
		{"default", "4001", "+442071234567", false, cdr.CallOutbound, "4001"},
		{"sip_internal", "4001", "*43", false, cdr.CallOther, "4001"},
		{"sip_internal", "4001", "600", true, cdr.CallOther, "4001"},
		{"default", "abc", "def", false, cdr.CallUnknown, ""},
		{"", "", "4002", false, cdr.CallUnknown, "4002"},
	} {
		ct, ext := classify(tc.ctx, tc.src, tc.dst, tc.dialplan)
		if ct != tc.ct || ext != tc.ext {
			t.Errorf("classify(%q, %q, %q) = %q, %q; want %q, %q", tc.ctx, tc.src, tc.dst, ct, ext, tc.ct, tc.ext)
		}
	}
}

func TestMalformedRowSkipped(t *testing.T) {
	body := `{"data":[
	 {"db_id":1,"call_id":"1706950109.0","start_time":"2024-02-03 08:48:29","end_time":"2024-02-03 08:48:36","disposition":"ANSWERED"},
	 {"db_id":2,"call_id":"1706950110.1","start_time":"garbage","end_time":"2024-02-03 08:48:36"},
	 {"db_id":3,"call_id":"1706950111.2","start_time":"2024-02-03 08:48:31","end_time":"2024-02-03 08:48:40","disposition":"BUSY"}
	],"page":"1","limit":"3","total_pages":1}`
	f := servePage(t, body)
	c := f.client(t, nil)
	var warns []error
	ids, res := gotIDs(t, c, cdr.Query{Page: 1}, cdr.Observer{OnWarn: func(err error) { warns = append(warns, err) }})
	if strings.Join(ids, " ") != "1706950109.0 1706950111.2" || res.Skipped != 1 {
		t.Errorf("rows %v, result %+v", ids, res)
	}
	var re *RowError
	if len(warns) != 1 || !errors.As(warns[0], &re) || re.Page != 1 || re.Row != 2 {
		t.Errorf("warnings %v, want one RowError for page 1 row 2", warns)
	}
}

func TestNotJSON(t *testing.T) {
	f := servePage(t, "<html><body>Please log in</body></html>")
	c := f.client(t, nil)
	_, err := c.Calls(t.Context(), cdr.Query{Page: 1}, func(cdr.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not Difuse CDR data") {
		t.Fatalf("error %v", err)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d requests: an answer that is not JSON must not be asked for again", n)
	}
}
