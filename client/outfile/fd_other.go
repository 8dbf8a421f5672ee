//go:build !unix

package outfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

// descriptorLink: only Unix systems name descriptors by path.
func descriptorLink(string) (fd int, own, proc, ok bool) { return 0, false, false, false }

func openDescriptor(target) (*os.File, error) {
	return nil, errors.New("descriptors cannot be named on this system")
}

// openSpecial opens a device (NUL, CON, a named pipe) for writing.
func openSpecial(_ context.Context, p string, _ fs.FileInfo) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY, 0)
}

// keepMode gives the temporary file the permissions of the file it replaces (on Windows, its read-only bit).
func keepMode(tmp *os.File, old fs.FileInfo) error { return tmp.Chmod(old.Mode().Perm()) }
