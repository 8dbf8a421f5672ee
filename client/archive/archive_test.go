package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

var ctx = context.Background()

func simCalls(t testing.TB, days, perDay int) (*pbxsim.Sim, []cdr.Record) {
	t.Helper()
	zone := pbxsim.DefaultLocation()
	// Midnight in the PBX's zone: whole days, no cut-off on the last one.
	s, err := pbxsim.New(pbxsim.Options{Days: days, CallsPerDay: perDay, Zone: zone,
		End: time.Date(2026, 3, 10, 0, 0, 0, 0, zone)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []cdr.Record
	s.Calls(time.Time{}, time.Time{}, func(r cdr.Record) bool { recs = append(recs, r); return true })
	return s, recs
}

func put(t testing.TB, a *Archive, recs []cdr.Record, blob func(*cdr.Record) Blob) {
	t.Helper()
	b, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	for i := range recs {
		var bl Blob
		if blob != nil {
			bl = blob(&recs[i])
		}
		if err := b.Put(ctx, &recs[i], bl); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

func all(t testing.TB, a *Archive, q cdr.Query) []cdr.Record {
	t.Helper()
	var out []cdr.Record
	if _, err := a.Calls(ctx, q, func(r cdr.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameRecord compares every field, the start by instant, wall clock and offset (zone pointers differ).
func sameRecord(a, b cdr.Record) bool {
	_, oa := a.Start.Zone()
	_, ob := b.Start.Zone()
	if !a.Start.Equal(b.Start) || oa != ob || !cdr.SameWallClock(a.Start, b.Start) {
		return false
	}
	a.Start, b.Start = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNoArchive) || !strings.Contains(err.Error(), "is not a callscope archive (it has no index.db)") {
		t.Fatalf("got %v", err)
	}
}

func TestRoundTripAndQueries(t *testing.T) {
	s, recs := simCalls(t, 7, 120)
	dir := t.TempDir()
	a, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	loc := s.Options().Zone
	if err := a.SetZone(ctx, loc, false); err != nil {
		t.Fatal(err)
	}
	put(t, a, recs, nil)
	// Storing the same calls again must not duplicate them.
	put(t, a, recs[:50], nil)
	a.Close()

	a, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if zi := a.Zone(); zi.Location == nil || zi.Location.String() != loc.String() || zi.Inferred {
		t.Fatalf("zone after reopen: %+v", zi)
	}
	got := all(t, a, cdr.Query{})
	if len(got) != len(recs) {
		t.Fatalf("got %d calls, want %d", len(got), len(recs))
	}
	byID := map[string]cdr.Record{}
	for _, r := range recs {
		byID[r.UniqueID] = r
	}
	for i, r := range got {
		if !sameRecord(r, byID[r.UniqueID]) {
			t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, r, byID[r.UniqueID])
		}
		if i > 0 && r.Start.Before(got[i-1].Start) {
			t.Fatalf("row %d out of start order", i)
		}
	}

	// A range: the rows of one day, as the simulator (the PBX) selects them.
	from := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	var want []cdr.Record
	s.Calls(from, to, func(r cdr.Record) bool { want = append(want, r); return true })
	day := all(t, a, cdr.Query{From: from, To: to})
	if len(day) != len(want) || len(want) == 0 {
		t.Fatalf("day: got %d want %d", len(day), len(want))
	}

	// An extension: its own calls plus internal calls to it.
	ext := recs[0].Extension
	if ext == "" {
		ext = recs[1].Extension
	}
	n := 0
	for _, r := range recs {
		if r.Extension == ext || (r.CallType == cdr.CallInternal && r.DialledNumber == ext) {
			n++
		}
	}
	if got := all(t, a, cdr.Query{Extension: ext}); len(got) != n || n == 0 {
		t.Fatalf("extension %s: got %d want %d", ext, len(got), n)
	}

	// Pages cover the rows once each.
	var paged []cdr.Record
	for p := 1; ; p++ {
		var rows []cdr.Record
		res, err := a.Calls(ctx, cdr.Query{Page: p, Limit: 97}, func(r cdr.Record) error { rows = append(rows, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalPages != (len(recs)+96)/97 {
			t.Fatalf("total pages %d", res.TotalPages)
		}
		paged = append(paged, rows...)
		if p >= res.TotalPages {
			break
		}
	}
	if len(paged) != len(got) || paged[len(paged)-1].UniqueID != got[len(got)-1].UniqueID {
		t.Fatalf("paging gave %d rows", len(paged))
	}

	// One call by ID and by exact start.
	r := recs[len(recs)/2]
	c, err := a.Call(ctx, cdr.ByID(r.UniqueID))
	if err != nil || !sameRecord(c, r) {
		t.Fatalf("by ID: %v %+v", err, c)
	}
	c, err = a.Call(ctx, cdr.ByStart(r.Start))
	if err != nil || !c.Start.Equal(r.Start) {
		t.Fatalf("by start: %v %+v", err, c)
	}
	if _, err := a.Call(ctx, cdr.ByID("nope")); !errors.Is(err, cdr.ErrNotFound) {
		t.Fatalf("unknown ID: %v", err)
	}
}

func TestRecordingsAndUsers(t *testing.T) {
	_, recs := simCalls(t, 1, 40)
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	audio := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{1, 2, 3}, 1000)...)
	blob, err := a.StoreRecording(bytes.NewReader(audio))
	if err != nil {
		t.Fatal(err)
	}
	if blob.Format != "wav" || blob.Size != int64(len(audio)) {
		t.Fatalf("blob %+v", blob)
	}
	again, err := a.StoreRecording(bytes.NewReader(audio))
	if err != nil || again != blob {
		t.Fatalf("second store: %+v %v", again, err)
	}
	var recorded, plain *cdr.Record
	for i := range recs {
		if recs[i].HasRecording() && recorded == nil {
			recorded = &recs[i]
		}
		if !recs[i].HasRecording() && plain == nil {
			plain = &recs[i]
		}
	}
	recorded.Recording = "../../etc/evil name.wav"
	put(t, a, []cdr.Record{*recorded}, func(*cdr.Record) Blob { return blob })
	put(t, a, []cdr.Record{*plain}, nil)
	// A later row for the same call without a recording (a push) must keep the stored one.
	put(t, a, []cdr.Record{*recorded}, nil)

	rc, err := a.Recording(ctx, cdr.ByID(recorded.UniqueID))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, audio) || rc.Format != "wav" || strings.ContainsAny(rc.Name, `/\`) || rc.Size != int64(len(audio)) {
		t.Fatalf("recording %q %s %d, %d bytes", rc.Name, rc.Format, rc.Size, len(b))
	}
	if _, err := a.Recording(ctx, cdr.ByID(plain.UniqueID)); !errors.Is(err, cdr.ErrNoRecording) {
		t.Fatalf("no recording: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(a.Dir(), TmpName))
	if len(ents) != 0 {
		t.Fatalf("tmp left behind: %v", ents)
	}

	if err := a.SetUsers(ctx, []cdr.User{{Extension: "2001", Name: "Smith, John", PIN: "1234"}}); err != nil {
		t.Fatal(err)
	}
	users, err := a.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "Smith, John" || users[0].PIN.IsSet() {
		t.Fatalf("users %+v %v", users, err)
	}
	raw, _ := os.ReadFile(filepath.Join(a.Dir(), IndexName))
	wal, _ := os.ReadFile(filepath.Join(a.Dir(), IndexName+"-wal"))
	if bytes.Contains(append(raw, wal...), []byte("1234")) {
		t.Fatal("the PIN reached the archive's files")
	}
}

func TestInferredZoneKeepsOffsets(t *testing.T) {
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	loc := cdr.OffsetZone(2 * 3600)
	if err := a.SetZone(ctx, loc, true); err != nil {
		t.Fatal(err)
	}
	r := cdr.Record{UniqueID: "1.1", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, loc)}
	// A row placed in another offset (a zone with DST) keeps its own wall clock and offset.
	r2 := cdr.Record{UniqueID: "2.1", Start: time.Date(2026, 7, 2, 3, 4, 5, 0, cdr.OffsetZone(3600))}
	put(t, a, []cdr.Record{r, r2}, nil)
	a.Close()
	a, _ = Open(a.Dir())
	got := all(t, a, cdr.Query{})
	if zi := a.Zone(); !zi.Inferred || zi.Location.String() != "UTC+02:00" {
		t.Fatalf("zone %+v", zi)
	}
	if cdr.FormatTime(got[0].Start) != "2026-01-02T03:04:05+02:00" || cdr.FormatTime(got[1].Start) != "2026-07-02T03:04:05+01:00" {
		t.Fatalf("starts %v %v", got[0].Start, got[1].Start)
	}
}

func TestRejectsCallWithoutID(t *testing.T) {
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := a.Begin(ctx)
	defer b.Rollback()
	if err := b.Put(ctx, &cdr.Record{Start: time.Now()}, Blob{}); err == nil {
		t.Fatal("a call without an ID was accepted")
	}
}
