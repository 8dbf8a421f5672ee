package outfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// kind is what an output path turned out to be.
type kind int

const (
	isNew        kind = iota // nothing there yet: created atomically
	isFile                   // a regular file: replaced atomically
	isFolder                 // refused
	isSocket                 // refused: a socket cannot be opened like a file
	isSpecial                // a device, FIFO or terminal: written into
	isDescriptor             // one of the process's own descriptors: written into
)

// target is where an output goes once its links are followed.
type target struct {
	kind  kind
	final string      // the path written: the end of the chain of links
	info  fs.FileInfo // of final, when it exists
	fd    int         // for isDescriptor
	proc  bool        // for isDescriptor: final is a /proc link, which can be opened anew
}

// locate follows path's symbolic links one at a time, so that the chain's end is known even when it does not
// exist yet (a dangling link names the file to create) and a link to a descriptor is seen as one.
func locate(path string) (target, error) {
	p := path
	links := 0
	for {
		if fd, own, proc, ok := descriptorLink(p); ok {
			if own {
				return target{kind: isDescriptor, final: p, fd: fd, proc: proc}, nil
			}
			// Another process's descriptor: only the kernel knows what it is; open it by name.
			return target{kind: isSpecial, final: p}, nil
		}
		if endsInSeparator(p) {
			// "x/" names a folder whatever x is, as the kernel reads it.
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return target{kind: isFolder, final: p, info: st}, nil
			}
			return target{}, wrap(syscall.EISDIR, "%s names a folder (it ends in %c), not a file: name a file", path, p[len(p)-1])
		}
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return target{kind: isNew, final: p}, nil
		}
		if err != nil {
			return target{}, wrap(err, "%s: %s", path, Cause(err))
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return target{kind: classify(fi.Mode()), final: p, info: fi}, nil
		}
		if links++; links > maxLinks {
			return target{}, wrap(syscall.ELOOP, "%s: more than %d symbolic links in a row (a loop?)", path, maxLinks)
		}
		to, err := os.Readlink(p)
		if err != nil {
			return target{}, wrap(err, "%s: cannot read the link %s: %s", path, p, Cause(err))
		}
		trailing := endsInSeparator(to)
		if !filepath.IsAbs(to) {
			// Relative to the link's real folder: "../x" from a folder reached through a link climbs out of the
			// link's target, as the kernel does, not out of the path as written.
			dir, err := filepath.EvalSymlinks(filepath.Dir(p))
			if err != nil {
				return target{}, wrap(err, "%s: %s", path, Cause(err))
			}
			to = filepath.Join(dir, to)
		}
		if trailing && !endsInSeparator(to) {
			to += string(filepath.Separator) // Join dropped it
		}
		p = to
	}
}

func classify(m fs.FileMode) kind {
	switch {
	case m.IsRegular():
		return isFile
	case m.IsDir():
		return isFolder
	case m&fs.ModeSocket != 0:
		return isSocket
	}
	return isSpecial
}

func endsInSeparator(p string) bool {
	return len(p) > 1 && os.IsPathSeparator(p[len(p)-1]) && p != filepath.VolumeName(p)+p[len(p)-1:]
}
