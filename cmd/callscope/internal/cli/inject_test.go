package cli

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/callscope/callscope/client/cdr"
)

// The hostile PBX: what a caller can type as a caller ID, and what a broken or hostile PBX can put in names,
// file names and IDs. Its own small Com.X server, not pbxsim: every field is chosen.
const (
	escCallerID  = "\x1b]0;PWNED\x07\x1b[31m"
	hostileID    = "1795078003.4\x1b[2J"
	hostileUser  = "\x1b[31mRed\u202eTeam"
	hostileEpoch = 1795078000 // 2026-11-19 08:46:40 UTC, 10:46:40 in the PBX's zone (+02:00)
)

type hostileCall struct {
	id, typ, ext, dialled, callerID, file, friendly, account, channel, dest string
	served                                                                  bool // the PBX serves its recording
}

func hostileCalls() []hostileCall {
	return []hostileCall{
		{id: "1795078000.1", typ: "CALLTYPE_INBOUND", ext: "2001", callerID: escCallerID, file: "g2001-1.gsm",
			friendly: `=HYPERLINK("http://evil.invalid/?leak")`, account: `@SUM(1+1)*cmd|' /C calc'!A0`,
			channel: "SIP/2001-0001", dest: "+cmd", served: true},
		{id: "1795078001.2", typ: "CALLTYPE_INBOUND", ext: "2002", callerID: `=cmd|' /C calc'!A0`,
			file: "../../../../tmp/evil.gsm", friendly: "Mallory\u202egnp.exe", served: true},
		{id: "1795078002.3", typ: "CALLTYPE_OUTBOUND", ext: "2003", dialled: "+27 82 123 4567", callerID: "-2+3",
			file: `..\..\evil.gsm`, friendly: "Bob", served: true},
		{id: hostileID, typ: "CALLTYPE_INBOUND", ext: "2004", callerID: "+1 (555) 010-9999", file: "missing.gsm",
			friendly: "\t=1"}, // the parser trims the tab: "=1"
		{id: "@1795078004.5", typ: "CALLTYPE_INBOUND", ext: "2005", callerID: "0821234567",
			file: `=cmd|' /C calc'!A0.gsm`, served: true},
	}
}

var hostileRecording = bytes.Repeat(append([]byte{0xd8}, make([]byte, 32)...), 50) // 50 GSM frames

// hostilePBX serves the Com.X API (index, one call, recordings, users) with hostileCalls.
func hostilePBX(t *testing.T) string {
	t.Helper()
	calls := hostileCalls()
	line := func(i int, c hostileCall) string {
		start := time.Unix(int64(hostileEpoch+i), 0).In(time.FixedZone("", 2*3600))
		size := len(hostileRecording)
		return fmt.Sprintf("%s,%s,%s,%s,%s,%s,CALL_ANSWERED,30,25,%d,%s,%s,%s,%s,%s\n", c.id,
			start.Format("2006/01/02/15:04:05"), c.typ, c.ext, c.dialled, c.callerID, size, c.file, c.friendly,
			c.account, c.channel, c.dest)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "pbx-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		switch {
		case q.Has("users"):
			fmt.Fprintf(w, "2001,%s,1234\n2002,%s,0000\n2003,+27 82 123 4567,1111\n", hostileUser,
				`=HYPERLINK("http://evil.invalid")`)
		case q.Get("format") == "txt" && q.Has("id"):
			for i, c := range calls {
				if c.id == q.Get("id") {
					fmt.Fprint(w, line(i, c))
				}
			}
		case q.Get("format") == "txt":
			for i, c := range calls {
				fmt.Fprint(w, line(i, c))
			}
		case q.Has("id"):
			for _, c := range calls {
				if c.id == q.Get("id") && c.served {
					w.Write(hostileRecording)
					return
				}
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// terminalClean fails when s holds anything a terminal would act on: controls other than the line ends of
// our own output, DEL, C1, bidi controls, invalid UTF-8.
func terminalClean(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8: %q", what, s)
	}
	for i, r := range s {
		bad := (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f
		if bad {
			t.Errorf("%s holds %U at byte %d: %q", what, r, i, s)
			return
		}
	}
}

func hostileRun(t *testing.T, url string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, map[string]string{"CALLSCOPE_PASSWORD": "pbx-secret"},
		append(args, "--url", url, "--user", "admin", "--tz", "Africa/Johannesburg")...)
}

// csvCells parses CSV output, failing on a malformed file or a NUL byte.
func csvCells(t *testing.T, data []byte) [][]string {
	t.Helper()
	if bytes.IndexByte(data, 0) >= 0 {
		t.Errorf("a NUL byte reached the CSV")
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, data)
	}
	return rows
}

// formulaCell reports a cell a spreadsheet would run: the rule of safetext.CSVCell, written out again here so
// the test does not trust the code it tests.
func formulaCell(s string) bool {
	s = strings.TrimLeft(s, " \n")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return strings.Trim(s[1:], "0123456789 .-()") != ""
	}
	return false
}

