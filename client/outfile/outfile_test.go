package outfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// tempName is how Temp names its files.
var tempName = regexp.MustCompile(`^\..*\.[0-9]+\.tmp$`)

var content = []byte("unique_id,start\n1396000115.1,2014-03-28 11:48:35\n")

func writeContent(w io.Writer) error {
	_, err := w.Write(content)
	return err
}

// leftovers lists the temporary files (hidden ones) anywhere under dir.
func leftovers(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestWriteByWhatThePathIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup builds the case in dir and returns the path to give Write and the file that must hold the output
		// ("" when Write must fail).
		setup   func(t *testing.T, dir string) (path, holds string)
		wantErr string // in the error, after the user's path
		unix    bool   // needs symbolic links as Unix has them
	}{
		{name: "new file", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "calls.csv")
			return p, p
		}},
		{name: "existing file", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "calls.csv")
			os.WriteFile(p, []byte("a longer old content that must not survive at the end\n"), 0o644)
			return p, p
		}},
		{name: "link to a file", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.WriteFile(filepath.Join(dir, "real.csv"), []byte("old"), 0o644)
			os.Symlink("real.csv", filepath.Join(dir, "link.csv"))
			return filepath.Join(dir, "link.csv"), filepath.Join(dir, "real.csv")
		}},
		{name: "chain of links", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "x"), 0o755)
			os.Symlink("x/second", filepath.Join(dir, "first"))
			os.Symlink(filepath.Join(dir, "x", "third"), filepath.Join(dir, "x", "second")) // absolute
			os.Symlink("../real.csv", filepath.Join(dir, "x", "third"))
			return filepath.Join(dir, "first"), filepath.Join(dir, "real.csv")
		}},
		{name: "dangling link", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.Symlink("not-yet.csv", filepath.Join(dir, "link.csv"))
			return filepath.Join(dir, "link.csv"), filepath.Join(dir, "not-yet.csv")
		}},
		// "../out.csv" in a folder reached through a link climbs out of the link's target, as the kernel does.
		{name: "relative link in a linked folder", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
			os.Symlink(filepath.Join("a", "b"), filepath.Join(dir, "linked"))
			os.Symlink("../out.csv", filepath.Join(dir, "a", "b", "link.csv"))
			return filepath.Join(dir, "linked", "link.csv"), filepath.Join(dir, "a", "out.csv")
		}},
		{name: "folder", setup: func(t *testing.T, dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "calls"), 0o755)
			return filepath.Join(dir, "calls"), ""
		}, wantErr: " is a folder, not a file"},
		{name: "link to a folder", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "calls"), 0o755)
			os.Symlink("calls", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link"), ""
		}, wantErr: " is a folder, not a file"},
		{name: "missing folder", setup: func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "nope", "calls.csv"), ""
		}, wantErr: ": folder " + "%DIR%" + string(filepath.Separator) + "nope does not exist"},
		{name: "link to a name ending in /", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.Symlink("later/", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link"), ""
		}, wantErr: " names a folder (it ends in /)"},
		{name: "name ending in /", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "calls") + "/", ""
		}, wantErr: " names a folder (it ends in /)"},
		{name: "loop of links", unix: true, setup: func(t *testing.T, dir string) (string, string) {
			os.Symlink("b", filepath.Join(dir, "a"))
			os.Symlink("a", filepath.Join(dir, "b"))
			return filepath.Join(dir, "a"), ""
		}, wantErr: ": more than 40 symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unix && runtime.GOOS == "windows" {
				t.Skip("symbolic links need privileges on Windows")
			}
			dir := t.TempDir()
			path, holds := tc.setup(t, dir)
			err := Write(context.Background(), path, writeContent)
			checkErr := Check(path)
			if tc.wantErr != "" {
				want := path + strings.ReplaceAll(tc.wantErr, "%DIR%", dir)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("Write: %v; want %q…", err, want)
				}
				if checkErr == nil || checkErr.Error() != err.Error() {
					t.Fatalf("Check: %v; want what Write said", checkErr)
				}
			} else {
				if err != nil || checkErr != nil {
					t.Fatalf("Write: %v, Check: %v", err, checkErr)
				}
				if got, _ := os.ReadFile(holds); !bytes.Equal(got, content) {
					t.Fatalf("%s holds %q", holds, got)
				}
			}
			if left := leftovers(t, dir); len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

// New files are 0644 less the umask; a replaced file keeps its permission bits.
func TestModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits")
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	if err := Write(context.Background(), fresh, writeContent); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(dir, "private")
	os.WriteFile(private, nil, 0o600)
	os.Chmod(private, 0o600)
	if err := Write(context.Background(), private, writeContent); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{fresh: 0o644 &^ umask(t), private: 0o600} {
		if st, _ := os.Stat(p); st.Mode().Perm() != want {
			t.Errorf("%s: %v, want %v", filepath.Base(p), st.Mode().Perm(), want)
		}
	}
}

// umask reads the process's umask from a file created 0777.
func umask(t *testing.T) fs.FileMode {
	p := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o777)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(p)
	return 0o777 &^ st.Mode().Perm()
}

