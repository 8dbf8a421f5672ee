package cdrsync

import (
	"errors"
	"fmt"
	"strings"
)

// The errors below say what happened and carry the facts; the remedy (a flag, another folder) depends on who
// asked, so it is the caller's to add.

// ErrOtherPBX marks an archive that is synced from another PBX than the one given (an *OtherPBXError).
var ErrOtherPBX = errors.New("archive synced from another PBX")

// OtherPBXError is a sync refused because the archive in Dir holds another PBX's calls: it is synced from
// SyncedFrom, and Source is the PBX given now.
type OtherPBXError struct {
	Dir, SyncedFrom, Source string
}

func (e *OtherPBXError) Error() string {
	return fmt.Sprintf("archive %s is synced from %s, not %s", e.Dir, e.SyncedFrom, e.Source)
}

// Is lets errors.Is(err, ErrOtherPBX) find it.
func (e *OtherPBXError) Is(target error) bool { return target == ErrOtherPBX }

// StateError is a sync state file (Path) that cannot be read. The archive keeps its calls; without the state a
// sync starts again from the beginning.
type StateError struct {
	Path, Reason string
}

func (e *StateError) Error() string { return fmt.Sprintf("%s is damaged (%s)", e.Path, e.Reason) }

// NotFetchedError is the warning at the end of a run whose recordings were not all fetched: Count of them,
// Problems saying why for the first few. Their calls are archived; the next runs try them again, except the
// GaveUp ones, tried Attempts times.
type NotFetchedError struct {
	Count, GaveUp, Attempts int
	Problems                []string
}

func (e *NotFetchedError) Error() string {
	count := "1 recording was"
	if e.Count != 1 {
		count = fmt.Sprintf("%d recordings were", e.Count)
	}
	msg := fmt.Sprintf("%s not fetched (%s)", count, strings.Join(e.Problems, "; "))
	if more := e.Count - len(e.Problems); more > 0 {
		msg = fmt.Sprintf("%s not fetched (%s; and %d more)", count, strings.Join(e.Problems, "; "), more)
	}
	if left := e.Count - e.GaveUp; left > 0 {
		msg += fmt.Sprintf(": their calls are archived, and the next sync tries %d of them again", left)
	} else {
		msg += ": their calls are archived"
	}
	if e.GaveUp > 0 {
		msg += fmt.Sprintf("; gave up on %d after %d attempts", e.GaveUp, e.Attempts)
	}
	return msg
}
