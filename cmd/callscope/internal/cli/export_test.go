package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/export"
	"github.com/callscope/callscope/client/pbxsim"
)

// reqLog counts the simulator's one-call requests (?id=…), which are recording downloads here.
type reqLog struct {
	mu sync.Mutex
	n  int
}

func (l *reqLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(p, []byte("?id=")) {
		l.n++
	}
	return len(p), nil
}

func (l *reqLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// settled is count once the simulator has logged every request already answered: it logs a request after
// sending the body, so a client can be done before the line is written.
func (l *reqLog) settled() int {
	n := l.count()
	for {
		time.Sleep(50 * time.Millisecond)
		m := l.count()
		if m == n {
			return n
		}
		n = m
	}
}

// exportSim is the brief's simulator: two days of 50 calls ending at midnight in Johannesburg.
func exportSim(t *testing.T) (*pbxsim.Server, *reqLog) {
	t.Helper()
	loc := pbxsim.DefaultLocation()
	log := &reqLog{}
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, End: time.Date(2026, 11, 20, 0, 0, 0, 0, loc), CallsPerDay: 50, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, log
}

var exportEnv = map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword}

// servedRecording is the recording as the PBX serves it over plain HTTP.
func servedRecording(t *testing.T, srv *pbxsim.Server, id string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL()+"/commagui/cdr?id="+url.QueryEscape(id), nil)
	req.SetBasicAuth(pbxsim.DefaultComxUser, pbxsim.DefaultComxPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("recording %s: %d %v", id, resp.StatusCode, err)
	}
	return b
}

// csvRecordings lists unique_id → recording_file for the CSV's calls that have a recording.
func csvRecordings(t *testing.T, data []byte) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		if r[col["recording_file"]] != "" && r[col["recording_size"]] != "0" {
			out[r[col["unique_id"]]] = r[col["recording_file"]]
		}
	}
	return out
}

func readManifest(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := export.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		m[e.UniqueID] = e.File
	}
	return m
}

// finalFiles lists dir, failing on anything hidden (a temporary file) or not a plain file.
func finalFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			t.Errorf("left in %s: %s", dir, e.Name())
		}
		names = append(names, e.Name())
	}
	return names
}

func TestExportCSVAndRecordings(t *testing.T) {
	srv, log := exportSim(t)
	for _, filters := range [][]string{nil, {"--disposition", "answered", "--type", "inbound,outbound"}, {"--ext", "2002"}} {
		t.Run(strings.Join(filters, " "), func(t *testing.T) {
			work := t.TempDir()
			csvPath, dir := filepath.Join(work, "calls.csv"), filepath.Join(work, "rec")
			base := []string{"--url", srv.URL(), "--user", "admin", "--from", "2026-11-19", "--to", "20261120"}
			want, errs, code := run(t, exportEnv, append(append([]string{"calls", "--format", "csv"}, base...), filters...)...)
			if code != 0 {
				t.Fatalf("calls: exit %d %s", code, errs)
			}
			out, errs, code := run(t, exportEnv, append(append([]string{"export", "-o", csvPath, "--recordings", dir}, base...), filters...)...)
			if code != 0 || out != "" {
				t.Fatalf("export: exit %d, stdout %q, stderr %s", code, out, errs)
			}
			got, _ := os.ReadFile(csvPath)
			if string(got) != want {
				t.Fatalf("the export's CSV differs from calls --format csv:\n%s\nwant:\n%s", got, want)
			}
			recs := csvRecordings(t, got)
			if len(recs) == 0 {
				t.Fatal("no calls with a recording in the range")
			}
			m := readManifest(t, dir)
			if len(m) != len(recs) || len(finalFiles(t, dir)) != len(recs)+1 {
				t.Fatalf("manifest has %d, files %d, for %d recordings", len(m), len(finalFiles(t, dir)), len(recs))
			}
			for id := range recs {
				b, err := os.ReadFile(filepath.Join(dir, m[id]))
				if err != nil || !bytes.Equal(b, servedRecording(t, srv, id)) {
					t.Fatalf("call %s: %s is not what the PBX serves (%v)", id, m[id], err)
				}
			}
			// Not a terminal: a plain line per file, and the summary.
			n := 0
			for _, line := range strings.Split(errs, "\n") {
				if strings.HasPrefix(line, "saved ") {
					n++
				}
			}
			if n != len(recs) {
				t.Errorf("%d 'saved' lines for %d recordings:\n%s", n, len(recs), errs)
			}
			if !strings.Contains(errs, "recordings in "+dir+": ") {
				t.Errorf("no summary:\n%s", errs)
			}

			// Run again: nothing is fetched, every file is skipped.
			before := log.settled()
			_, errs, code = run(t, exportEnv, append(append([]string{"export", "-o", csvPath, "--recordings", dir}, base...), filters...)...)
			if code != 0 || log.settled() != before || strings.Count(errs, "already complete)") != len(recs) {
				t.Fatalf("rerun: exit %d, %d downloads:\n%s", code, log.count()-before, errs)
			}
		})
	}
}

