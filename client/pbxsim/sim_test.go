package pbxsim

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// testEnd is a Friday at midnight in the default zone: the whole day is generated.
var testEnd = time.Date(2024, 3, 1, 0, 0, 0, 0, mustZone("Africa/Johannesburg"))

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone(name, 2*3600)
	}
	return loc
}

func startSim(t *testing.T, o Options) *Server {
	t.Helper()
	if o.End.IsZero() {
		o.End = testEnd
	}
	if o.Days == 0 {
		o.Days = 7
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	srv, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type resp struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body
}

// get fetches path (with query) from the server; auth is "user:pass" or "" for none.
func get(t *testing.T, srv *Server, path, auth string) resp {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		u, p, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(u, p)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, body, err}
}

const comxAuth = "admin:C@11Me"

var difuseAuth = "4001:" + DifuseKey("difuse-secret")

func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func parse(t *testing.T, line string) call {
	t.Helper()
	c, err := parseIndexLine(strings.TrimRight(line, "\r"), time.UTC)
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	return c
}

func truth(srv *Server, from, to time.Time) []cdr.Record {
	var out []cdr.Record
	srv.Calls(from, to, func(r cdr.Record) bool { out = append(out, r); return true })
	return out
}

func TestComxAuth(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	for _, tc := range []struct {
		auth string
		want int
	}{
		{comxAuth, 200},
		{"admin:wrong", 401},
		{"root:C@11Me", 401},
		{"", 401},
		{difuseAuth, 401},
	} {
		r := get(t, srv, "/commagui/cdr?format=txt", tc.auth)
		if r.status != tc.want {
			t.Errorf("auth %q: status %d, want %d", tc.auth, r.status, tc.want)
		}
		if tc.want == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("auth %q: no Basic challenge", tc.auth)
		}
	}
	custom := startSim(t, Options{Days: 1, ComxUser: "cdr", ComxPassword: "s3cret"})
	if r := get(t, custom, "/commagui/cdr?format=txt", "cdr:s3cret"); r.status != 200 {
		t.Errorf("configured credentials: %d", r.status)
	}
	if r := get(t, custom, "/commagui/cdr?format=txt", comxAuth); r.status != 401 {
		t.Errorf("factory default accepted after being changed: %d", r.status)
	}
}

