package export

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/connect"
	"github.com/callscope/callscope/client/pbxsim"
)

// requestLog counts the simulator's requests by kind (it writes one line per request from many goroutines).
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// recordingRequests counts one-call requests (?id=…): recordings, here. The simulator logs a request after
// sending its body, so the count is taken once no more lines arrive.
func (l *requestLog) recordingRequests() int {
	count := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, s := range l.lines {
			if strings.Contains(s, "?id=") {
				n++
			}
		}
		return n
	}
	n := count()
	for {
		time.Sleep(50 * time.Millisecond)
		m := count()
		if m == n {
			return n
		}
		n = m
	}
}

type fixture struct {
	srv   *pbxsim.Server
	src   cdr.Source
	calls []cdr.Record
	log   *requestLog
}

func start(t testing.TB, o pbxsim.Options) *fixture {
	t.Helper()
	f := &fixture{log: &requestLog{}}
	o.Log = f.log
	srv, err := pbxsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	loc := pbxsim.DefaultLocation()
	src, err := connect.Open(connect.Settings{URL: srv.URL(), User: pbxsim.DefaultComxUser,
		Password: cdr.Secret(pbxsim.DefaultComxPassword), Zone: loc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, f.src = srv, src
	if _, err := src.Calls(context.Background(), cdr.Query{}, func(r cdr.Record) error {
		f.calls = append(f.calls, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// twoDays is the simulator the brief names: two days ending at midnight in the PBX's zone.
func twoDays(t testing.TB) *fixture {
	loc := pbxsim.DefaultLocation()
	return start(t, pbxsim.Options{Days: 2, End: time.Date(2026, 11, 20, 0, 0, 0, 0, loc), CallsPerDay: 50})
}

// served is the recording as the PBX serves it over plain HTTP, not through callscope's client.
func (f *fixture) served(t *testing.T, id string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL()+"/commagui/cdr?id="+url.QueryEscape(id), nil)
	req.SetBasicAuth(pbxsim.DefaultComxUser, pbxsim.DefaultComxPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET recording %s: %d %v", id, resp.StatusCode, err)
	}
	return b
}

func (f *fixture) withRecording() []cdr.Record {
	var out []cdr.Record
	for _, r := range f.calls {
		if r.HasRecording() {
			out = append(out, r)
		}
	}
	return out
}

// manifest reads dir's manifest as unique_id → file, failing on a malformed file.
func manifest(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(ManifestColumns, ",") {
		t.Fatalf("manifest header %v", rows[0])
	}
	m := map[string]string{}
	for _, r := range rows[1:] {
		if _, dup := m[r[0]]; dup {
			t.Fatalf("manifest lists %s twice", r[0])
		}
		m[r[0]] = r[1]
	}
	return m
}

// noLeftovers fails when dir holds anything but final files and the manifest: no temporary files, no folders.
func noLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in %s: %s (%v)", dir, e.Name(), e.Type())
		}
		names = append(names, e.Name())
	}
	return names
}

// checkAsServed fails unless every call with a recording has its file in dir, byte for byte as served.
func checkAsServed(t *testing.T, f *fixture, dir string) {
	t.Helper()
	m := manifest(t, dir)
	for _, r := range f.withRecording() {
		name, ok := m[r.UniqueID]
		if !ok {
			t.Errorf("call %s is not in the manifest", r.UniqueID)
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("call %s: %v", r.UniqueID, err)
			continue
		}
		if !bytes.Equal(got, f.served(t, r.UniqueID)) {
			t.Errorf("call %s: %s differs from what the PBX serves", r.UniqueID, name)
		}
	}
}

func TestRecordingsAsServedAndRerunSkips(t *testing.T) {
	f := twoDays(t)
	recs := f.withRecording()
	if len(recs) < 20 {
		t.Fatalf("only %d calls with a recording", len(recs))
	}
	dir := filepath.Join(t.TempDir(), "rec")
	var planned Event
	var progress int64
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 4, Resume: true,
		OnEvent: func(e Event) {
			switch e.Kind {
			case Planned:
				planned = e
			case Progress:
				progress += e.Bytes
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != len(recs) || sum.Saved != len(recs) || sum.Failed != 0 || sum.Skipped != 0 || sum.Cancelled {
		t.Fatalf("summary %+v, want %d saved", sum, len(recs))
	}
	if planned.Files != len(recs) || progress != sum.Downloaded || sum.Bytes != sum.Downloaded {
		t.Fatalf("planned %+v, progress %d, summary %+v", planned, progress, sum)
	}
	checkAsServed(t, f, dir)
	names := noLeftovers(t, dir)
	if len(names) != len(recs)+1 {
		t.Fatalf("%d files for %d recordings: %v", len(names), len(recs), names)
	}
	for _, r := range recs { // named after the ID, with the format's extension
		if m := manifest(t, dir)[r.UniqueID]; m != r.UniqueID+filepath.Ext(r.Recording) {
			t.Fatalf("call %s saved as %s (PBX name %s)", r.UniqueID, m, r.Recording)
		}
	}

	before := f.log.recordingRequests()
	sum, err = Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 4, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != len(recs) || sum.Saved != 0 || f.log.recordingRequests() != before {
		t.Fatalf("rerun: %+v, %d requests", sum, f.log.recordingRequests()-before)
	}
	checkAsServed(t, f, dir)

	// A file deleted since is fetched again; the others are still skipped.
	gone := manifest(t, dir)[recs[3].UniqueID]
	os.Remove(filepath.Join(dir, gone))
	sum, _ = Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true})
	if sum.Saved != 1 || sum.Skipped != len(recs)-1 || manifest(t, dir)[recs[3].UniqueID] != gone {
		t.Fatalf("after deleting %s: %+v", gone, sum)
	}
	checkAsServed(t, f, dir)
}

func TestConvertWAV(t *testing.T) {
	f := twoDays(t)
	dir := t.TempDir()
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Convert: "wav", Parallel: 3, Resume: true})
	if err != nil || sum.Failed != 0 || sum.Saved != len(f.withRecording()) {
		t.Fatalf("%+v %v", sum, err)
	}
	m := manifest(t, dir)
	formats := map[string]bool{}
	for _, r := range f.withRecording() {
		name := m[r.UniqueID]
		if name != r.UniqueID+".wav" {
			t.Fatalf("call %s converted into %q", r.UniqueID, name)
		}
		got, _ := os.ReadFile(filepath.Join(dir, name))
		// The header of 16-bit PCM mono, and a data size that matches the file.
		le := binary.LittleEndian
		if len(got) < 46 || string(got[:4]) != "RIFF" || string(got[8:16]) != "WAVEfmt " || le.Uint16(got[20:]) != 1 ||
			le.Uint16(got[22:]) != 1 || le.Uint16(got[34:]) != 16 || string(got[36:40]) != "data" ||
			int(le.Uint32(got[40:])) != len(got)-44 {
			t.Fatalf("%s is not 16-bit PCM mono WAV: % x", name, got[:min(len(got), 44)])
		}
		// The samples are exactly what decoding the served recording gives.
		raw := f.served(t, r.UniqueID)
		s, err := decode.Open(decode.Bytes(bytes.NewReader(raw), int64(len(raw))), r.Recording)
		if err != nil {
			t.Fatal(err)
		}
		formats[s.Info().Format] = true
		want, _ := decode.DecodeAll(s)
		wantBytes := make([]byte, 2*len(want))
		for i, v := range want {
			le.PutUint16(wantBytes[2*i:], uint16(v))
		}
		if int(le.Uint32(got[24:])) != s.Info().SampleRate || !bytes.Equal(got[44:], wantBytes) {
			t.Fatalf("%s: rate %d, %d sample bytes; want rate %d, %d bytes", name, le.Uint32(got[24:]), len(got)-44,
				s.Info().SampleRate, len(wantBytes))
		}
	}
	if len(formats) < 2 {
		t.Errorf("the simulator served only %v; the test wants several source formats", formats)
	}
	if _, err := exec.LookPath("sox"); err != nil {
		t.Log("sox is not installed; skipping the check that sox reads the files")
	} else {
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for _, v := range m {
				if !yield(v) {
					return
				}
			}
		})[:5] {
			p := filepath.Join(dir, name)
			info, err := exec.Command("sox", "--i", p).CombinedOutput()
			if err != nil || !strings.Contains(string(info), "16-bit Signed Integer PCM") {
				t.Fatalf("sox --i %s: %v\n%s", name, err, info)
			}
			if out, err := exec.Command("sox", p, "-n", "stat").CombinedOutput(); err != nil ||
				!strings.Contains(string(out), "RMS     amplitude") {
				t.Fatalf("sox stat %s: %v\n%s", name, err, out)
			}
		}
	}

	// The same export without --convert is a different file for the same call: it is fetched again.
	sum, _ = Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true})
	if sum.Skipped != 0 || sum.Saved != len(f.withRecording()) {
		t.Fatalf("unconverted after converted: %+v", sum)
	}
	sum, _ = Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true})
	if sum.Skipped != len(f.withRecording()) {
		t.Fatalf("second unconverted run: %+v", sum)
	}
}

