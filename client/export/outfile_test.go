//go:build unix

package export

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// csvOf is what WriteCSV must write for calls.
func csvOf(calls []cdr.Record) []byte {
	var b bytes.Buffer
	w := cdr.NewCSVWriter(&b)
	for i := range calls {
		w.Write(&calls[i])
	}
	w.Flush()
	return b.Bytes()
}

// hidden lists the dot-files (temporary files) left in dir.
func hidden(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// The app's export and `export -o` write a symbolic link's target, never the link; without overwrite an existing
// target is refused and a dangling link's target is created.
func TestWriteCSVFollowsSymlinks(t *testing.T) {
	f := twoDays(t)
	want := csvOf(f.calls)
	for _, tc := range []struct {
		name      string
		target    string // relative to the link's folder
		existing  bool
		overwrite bool
		wantErr   string
	}{
		{"existing, overwrite", "../real/calls.csv", true, true, ""},
		{"existing, no overwrite", "../real/calls.csv", true, false, "already exists"},
		{"dangling, no overwrite", "../real/calls.csv", false, false, ""},
		{"dangling, overwrite", "../real/calls.csv", false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "links"), 0o755)
			os.Mkdir(filepath.Join(dir, "real"), 0o755)
			link, target := filepath.Join(dir, "links", "calls.csv"), filepath.Join(dir, "real", "calls.csv")
			os.Symlink(tc.target, link)
			if tc.existing {
				os.WriteFile(target, []byte("precious\n"), 0o644)
			}
			n, err := WriteCSV(context.Background(), link, Records(f.calls), CSVOptions{Overwrite: tc.overwrite})
			if st, lerr := os.Lstat(link); lerr != nil || st.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("the link was replaced (%v)", err)
			}
			got, _ := os.ReadFile(target)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), link) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, link, tc.wantErr)
				}
				if string(got) != "precious\n" {
					t.Fatal("the existing target was replaced")
				}
			} else if err != nil || n != len(f.calls) || !bytes.Equal(got, want) {
				t.Fatalf("wrote %d rows (%v); the target holds %d bytes, want %d", n, err, len(got), len(want))
			}
			for _, d := range []string{"links", "real"} {
				if left := hidden(filepath.Join(dir, d)); len(left) > 0 {
					t.Errorf("left in %s: %v", d, left)
				}
			}
		})
	}
}

// A FIFO is written into: its reader gets the CSV and the FIFO stays a FIFO.
func TestWriteCSVIntoFIFO(t *testing.T) {
	f := twoDays(t)
	fifo := filepath.Join(t.TempDir(), "calls.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		r, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer r.Close()
		b, _ := io.ReadAll(r)
		got <- b
	}()
	// The app asks before writing over anything that exists; a FIFO is written into, not replaced, either way.
	if _, err := WriteCSV(context.Background(), fifo, Records(f.calls), CSVOptions{Overwrite: false}); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, csvOf(f.calls)) {
			t.Fatalf("the reader got %d bytes", len(b))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got nothing")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v", err)
	}
}

// A folder is refused with an error naming it; nothing is left in or beside it.
func TestWriteCSVToAFolder(t *testing.T) {
	f := twoDays(t)
	dir := filepath.Join(t.TempDir(), "calls")
	os.Mkdir(dir, 0o755)
	for _, overwrite := range []bool{true, false} {
		_, err := WriteCSV(context.Background(), dir, Records(f.calls), CSVOptions{Overwrite: overwrite})
		if err == nil || !strings.Contains(err.Error(), dir+" is a folder") || strings.Contains(err.Error(), ".tmp") {
			t.Fatalf("overwrite %v: err = %v", overwrite, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Fatalf("left in the folder: %v", ents)
	}
	if left := hidden(filepath.Dir(dir)); len(left) > 0 {
		t.Fatalf("left beside it: %v", left)
	}
}

// A cancelled export leaves an existing file as it was and no temporary file.
func TestWriteCSVCancelledLeavesTheTarget(t *testing.T) {
	f := twoDays(t)
	path := filepath.Join(t.TempDir(), "calls.csv")
	os.WriteFile(path, []byte("precious\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WriteCSV(ctx, path, Records(f.calls), CSVOptions{Overwrite: true})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a cancellation naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious\n" {
		t.Fatal("the file was touched")
	}
	if left := hidden(filepath.Dir(path)); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
}

// New files are 0644 less the umask: a user whose umask keeps files private gets private exports.
func TestNewFilesRespectTheUmask(t *testing.T) {
	f := twoDays(t)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "calls.csv")
	if _, err := WriteCSV(context.Background(), csvPath, Records(f.calls), CSVOptions{Overwrite: false}); err != nil {
		t.Fatal(err)
	}
	recDir := filepath.Join(dir, "rec")
	if _, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: recDir, Resume: true}); err != nil {
		t.Fatal(err)
	}
	files := []string{csvPath}
	for _, n := range noLeftovers(t, recDir) {
		files = append(files, filepath.Join(recDir, n))
	}
	for _, p := range files {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v (%v), want 0600 under umask 077", filepath.Base(p), st.Mode().Perm(), err)
		}
	}
}

// A recordings folder that is a symbolic link to a folder is used as the folder: the files go into its target and
// the link stays.
func TestRecordingsIntoALinkedFolder(t *testing.T) {
	f := twoDays(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(dir, "rec")
	os.Symlink("real", link)
	for _, convert := range []string{"", "wav"} {
		sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: link, Resume: true, Convert: convert})
		if err != nil || sum.Failed > 0 {
			t.Fatalf("convert %q: %+v %v", convert, sum, err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatal("the link was replaced")
		}
		if convert == "" {
			checkAsServed(t, f, real)
		}
		noLeftovers(t, real)
		os.RemoveAll(real)
		os.Mkdir(real, 0o755)
	}
}