func TestComxRange(t *testing.T) {
	srv := startSim(t, Options{})
	day := func(d int) time.Time { return time.Date(2024, 2, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		query    string
		from, to time.Time
	}{
		{"", time.Time{}, time.Time{}},
		{"&start=20240227", day(27), time.Time{}},
		{"&end=20240227", time.Time{}, day(27)},
		{"&start=20240227&end=20240228", day(27), day(28)},
		{"&start=202402271000&end=202402271130", day(27).Add(10 * time.Hour), day(27).Add(11*time.Hour + 30*time.Minute)},
		{"&start=20240301&end=20240301", day(29).AddDate(0, 0, 1), day(29).AddDate(0, 0, 1)},
		{"&start=20300101", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
	} {
		r := get(t, srv, "/commagui/cdr?format=txt"+tc.query, comxAuth)
		if r.status != 200 || r.err != nil {
			t.Fatalf("%s: %d %v", tc.query, r.status, r.err)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q", tc.query, ct)
		}
		want := truth(srv, tc.from, tc.to)
		got := lines(r.body)
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines, want %d", tc.query, len(got), len(want))
		}
		for i, l := range got {
			c := parse(t, l)
			if c.rec.UniqueID != want[i].UniqueID {
				t.Fatalf("%s line %d: ID %s, want %s", tc.query, i+1, c.rec.UniqueID, want[i].UniqueID)
			}
			w := time.Unix(c.wall, 0).UTC()
			if (!tc.from.IsZero() && w.Before(tc.from)) || (!tc.to.IsZero() && !w.Before(tc.to)) {
				t.Fatalf("%s: line %d starts %s, outside the range", tc.query, i+1, w)
			}
		}
	}
	// Both ends of a range are honoured to the minute: a call at exactly start is in, one at exactly end is out.
	all := truth(srv, time.Time{}, time.Time{})
	var edge cdr.Record
	for _, r := range all {
		if r.Start.Second() == 0 {
			edge = r
			break
		}
	}
	if edge.UniqueID == "" {
		t.Skip("no call on a whole minute in this data")
	}
	ts := edge.Start.Format("200601021504")
	if !bytes.Contains(get(t, srv, "/commagui/cdr?format=txt&start="+ts, comxAuth).body, []byte(edge.UniqueID)) {
		t.Errorf("start=%s left out the call that started then", ts)
	}
	if bytes.Contains(get(t, srv, "/commagui/cdr?format=txt&end="+ts, comxAuth).body, []byte(edge.UniqueID)) {
		t.Errorf("end=%s included the call that started then", ts)
	}
}

func TestComxBadRequests(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	for _, q := range []string{"", "?format=csv", "?format=txt&start=2024", "?format=txt&end=20241399", "?start=20240101"} {
		if r := get(t, srv, "/commagui/cdr"+q, comxAuth); r.status != 400 {
			t.Errorf("%q: status %d, want 400", q, r.status)
		}
	}
	if r := get(t, srv, "/nope", comxAuth); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
}

func fieldCount(t *testing.T, body []byte) map[bool]int {
	counts := map[bool]int{}
	for _, l := range lines(body) {
		counts[parse(t, l).rec.Extended]++
	}
	return counts
}

func TestComxExtended(t *testing.T) {
	srv := startSim(t, Options{Days: 2})
	plain := fieldCount(t, get(t, srv, "/commagui/cdr?format=txt", comxAuth).body)
	ext := fieldCount(t, get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth).body)
	if plain[true] != 0 || plain[false] == 0 {
		t.Errorf("without &extended: %v (extended: count)", plain)
	}
	if ext[false] != 0 || ext[true] != plain[false] {
		t.Errorf("with &extended: %v, want all %d extended", ext, plain[false])
	}
	body := get(t, srv, "/commagui/cdr?format=txt&extended", comxAuth).body
	if !bytes.Contains(body, []byte(",SIP/")) {
		t.Error("extended lines carry no SIP channels")
	}
	unlicensed := startSim(t, Options{Days: 2, NoExtendedLicence: true})
	if got := fieldCount(t, get(t, unlicensed, "/commagui/cdr?format=txt&extended", comxAuth).body); got[true] != 0 {
		t.Errorf("a PBX without the licence sent %d extended lines", got[true])
	}
}

func TestComxLineEndingsAndBOM(t *testing.T) {
	srv := startSim(t, Options{Days: 1, CRLF: true, BOM: true})
	body := get(t, srv, "/commagui/cdr?format=txt", comxAuth).body
	if !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Error("no BOM")
	}
	n := bytes.Count(body, []byte("\n"))
	if n == 0 || bytes.Count(body, []byte("\r\n")) != n {
		t.Errorf("%d LF, %d CRLF", n, bytes.Count(body, []byte("\r\n")))
	}
	lf := startSim(t, Options{Days: 1})
	body = get(t, lf, "/commagui/cdr?format=txt", comxAuth).body
	if bytes.Contains(body, []byte("\r")) || bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Error("default output has CR or a BOM")
	}
}

func firstWith(t *testing.T, srv *Server, match func(cdr.Record) bool) cdr.Record {
	t.Helper()
	var found cdr.Record
	srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if match(r) {
			found = r
			return false
		}
		return true
	})
	if found.UniqueID == "" {
		t.Fatal("no such call in the generated data")
	}
	return found
}

