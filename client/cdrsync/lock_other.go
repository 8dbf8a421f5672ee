//go:build !unix

package cdrsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Lock is held by one sync of an archive at a time.
type Lock struct{ path string }

// LockArchive takes the archive's lock without waiting. Without flock the lock is a file created exclusively,
// holding the owner's PID; a lock whose process no longer runs is stale (the sync was killed) and is taken over.
func LockArchive(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockName)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
			f.Close()
			return &Lock{path: path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("cannot create the archive's lock file: %w", err)
		}
		b, _ := os.ReadFile(path)
		pid := strings.TrimSpace(string(b))
		if n, err := strconv.Atoi(pid); err == nil && n > 0 && !alive(n) {
			os.Remove(path) // stale: its sync died without unlocking
			continue
		}
		return nil, lockedError(dir, pid)
	}
	return nil, lockedError(dir, "")
}

// alive reports whether a process with this PID exists. On Windows FindProcess fails for a PID that is gone.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.path == "" {
		return nil
	}
	err := os.Remove(l.path)
	l.path = ""
	return err
}
