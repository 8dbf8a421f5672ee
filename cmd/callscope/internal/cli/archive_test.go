package cli

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// dirState lists every file under dir with its size and content hash.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		v := "dir"
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			v = fmt.Sprintf("%d %x", len(b), sha256.Sum256(b))
		}
		m[p] = v
		return nil
	})
	return m
}

// TestReadCommandsNeverCreate: a read command on a folder without an index, or with an empty or foreign one,
// fails with a line that says so and leaves the folder as it was; it never makes an empty archive.
func TestReadCommandsNeverCreate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(dir string)
		msg     string
	}{
		{"no index", func(string) {}, "is not a callscope archive"},
		{"empty index", func(dir string) { os.WriteFile(filepath.Join(dir, "index.db"), nil, 0o600) }, "its index is damaged: index.db is empty"},
		{"not an index", func(dir string) { os.WriteFile(filepath.Join(dir, "index.db"), []byte("notes\n"), 0o600) }, "its index is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(dir)
			before := dirState(t, dir)
			for _, args := range [][]string{
				{"calls", "--archive", dir, "--from", "2026-11-01"},
				{"call", "--archive", dir, "--id", "1396000115.1"},
				{"calls", "--archive", dir, "--page", "1", "--format", "csv"},
			} {
				out, errs, code := run(t, nil, args...)
				if code != 1 || !strings.Contains(errs, tc.msg) || out != "" || strings.Count(errs, "\n") != 1 {
					t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit 1 saying %q", args, code, out, errs, tc.msg)
				}
			}
			after := dirState(t, dir)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Fatalf("the folder changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestSyncDemoEveryRun: the demo PBX keeps its identity from one run to the next, though its port changes.
func TestSyncDemoEveryRun(t *testing.T) {
	dir := t.TempDir()
	since := time.Now().In(pbxsim.DefaultLocation()).AddDate(0, 0, -1).Format("2006-01-02")
	for i := range 2 {
		stderr, err := runSyncCLI(t, context.Background(), "sync", "--demo", "--dir", dir, "--since", since)
		if err != nil || !strings.Contains(stderr, "synced ") {
			t.Fatalf("run %d: %v\n%s", i+1, err, stderr)
		}
	}
}

// brokenRecordingPBX is a Difuse PBX (the simulator) whose recording of one call answers 500.
func brokenRecordingPBX(t *testing.T, s *pbxsim.Sim) (*httptest.Server, cdr.Record) {
	t.Helper()
	var victim cdr.Record
	s.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool {
		if r.HasRecording() {
			victim = r
			return false
		}
		return true
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/pbx/cdr/recordings/"+victim.UniqueID+"/") {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, victim
}

// TestSyncBadRecordingThenBrowse: a recording that answers 500 leaves the sync successful with one warning,
// and calls --archive shows the call with why its recording is missing.
func TestSyncBadRecordingThenBrowse(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	day := time.Date(2014, 3, 28, 0, 0, 0, 0, zone)
	s, err := pbxsim.New(pbxsim.Options{Days: 2, End: day.Add(-time.Second), CallsPerDay: 30, Zone: zone, Now: day, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, victim := brokenRecordingPBX(t, s)
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultDifuseSecret)
	dir := t.TempDir()
	stderr, err := runSyncCLI(t, context.Background(), "sync", "--kind", "difuse", "--url", srv.URL, "--user",
		pbxsim.DefaultDifuseExtension, "--dir", dir, "--tz", pbxsim.DefaultZone)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if strings.Count(stderr, "warning:") != 1 || !strings.Contains(stderr, "1 recording was not fetched") {
		t.Fatalf("want one warning counting 1 recording:\n%s", stderr)
	}
	out, errs, code := run(t, nil, "calls", "--archive", dir, "--from", "2014-03-26")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, victim.UniqueID) {
			line = l
		}
	}
	if !strings.Contains(line, "recording not fetched: pbx ") || !strings.Contains(line, "HTTP 500") {
		t.Fatalf("the call's line %q does not say why its recording is missing:\n%s", line, out)
	}
	if strings.Count(out, "recording not fetched") != 1 {
		t.Fatalf("other calls marked:\n%s", out)
	}
	// Scripts get the same in one warning; the rows stay the CSV every export writes.
	out, errs, code = run(t, nil, "calls", "--archive", dir, "--from", "2014-03-26", "--format", "csv")
	if code != 0 || strings.Contains(out, "not fetched") || !strings.Contains(errs, "1 call's recording was not fetched") {
		t.Fatalf("csv: exit %d\n%s\n%s", code, errs, out)
	}
	_, errs, code = run(t, nil, "rec", "--archive", dir, "--id", victim.UniqueID, "-o", filepath.Join(t.TempDir(), "x.gsm"))
	if code != 1 || !strings.Contains(errs, "recording not fetched: pbx") {
		t.Fatalf("rec: exit %d: %s", code, errs)
	}
}

// TestSyncShowsClocks: sync says what the PBX's clock and this computer's read, and warns when they differ.
func TestSyncShowsClocks(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	now := time.Date(2014, 3, 28, 12, 0, 0, 0, zone)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 2, CallsPerDay: 30, Zone: zone, Now: now, FrozenClock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	stderr, err := runSyncCLI(t, context.Background(), "sync", "--url", srv.URL(), "--user", "admin", "--dir", t.TempDir(),
		"--tz", pbxsim.DefaultZone)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"PBX clock 2014-03-28 12:00:00 +02:00", "this computer " + time.Now().In(zone).Format("2006-01-02"),
		"years behind this computer's", "complete up to 2014-03-28 12:00"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("no %q in:\n%s", want, stderr)
		}
	}
}
