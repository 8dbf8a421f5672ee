package archive

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// snapshot lists every file and folder under dir with its size, time and content hash.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		st, _ := d.Info()
		v := fmt.Sprintf("%v %d %s", d.IsDir(), st.Size(), st.ModTime().Format(time.RFC3339Nano))
		if strings.HasSuffix(p, "-shm") {
			// SQLite's shared memory, where every reader of a WAL database records what it reads (Open): it
			// may change, but must not appear or go.
			v = fmt.Sprintf("%v %d", d.IsDir(), st.Size())
		} else if !d.IsDir() {
			b, _ := os.ReadFile(p)
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		m[p] = v
		return nil
	})
	return m
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if before[p] != v {
			t.Errorf("%s changed or appeared: %s (was %q)", p, v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		}
	}
}

// makeArchive writes a small archive with recordings and closes it.
func makeArchive(t *testing.T, dir string) []cdr.Record {
	t.Helper()
	_, recs := simCalls(t, 2, 30)
	a, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	blob, err := a.StoreRecording(bytes.NewReader(bytes.Repeat([]byte{0xd8, 0x20, 0xa1}, 500)))
	if err != nil {
		t.Fatal(err)
	}
	put(t, a, recs, func(r *cdr.Record) Blob {
		if r.HasRecording() {
			return blob
		}
		return Blob{}
	})
	return recs
}

// browse reads an archive as the read commands do: every call, one by ID, a recording.
func browse(t *testing.T, a *Archive, recs []cdr.Record) {
	t.Helper()
	if got := all(t, a, cdr.Query{}); len(got) != len(recs) {
		t.Fatalf("%d calls read, want %d", len(got), len(recs))
	}
	for _, r := range recs {
		if !r.HasRecording() {
			continue
		}
		if _, err := a.Call(ctx, cdr.ByID(r.UniqueID)); err != nil {
			t.Fatal(err)
		}
		rc, err := a.Recording(ctx, cdr.ByID(r.UniqueID))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if len(b) != 1500 {
			t.Fatalf("recording of %d bytes", len(b))
		}
		return
	}
	t.Fatal("no recorded call")
}

// TestOpenReadOnly: Open never creates or changes a file; a directory without an index, and an index that is
// empty or not one, are clear errors; an archive, with or without its WAL files, is browsed as it is.
func TestOpenReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    error  // nil: opens and browses
		msg     string // in the error
	}{
		{"no index", func(*testing.T, string) {}, ErrNoArchive, "is not a callscope archive"},
		{"no folder", func(t *testing.T, dir string) { os.Remove(dir) }, ErrNoArchive, "is not a callscope archive"},
		{"empty index", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexName), nil, 0o600)
		}, ErrDamaged, "its index is damaged: index.db is empty"},
		{"empty index with old WAL files", func(t *testing.T, dir string) {
			makeArchive(t, dir)
			os.Truncate(filepath.Join(dir, IndexName), 0)
		}, ErrDamaged, "its index is damaged: index.db is empty"},
		{"not a database", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexName), []byte("these are not the calls you are looking for\n"), 0o600)
		}, ErrDamaged, "not an SQLite database"},
		{"another database", func(t *testing.T, dir string) {
			db, err := sql.Open("sqlite", filepath.Join(dir, IndexName))
			if err != nil {
				t.Fatal(err)
			}
			db.Exec(`CREATE TABLE notes(x TEXT)`)
			db.Close()
		}, ErrDamaged, "no such table: meta"},
		{"archive", func(t *testing.T, dir string) { makeArchive(t, dir) }, nil, ""},
		{"archive without WAL files", func(t *testing.T, dir string) {
			makeArchive(t, dir)
			os.Remove(filepath.Join(dir, IndexName+"-wal"))
			os.Remove(filepath.Join(dir, IndexName+"-shm"))
		}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "calls")
			os.Mkdir(dir, 0o700)
			tc.prepare(t, dir)
			var recs []cdr.Record
			if tc.want == nil {
				a, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				recs = all(t, a, cdr.Query{})
				a.Close()
			}
			before := snapshot(t, filepath.Dir(dir))
			a, err := Open(dir)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.msg)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				browse(t, a, recs)
				if b, err := a.Begin(ctx); err == nil {
					b.Rollback()
					t.Fatal("a read-only archive began a write")
				}
				a.Close()
			}
			sameSnapshot(t, before, snapshot(t, filepath.Dir(dir)))
		})
	}
}

