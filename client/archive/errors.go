package archive

import (
	"errors"
	"fmt"

	"github.com/callscope/callscope/client/cdr"
)

// The errors below say what happened and carry the facts; the remedy (a command to run, a key in the app)
// depends on who asked, so it is the caller's to add.

// ErrReadOnly is a write to an archive opened with Open, for reading.
var ErrReadOnly = errors.New("archive open for reading only")

// NotArchiveError is a directory without an archive's index. It matches ErrNoArchive.
type NotArchiveError struct{ Dir string }

func (e *NotArchiveError) Error() string {
	return fmt.Sprintf("%s is not a callscope archive (it has no %s)", e.Dir, IndexName)
}
func (e *NotArchiveError) Unwrap() error { return ErrNoArchive }

// DamagedError is an index that cannot be read: empty, not an SQLite database, or one without the archive's
// tables. A sync rebuilds it from the PBX once the damaged file is out of the way. It matches ErrDamaged.
type DamagedError struct {
	Dir    string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("archive %s: its index is damaged: %s", e.Dir, e.Reason)
}
func (e *DamagedError) Unwrap() error { return ErrDamaged }

// RecordingNotStoredError is a call the PBX recorded whose recording the archive does not hold: sync could not
// fetch it (Reason says why), has not fetched it yet, or stored it and the file is gone since (Lost). It
// matches cdr.ErrNoRecording.
type RecordingNotStoredError struct {
	ID     string
	Reason string
	Lost   error
}

func (e *RecordingNotStoredError) Error() string {
	switch {
	case e.Lost != nil:
		return fmt.Sprintf("the recording of call %s is missing from the archive (%v)", e.ID, e.Lost)
	case e.Reason != "":
		return fmt.Sprintf("call %s: recording not fetched: %s", e.ID, e.Reason)
	}
	return fmt.Sprintf("the recording of call %s is not in the archive yet", e.ID)
}
func (e *RecordingNotStoredError) Unwrap() error { return cdr.ErrNoRecording }