func column(rows [][]string, name string) []string {
	i := slices.Index(rows[0], name)
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestHostilePBXCSV(t *testing.T) {
	url := hostilePBX(t)
	out, errs, code := hostileRun(t, url, "calls", "--format", "csv", "--from", "2026-11-19", "--to", "2026-11-20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows := csvCells(t, []byte(out))
	if len(rows) != 6 {
		t.Fatalf("%d rows:\n%s", len(rows), out)
	}
	for i, r := range rows[1:] {
		for j, cell := range r {
			if formulaCell(cell) {
				t.Errorf("row %d %s = %q runs as a formula", i+1, rows[0][j], cell)
			}
		}
	}
	for _, tc := range []struct {
		col  string
		want []string
	}{
		{"unique_id", []string{"1795078000.1", "1795078001.2", "1795078002.3", hostileID, "'@1795078004.5"}},
		{"caller_id", []string{escCallerID, `'=cmd|' /C calc'!A0`, "'-2+3", "+1 (555) 010-9999", "0821234567"}},
		{"dialled_number", []string{"", "", "+27 82 123 4567", "", ""}},
		{"friendly_name", []string{`'=HYPERLINK("http://evil.invalid/?leak")`, "Mallory\u202egnp.exe", "Bob", "'=1", ""}},
		{"account_code", []string{`'@SUM(1+1)*cmd|' /C calc'!A0`, "", "", "", ""}},
		{"destination_channel", []string{"'+cmd", "", "", "", ""}},
		{"recording_file", []string{"g2001-1.gsm", "../../../../tmp/evil.gsm", `..\..\evil.gsm`, "missing.gsm", `'=cmd|' /C calc'!A0.gsm`}},
		{"duration_s", []string{"30", "30", "30", "30", "30"}},
	} {
		if got := column(rows, tc.col); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %q, want %q", tc.col, got, tc.want)
		}
	}

	// --csv-raw: the cells as the PBX sent them.
	out, errs, code = hostileRun(t, url, "calls", "--format", "csv", "--csv-raw", "--from", "2026-11-19", "--to", "2026-11-20")
	if code != 0 {
		t.Fatalf("--csv-raw: exit %d: %s", code, errs)
	}
	rows = csvCells(t, []byte(out))
	if got := column(rows, "caller_id"); !slices.Equal(got, []string{escCallerID, `=cmd|' /C calc'!A0`, "-2+3", "+1 (555) 010-9999", "0821234567"}) {
		t.Errorf("--csv-raw caller_id = %q", got)
	}

	// call --format csv goes through the same writer.
	out, _, _ = hostileRun(t, url, "call", "--id", "1795078001.2", "--format", "csv")
	if rows := csvCells(t, []byte(out)); len(rows) != 2 || column(rows, "caller_id")[0] != `'=cmd|' /C calc'!A0` {
		t.Errorf("call --format csv: %q", out)
	}

	// users --format csv: names from the PBX are text cells too.
	out, _, _ = hostileRun(t, url, "users", "--format", "csv")
	if got := column(csvCells(t, []byte(out)), "name"); !slices.Equal(got, []string{hostileUser, `'=HYPERLINK("http://evil.invalid")`, "+27 82 123 4567"}) {
		t.Errorf("users --format csv names = %q", got)
	}
}

func TestHostilePBXTerminal(t *testing.T) {
	url := hostilePBX(t)
	for _, tc := range []struct {
		args []string
		want string // the hostile text as it must show
	}{
		{[]string{"calls", "--from", "2026-11-19", "--to", "2026-11-20"}, `\x1b]0;PWNED\x07\x1b[31m`},
		{[]string{"call", "--id", "1795078000.1"}, `\x1b]0;PWNED\x07\x1b[31m`},
		{[]string{"call", "--id", "1795078001.2"}, `Mallory\u202egnp.exe`},
		{[]string{"users"}, `\x1b[31mRed\u202eTeam`},
	} {
		out, errs, code := hostileRun(t, url, tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errs)
			continue
		}
		terminalClean(t, fmt.Sprint(tc.args, " stdout"), out)
		terminalClean(t, fmt.Sprint(tc.args, " stderr"), errs)
		if !strings.Contains(out, tc.want) {
			t.Errorf("%v: %q does not show %q", tc.args, out, tc.want)
		}
	}
	// An error line that names a hostile ID (the PBX knows no such call).
	_, errs, code := hostileRun(t, url, "call", "--id", "nosuch\x1b[2J")
	if code != 1 || !strings.Contains(errs, `nosuch\x1b[2J`) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	terminalClean(t, "error line", errs)
}

