package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestCallsSearch: calls --search finds the same calls on the PBX (filtered here) and in an archive (from its
// index): a number however it is written, a user's name, a call ID; the rows are those, and only those, that
// hold the text.
func TestCallsSearch(t *testing.T) {
	zone := pbxsim.DefaultLocation()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, zone).Add(-time.Second)
	opts := pbxsim.Options{Days: 3, End: end, CallsPerDay: 80, Zone: zone}
	s, err := pbxsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pbxsim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	dir := t.TempDir()
	if stderr, err := runSyncCLI(t, context.Background(), "sync", "--url", srv.URL(), "--user", "admin", "--dir", dir,
		"--since", "2026-11-17", "--tz", pbxsim.DefaultZone); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var recs []cdr.Record
	s.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool { recs = append(recs, r); return true })
	var number, id string
	for _, r := range recs {
		if len(r.DialledNumber) == 10 && number == "" {
			number = r.DialledNumber
		}
		id = r.UniqueID
	}
	user := s.Users()[0]
	spaced := number[:3] + " " + number[3:6] + "-" + number[6:] // 082 555-1234
	for _, tc := range []struct {
		text string
		want func(r cdr.Record) bool
	}{
		{spaced, func(r cdr.Record) bool { return strings.Contains(r.DialledNumber+r.CallerID, number) }},
		{strings.ToUpper(strings.Fields(user.Name)[0]), func(r cdr.Record) bool {
			name := strings.ToLower(strings.Fields(user.Name)[0])
			return r.Extension == user.Extension || strings.Contains(strings.ToLower(r.FriendlyName+r.CallerID+r.DialledNumber), name)
		}},
		{id, func(r cdr.Record) bool { return strings.Contains(r.UniqueID, id) }},
	} {
		want := 0
		for _, r := range recs {
			if !r.Start.Before(time.Date(2026, 11, 17, 0, 0, 0, 0, zone)) && tc.want(r) {
				want++
			}
		}
		q := []string{"calls", "--from", "2026-11-17", "--to", "2026-11-20", "--format", "csv", "--extended",
			"--tz", pbxsim.DefaultZone, "--search", tc.text}
		fromPBX, fromArchive := pbxAndArchive(t, q, srv.URL(), dir)
		if rows := strings.Count(fromPBX, "\n") - 1; rows != want || want == 0 {
			t.Errorf("--search %q on the PBX: %d rows, want %d\n%s", tc.text, rows, want, fromPBX)
		}
		if fromArchive != fromPBX {
			t.Errorf("--search %q: the archive's answer differs from the PBX's:\n%s\n---\n%s", tc.text, fromArchive, fromPBX)
		}
	}
}

// An archive answers --search from its index; a PBX's calls are filtered here.
func TestSearchedByTheArchive(t *testing.T) {
	dir := t.TempDir()
	w, err := archive.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a := &app{stdout: io.Discard, stderr: io.Discard}
	keep := func(*cdr.Record) bool { return true }
	if src, _ := a.searched(context.Background(), r, "0825", keep); fmt.Sprintf("%T", src) != "cli.searchedSource" {
		t.Fatalf("an archive's search went to %T", src)
	}
	// A search of control characters alone looks for nothing: every call, from a PBX as from an archive.
	srv, _ := sim(t, pbxsim.Faults{})
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	all, errs, code := run(t, nil, "calls", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-19", "--format", "csv")
	if code != 0 {
		t.Fatal(errs)
	}
	got, errs, code := run(t, nil, "calls", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-19", "--format", "csv", "--search", "\x01")
	if code != 0 || got != all {
		t.Fatalf("--search of a control character: exit %d, %d bytes of %d: %s", code, len(got), len(all), errs)
	}
}

// pbxAndArchive runs one command against the PBX at url (Com.X, user admin) and against the archive in dir.
func pbxAndArchive(t *testing.T, args []string, url, dir string) (fromPBX, fromArchive string) {
	t.Helper()
	fromPBX, errs, code := run(t, nil, append(args, "--url", url, "--user", "admin")...)
	if code != 0 {
		t.Fatal(errs)
	}
	fromArchive, errs, code = run(t, nil, append(args, "--archive", dir)...)
	if code != 0 {
		t.Fatal(errs)
	}
	return fromPBX, fromArchive
}

// --search on a PBX and the table's names share one request for the users list.
func TestSearchAsksForUsersOnce(t *testing.T) {
	s, err := pbxsim.New(pbxsim.Options{Days: 2, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), CallsPerDay: 40})
	if err != nil {
		t.Fatal(err)
	}
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("users") {
			lists.Add(1)
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("CALLSCOPE_PASSWORD", pbxsim.DefaultComxPassword)
	if _, errs, code := run(t, nil, "calls", "--url", srv.URL, "--user", "admin", "--from", "2026-11-19", "--search", "08"); code != 0 {
		t.Fatal(errs)
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("%d requests for the users list, want 1", n)
	}
}
