// Package outfile writes an output the user named: `-o FILE` of every callscope command and the file the app's
// export dialog asks for. What happens depends on what the path is, because the user pointed at it:
//
//   - a regular file, or a name not there yet, is written atomically: a temporary file beside it (same folder,
//     so the rename is atomic), synced, then renamed over it. An existing file keeps its permission bits; a new
//     one is 0644 less the umask. An interrupted or failed write leaves the old file as it was and no temporary
//     file.
//   - a symbolic link is followed (a chain of them, relative ones from the link's own folder, at most 40) and its
//     target is written by the rule above, so the links stay links; a dangling link's target is created.
//   - a device, a FIFO or a terminal is written straight into, never replaced. A FIFO waits for its reader until
//     the context ends.
//   - a link to one of the process's own descriptors (/dev/stdout, /dev/fd/N, /proc/self/fd/N) writes into that
//     descriptor as the shell set it up: after what `>>` keeps, into the pipe `|` made.
//   - a folder is refused with an error that names it.
//
// Every error names the path the user gave, never a temporary file.
package outfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxLinks bounds the symbolic links followed, as the kernel does (ELOOP after 40).
const maxLinks = 40

// Write writes the output named path with write, by the rules in the package comment. write gets a writer that
// fails once ctx ends; it can seek (io.Seeker) only when the output is a regular file written atomically.
// An error from write is returned as it is (the writer's own errors name the user's path); when ctx has ended,
// the error says the write was interrupted and wraps ctx.Err().
func Write(ctx context.Context, path string, write func(io.Writer) error) error {
	return writeOutput(ctx, path, false, write)
}

// WriteNew is Write that never replaces an existing file, even one created while write ran: the error then
// wraps fs.ErrExist. A device, a FIFO or a descriptor is still written into (nothing is replaced there).
func WriteNew(ctx context.Context, path string, write func(io.Writer) error) error {
	return writeOutput(ctx, path, true, write)
}

func writeOutput(ctx context.Context, path string, noReplace bool, write func(io.Writer) error) error {
	if path == "" {
		return errors.New("no file name given for the output")
	}
	if err := ctx.Err(); err != nil {
		return wrap(err, "%s: interrupted before anything was written", path)
	}
	t, err := locate(path)
	if err != nil {
		return err
	}
	if err := refuse(path, t); err != nil {
		return err
	}
	switch t.kind {
	case isDescriptor:
		f, err := openDescriptor(t)
		if err != nil {
			return wrap(err, "%s: cannot write into it: %s", path, Cause(err))
		}
		return writeDirect(ctx, path, f, write)
	case isSpecial:
		f, err := openSpecial(ctx, t.final, t.info)
		if err != nil {
			if ctx.Err() != nil {
				return wrap(ctx.Err(), "%s: interrupted while waiting for a reader", path)
			}
			return wrap(err, "%s: cannot open it: %s", path, Cause(err))
		}
		// What was a device or FIFO a moment ago must still be one: never write into a regular file in place.
		if st, err := f.Stat(); err == nil && t.info != nil && (st.Mode().IsRegular() || st.IsDir()) {
			_ = f.Close() // nothing was written to it
			return fmt.Errorf("%s changed while it was being opened; run again", path)
		}
		return writeDirect(ctx, path, f, write)
	case isFile:
		if noReplace {
			return wrap(fs.ErrExist, "%s already exists", path)
		}
	}
	return writeAtomic(ctx, path, t, noReplace, write)
}

// writeDirect writes into a device, FIFO or descriptor: no temporary file, no seeking, and a write blocked on a
// reader that does not read is released when ctx ends (where the file can be polled).
func writeDirect(ctx context.Context, path string, f *os.File, write func(io.Writer) error) error {
	// A file that cannot be polled takes no deadline (os.ErrNoDeadline); its write ends when the device lets it.
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(aLongTimeAgo) })
	err := write(&writer{ctx: ctx, f: f, path: path})
	stop()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = wrap(cerr, "%s: %s", path, Cause(cerr))
	}
	if ctx.Err() != nil {
		return wrap(ctx.Err(), "%s: interrupted while writing", path)
	}
	return err
}