func TestComxSingleCall(t *testing.T) {
	srv := startSim(t, Options{})
	rec := firstWith(t, srv, func(r cdr.Record) bool { return r.HasRecording() })
	norec := firstWith(t, srv, func(r cdr.Record) bool { return !r.HasRecording() })
	compact := rec.Start.Format("20060102150405")
	slashed := rec.Start.Format("2006/01/02/15:04:05")

	for _, q := range []string{"id=" + rec.UniqueID, "start=" + compact, "start=" + slashed} {
		r := get(t, srv, "/commagui/cdr?format=txt&extended&"+q, comxAuth)
		ls := lines(r.body)
		if r.status != 200 || len(ls) != 1 || parse(t, ls[0]).rec.UniqueID != rec.UniqueID {
			t.Errorf("%s txt: %d %q", q, r.status, r.body)
		}

		r = get(t, srv, "/commagui/cdr?"+q, comxAuth)
		if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("%s raw: %d %s", q, r.status, r.header.Get("Content-Type"))
		}
		if int64(len(r.body)) != rec.RecordingSize {
			t.Errorf("%s raw: %d bytes, index says %d", q, len(r.body), rec.RecordingSize)
		}

		r = get(t, srv, "/commagui/cdr?format=ziprec&"+q, comxAuth)
		files := readZip(t, r.body)
		if len(files) != 2 || len(files[rec.Recording]) != int(rec.RecordingSize) {
			t.Errorf("%s ziprec: files %v", q, names(files))
		}
	}

	if r := get(t, srv, "/commagui/cdr?id="+norec.UniqueID, comxAuth); r.status != 404 {
		t.Errorf("raw recording of a call without one: %d", r.status)
	}
	for _, q := range []string{"id=1.2", "id=" + rec.UniqueID + "9", "start=19990101000000", "start=1999/01/01/00:00:00"} {
		for _, f := range []string{"", "&format=txt", "&format=ziprec"} {
			r := get(t, srv, "/commagui/cdr?"+q+f, comxAuth)
			if r.status != 200 || len(r.body) != 0 {
				t.Errorf("unknown call %s%s: %d with %d bytes, want an empty 200", q, f, r.status, len(r.body))
			}
		}
	}
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reading zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if strings.ContainsAny(f.Name, "/\\") {
			t.Errorf("zip is not flat: %s", f.Name)
		}
		out[f.Name] = data
	}
	return out
}

func names(m map[string][]byte) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