// readOnlyMount makes dir read-only for this process: a read-only bind mount of it (root can write through
// mode bits), or mode 0555 for anyone else. It skips the test where neither is possible.
func readOnlyMount(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if d.IsDir() {
				return os.Chmod(p, 0o555)
			}
			return os.Chmod(p, 0o444)
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { return os.Chmod(p, 0o755) })
		})
		return dir
	}
	mnt := t.TempDir()
	if err := syscall.Mount(dir, mnt, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot make a read-only disk here (bind mount: %v)", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	if err := syscall.Mount("", mnt, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot make a read-only disk here (remount read-only: %v)", err)
	}
	return mnt
}

// TestBrowseReadOnlyDisk: an archive on a disk that refuses writes is browsed, with or without its WAL files.
func TestBrowseReadOnlyDisk(t *testing.T) {
	for _, withWAL := range []bool{true, false} {
		t.Run(fmt.Sprintf("WAL files %v", withWAL), func(t *testing.T) {
			dir := t.TempDir()
			recs := makeArchive(t, dir)
			if !withWAL {
				os.Remove(filepath.Join(dir, IndexName+"-wal"))
				os.Remove(filepath.Join(dir, IndexName+"-shm"))
			}
			ro := readOnlyMount(t, dir)
			if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o600); err == nil {
				t.Fatal("the read-only disk took a write")
			}
			a, err := Open(ro)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			browse(t, a, recs)
		})
	}
}

// TestReadWhileWriting: a reader opened while a writer has the archive sees what the writer commits later, and
// the writer goes on writing while the reader reads.
func TestReadWhileWriting(t *testing.T) {
	_, recs := simCalls(t, 2, 40)
	dir := t.TempDir()
	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	half := len(recs) / 2
	put(t, w, recs[:half], nil)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := len(all(t, r, cdr.Query{})); n != half {
		t.Fatalf("reader sees %d calls, want %d", n, half)
	}
	put(t, w, recs[half:], nil)
	if n := len(all(t, r, cdr.Query{})); n != len(recs) {
		t.Fatalf("reader sees %d calls after the writer's commit, want %d", n, len(recs))
	}
}

// v1Schema is the index of an archive written by callscope before format 2.
const v1Schema = `
CREATE TABLE calls (
	id TEXT PRIMARY KEY, start_wall INTEGER NOT NULL, start_off INTEGER NOT NULL, extension TEXT NOT NULL,
	peer TEXT NOT NULL, record BLOB NOT NULL, rec_hash TEXT NOT NULL DEFAULT '', rec_format TEXT NOT NULL DEFAULT '',
	rec_bytes INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX calls_start ON calls(start_wall);
CREATE INDEX calls_ext ON calls(extension, start_wall);
CREATE INDEX calls_peer ON calls(peer, start_wall);
CREATE TABLE users (extension TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('schema', '1'), ('generation', '3'), ('source', 'comx http://10.0.0.5');
`

