package cli

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// difuseRows is what the fake Difuse PBX holds: (call ID, source, destination, context).
var difuseRows = [][4]string{
	{"1706950100.1", "8260", "8266", "sip_internal"},       // an internal call from 8260 to 8266
	{"1706950200.2", "0215551234", "8266", "sip_inbound"},  // answered by 8266
	{"1706950300.3", "8266", "0215551234", "sip_outbound"}, // made by 8266
	{"1706950400.4", "8260", "8270", "sip_internal"},       // not 8266's
	{"1706950500.5", "8260", "s", "sip_internal"},          // routed by the dialplan …
}

// fakeDifuse answers /pbx/cdr/data as a Difuse PBX does, filtering by extension= itself: a row is the
// extension's when it is the source or the destination (computed_destination for a dialplan route).
func fakeDifuse(t *testing.T, secret string) *httptest.Server {
	sum := sha256.Sum256([]byte(secret))
	key := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "4001" || p != key {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		ext := r.URL.Query().Get("extension")
		var data []map[string]any
		for i, row := range difuseRows {
			computed := ""
			if row[2] == "s" {
				computed = "8266" // … to 8266 (a ring group it answered)
			}
			if ext != "" && row[1] != ext && row[2] != ext && computed != ext {
				continue
			}
			start := "2024-02-03 10:0" + string(rune('0'+i)) + ":00"
			end := "2024-02-03 10:0" + string(rune('0'+i)) + ":30"
			data = append(data, map[string]any{"db_id": i + 1, "call_id": row[0], "source": row[1], "destination": row[2],
				"computed_destination": computed, "destination_context": row[3], "disposition": "ANSWERED",
				"start_time": start, "answer_time": start, "end_time": end, "date": start, "recording_url": ""})
		}
		page := r.URL.Query().Get("page")
		if page != "1" {
			data = nil
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": data, "page": page, "limit": "100", "total_pages": 1})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeComx serves a Com.X index with the same calls.
func fakeComx(t *testing.T) *httptest.Server {
	const index = "1706950100.1,2024/02/03/10:00:00,CALLTYPE_INTERNAL,8260,8266,,CALL_ANSWERED,30,30,0,\n" +
		"1706950200.2,2024/02/03/10:01:00,CALLTYPE_INBOUND,8266,,0215551234,CALL_ANSWERED,30,30,0,\n" +
		"1706950300.3,2024/02/03/10:02:00,CALLTYPE_OUTBOUND,8266,0215551234,,CALL_ANSWERED,30,30,0,\n" +
		"1706950400.4,2024/02/03/10:03:00,CALLTYPE_INTERNAL,8260,8270,,CALL_ANSWERED,30,30,0,\n" +
		"1706950500.5,2024/02/03/10:04:00,CALLTYPE_OTHER,8260,8266,,CALL_ANSWERED,30,30,0,\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(index))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestExtMeansSourceOrDestination: `calls --ext 8266` lists every call 8266 made, answered or was dialled in,
// on both PBX kinds; on Difuse none of the rows the PBX itself returned for extension=8266 is dropped.
func TestExtMeansSourceOrDestination(t *testing.T) {
	want := []string{"1706950100.1", "1706950200.2", "1706950300.3", "1706950500.5"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"difuse", []string{"--kind", "difuse", "--url", fakeDifuse(t, "s3cret").URL, "--user", "4001"}},
		{"difuse, two extensions", []string{"--kind", "difuse", "--url", fakeDifuse(t, "s3cret").URL, "--user", "4001", "--ext", "1000"}},
		{"comx", []string{"--url", fakeComx(t).URL, "--user", "admin"}},
	} {
		args := append([]string{"calls", "--tz", "UTC", "--from", "2024-02-03", "--to", "2024-02-04", "--ext", "8266",
			"--format", "csv"}, tc.args...)
		out, errs, code := run(t, map[string]string{"CALLSCOPE_PASSWORD": "s3cret"}, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v %q", tc.name, err, out)
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: calls %v, want %v", tc.name, got, want)
		}
	}
}