func TestComxZipRecordingSizes(t *testing.T) {
	srv := startSim(t, Options{Days: 2})
	r := get(t, srv, "/commagui/cdr?format=ziprec&extended&start=20240229&end=20240301", comxAuth)
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	files := readZip(t, r.body)
	idx := lines(files["index.txt"])
	want := truth(srv, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if len(idx) != len(want) || len(idx) == 0 {
		t.Fatalf("index.txt has %d lines, want %d", len(idx), len(want))
	}
	recorded := 0
	for _, l := range idx {
		c := parse(t, l)
		if !c.rec.HasRecording() {
			continue
		}
		recorded++
		data, ok := files[c.rec.Recording]
		if !ok || int64(len(data)) != c.rec.RecordingSize {
			t.Errorf("%s: in zip %v, %d bytes, index says %d", c.rec.Recording, ok, len(data), c.rec.RecordingSize)
		}
		if !bytes.HasPrefix(data, []byte("RIFF")) && !strings.HasSuffix(c.rec.Recording, ".gsm") {
			t.Errorf("%s: not a WAV", c.rec.Recording)
		}
	}
	if recorded == 0 || len(files) != recorded+1 {
		t.Errorf("%d files for %d recorded calls", len(files), recorded)
	}
}

func TestComxUsers(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	r := get(t, srv, "/commagui/cdr?users", comxAuth)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	users := srv.Users()
	if len(users) < 20 || len(users) > 40 || len(rows) != len(users) {
		t.Fatalf("%d rows, %d users", len(rows), len(users))
	}
	comma := false
	for i, row := range rows {
		if len(row) != 3 || row[0] != users[i].Extension || row[1] != users[i].Name || row[2] != users[i].PIN.Reveal() {
			t.Errorf("row %d = %q, want %+v", i, row, users[i])
		}
		comma = comma || strings.Contains(row[1], ",")
	}
	if !comma {
		t.Error("no friendly name with a comma")
	}
	if r := get(t, srv, "/commagui/cdr?users", ""); r.status != 401 {
		t.Errorf("users without auth: %d", r.status)
	}
}

type difusePage struct {
	Data       []difuseRow `json:"data"`
	Page       string      `json:"page"`
	Limit      string      `json:"limit"`
	TotalPages int         `json:"total_pages"`
}

func getPage(t *testing.T, srv *Server, query, auth string) difusePage {
	t.Helper()
	r := get(t, srv, "/pbx/cdr/data?"+query, auth)
	if r.status != 200 {
		t.Fatalf("%s: status %d: %s", query, r.status, r.body)
	}
	var p difusePage
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return p
}

func TestDifuseAuth(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	key := DifuseKey("difuse-secret")
	for _, tc := range []struct {
		query, auth string
		want        int
	}{
		{"", difuseAuth, 200},
		{"", "4001:" + strings.ToUpper(key), 200},
		{"", "4001:difuse-secret", 401}, // the secret itself, not its hash
		{"", "4002:" + key, 401},
		{"", "4001:" + DifuseKey("wrong"), 401},
		{"", "", 401},
		{"&key=" + key, "", 200},
		{"&extension=4001&key=" + key, "", 200},
		{"&extension=4002&key=" + DifuseKey("wrong"), "", 401},
		{"&key=difuse-secret", "", 401},
		{"", comxAuth, 401},
	} {
		r := get(t, srv, "/pbx/cdr/data?page=1&limit=1"+tc.query, tc.auth)
		if r.status != tc.want {
			t.Errorf("query %q auth %q: %d, want %d", tc.query, tc.auth, r.status, tc.want)
		}
	}
	custom := startSim(t, Options{Days: 1, DifuseExtension: "777", DifuseSecret: "x"})
	if r := get(t, custom, "/pbx/cdr/data", "777:"+DifuseKey("x")); r.status != 200 {
		t.Errorf("configured extension: %d", r.status)
	}
}

func TestDifusePagination(t *testing.T) {
	srv := startSim(t, Options{Days: 5})
	total := srv.Total()
	const limit = 37
	first := getPage(t, srv, "page=1&limit=37", difuseAuth)
	if first.Page != "1" || first.Limit != "37" || first.TotalPages != (total+limit-1)/limit {
		t.Fatalf("page %q limit %q total_pages %d; want total_pages %d", first.Page, first.Limit, first.TotalPages, (total+limit-1)/limit)
	}
	seen := map[string]bool{}
	var prevEnd string
	nextID := 1
	for p := 1; p <= first.TotalPages; p++ {
		pg := getPage(t, srv, "limit=37&page="+itoa(p), difuseAuth)
		if p < first.TotalPages && len(pg.Data) != limit {
			t.Fatalf("page %d has %d rows", p, len(pg.Data))
		}
		for _, row := range pg.Data {
			if row.DBID != nextID {
				t.Fatalf("page %d: db_id %d, want %d", p, row.DBID, nextID)
			}
			nextID++
			if row.EndTime < prevEnd {
				t.Fatalf("db_id %d ended %s, before the row before it (%s)", row.DBID, row.EndTime, prevEnd)
			}
			prevEnd = row.EndTime
			seen[row.CallID] = true
		}
	}
	if len(seen) != total {
		t.Fatalf("%d distinct calls over all pages, want %d", len(seen), total)
	}
	for _, r := range truth(srv, time.Time{}, time.Time{}) {
		if !seen[r.UniqueID] {
			t.Fatalf("call %s missing from the pages", r.UniqueID)
		}
	}
	if pg := getPage(t, srv, "page=100000&limit=10", difuseAuth); len(pg.Data) != 0 || pg.Page != "100000" {
		t.Errorf("page past the end: %d rows, page %q", len(pg.Data), pg.Page)
	}
	if pg := getPage(t, srv, "", difuseAuth); pg.Page != "1" || len(pg.Data) != 10 {
		t.Errorf("defaults: page %q, %d rows", pg.Page, len(pg.Data))
	}
	for _, q := range []string{"page=0", "page=x", "limit=-1"} {
		if r := get(t, srv, "/pbx/cdr/data?"+q, difuseAuth); r.status != 400 {
			t.Errorf("%s: %d, want 400", q, r.status)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDifuseNearlySorted checks the property the client's binary search must cope with: start times in page
// order are not sorted when a long call ends after shorter ones that started later.
func TestDifuseNearlySorted(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	pg := getPage(t, srv, "limit=100000", difuseAuth)
	inversions := 0
	for i := 1; i < len(pg.Data); i++ {
		if pg.Data[i].StartTime < pg.Data[i-1].StartTime {
			inversions++
		}
	}
	if inversions == 0 {
		t.Error("start times in insertion order are perfectly sorted; real Difuse data is not")
	}
}

// TestDifuseStartOrder: with DifuseOrder ByStart the rows come by start time (and end times are then the ones
// out of order), db_id still counting up from 1 over every call.
func TestDifuseStartOrder(t *testing.T) {
	srv := startSim(t, Options{Days: 2, DifuseOrder: ByStart})
	pg := getPage(t, srv, "limit=100000", difuseAuth)
	endInversions := 0
	for i, row := range pg.Data {
		if row.DBID != i+1 {
			t.Fatalf("row %d: db_id %d", i, row.DBID)
		}
		if i > 0 && row.StartTime < pg.Data[i-1].StartTime {
			t.Fatalf("db_id %d started %s, before the row before it (%s)", row.DBID, row.StartTime, pg.Data[i-1].StartTime)
		}
		if i > 0 && row.EndTime < pg.Data[i-1].EndTime {
			endInversions++
		}
	}
	if len(pg.Data) != srv.Total() || endInversions == 0 {
		t.Errorf("%d rows of %d, %d end-time inversions", len(pg.Data), srv.Total(), endInversions)
	}
	for _, tc := range []struct {
		in   string
		want RowOrder
		ok   bool
	}{{"end", ByEnd, true}, {"start", ByStart, true}, {"Start", 0, false}, {"", 0, false}} {
		got, err := ParseRowOrder(tc.in)
		if (err == nil) != tc.ok || got != tc.want || (tc.ok && got.String() != tc.in) {
			t.Errorf("ParseRowOrder(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// TestDifuseNoTotal: the fault leaves total_pages out and answers pages past the last with the last page.
func TestDifuseNoTotal(t *testing.T) {
	srv := startSim(t, Options{Days: 2, Faults: Faults{DifuseNoTotal: true}})
	r := get(t, srv, "/pbx/cdr/data?page=1&limit=10", difuseAuth)
	if r.status != 200 || bytes.Contains(r.body, []byte("total_pages")) {
		t.Fatalf("status %d, body %.200s", r.status, r.body)
	}
	last := (srv.Total() + 9) / 10
	want := getPage(t, srv, "limit=10&page="+itoa(last), difuseAuth)
	for _, p := range []int{last + 1, 1000, 1 << 40} {
		got := getPage(t, srv, "limit=10&page="+strconv.Itoa(p), difuseAuth)
		if len(got.Data) == 0 || got.Data[0].DBID != want.Data[0].DBID || len(got.Data) != len(want.Data) {
			t.Errorf("page %d: %d rows, want page %d's %d", p, len(got.Data), last, len(want.Data))
		}
	}
}

func TestDifuseRows(t *testing.T) {
	srv := startSim(t, Options{Days: 2})
	pg := getPage(t, srv, "limit=100000", difuseAuth)
	zone := srv.Options().Zone
	byID := map[string]cdr.Record{}
	for _, r := range truth(srv, time.Time{}, time.Time{}) {
		byID[r.UniqueID] = r
	}
	disp := map[string]int{}
	for _, row := range pg.Data {
		r, ok := byID[row.CallID]
		if !ok {
			t.Fatalf("unknown call_id %s", row.CallID)
		}
		disp[row.Disposition]++
		start, err := time.ParseInLocation(difuseTime, row.StartTime, zone)
		if err != nil || !start.Equal(r.Start) || row.Date != row.StartTime || row.Timestamp != itoa64(r.Start.Unix()) {
			t.Fatalf("%s: start %q date %q timestamp %q; want %s", row.CallID, row.StartTime, row.Date, row.Timestamp, r.Start)
		}
		end, _ := time.ParseInLocation(difuseTime, row.EndTime, zone)
		if int(end.Sub(start).Seconds()) != r.DurationS {
			t.Fatalf("%s: end-start %s, duration %d", row.CallID, end.Sub(start), r.DurationS)
		}
		if row.Disposition == "ANSWERED" {
			ans, err := time.ParseInLocation(difuseTime, row.AnswerTime, zone)
			if err != nil || int(end.Sub(ans).Seconds()) != r.BillableS {
				t.Fatalf("%s: answered %q, billable %d", row.CallID, row.AnswerTime, r.BillableS)
			}
		}
		if (row.RecordingURL != "") != r.HasRecording() {
			t.Fatalf("%s: recording_url %q, recorded %v", row.CallID, row.RecordingURL, r.HasRecording())
		}
	}
	for _, d := range []string{"ANSWERED", "NO ANSWER", "BUSY", "FAILED"} {
		if disp[d] == 0 {
			t.Errorf("no %s rows", d)
		}
	}
	if len(disp) != 4 {
		t.Errorf("dispositions %v", disp)
	}
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

func TestDifuseExtensionFilter(t *testing.T) {
	srv := startSim(t, Options{Days: 3})
	ext := srv.Users()[0].Extension
	want := 0
	srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if r.InvolvesExtension(ext) {
			want++
		}
		return true
	})
	if want == 0 {
		t.Fatal("extension has no calls")
	}
	got, pages := 0, 0
	for p := 1; ; p++ {
		pg := getPage(t, srv, "limit=7&extension="+ext+"&page="+itoa(p), difuseAuth)
		pages = pg.TotalPages
		for _, row := range pg.Data {
			if row.Source != ext && row.Destination != ext {
				t.Fatalf("row %s (%s → %s) does not involve %s", row.CallID, row.Source, row.Destination, ext)
			}
		}
		got += len(pg.Data)
		if len(pg.Data) == 0 {
			break
		}
	}
	if got != want || pages != (want+6)/7 {
		t.Errorf("%d rows in %d pages, want %d rows in %d pages", got, pages, want, (want+6)/7)
	}
	if pg := getPage(t, srv, "limit=1&extension=9999", difuseAuth); pg.TotalPages != 0 || len(pg.Data) != 0 {
		t.Errorf("unknown extension: %+v", pg)
	}
	// The CDR-access extension itself (the documentation's key= example) does not filter.
	if pg := getPage(t, srv, "limit=1&extension=4001", difuseAuth); pg.TotalPages != srv.Total() {
		t.Errorf("extension=4001: %d pages, want %d", pg.TotalPages, srv.Total())
	}
}

func TestDifuseRecording(t *testing.T) {
	srv := startSim(t, Options{Days: 1})
	pg := getPage(t, srv, "limit=1000", difuseAuth)
	var row difuseRow
	for _, r := range pg.Data {
		if r.RecordingURL != "" {
			row = r
			break
		}
	}
	if row.CallID == "" {
		t.Fatal("no recorded call")
	}
	u, err := url.Parse(row.RecordingURL)
	if err != nil || u.Scheme+"://"+u.Host != srv.URL() {
		t.Fatalf("recording_url %q is not on the server %s", row.RecordingURL, srv.URL())
	}
	r := get(t, srv, u.EscapedPath(), difuseAuth)
	rec := firstWith(t, srv, func(r cdr.Record) bool { return r.UniqueID == row.CallID })
	if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || int64(len(r.body)) != rec.RecordingSize {
		t.Errorf("recording: %d %s %d bytes, want %d", r.status, r.header.Get("Content-Type"), len(r.body), rec.RecordingSize)
	}
	if r := get(t, srv, u.EscapedPath()+"?key="+DifuseKey("difuse-secret"), ""); r.status != 200 {
		t.Errorf("recording with key=: %d", r.status)
	}
	if r := get(t, srv, u.EscapedPath(), ""); r.status != 401 {
		t.Errorf("recording without auth: %d", r.status)
	}
	if r := get(t, srv, "/pbx/cdr/recordings/1.1/x.wav", difuseAuth); r.status != 404 {
		t.Errorf("unknown recording: %d", r.status)
	}
}

func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("generates four simulated PBXs, one request at a time")
	}
	a := startSim(t, Options{Seed: 42, Days: 3})
	b := startSim(t, Options{Seed: 42, Days: 3})
	c := startSim(t, Options{Seed: 43, Days: 3})
	q := "/commagui/cdr?format=txt&extended"
	ba, bb, bc := get(t, a, q, comxAuth).body, get(t, b, q, comxAuth).body, get(t, c, q, comxAuth).body
	if !bytes.Equal(ba, bb) {
		t.Error("same seed, different index")
	}
	if bytes.Equal(ba, bc) {
		t.Error("different seeds, same index")
	}
	// A day's calls do not depend on how many days are generated around it.
	d := startSim(t, Options{Seed: 42, Days: 10})
	q = "/commagui/cdr?format=txt&extended&start=20240228&end=20240229"
	if !bytes.Equal(get(t, a, q, comxAuth).body, get(t, d, q, comxAuth).body) {
		t.Error("a day's calls changed with the number of days generated")
	}
	za := get(t, a, "/commagui/cdr?format=ziprec&start=20240229", comxAuth).body
	zb := get(t, b, "/commagui/cdr?format=ziprec&start=20240229", comxAuth).body
	fa, fb := readZip(t, za), readZip(t, zb)
	if len(fa) != len(fb) || !bytes.Equal(fa["index.txt"], fb["index.txt"]) {
		t.Error("same seed, different zip contents")
	}
}

func TestGeneratedData(t *testing.T) {
	srv := startSim(t, Options{Days: 14, CallsPerDay: 400})
	zone := srv.Options().Zone
	var weekday, weekdayBusiness, weekend int
	words := map[string]int{}
	ids := map[string]bool{}
	var answeredNoRec, commaCID, accounts int
	srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if ids[r.UniqueID] {
			t.Fatalf("duplicate ID %s", r.UniqueID)
		}
		ids[r.UniqueID] = true
		if r.Start.Location() != zone || time.Unix(r.Epoch, 0).In(zone) != r.Start || !strings.HasPrefix(r.UniqueID, itoa64(r.Epoch)+".") {
			t.Fatalf("%s: start %s epoch %d disagree", r.UniqueID, r.Start, r.Epoch)
		}
		switch r.Start.Weekday() {
		case time.Saturday, time.Sunday:
			weekend++
		default:
			weekday++
			if h := r.Start.Hour(); h >= 8 && h < 17 {
				weekdayBusiness++
			}
		}
		words[r.RawCallType]++
		words[r.RawDisposition]++
		if r.Disposition == cdr.DispAnswered && !r.HasRecording() {
			answeredNoRec++
		}
		if strings.Contains(r.CallerID, ",") && strings.Contains(r.CallerID, `"`) {
			commaCID++
		}
		if r.AccountCode != "" {
			accounts++
		}
		if r.Channel != "" && !strings.HasPrefix(r.Channel, "SIP/") {
			t.Fatalf("channel %q", r.Channel)
		}
		return true
	})
	if weekday == 0 || float64(weekdayBusiness)/float64(weekday) < 0.75 {
		t.Errorf("%d of %d weekday calls in business hours", weekdayBusiness, weekday)
	}
	if weekend*5 > weekday {
		t.Errorf("weekends (%d calls) are not quiet next to weekdays (%d)", weekend, weekday)
	}
	for _, w := range []string{"CALLTYPE_INBOUND", "CALLTYPE_OUTBOUND", "CALLTYPE_INTERNAL", "CALLTYPE_OTHER",
		"CALLTYPE_UNKNOWN", "CALL_ANSWERED", "CALL_NOANSWER", "CALL_BUSY", "CALL_FAILED"} {
		if words[w] == 0 {
			t.Errorf("no %s", w)
		}
	}
	if answeredNoRec == 0 || commaCID == 0 || accounts == 0 {
		t.Errorf("answered without recording %d, quoted caller IDs with commas %d, account codes %d", answeredNoRec, commaCID, accounts)
	}
}

// TestZoneOffset: IDs' epochs and the index's wall clock differ by the zone's offset, which is what clients
// infer the zone from.
func TestZoneOffset(t *testing.T) {
	for _, tc := range []struct {
		zone string
		off  int64
	}{{"Africa/Johannesburg", 7200}, {"UTC", 0}, {"Asia/Kolkata", 19800}} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Skip(err)
		}
		srv := startSim(t, Options{Days: 1, Zone: loc})
		for _, l := range lines(get(t, srv, "/commagui/cdr?format=txt", comxAuth).body) {
			c := parse(t, l)
			if c.wall-c.rec.Epoch != tc.off {
				t.Fatalf("%s: %s wall - epoch = %d, want %d", tc.zone, l, c.wall-c.rec.Epoch, tc.off)
			}
		}
	}
}

func TestEndCutoff(t *testing.T) {
	loc, _ := time.LoadLocation("Africa/Johannesburg")
	end := time.Date(2024, 3, 1, 12, 30, 0, 0, loc)
	srv := startSim(t, Options{Days: 2, End: end})
	n := 0
	srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		n++
		if r.Start.After(end) {
			t.Fatalf("call %s starts after the end %s", r.Start, end)
		}
		return true
	})
	if n != srv.Total() || n == 0 {
		t.Errorf("Calls gave %d, Total says %d", n, srv.Total())
	}
	if pg := getPage(t, srv, "limit=1", difuseAuth); pg.TotalPages != n {
		t.Errorf("Difuse total_pages %d, want %d", pg.TotalPages, n)
	}
}

