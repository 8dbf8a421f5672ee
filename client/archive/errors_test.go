package archive

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// TestErrorsAreTyped: what the archive reports by type, from the real situation, without command-line advice
// in its text: no archive, a damaged index (read and write), a recording not fetched, not yet fetched, or lost,
// and a write to an archive opened for reading.
func TestErrorsAreTyped(t *testing.T) {
	check := func(name string, err error, ok func(error) bool) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", name)
			return
		}
		if s := err.Error(); strings.Contains(s, "--") || strings.Contains(s, "callscope sync") {
			t.Errorf("%s: %q gives command-line advice", name, s)
		}
		if !ok(err) {
			t.Errorf("%s: %q (%T) is not the typed error with its facts", name, err, err)
		}
	}

	empty := t.TempDir()
	_, err := Open(empty)
	check("no archive", err, func(err error) bool {
		var ne *NotArchiveError
		return errors.As(err, &ne) && ne.Dir == empty && errors.Is(err, ErrNoArchive)
	})
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, IndexName), []byte("these are not the calls you are looking for\n"), 0o600)
	_, err = Open(bad)
	check("damaged, reading", err, func(err error) bool {
		var de *DamagedError
		return errors.As(err, &de) && de.Dir == bad && de.Reason != "" && errors.Is(err, ErrDamaged)
	})
	_, err = Init(bad)
	check("damaged, writing", err, func(err error) bool {
		var de *DamagedError
		return errors.As(err, &de) && de.Dir == bad && de.Reason != "" && errors.Is(err, ErrDamaged)
	})

	// Three recorded calls: one stored and then lost, one not fetched yet, one sync failed to fetch.
	dir := t.TempDir()
	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, recs := simCalls(t, 1, 40)
	var recorded []cdr.Record
	for _, r := range recs {
		if r.HasRecording() && r.RecordingSize != 0 {
			recorded = append(recorded, r)
		}
	}
	if len(recorded) < 3 {
		t.Fatalf("%d recorded calls", len(recorded))
	}
	lost, later, failed := recorded[0], recorded[1], recorded[2]
	blob, err := w.StoreRecording(bytes.NewReader(bytes.Repeat([]byte{0xd8, 0x20, 0xa1}, 500)))
	if err != nil {
		t.Fatal(err)
	}
	put(t, w, recs, func(r *cdr.Record) Blob {
		if r.UniqueID == lost.UniqueID {
			return blob
		}
		return Blob{}
	})
	b, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.RecordingFailed(ctx, failed.UniqueID, "pbx 10.0.0.5: the PBX failed (HTTP 500)", true); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	rc, err := w.Recording(ctx, cdr.ByID(lost.UniqueID))
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	os.RemoveAll(filepath.Join(dir, RecordingsName))
	for _, tc := range []struct {
		name string
		call cdr.Record
		ok   func(*RecordingNotStoredError) bool
	}{
		{"recording lost", lost, func(e *RecordingNotStoredError) bool { return e.Lost != nil && e.Reason == "" }},
		{"recording not fetched yet", later, func(e *RecordingNotStoredError) bool { return e.Lost == nil && e.Reason == "" }},
		{"recording not fetched", failed, func(e *RecordingNotStoredError) bool {
			return e.Lost == nil && e.Reason == "pbx 10.0.0.5: the PBX failed (HTTP 500)"
		}},
	} {
		_, err := w.Recording(ctx, cdr.ByID(tc.call.UniqueID))
		check(tc.name, err, func(err error) bool {
			var rn *RecordingNotStoredError
			return errors.As(err, &rn) && rn.ID == tc.call.UniqueID && tc.ok(rn) && errors.Is(err, cdr.ErrNoRecording)
		})
	}

	ro, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.Begin(ctx)
	check("write to a read-only archive", err, func(err error) bool { return errors.Is(err, ErrReadOnly) })
}