// writeAtomic writes a temporary file beside t.final and moves it into place once complete and synced.
func writeAtomic(ctx context.Context, path string, t target, noReplace bool, write func(io.Writer) error) error {
	dir := filepath.Dir(t.final)
	tmp, err := Temp(dir, filepath.Base(t.final))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return wrap(err, "%s: folder %s does not exist; create it or name another", path, dir)
		}
		return wrap(err, "%s: cannot write in %s: %s", path, dir, Cause(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close() // may be closed already; it is being thrown away
			_ = os.Remove(tmp.Name())
		}
	}()
	if t.kind == isFile {
		if err := keepMode(tmp, t.info); err != nil {
			return wrap(err, "%s: cannot give the new file its permissions (%v): %s; the file was left as it was",
				path, t.info.Mode().Perm(), Cause(err))
		}
	}
	if err := write(&seekWriter{writer{ctx: ctx, f: tmp, path: path}}); err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx, path, t)
		}
		return err
	}
	if ctx.Err() != nil {
		return interrupted(ctx, path, t)
	}
	if err := tmp.Sync(); err != nil {
		return wrap(err, "%s: %s", path, Cause(err))
	}
	if err := tmp.Close(); err != nil {
		return wrap(err, "%s: %s", path, Cause(err))
	}
	// The last moment to stop: from here the output is replaced whole or not at all.
	if ctx.Err() != nil {
		return interrupted(ctx, path, t)
	}
	if noReplace {
		err := linkNew(tmp.Name(), t.final)
		if errors.Is(err, fs.ErrExist) {
			return wrap(err, "%s already exists", path)
		}
		if err != nil {
			return wrap(err, "%s: cannot save it: %s", path, Cause(err))
		}
		_ = os.Remove(tmp.Name()) // the link's other name; already gone when linkNew had to rename
	} else if err := os.Rename(tmp.Name(), t.final); err != nil {
		return wrap(err, "%s: cannot replace it: %s", path, Cause(err))
	}
	committed = true
	SyncDir(dir)
	return nil
}

// linkNew puts the finished temporary file at final only if nothing is there: a hard link fails when the name
// exists. On a file system without hard links (FAT, some network shares) it checks and renames, which leaves a
// moment in which a file created by someone else could be replaced.
func linkNew(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(final); serr == nil {
		return fs.ErrExist
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return err
	}
	return os.Rename(tmp, final)
}

func interrupted(ctx context.Context, path string, t target) error {
	if t.kind == isFile {
		return wrap(ctx.Err(), "%s: interrupted; the file was left as it was", path)
	}
	return wrap(ctx.Err(), "%s: interrupted; nothing was written", path)
}

// SyncDir makes renames in dir durable. Best effort, so it returns nothing: some systems cannot open or sync a
// folder, and the files renamed into it were synced before.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// pathError is an error whose text is complete (it names the user's path) and that still answers errors.Is for
// its cause.
type pathError struct {
	msg string
	err error
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() error { return e.err }

func wrap(err error, format string, args ...any) error {
	return &pathError{msg: fmt.Sprintf(format, args...), err: err}
}

// Cause is an error's text without the path an *fs.PathError, *os.LinkError or *os.SyscallError repeats: that
// path may be a temporary file's, and a message that names the user's path reads better without it.
func Cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

// Check reports, without creating anything, an output path that cannot be written: a folder, a socket, a folder
// that does not exist, a loop of links. Commands call it before work that would be lost (a long download), so
// the mistake is reported first; Write checks again when it writes.
func Check(path string) error {
	if path == "" {
		return errors.New("no file name given for the output")
	}
	t, err := locate(path)
	if err != nil {
		return err
	}
	if err := refuse(path, t); err != nil {
		return err
	}
	if t.kind == isNew {
		dir := filepath.Dir(t.final)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return wrap(fs.ErrNotExist, "%s: folder %s does not exist; create it or name another", path, dir)
		}
	}
	return nil
}

// refuse is the error for an output that is never written: a folder or a socket.
func refuse(path string, t target) error {
	switch t.kind {
	case isFolder:
		return wrap(syscall.EISDIR, "%s is a folder, not a file: name a file inside it or elsewhere", path)
	case isSocket:
		return wrap(syscall.ENXIO, "%s is a socket: callscope cannot write into it; name a file", path)
	}
	return nil
}
