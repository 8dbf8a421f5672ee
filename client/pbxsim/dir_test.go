package pbxsim

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
)

// The spec's own example lines (with its trailing spaces joined back), plus a caller ID and a friendly name
// with commas, a CALL_BUSY, a CRLF line and a blank last line.
const specIndex = "\ufeff1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,365211,g8266-20130301-093300-1362123180.67.gsm\n" +
	"1362125482.87,2013/03/01/10:11:31,CALLTYPE_OUTBOUND,8264,0215551111,,CALL_ANSWERED,60,53,98934,OUT8264-20130301-101131-1362125482.87.gsm  \r\n" +
	`1362126000.90,2013/03/01/10:20:00,CALLTYPE_INBOUND,8266,,"Smith, John" <0215550000>,CALL_BUSY,3,0,0,,Front desk, main,ACC1,SIP/trunk-00000001,SIP/8266-00000002` + "\n" +
	"1362040000.5,2013/02/28/10:26:40,CALLTYPE_INTERNAL,8264,8266,,CALL_NOANSWER,20,0,0,\n\n"

func writeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.txt"), []byte(specIndex), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := bytes.Repeat([]byte{0xd8, 0x20, 0xa1}, 1000)
	if err := os.WriteFile(filepath.Join(dir, "g8266-20130301-093300-1362123180.67.gsm"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDataDir(t *testing.T) {
	dir := writeDir(t)
	srv := startSim(t, Options{DataDir: dir})
	got := truth(srv, time.Time{}, time.Time{})
	if len(got) != 4 {
		t.Fatalf("%d calls, want 4", len(got))
	}
	if got[0].UniqueID != "1362040000.5" || got[3].CallerID != `"Smith, John" <0215550000>` || got[3].FriendlyName != "Front desk, main" || got[3].RawDisposition != "CALL_BUSY" {
		t.Errorf("parsed %+v", got)
	}
	if got[1].Start.Format(time.RFC3339) != "2013-03-01T09:33:00+02:00" {
		t.Errorf("start %s", got[1].Start.Format(time.RFC3339))
	}

	body := get(t, srv, "/commagui/cdr?format=txt&extended&start=20130301", comxAuth).body
	want := strings.Join([]string{
		"1362123180.67,2013/03/01/09:33:00,CALLTYPE_INBOUND,8266,,,CALL_ANSWERED,221,216,365211,g8266-20130301-093300-1362123180.67.gsm,,,,",
		"1362125482.87,2013/03/01/10:11:31,CALLTYPE_OUTBOUND,8264,0215551111,,CALL_ANSWERED,60,53,98934,OUT8264-20130301-101131-1362125482.87.gsm,,,,",
		`1362126000.90,2013/03/01/10:20:00,CALLTYPE_INBOUND,8266,,"Smith, John" <0215550000>,CALL_BUSY,3,0,0,,Front desk, main,ACC1,SIP/trunk-00000001,SIP/8266-00000002`,
	}, "\n") + "\n"
	if string(body) != want {
		t.Errorf("index:\n%s\nwant:\n%s", body, want)
	}

	// The recording on disk is served; the one the index names but the directory lacks is a 404.
	if r := get(t, srv, "/commagui/cdr?id=1362123180.67", comxAuth); r.status != 200 || len(r.body) != 3000 {
		t.Errorf("recording: %d, %d bytes", r.status, len(r.body))
	}
	if r := get(t, srv, "/commagui/cdr?start=20130301101131", comxAuth); r.status != 404 {
		t.Errorf("missing file: %d", r.status)
	}
	files := readZip(t, get(t, srv, "/commagui/cdr?format=ziprec", comxAuth).body)
	if len(files) != 2 {
		t.Errorf("zip holds %v", names(files))
	}

	// Users come from the index when there is no users.csv, and from users.csv when there is.
	if u := srv.Users(); len(u) != 2 || u[0].Extension != "8264" || u[1].Name != "Front desk, main" {
		t.Errorf("users %+v", u)
	}
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte("8264,\"Doe, Jane\",1234\n8266,Reception,9999\n"), 0o644)
	srv2 := startSim(t, Options{DataDir: dir})
	if u := srv2.Users(); len(u) != 2 || u[0].Name != "Doe, Jane" || u[1].PIN.Reveal() != "9999" {
		t.Errorf("users.csv: %+v", u)
	}

	// Difuse rows come from the same calls, in the order they ended.
	pg := getPage(t, srv, "limit=10", difuseAuth)
	if pg.TotalPages != 1 || len(pg.Data) != 4 || pg.Data[0].CallID != "1362040000.5" || pg.Data[3].Disposition != "BUSY" {
		t.Errorf("difuse %+v", pg)
	}
}

func TestDataDirErrors(t *testing.T) {
	if _, err := New(Options{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "index.txt") {
		t.Errorf("missing index: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.txt"), []byte("a,b,c\n"), 0o644)
	if _, err := New(Options{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad index: %v", err)
	}
	if _, err := New(Options{RecordingsDir: t.TempDir()}); err == nil {
		t.Error("an empty recordings directory was accepted")
	}
}

func TestParseIndexLineFuzzSafe(t *testing.T) {
	for _, l := range []string{"", ",,,,,,,,,,", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", strings.Repeat(",", 100)} {
		parseIndexLine(l, time.UTC) // must not panic
	}
}

// TestCurlCron runs the spec's sample cron approach: curl with Basic auth fetching a ziprec range, then
// unzip -t on the file.
func TestCurlCron(t *testing.T) {
	for _, tool := range []string{"curl", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install curl unzip)", tool)
		}
	}
	srv := startSim(t, Options{Days: 2})
	out := filepath.Join(t.TempDir(), "cdr.zip")
	u := srv.URL() + "/commagui/cdr?format=ziprec&start=202402290800&end=202402291200"
	if b, err := exec.Command("curl", "-sSf", "-u", "admin:C@11Me", u, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("curl: %v: %s", err, b)
	}
	b, err := exec.Command("unzip", "-t", out).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "No errors detected") {
		t.Fatalf("unzip -t: %v: %s", err, b)
	}
	if !strings.Contains(string(b), "index.txt") || strings.Count(string(b), "OK") < 2 {
		t.Errorf("unzip -t lists:\n%s", b)
	}
	b, err = exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", "admin:wrong", u).CombinedOutput()
	if err != nil || string(b) != "401" {
		t.Errorf("curl with a wrong password: %s %v", b, err)
	}
}