func TestContextCancelledMidStream(t *testing.T) {
	srv := startSim(t, Options{Days: 60, CallsPerDay: 2000})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+"/commagui/cdr?format=txt", nil)
	req.SetBasicAuth("admin", "C@11Me")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(res.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, br)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	res.Body.Close()
	// The server is still fine.
	if r := get(t, srv, "/commagui/cdr?format=txt&start=20240229", comxAuth); r.status != 200 {
		t.Errorf("after a cancelled download: %d", r.status)
	}
}

// TestDSTZone generates across a spring-forward and a fall-back day: counts agree, times stay in order, and the
// epoch in each ID still matches the wall clock in the zone.
func TestDSTZone(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	for _, end := range []time.Time{time.Date(2024, 3, 11, 0, 0, 0, 0, loc), time.Date(2024, 11, 4, 0, 0, 0, 0, loc)} {
		srv := startSim(t, Options{Days: 3, End: end, Zone: loc, CallsPerDay: 3000})
		n := 0
		var prev time.Time
		srv.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
			n++
			if cdr.WallClock(r.Start).Before(cdr.WallClock(prev)) {
				t.Fatalf("%s after %s", r.Start, prev)
			}
			prev = r.Start
			if !time.Unix(r.Epoch, 0).Equal(r.Start) {
				t.Fatalf("%s: epoch %d", r.Start, r.Epoch)
			}
			return true
		})
		if n != srv.Total() {
			t.Errorf("%s: Calls gave %d, Total %d", end, n, srv.Total())
		}
		if got := len(lines(get(t, srv, "/commagui/cdr?format=txt", comxAuth).body)); got != n {
			t.Errorf("%s: index has %d lines, want %d", end, got, n)
		}
	}
}

// A server whose listener fails stops serving; Close says so instead of reporting a clean stop.
func TestServerReportsServeFailure(t *testing.T) {
	srv, err := Start(Options{Days: 1, End: testEnd, CallsPerDay: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ln.Close(); err != nil { // what a listener that dies under the server looks like to Serve
		t.Fatal(err)
	}
	select {
	case <-srv.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("the server still serves 10s after its listener was closed")
	}
	err = srv.Close()
	if err == nil || !strings.Contains(err.Error(), "stopped serving") {
		t.Fatalf("Close after the listener failed = %v, want an error that says the server stopped serving", err)
	}
}

// Close of a server that was serving is a clean stop, and a second Close is one too.
func TestServerCloseIsClean(t *testing.T) {
	srv, err := Start(Options{Days: 1, End: testEnd, CallsPerDay: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := srv.Close(); err != nil {
			t.Fatalf("Close #%d = %v, want nil", i+1, err)
		}
	}
}