func TestCutOffDownloadsLeaveNoPartialFiles(t *testing.T) {
	f := twoDays(t)
	recs := f.withRecording()
	dir := t.TempDir()
	// The PBX drops every connection after 100 kB: the smaller recordings arrive, the larger are cut off.
	const cut = 100000
	f.srv.SetFaults(pbxsim.Faults{CutAfterBytes: cut})
	var failed []string
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 2, Resume: true,
		OnEvent: func(e Event) {
			if e.Kind == Failed {
				failed = append(failed, e.Call.UniqueID+": "+e.Err.Error())
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed == 0 || sum.Saved == 0 || sum.Failed+sum.Saved != len(recs) || len(failed) != sum.Failed {
		t.Fatalf("with cut-off bodies: %d saved, %d failed of %d", sum.Saved, sum.Failed, len(recs))
	}
	if !strings.Contains(failed[0], "cut off") {
		t.Errorf("failure says %q", failed[0])
	}
	m := manifest(t, dir)
	for _, name := range noLeftovers(t, dir) {
		if name == ManifestName {
			continue
		}
		if st, _ := os.Stat(filepath.Join(dir, name)); st.Size() >= cut {
			t.Errorf("%s has %d bytes although the PBX sent at most %d", name, st.Size(), cut)
		}
	}
	if len(m) != sum.Saved {
		t.Fatalf("manifest lists %d, saved %d", len(m), sum.Saved)
	}

	f.srv.SetFaults(pbxsim.Faults{})
	sum2, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 2, Resume: true})
	if err != nil || sum2.Saved != sum.Failed || sum2.Skipped != sum.Saved || sum2.Failed != 0 {
		t.Fatalf("rerun: %+v %v", sum2, err)
	}
	checkAsServed(t, f, dir)
	noLeftovers(t, dir)
}