// A failed or interrupted write leaves an existing file as it was and no temporary file; the error is the write
// function's own, or says the write was interrupted, naming the user's path.
func TestFailuresLeaveTheOldFile(t *testing.T) {
	boom := errors.New("the PBX hung up")
	for _, tc := range []struct {
		name  string
		write func(cancel func()) func(io.Writer) error
		want  error
	}{
		{"write fails", func(func()) func(io.Writer) error {
			return func(w io.Writer) error {
				w.Write(content)
				return boom
			}
		}, boom},
		{"cancelled mid-way", func(cancel func()) func(io.Writer) error {
			return func(w io.Writer) error {
				w.Write(content)
				cancel()
				_, err := w.Write(content) // refused: the context has ended
				return err
			}
		}, context.Canceled},
		{"cancelled, error ignored", func(cancel func()) func(io.Writer) error {
			return func(w io.Writer) error {
				w.Write(content)
				cancel()
				return nil
			}
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "calls.csv")
			os.WriteFile(p, []byte("precious"), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := Write(ctx, p, tc.write(cancel))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == context.Canceled && (!strings.HasPrefix(err.Error(), p+": interrupted") ||
				strings.Contains(err.Error(), "context canceled")) {
				t.Fatalf("err = %q, want %s: interrupted…", err, p)
			}
			if b, _ := os.ReadFile(p); string(b) != "precious" {
				t.Fatalf("the file was touched: %q", b)
			}
			if left := leftovers(t, dir); len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

// Errors from the writer name the user's path, never the temporary file's.
func TestWriterErrorsNameTheUsersPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "call.wav")
	err := Write(context.Background(), p, func(w io.Writer) error {
		s, ok := w.(io.Seeker)
		if !ok {
			t.Fatal("a regular file's writer cannot seek")
		}
		_, err := s.Seek(-1, io.SeekStart)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), ".tmp") {
		t.Fatalf("err = %v", err)
	}
}

// WriteNew never replaces a file, not even one that appears while the output is being written.
func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "calls.csv")
	if err := WriteNew(context.Background(), p, writeContent); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(context.Background(), p, writeContent); !errors.Is(err, fs.ErrExist) || err.Error() != p+" already exists" {
		t.Fatalf("existing: %v", err)
	}
	late := filepath.Join(dir, "late.csv")
	err := WriteNew(context.Background(), late, func(w io.Writer) error {
		os.WriteFile(late, []byte("someone else's"), 0o644)
		return writeContent(w)
	})
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("appeared meanwhile: %v", err)
	}
	if b, _ := os.ReadFile(late); string(b) != "someone else's" {
		t.Fatalf("replaced: %q", b)
	}
	if left := leftovers(t, dir); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// A very long final name still gets a temporary file (its name is shortened), and the final name is kept.
func TestLongNames(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("é", 120) + ".csv" // 244 bytes: the temporary name would pass 255
	p := filepath.Join(dir, name)
	if err := Write(context.Background(), p, writeContent); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, content) {
		t.Fatal("not written")
	}
}

func TestEmptyPathAndEndedContext(t *testing.T) {
	if err := Write(context.Background(), "", writeContent); err == nil {
		t.Fatal("empty path accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := filepath.Join(t.TempDir(), "x")
	called := false
	err := Write(ctx, p, func(io.Writer) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Fatalf("err %v, write called %v", err, called)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("created")
	}
}

// FuzzWrite gives Write arbitrary names and link targets inside a folder: it never panics, never leaves a
// temporary file, never names one in an error, and what it reports written is there.
func FuzzWrite(f *testing.F) {
	for _, s := range [][2]string{
		{"out.csv", ""}, {"link", "out.csv"}, {"link", "a/../out.csv"}, {"link", "link"}, {"link", "sub/"},
		{"sub/x", ""}, {"link", "sub/x"}, {".", ""}, {"sub", ""}, {"link", "."}, {"a b/c", "x"}, {"link", "\u202e.csv"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, linkTo string) {
		// Stay inside the folder: a fuzzed absolute or climbing path could name a real file.
		for _, s := range []string{name, linkTo} {
			if filepath.IsAbs(s) || filepath.VolumeName(s) != "" || strings.Contains(s, "..") ||
				strings.ContainsAny(s, "\x00\\:") || len(s) > 100 {
				t.Skip()
			}
		}
		if name == "" {
			t.Skip()
		}
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		if linkTo != "" {
			if err := os.Symlink(linkTo, filepath.Join(dir, "link")); err != nil {
				t.Skip()
			}
		}
		p := filepath.Join(dir, name)
		err := Write(context.Background(), p, writeContent)
		if err != nil {
			if strings.Contains(err.Error(), ".tmp") && !strings.Contains(name, ".tmp") && !strings.Contains(linkTo, ".tmp") {
				t.Fatalf("error names a temporary file: %v", err)
			}
		} else if b, rerr := os.ReadFile(p); rerr != nil || !bytes.Equal(b, content) {
			t.Fatalf("written without error, but %s reads %q (%v)", name, b, rerr)
		}
		for _, l := range leftovers(t, dir) {
			if tempName.MatchString(filepath.Base(l)) && !strings.Contains(name+linkTo, ".tmp") {
				t.Fatalf("left behind: %v", l)
			}
		}
	})
}
