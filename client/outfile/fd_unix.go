//go:build unix

package outfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fifoRetry is how often a FIFO without a reader is tried again.
const fifoRetry = 50 * time.Millisecond

// descriptorLink reports whether p names an open descriptor: /proc/PID/fd/N (what /dev/stdout and Linux's
// /dev/fd/N lead to) or a BSD /dev/fd/N; own says it is this process's, proc that it is a /proc link.
func descriptorLink(p string) (fd int, own, proc, ok bool) {
	n, err := strconv.Atoi(filepath.Base(p))
	if err != nil || n < 0 {
		return 0, false, false, false
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return 0, false, false, false
	}
	if dir == "/dev/fd" {
		return n, true, false, true
	}
	rest, found := strings.CutPrefix(dir, "/proc/")
	if !found {
		return 0, false, false, false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[1] == "fd":
	case len(parts) == 4 && parts[1] == "task" && parts[3] == "fd":
	default:
		return 0, false, false, false
	}
	own = parts[0] == strconv.Itoa(os.Getpid()) || parts[0] == "self" || parts[0] == "thread-self"
	return n, own, true, true
}

// openDescriptor opens one of the process's own descriptors for writing. A pipe is opened anew through /proc, so
// that this side of it can be polled and a write blocked on a reader that does not read ends with the context;
// anything else is duplicated, so that the output lands where the shell's redirection put it (after the content
// `>>` keeps, at the offset the shell left).
func openDescriptor(t target) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(t.fd, &st); err != nil {
		return nil, err
	}
	if t.proc && st.Mode&syscall.S_IFMT == syscall.S_IFIFO {
		f, err := os.OpenFile(t.final, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return f, nil
		}
		if errors.Is(err, syscall.ENXIO) {
			return nil, syscall.EPIPE // nothing reads the pipe any more
		}
		// Not allowed to open it anew (a pipe made by another user): write through the descriptor itself.
	}
	syscall.ForkLock.RLock()
	nfd, err := syscall.Dup(t.fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(nfd), t.final), nil
}

// openSpecial opens a device, FIFO or terminal for writing. A FIFO is opened without blocking and tried again
// until a reader opens it or ctx ends: a blocking open could not be interrupted.
func openSpecial(ctx context.Context, p string, info fs.FileInfo) (*os.File, error) {
	if info == nil || info.Mode()&fs.ModeNamedPipe == 0 {
		return os.OpenFile(p, os.O_WRONLY, 0)
	}
	for {
		f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if !errors.Is(err, syscall.ENXIO) { // ENXIO: no reader yet
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(fifoRetry):
		}
	}
}

// keepMode gives the temporary file the permissions (and, where allowed, the owner) of the file it replaces.
// Permissions it cannot give are an error: the temporary file is 0644 less the umask, which would open a private
// file to everyone.
func keepMode(tmp *os.File, old fs.FileInfo) error {
	if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		_ = tmp.Chown(int(st.Uid), int(st.Gid)) // best effort: only root may give a file away
	}
	return tmp.Chmod(old.Mode().Perm())
}