func TestCancelMidDownload(t *testing.T) {
	f := twoDays(t)
	recs := f.withRecording()
	dir := t.TempDir()
	// Slow the PBX so the downloads are under way when the export is stopped.
	f.srv.SetFaults(pbxsim.Faults{Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := 0
	var inHand string
	sum, err := Save(ctx, Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 3, Resume: true,
		OnEvent: func(e Event) {
			switch e.Kind {
			case Started:
				started++
			case Progress:
				if started >= 6 && inHand == "" {
					inHand = e.Call.UniqueID
					cancel() // while this recording's body is being read
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Cancelled || sum.Saved >= len(recs) || sum.Failed != 0 || inHand == "" {
		t.Fatalf("cancelled run: %+v (stopped in %q)", sum, inHand)
	}
	m := manifest(t, dir)
	if _, ok := m[inHand]; ok {
		t.Errorf("the recording being read when stopped (%s) was saved", inHand)
	}
	names := noLeftovers(t, dir)
	if len(names) != sum.Saved+1 || len(m) != sum.Saved {
		t.Fatalf("%d files and %d manifest lines after saving %d: %v", len(names), len(m), sum.Saved, names)
	}
	for id, name := range m {
		got, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(got, f.served(t, id)) {
			t.Errorf("%s is not the whole recording", name)
		}
	}

	f.srv.SetFaults(pbxsim.Faults{})
	sum2, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Parallel: 3, Resume: true})
	if err != nil || sum2.Skipped != sum.Saved || sum2.Saved != len(recs)-sum.Saved || sum2.Failed != 0 {
		t.Fatalf("rerun: %+v %v", sum2, err)
	}
	checkAsServed(t, f, dir)
}

// A run killed after renaming a file but before its manifest line (or a manifest line cut in half) loses
// nothing: the index's size recognises the file, the torn line is dropped.
func TestKilledBetweenFileAndManifest(t *testing.T) {
	f := twoDays(t)
	recs := f.withRecording()
	dir := t.TempDir()
	if _, err := Save(context.Background(), Records(f.calls[:len(f.calls)/2]), Options{Source: f.src, Dir: dir, Resume: true}); err != nil {
		t.Fatal(err)
	}
	// Forget the last two lines, as if killed before writing them, and leave half a line, as if killed while
	// writing one; also a temporary file as a killed download leaves it.
	b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	torn := strings.Join(lines[:len(lines)-2], "") + lines[len(lines)-2][:8]
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(torn), 0o644)
	os.WriteFile(filepath.Join(dir, "."+recs[len(recs)-1].UniqueID+".gsm.123.tmp"), []byte("half"), 0o600)

	before := f.log.recordingRequests()
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true})
	if err != nil || sum.Failed != 0 || sum.Saved+sum.Skipped != len(recs) {
		t.Fatalf("%+v %v", sum, err)
	}
	if got := f.log.recordingRequests() - before; got != sum.Saved {
		t.Errorf("%d requests for %d recordings", got, sum.Saved)
	}
	checkAsServed(t, f, dir)
	names := noLeftovers(t, dir)
	if len(names) != len(recs)+1 {
		t.Fatalf("files %v", names)
	}
}

// Files in the folder that the export did not write are never replaced: the call takes the next name.
func TestForeignFilesAreKept(t *testing.T) {
	f := twoDays(t)
	recs := f.withRecording()
	dir := t.TempDir()
	first := recs[0]
	mine := filepath.Join(dir, first.UniqueID+filepath.Ext(first.Recording))
	os.WriteFile(mine, []byte("my notes"), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.gsm"), []byte("x"), 0o644)
	if _, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "my notes" {
		t.Fatal("a file the export did not write was replaced")
	}
	if got := manifest(t, dir)[first.UniqueID]; got != first.UniqueID+"-2"+filepath.Ext(first.Recording) {
		t.Fatalf("saved as %s", got)
	}
	checkAsServed(t, f, dir)
}

// hostileIndex is a Com.X index whose IDs try to climb out of the folder, collide once made safe, hide, name
// devices, or are empty, and whose file names are paths.
const hostileIndex = `../../etc/passwd,2026/11/19/09:00:00,CALLTYPE_INBOUND,201,,0215550001,CALL_ANSWERED,10,9,3300,ok1.gsm
a/b,2026/11/19/09:01:00,CALLTYPE_INBOUND,201,,0215550002,CALL_ANSWERED,10,9,3300,ok2.gsm
a_b,2026/11/19/09:02:00,CALLTYPE_INBOUND,201,,0215550003,CALL_ANSWERED,10,9,3300,ok3.gsm
A_B,2026/11/19/09:03:00,CALLTYPE_INBOUND,201,,0215550004,CALL_ANSWERED,10,9,3300,ok4.gsm
.hidden,2026/11/19/09:04:00,CALLTYPE_INBOUND,201,,0215550005,CALL_ANSWERED,10,9,3300,ok5.gsm
CON,2026/11/19/09:05:00,CALLTYPE_INBOUND,201,,0215550006,CALL_ANSWERED,10,9,3300,ok6.gsm
manifest,2026/11/19/09:06:00,CALLTYPE_INBOUND,201,,0215550007,CALL_ANSWERED,10,9,3300,ok7.gsm
1763542000.1,2026/11/19/09:07:00,CALLTYPE_INBOUND,201,,0215550008,CALL_ANSWERED,10,9,3300,../../../../tmp/evil.gsm
1763542000.2,2026/11/19/09:08:00,CALLTYPE_INBOUND,201,,0215550009,CALL_ANSWERED,10,9,3300,/etc/shadow
1763542000.3,2026/11/19/09:09:00,CALLTYPE_INBOUND,201,,0215550010,CALL_ANSWERED,10,9,3300,x;rm -rf ~.gsm
`

func TestHostileIDsAndNames(t *testing.T) {
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "index.txt"), []byte(hostileIndex), 0o644)
	gsm := bytes.Repeat(append([]byte{0xd8}, make([]byte, 32)...), 100)
	for i := 1; i <= 7; i++ {
		os.WriteFile(filepath.Join(data, fmt.Sprintf("ok%d.gsm", i)), gsm, 0o644)
	}
	os.WriteFile(filepath.Join(data, "x;rm -rf ~.gsm"), gsm, 0o644)
	f := start(t, pbxsim.Options{DataDir: data})
	if len(f.calls) != 10 {
		t.Fatalf("%d calls", len(f.calls))
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "rec")
	var failed []string
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true,
		OnEvent: func(e Event) {
			if e.Kind == Failed {
				failed = append(failed, e.Call.UniqueID)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The two whose PBX names are paths are not served (404): reported, the rest saved.
	if sum.Saved != 8 || sum.Failed != 2 || strings.Join(failed, " ") != "1763542000.1 1763542000.2" {
		t.Fatalf("%+v failed %v", sum, failed)
	}
	if err := sum.FirstErr(); err == nil || !strings.Contains(err.Error(), "call 1763542000.1") {
		t.Errorf("first error %v", err)
	}
	got := strings.Join(noLeftovers(t, dir), " ")
	want := "1763542000.3.gsm A_B-3.gsm _._.._etc_passwd.gsm _CON.gsm _hidden.gsm a_b-2.gsm a_b.gsm manifest-2.gsm manifest.csv"
	if got != want {
		t.Fatalf("files:\n%s\nwant:\n%s", got, want)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 1 {
		t.Fatalf("something was written beside the folder: %v", ents)
	}
	m := manifest(t, dir)
	if m["a/b"] != "a_b.gsm" || m["a_b"] != "a_b-2.gsm" || m["../../etc/passwd"] != "_._.._etc_passwd.gsm" {
		t.Fatalf("manifest %v", m)
	}
	// Rerun: the same names, nothing fetched twice.
	sum, _ = Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Resume: true})
	if sum.Skipped != 8 || sum.Failed != 2 || strings.Join(noLeftovers(t, dir), " ") != want {
		t.Fatalf("rerun %+v", sum)
	}
}

func TestConvertReportsACorruptRecording(t *testing.T) {
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "index.txt"), []byte(
		"1763542000.1,2026/11/19/09:00:00,CALLTYPE_INBOUND,201,,0215550001,CALL_ANSWERED,10,9,3300,good.gsm\n"+
			"1763542000.2,2026/11/19/09:01:00,CALLTYPE_INBOUND,201,,0215550002,CALL_ANSWERED,10,9,3300,bad.wav\n"), 0o644)
	os.WriteFile(filepath.Join(data, "good.gsm"), bytes.Repeat(append([]byte{0xd8}, make([]byte, 32)...), 100), 0o644)
	os.WriteFile(filepath.Join(data, "bad.wav"), []byte("RIFF\x10\x00\x00\x00WAVEjunkjunkjunkjunk"), 0o644)
	f := start(t, pbxsim.Options{DataDir: data})
	dir := t.TempDir()
	sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: dir, Convert: "wav", Resume: true})
	if err != nil || sum.Saved != 1 || sum.Failed != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	if e := sum.FirstErr(); e == nil || !strings.Contains(e.Error(), "1763542000.2: cannot convert") {
		t.Fatalf("error %v", e)
	}
	if got := strings.Join(noLeftovers(t, dir), " "); got != "1763542000.1.wav manifest.csv" {
		t.Fatalf("files %s", got)
	}
}