// TestMigrateV1: an archive of format 1 is read as it is by Open, and upgraded by Init with its calls kept.
func TestMigrateV1(t *testing.T) {
	_, recs := simCalls(t, 1, 30)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, RecordingsName), 0o700)
	db, err := sql.Open("sqlite", filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(v1Schema); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := range recs {
		r := &recs[i]
		_, off := r.Start.Zone()
		buf = encodeRecord(buf[:0], r)
		if _, err := db.Exec(`INSERT INTO calls(id, start_wall, start_off, extension, peer, record) VALUES (?,?,?,?,?,?)`,
			r.UniqueID, cdr.WallClock(r.Start).Unix(), off, r.Extension, "", buf); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := all(t, a, cdr.Query{}); len(got) != len(recs) {
		t.Fatalf("format 1 read: %d calls", len(got))
	}
	var recorded cdr.Record
	for _, r := range recs {
		if r.HasRecording() {
			recorded = r
		}
	}
	if _, err := a.Recording(ctx, cdr.ByID(recorded.UniqueID)); !errors.Is(err, cdr.ErrNoRecording) {
		t.Fatalf("format 1 recording: %v", err)
	}
	if err := a.NotFetched(ctx, cdr.Query{}, func(cdr.Record, RecordingState) error { return errors.New("none expected") }); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if v := schemaOf(t, dir); v != "1" {
		t.Fatalf("a read-only open changed the format to %s", v)
	}

	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := schemaOf(t, dir); v != strconv.Itoa(schemaVersion) || w.ID() == "" {
		t.Fatalf("after Init: format %s, id %q", v, w.ID())
	}
	if gen, _ := w.Generation(ctx); gen != 3 {
		t.Fatalf("generation %d", gen)
	}
	b, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := b.RecordingFailed(ctx, recorded.UniqueID, "pbx 10.0.0.5: the PBX failed (HTTP 500)", true); n != 1 || err != nil {
		t.Fatalf("RecordingFailed: %d %v", n, err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	id := w.ID()
	w.Close()
	w, err = Init(dir)
	if err != nil || w.ID() != id {
		t.Fatalf("reopened: id %q (was %q), %v", w.ID(), id, err)
	}
	w.Close()
	a, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := all(t, a, cdr.Query{}); len(got) != len(recs) {
		t.Fatalf("after the upgrade: %d calls", len(got))
	}
	if _, err := a.Recording(ctx, cdr.ByID(recorded.UniqueID)); !strings.Contains(fmt.Sprint(err), "recording not fetched: pbx 10.0.0.5: the PBX failed (HTTP 500)") {
		t.Fatalf("recording after a failure: %v", err)
	}
}

func schemaOf(t *testing.T, dir string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, IndexName)+"?mode=ro&_pragma=busy_timeout(10000)") // a writer just closed may still be checkpointing
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRecordingNotFetched: a recording that could not be fetched is marked with its reason and attempts until
// it is stored; a later row for the call without a recording keeps the mark.
func TestRecordingNotFetched(t *testing.T) {
	_, recs := simCalls(t, 1, 30)
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	put(t, a, recs, nil)
	var r cdr.Record
	for _, x := range recs {
		if x.HasRecording() {
			r = x
			break
		}
	}
	fail := func(reason string) int {
		b, err := a.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Rollback()
		n, err := b.RecordingFailed(ctx, r.UniqueID, reason, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := fail("first"); n != 1 {
		t.Fatalf("tries %d", n)
	}
	put(t, a, []cdr.Record{r}, nil) // fetched again, still without its recording
	if n := fail("second"); n != 2 {
		t.Fatalf("tries %d", n)
	}
	states, err := a.RecordingStates(ctx, cdr.Query{})
	if err != nil || states[r.UniqueID] != (RecordingState{Tries: 2, Reason: "second"}) || len(states) != 1 {
		t.Fatalf("states %+v %v", states, err)
	}
	var listed []string
	a.NotFetched(ctx, cdr.Query{From: r.Start.Add(-time.Hour)}, func(x cdr.Record, st RecordingState) error {
		listed = append(listed, x.UniqueID+" "+st.Reason)
		return nil
	})
	if len(listed) != 1 || listed[0] != r.UniqueID+" second" {
		t.Fatalf("not fetched: %q", listed)
	}
	blob, err := a.StoreRecording(bytes.NewReader([]byte("RIFF....WAVEfmt some audio")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := a.Begin(ctx)
	if err := b.SetRecording(ctx, r.UniqueID, blob); err != nil {
		t.Fatal(err)
	}
	b.Commit()
	states, _ = a.RecordingStates(ctx, cdr.Query{})
	if st := states[r.UniqueID]; !st.Stored || st.Tries != 0 || st.Reason != "" || st.Size != blob.Size {
		t.Fatalf("after storing: %+v", st)
	}
	if n := fail("late"); n != 0 {
		t.Fatalf("a stored recording was marked as failed (%d)", n)
	}
	rc, err := a.Recording(ctx, cdr.ByID(r.UniqueID))
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

// TestIdleReaderLetsGo: a read-only archive closes its connection when idle, so the index's pages it mapped and
// cached for a big query stop counting in the app's resident memory.
func TestIdleReaderLetsGo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "calls")
	makeArchive(t, dir)
	defer func(d time.Duration) { readerIdle = d }(readerIdle)
	readerIdle = 50 * time.Millisecond
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	all(t, a, cdr.Query{})
	if n := a.db.Stats().OpenConnections; n == 0 {
		t.Fatal("no connection open after a query")
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.db.Stats().OpenConnections > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d connections open after %v idle", a.db.Stats().OpenConnections, 5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := all(t, a, cdr.Query{}); len(got) == 0 {
		t.Fatal("no calls after the reader came back")
	}
}
