package pbxsim

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// TestAroundTheClock: every quarter hour of every day has a call, Sundays and nights included, and the calls
// of the office-hours load stay as they were.
func TestAroundTheClock(t *testing.T) {
	plain := startSim(t, Options{Days: 7})
	night := startSim(t, Options{Days: 7, AroundTheClock: true})
	if want := plain.Total() + 7*96; night.Total() != want {
		t.Errorf("around the clock: %d calls, want %d (the office load plus 96 a day)", night.Total(), want)
	}
	quarters := map[int64]int{}
	night.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		quarters[r.Start.Unix()/nightSlot]++
		return true
	})
	first := testEnd.AddDate(0, 0, -6).Unix() / nightSlot
	for q := first; q < first+7*96; q++ {
		if quarters[q] == 0 {
			t.Fatalf("no call in the quarter hour from %s", time.Unix(q*nightSlot, 0).In(testEnd.Location()))
		}
	}
	// An end in the middle of the night still has the night's calls up to then, and none after.
	end := time.Date(2024, 3, 3, 4, 10, 0, 0, testEnd.Location()) // a Sunday
	srv := startSim(t, Options{Days: 2, End: end, AroundTheClock: true})
	n := 0
	srv.Calls(time.Date(2024, 3, 3, 0, 0, 0, 0, end.Location()), time.Time{}, func(r cdr.Record) bool {
		if r.Start.After(end) {
			t.Errorf("call %s after the end %s", r.Start, end)
		}
		n++
		return true
	})
	if n < 16 {
		t.Errorf("Sunday 00:00-04:10 has %d calls, want at least one a quarter hour", n)
	}
}

// TestSpecExamples: the spec's example calls are served by ID, by exact start and in ranges, on both APIs,
// with recordings in the format their names say.
func TestSpecExamples(t *testing.T) {
	srv := startSim(t, Options{Days: 3, SpecExamples: true})
	body := get(t, srv, "/commagui/cdr?format=txt&start=20130301&end=20130302", comxAuth).body
	want := "1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,"
	if ls := lines(body); len(ls) != 2 || !strings.HasPrefix(ls[0], want) ||
		!strings.HasSuffix(ls[0], ",g8266-20130301-093300-1362123180.67.gsm") ||
		!strings.HasPrefix(ls[1], "1362125482.87,2013/03/01/10:11:31,CALLTYPE_OUTBOUND,8264,0215551111,,CALL_ANSWERED,60,53,") {
		t.Errorf("2013-03-01 index:\n%s", body)
	}
	for _, tc := range []struct {
		query string
		gsm   bool
	}{
		{"id=1396000115.1", true},
		{"start=20140328114835", true},
		{"id=1362123180.67", true},
		{"id=1392723066.6", false},
	} {
		line := lines(get(t, srv, "/commagui/cdr?format=txt&extended&"+tc.query, comxAuth).body)
		if len(line) != 1 {
			t.Fatalf("%s: index %q", tc.query, line)
		}
		c := parse(t, line[0])
		rec := get(t, srv, "/commagui/cdr?"+tc.query, comxAuth)
		if rec.status != 200 || int64(len(rec.body)) != c.rec.RecordingSize {
			t.Errorf("%s: recording status %d, %d bytes; the index says %d", tc.query, rec.status, len(rec.body), c.rec.RecordingSize)
		}
		isGSM := len(rec.body)%33 == 0 && len(rec.body) > 0 && rec.body[0]>>4 == 0xD
		if isGSM != tc.gsm || (!tc.gsm && !bytes.HasPrefix(rec.body, []byte("RIFF"))) {
			t.Errorf("%s: recording starts %q, want GSM %v", tc.query, rec.body[:min(8, len(rec.body))], tc.gsm)
		}
		// About as long as the billable time: 1650 bytes a second of GSM, 8000 of A-law.
		rate := 8000
		if tc.gsm {
			rate = 1650
		}
		if secs := len(rec.body) / rate; secs < c.rec.BillableS-1 || secs > c.rec.BillableS+1 {
			t.Errorf("%s: %d s of recording for %d billable seconds", tc.query, secs, c.rec.BillableS)
		}
	}
	// Difuse: the oldest rows come first, and the recording is served by call ID.
	p := getPage(t, srv, "page=1&limit=2", difuseAuth)
	if len(p.Data) != 2 || p.Data[0].CallID != "1362123180.67" || p.Data[0].DBID != 1 {
		t.Errorf("Difuse page 1: %+v", p.Data)
	}
	if r := get(t, srv, "/pbx/cdr/recordings/1396000115.1/", difuseAuth); r.status != 200 || r.body[0]>>4 != 0xD {
		t.Errorf("Difuse recording: status %d", r.status)
	}
	if p := getPage(t, srv, "page=1&limit=100&extension=8264", difuseAuth); len(p.Data) != 2 {
		t.Errorf("Difuse extension 8264: %d rows, want the spec's 2", len(p.Data))
	}
	users := string(get(t, srv, "/commagui/cdr?users", comxAuth).body)
	if !strings.Contains(users, "8264,Thandi Mokoena,") || !strings.Contains(users, "8266,Front Desk,") {
		t.Errorf("users:\n%s", users)
	}
}

// TestSpecExamplesAmongGeneratedDays: a PBX whose generated days reach the examples' dates serves them among
// the generated calls, in start order, and not the ones after its end.
func TestSpecExamplesAmongGeneratedDays(t *testing.T) {
	loc := testEnd.Location()
	end := time.Date(2014, 3, 28, 12, 0, 0, 0, loc)
	srv := startSim(t, Options{Days: 40, End: end, SpecExamples: true})
	var prev time.Time
	seen := map[string]bool{}
	n := 0
	srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if r.Start.Before(prev) {
			t.Fatalf("%s at %s after a call at %s", r.UniqueID, r.Start, prev)
		}
		prev = r.Start
		seen[r.UniqueID] = true
		n++
		return true
	})
	if n != srv.Total() {
		t.Errorf("Calls gave %d, Total says %d", n, srv.Total())
	}
	for _, id := range []string{"1362123180.67", "1392723066.6", "1396000115.1"} {
		if !seen[id] {
			t.Errorf("%s missing", id)
		}
	}
	early := startSim(t, Options{Days: 40, End: time.Date(2014, 3, 28, 11, 0, 0, 0, loc), SpecExamples: true})
	if _, ok := early.byID("1396000115.1"); ok {
		t.Error("a PBX whose clock is 11:00 serves a call that starts at 11:48:35")
	}
	if c, ok := early.byID("1392723066.6"); !ok || strconv.Itoa(c.rec.BillableS) != "88" {
		t.Errorf("1392723066.6: %v %+v", ok, c.rec)
	}
}