func TestReadManifestIgnoresLinesThatClimbOut(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("unique_id,file,bytes,convert,recording_file\n"+
		"1,../../x.wav,10,,\n2,.hidden,10,,\n3,ok.wav,10,,\n4,a/b.wav,10,,\n5,manifest.csv,10,,\n3,ok-2.wav,12,wav,r\n6,sp ace.wav,1,,\n7,torn"), 0o644)
	got, err := ReadManifest(dir)
	if err != nil || len(got) != 1 || got[0] != (ManifestEntry{UniqueID: "3", File: "ok-2.wav", Bytes: 12, Convert: "wav", RecordingFile: "r"}) {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestWriteCSVMatchesTheWriter(t *testing.T) {
	f := twoDays(t)
	path := filepath.Join(t.TempDir(), "calls.csv")
	n, err := WriteCSV(context.Background(), path, Records(f.calls), CSVOptions{})
	if err != nil || n != len(f.calls) {
		t.Fatal(n, err)
	}
	var want bytes.Buffer
	w := cdr.NewCSVWriter(&want)
	for i := range f.calls {
		w.Write(&f.calls[i])
	}
	w.Flush()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want.Bytes()) {
		t.Fatal("WriteCSV differs from cdr.CSVWriter")
	}
	if _, err := WriteCSV(context.Background(), path, Records(f.calls[:1]), CSVOptions{}); err == nil {
		t.Fatal("replaced an existing file without overwrite")
	}
	if n, err := WriteCSV(context.Background(), path, Records(f.calls[:1]), CSVOptions{Overwrite: true}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
}

// Difuse's index gives no recording sizes: the manifest alone says a file is complete.
func TestDifuseRerunSkipsByManifest(t *testing.T) {
	loc := pbxsim.DefaultLocation()
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, End: time.Date(2026, 11, 20, 0, 0, 0, 0, loc), CallsPerDay: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src, err := connect.Open(connect.Settings{Kind: cdr.KindDifuse, URL: srv.URL(), User: pbxsim.DefaultDifuseExtension,
		Password: cdr.Secret(pbxsim.DefaultDifuseSecret), Zone: loc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var calls []cdr.Record
	if _, err := src.Calls(context.Background(), cdr.Query{From: time.Date(2026, 11, 18, 0, 0, 0, 0, loc),
		To: time.Date(2026, 11, 20, 0, 0, 0, 0, loc)}, func(r cdr.Record) error {
		calls = append(calls, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var planned Event
	sum, err := Save(context.Background(), Records(calls), Options{Source: src, Dir: dir, Parallel: 2, Resume: true,
		OnEvent: func(e Event) {
			if e.Kind == Planned {
				planned = e
			}
		}})
	if err != nil || sum.Saved == 0 || sum.Failed != 0 || planned.Unknown != sum.Saved {
		t.Fatalf("%+v planned %+v %v", sum, planned, err)
	}
	sum2, _ := Save(context.Background(), Records(calls), Options{Source: src, Dir: dir, Resume: true})
	if sum2.Skipped != sum.Saved || sum2.Saved != 0 {
		t.Fatalf("rerun %+v", sum2)
	}
}

// shortSource serves recordings whose body ends, without an error, before the size it announced: what a
// source without the transport's own check would hand over.
type shortSource struct{ cdr.Source }

func (shortSource) Recording(_ context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	return &cdr.Recording{ReadCloser: io.NopCloser(bytes.NewReader(make([]byte, 500))), Format: "", Size: 1000}, nil
}

func TestShortBodyIsNotSaved(t *testing.T) {
	recs := Records{{UniqueID: "1.1", Recording: "a.gsm", RecordingSize: 1000}}
	dir := t.TempDir()
	sum, err := Save(context.Background(), recs, Options{Source: shortSource{}, Dir: dir, Resume: true})
	if err != nil || sum.Failed != 1 || !strings.Contains(sum.FirstErr().Error(), "got 500 of 1000 bytes") {
		t.Fatalf("%+v %v", sum, err)
	}
	if got := strings.Join(noLeftovers(t, dir), " "); got != ManifestName {
		t.Fatalf("files %s", got)
	}
}

// The manifest is opened in spreadsheets too: the PBX's text in it is neutralised, and read back as it was.
func TestManifestNeutralisesFormulasAndReadsThemBack(t *testing.T) {
	dir := t.TempDir()
	entries := []ManifestEntry{
		{UniqueID: "@1795078004.5", File: "_1795078004.5.gsm", Bytes: 10, RecordingFile: `=cmd|' /C calc'!A0.gsm`},
		{UniqueID: "1795078000.1", File: "1795078000.1.gsm", Bytes: 12, RecordingFile: "+27 82 123 4567"},
		{UniqueID: "-2+3", File: "-2_3.gsm", Bytes: 14, Convert: "wav", RecordingFile: "x.gsm"},
	}
	if err := writeManifest(dir, entries); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != "'@1795078004.5" || rows[1][4] != `'=cmd|' /C calc'!A0.gsm` || rows[2][4] != "+27 82 123 4567" ||
		rows[3][0] != "'-2+3" {
		t.Errorf("manifest cells %q", rows)
	}
	got, err := ReadManifest(dir)
	if err != nil || !slices.Equal(got, entries) {
		t.Errorf("read back %+v, %v; want %+v", got, err, entries)
	}
}

func TestWriteCSVRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.csv")
	calls := Records{{UniqueID: "1.1", CallerID: "=1+1", DurationS: 1, BillableS: 1}}
	for _, tc := range []struct {
		raw  bool
		want string
	}{{false, "'=1+1"}, {true, "=1+1"}} {
		if _, err := WriteCSV(context.Background(), path, calls, CSVOptions{Overwrite: true, Raw: tc.raw}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		rows, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if len(rows) != 2 || rows[1][6] != tc.want {
			t.Errorf("raw %v: %q", tc.raw, rows)
		}
	}
}

// FuzzReadManifest: any manifest reads without panicking, gives only plain files in the folder, and what it
// gives is written and read back the same (the neutralising prefix comes off again).
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("unique_id,file,bytes,convert,recording_file\n'@1.1,a.gsm,10,,'=x\n2,b.wav,3,wav,'-2+3\n"))
	f.Add([]byte("1,../x,1,,\n'',a.gsm,1,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if !validFile(e.File) || e.UniqueID == "" || e.Bytes <= 0 {
				t.Fatalf("entry %+v", e)
			}
		}
		if err := writeManifest(dir, got); err != nil {
			t.Fatal(err)
		}
		again, err := ReadManifest(dir)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("read back %+v (%v), wrote %+v", again, err, got)
		}
	})
}
