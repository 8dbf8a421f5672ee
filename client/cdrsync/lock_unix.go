//go:build unix

package cdrsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Lock is held by one sync of an archive at a time.
type Lock struct{ f *os.File }

// LockArchive takes the archive's lock without waiting. On unix it is an flock on DIR/lock, which the kernel
// drops when the process dies however it dies, so a killed sync never leaves a stale lock behind. The file keeps
// the holder's PID only to name it in the error.
func LockArchive(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the archive's lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedError(dir, strings.TrimSpace(string(b[:n])))
		}
		return nil, fmt.Errorf("cannot lock archive %s: %w", dir, err)
	}
	// The pid is for the message another sync gives ("… (pid 123)"): the lock holds without it.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f: f}, nil
}

// Unlock releases the lock. The file stays: removing it would let a third process lock a new file while a
// second still holds the old one.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