func TestHostilePBXExport(t *testing.T) {
	url := hostilePBX(t)
	parent := t.TempDir()
	out, dir := filepath.Join(parent, "calls.csv"), filepath.Join(parent, "rec")
	_, errs, code := hostileRun(t, url, "export", "--from", "2026-11-19", "--to", "2026-11-20", "-o", out,
		"--recordings", dir)
	// The fourth call's recording is not served: reported, the others saved, exit 1.
	if code != 1 || !strings.Contains(errs, `1795078003.4\x1b[2J`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	terminalClean(t, "export's stderr", errs)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := csvCells(t, data)
	if got := column(rows, "caller_id"); !slices.Equal(got, []string{escCallerID, `'=cmd|' /C calc'!A0`, "'-2+3", "+1 (555) 010-9999", "0821234567"}) {
		t.Errorf("caller_id = %q", got)
	}
	man, err := os.ReadFile(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	mrows := csvCells(t, man)
	for i, r := range mrows[1:] {
		for j, cell := range r {
			if formulaCell(cell) {
				t.Errorf("manifest row %d %s = %q runs as a formula", i+1, mrows[0][j], cell)
			}
		}
	}
	if got := column(mrows, "recording_file"); !slices.Contains(got, "../../../../tmp/evil.gsm") ||
		!slices.Contains(got, `'=cmd|' /C calc'!A0.gsm`) {
		t.Errorf("manifest recording_file = %q", got)
	}
	if got := column(mrows, "unique_id"); !slices.Contains(got, "'@1795078004.5") {
		t.Errorf("manifest unique_id = %q", got)
	}
	// Nothing is written outside the target: the CSV and the folder beside it, and in the folder only the
	// recordings under names made from the IDs, and the manifest.
	var all []string
	filepath.WalkDir(parent, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(parent, p)
		all = append(all, filepath.ToSlash(rel))
		return nil
	})
	want := []string{".", "calls.csv", "rec", "rec/1795078000.1.gsm", "rec/1795078001.2.gsm", "rec/1795078002.3.gsm",
		"rec/_1795078004.5.gsm", "rec/manifest.csv"}
	if !slices.Equal(all, want) {
		t.Errorf("files written:\n%q\nwant\n%q", all, want)
	}
	if _, err := os.Lstat("/tmp/evil.gsm"); err == nil {
		t.Error("/tmp/evil.gsm exists")
	}

	// The neutralised manifest still says which calls are saved: a second run fetches none of them again.
	_, errs, _ = hostileRun(t, url, "export", "--from", "2026-11-19", "--to", "2026-11-20", "-o", out,
		"--recordings", dir)
	if n := strings.Count(errs, "(already complete)"); n != 4 || strings.Contains(errs, "saved _1795078004.5") {
		t.Errorf("rerun skipped %d of 4:\n%s", n, errs)
	}

	// --csv-raw reaches export's CSV (and -o - writes the same CSV).
	raw, _, _ := hostileRun(t, url, "export", "--from", "2026-11-19", "--to", "2026-11-20", "-o", "-", "--csv-raw")
	if got := column(csvCells(t, []byte(raw)), "caller_id"); got[1] != `=cmd|' /C calc'!A0` {
		t.Errorf("export --csv-raw caller_id = %q", got)
	}
}

func TestPlayTitleIsCleaned(t *testing.T) {
	r := cdr.Record{Extension: "2001", FriendlyName: "Red\u202eTeam", CallType: cdr.CallInbound, CallerID: escCallerID,
		Start: time.Date(2026, 11, 19, 10, 46, 0, 0, time.UTC)}
	got := callTitle(r)
	terminalClean(t, "play's title", got)
	if want := `2001 Red\u202eTeam ← \x1b]0;PWNED\x07\x1b[31m, 2026-11-19 10:46`; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
}