func TestSynthesizedRecordings(t *testing.T) {
	pool := synthRecordings()
	if len(pool) == 0 {
		t.Fatal("none")
	}
	for _, p := range pool {
		if !bytes.HasPrefix(p.data, []byte("RIFF")) || string(p.data[8:12]) != "WAVE" || p.data[20] != 6 {
			t.Errorf("%s: not an A-law WAV", p.name)
		}
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	// sox decodes it and finds sound in it: a file of silence or garbage would show a tiny RMS.
	f := filepath.Join(t.TempDir(), "a.wav")
	os.WriteFile(f, pool[0].data, 0o644)
	b, err := exec.Command(sox, f, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	var rms float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "RMS     amplitude:") {
			fmt.Sscan(strings.TrimPrefix(line, "RMS     amplitude:"), &rms)
		}
	}
	if rms < 0.05 || rms > 0.7 {
		t.Errorf("RMS amplitude %v; want speech-like loudness\n%s", rms, b)
	}
}

// TestSimWithSynthesizedRecordings is what an installed binary gets: no repository, no recordings directory.
func TestSimWithSynthesizedRecordings(t *testing.T) {
	t.Chdir(t.TempDir())
	if DefaultRecordings() != "" {
		t.Fatal("found testdata outside the repository")
	}
	srv := startSim(t, Options{Days: 1})
	rec := firstWith(t, srv, func(r cdr.Record) bool { return r.HasRecording() })
	if !strings.HasSuffix(rec.Recording, ".wav") {
		t.Errorf("name %s", rec.Recording)
	}
	if r := get(t, srv, "/commagui/cdr?id="+rec.UniqueID, comxAuth); int64(len(r.body)) != rec.RecordingSize || !bytes.HasPrefix(r.body, []byte("RIFF")) {
		t.Errorf("served %d bytes, index says %d", len(r.body), rec.RecordingSize)
	}
}

func TestDefaultRecordingsInRepo(t *testing.T) {
	dir := DefaultRecordings()
	if dir == "" || filepath.Base(dir) != "recordings" {
		t.Fatalf("DefaultRecordings() = %q from inside the repository", dir)
	}
	pool, err := loadRecordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	var gsm, wav int
	for _, p := range pool {
		if p.ext == ".gsm" {
			gsm++
		} else {
			wav++
		}
	}
	if gsm == 0 || wav == 0 {
		t.Errorf("%d gsm and %d wav recordings in %s", gsm, wav, dir)
	}
}

// TestALawMatchesSox checks our A-law encoder against sox's decoder: each sample comes back within A-law's
// quantisation step.
func TestALawMatchesSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	pcm := synthSpeech(9, 1, 180)
	pcm = append(pcm, 0, 1, -1, 32767, -32768, 1000, -1000, 4095, -4096)
	f := filepath.Join(t.TempDir(), "a.wav")
	os.WriteFile(f, alawWAV(pcm), 0o644)
	raw, err := exec.Command(sox, f, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-").Output()
	if err != nil {
		t.Fatalf("sox: %v", err)
	}
	if len(raw) != 2*len(pcm) {
		t.Fatalf("sox decoded %d samples, want %d", len(raw)/2, len(pcm))
	}
	for i, x := range pcm {
		y := int(int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8))
		d := y - int(x)
		if d < 0 {
			d = -d
		}
		ax := int(x)
		if ax < 0 {
			ax = -ax
		}
		if d > ax/16+16 {
			t.Fatalf("sample %d: encoded %d, sox decodes %d", i, x, y)
		}
	}
}

// FuzzParseIndexLine: a directory's index.txt is read with parseIndexLine; no line may panic it, and a line it
// accepts must come back the same through AppendLine's field order (for lines without commas in fields).
func FuzzParseIndexLine(f *testing.F) {
	for _, l := range strings.Split(specIndex, "\n") {
		f.Add(l)
	}
	f.Add(",,,,,,,,,,")
	f.Add("1,2013/03/01/09:33:00,X,1,2,3,4,5,6,7,8,9,10,11,12,13,14")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseIndexLine(line, time.UTC)
		if err != nil {
			return
		}
		if c.rec.DurationS < 0 || c.rec.RecordingSize < 0 {
			t.Errorf("negative numbers from %q", line)
		}
	})
}

// parseIndexLine reads one index line the way loadDir does.
func parseIndexLine(line string, zone *time.Location) (call, error) {
	r, err := comx.NewParser(strings.NewReader(line)).Next()
	if err != nil {
		return call{}, err
	}
	return dirCall(r, zone), nil
}
