//go:build unix

package outfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "out.fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A FIFO is written into, without seeking, and stays a FIFO; the writer waits for its reader.
func TestFIFOIsWrittenInto(t *testing.T) {
	p := mkfifo(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB: more than a pipe holds
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(150 * time.Millisecond) // the writer is waiting by now
		f, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	err := Write(context.Background(), p, func(w io.Writer) error {
		if _, ok := w.(io.Seeker); ok {
			t.Error("a FIFO's writer offers Seek")
		}
		_, err := w.Write(big)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the reader got %d bytes, want %d", len(b), len(big))
	}
	if st, err := os.Lstat(p); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("not a FIFO any more: %v", err)
	}
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C ends a write to a FIFO within a second, whether nobody opened it or its reader stopped reading.
func TestFIFOWaitsEndWithTheContext(t *testing.T) {
	for _, stalled := range []bool{false, true} {
		t.Run(fmt.Sprintf("reader stalled %v", stalled), func(t *testing.T) {
			p := mkfifo(t)
			if stalled {
				r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0) // opens, never reads
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			done := make(chan error, 1)
			go func() {
				done <- Write(ctx, p, func(w io.Writer) error {
					for {
						if _, err := w.Write(make([]byte, 64<<10)); err != nil {
							return err
						}
					}
				})
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || err.Error()[:len(p)] != p {
					t.Fatalf("err = %v", err)
				}
			case <-time.After(1200 * time.Millisecond):
				t.Fatal("still writing a second after the context ended")
			}
			if st, err := os.Lstat(p); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
				t.Fatalf("not a FIFO any more: %v", err)
			}
		})
	}
}

// A path to one of the process's own descriptors writes into the descriptor: a pipe's reader gets the bytes, and
// a file opened for appending keeps what it held.
func TestOwnDescriptors(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	if err := Write(context.Background(), "/proc/self/fd/"+strconv.Itoa(int(w.Fd())), writeContent); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, content) {
		t.Fatalf("pipe: got %q", b)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "log")
	os.WriteFile(p, []byte("before\n"), 0o644)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link := filepath.Join(dir, "fd")
	os.Symlink("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), link) // as /dev/stdout is
	if err := Write(context.Background(), link, writeContent); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, append([]byte("before\n"), content...)) {
		t.Fatalf(">>: the file holds %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("left behind: %v", ents)
	}
	if err := Write(context.Background(), "/proc/self/fd/987654", writeContent); err == nil {
		t.Fatal("a closed descriptor was written")
	}
}

func TestSocketIsRefused(t *testing.T) {
	dir, err := os.MkdirTemp("", "sock") // short: a socket's path has a small limit
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "s")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
		t.Skip(err)
	}
	if err := Write(context.Background(), p, writeContent); err == nil || err.Error() != Check(p).Error() {
		t.Fatalf("err = %v", err)
	}
	if st, _ := os.Lstat(p); st.Mode()&fs.ModeSocket == 0 {
		t.Fatal("the socket was replaced")
	}
}

// A folder the user may not write in: the error names the output and the folder, and says why.
func TestReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o500)
	p := filepath.Join(dir, "calls.csv")
	err := Write(context.Background(), p, writeContent)
	if err == nil || err.Error() != p+": cannot write in "+dir+": permission denied" {
		t.Fatalf("err = %v", err)
	}
}

// /dev/stdout is found to be a descriptor by reading links alone, before anything could be written.
func TestDevStdoutIsADescriptor(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc")
	}
	tg, err := locate("/dev/stdout")
	if err != nil || tg.kind != isDescriptor || tg.fd != 1 {
		t.Fatalf("%+v %v", tg, err)
	}
}