func TestExportConvertWAV(t *testing.T) {
	srv, _ := exportSim(t)
	work := t.TempDir()
	dir := filepath.Join(work, "wav")
	_, errs, code := run(t, exportEnv, "export", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-19",
		"--to", "2026-11-20", "-o", filepath.Join(work, "c.csv"), "--recordings", dir, "--convert", "wav", "--parallel", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files := finalFiles(t, dir)
	if len(files) < 10 {
		t.Fatalf("files %v", files)
	}
	for _, name := range files {
		if name == export.ManifestName {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if !strings.HasSuffix(name, ".wav") || len(b) < 44 || string(b[:4]) != "RIFF" || b[20] != 1 || b[34] != 16 {
			t.Fatalf("%s is not 16-bit PCM WAV", name)
		}
	}
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox is not installed")
	}
	for _, name := range files[:3] {
		p := filepath.Join(dir, name)
		if out, err := exec.Command("sox", "--i", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "16-bit Signed Integer PCM") {
			t.Fatalf("sox --i %s: %v\n%s", name, err, out)
		}
		if out, err := exec.Command("sox", p, "-n", "stat").CombinedOutput(); err != nil || !strings.Contains(string(out), "Samples read") {
			t.Fatalf("sox stat %s: %v\n%s", name, err, out)
		}
	}
}

func TestExportFailuresExitOneAndRerunCompletes(t *testing.T) {
	srv, _ := exportSim(t)
	work := t.TempDir()
	dir := filepath.Join(work, "rec")
	args := []string{"export", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-18", "--to", "2026-11-20",
		"-o", filepath.Join(work, "c.csv"), "--recordings", dir}
	// The PBX drops connections after 100 kB: the index arrives whole, the longer recordings are cut off.
	srv.SetFaults(pbxsim.Faults{CutAfterBytes: 100000})
	_, errs, code := run(t, exportEnv, args...)
	if code != 1 || !strings.Contains(errs, "failed: pbx") || !strings.Contains(errs, "cut off") ||
		!strings.Contains(errs, "recordings could not be saved (see above); run the same command again") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	for _, name := range finalFiles(t, dir) {
		if st, _ := os.Stat(filepath.Join(dir, name)); st.Size() >= 100000 {
			t.Errorf("%s: %d bytes, more than the PBX sent whole", name, st.Size())
		}
	}
	srv.SetFaults(pbxsim.Faults{})
	_, errs, code = run(t, exportEnv, args...)
	if code != 0 || !strings.Contains(errs, "already complete") {
		t.Fatalf("rerun: exit %d:\n%s", code, errs)
	}
	got, _ := os.ReadFile(filepath.Join(work, "c.csv"))
	m := readManifest(t, dir)
	for id := range csvRecordings(t, got) {
		if b, _ := os.ReadFile(filepath.Join(dir, m[id])); !bytes.Equal(b, servedRecording(t, srv, id)) {
			t.Fatalf("call %s: %q is not what the PBX serves", id, m[id])
		}
	}
}

// An export stopped mid-download (Ctrl-C) leaves only whole files, says how to finish, and a rerun finishes.
func TestExportInterrupted(t *testing.T) {
	srv, _ := exportSim(t)
	srv.SetFaults(pbxsim.Faults{Latency: 30 * time.Millisecond})
	work := t.TempDir()
	dir := filepath.Join(work, "rec")
	args := []string{"export", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-18", "--to", "2026-11-20",
		"-o", filepath.Join(work, "c.csv"), "--recordings", dir}
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // stop once a few files are saved, with more downloads under way
		for ctx.Err() == nil {
			if ents, _ := os.ReadDir(dir); len(ents) >= 5 {
				cancel()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var errb bytes.Buffer
	a := &app{stdout: io.Discard, stderr: &errb}
	root := a.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "run the same command again to finish") {
		t.Fatalf("err %v\n%s", err, errb.String())
	}
	m := readManifest(t, dir)
	if len(finalFiles(t, dir)) != len(m)+1 {
		t.Fatalf("%d files, %d in the manifest", len(finalFiles(t, dir)), len(m))
	}
	for id, name := range m {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, servedRecording(t, srv, id)) {
			t.Fatalf("%s is not whole", name)
		}
	}
	srv.SetFaults(pbxsim.Faults{})
	_, errs, code := run(t, exportEnv, args...)
	got, _ := os.ReadFile(filepath.Join(work, "c.csv"))
	recs := csvRecordings(t, got)
	if code != 0 || strings.Count(errs, "already complete)") != len(m) || len(readManifest(t, dir)) != len(recs) {
		t.Fatalf("rerun: exit %d, %d skipped of %d before:\n%s", code, strings.Count(errs, "already complete)"), len(m), errs)
	}
}

func TestExportUsageErrors(t *testing.T) {
	srv, _ := exportSim(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"export", "--url", srv.URL()}, "-o FILE"},
		{[]string{"export", "--url", srv.URL(), "-o", "x.csv", "--convert", "mp3", "--recordings", "r"}, "--convert"},
		{[]string{"export", "--url", srv.URL(), "-o", "x.csv", "--convert", "wav"}, "--recordings DIR"},
		{[]string{"export", "--url", srv.URL(), "-o", "x.csv", "--parallel", "0"}, "--parallel"},
		{[]string{"export", "--url", srv.URL(), "-o", "x", "--recordings", "x"}, "same path"},
	} {
		_, errs, code := run(t, nil, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q", tc.args, code, errs)
		}
	}
}

func TestExportCSVToStdout(t *testing.T) {
	srv, _ := exportSim(t)
	base := []string{"--url", srv.URL(), "--user", "admin", "--from", "2026-11-19", "--to", "2026-11-20"}
	want, _, _ := run(t, exportEnv, append([]string{"calls", "--format", "csv"}, base...)...)
	got, errs, code := run(t, exportEnv, append([]string{"export", "-o", "-"}, base...)...)
	if code != 0 || got != want || want == "" {
		t.Fatalf("exit %d %s; stdout differs from calls --format csv", code, errs)
	}
}
