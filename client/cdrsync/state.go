package cdrsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/callscope/callscope/client/outfile"
)

// File names a sync keeps in the archive directory.
const (
	StateName = "sync-state.json"
	LockName  = "sync.lock"
)

// wallLayout writes a PBX wall clock without a zone: the watermark is compared with the PBX's own clock.
const wallLayout = "2006-01-02T15:04:05"

// State is what a sync remembers between runs.
type State struct {
	// Source is the PBX the archive is synced from (no credentials); a sync from another PBX is refused.
	Source string
	// Archive is the ID of the index the state was written with (archive.Archive.ID): a sync that finds
	// another (index.db deleted, emptied or replaced since) fetches everything again. Empty in a version-1 state.
	Archive string
	// Through is the PBX wall clock up to which every call that had ended by the time it was fetched is in the
	// archive: never past the PBX's own present at the time. The next run asks again from Through minus the
	// overlap, for calls that were still going on.
	Through time.Time
	Updated time.Time
}

// stateVersion 2 added the archive's ID; version 1 is still read.
const stateVersion = 2

type stateJSON struct {
	Version int    `json:"version"`
	Source  string `json:"source"`
	Archive string `json:"archive,omitempty"`
	Through string `json:"through,omitempty"`
	Updated string `json:"updated"`
}

// LoadState reads DIR's sync state; the zero State when there is none yet.
func LoadState(dir string) (State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateName))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	var sj stateJSON
	if err := json.Unmarshal(b, &sj); err != nil {
		return State{}, &StateError{Path: filepath.Join(dir, StateName), Reason: err.Error()}
	}
	if sj.Version < 1 || sj.Version > stateVersion {
		return State{}, &StateError{Path: filepath.Join(dir, StateName), Reason: fmt.Sprintf("unknown version %d", sj.Version)}
	}
	st := State{Source: sj.Source, Archive: sj.Archive}
	if sj.Through != "" {
		if st.Through, err = time.ParseInLocation(wallLayout, sj.Through, time.UTC); err != nil {
			return State{}, &StateError{Path: filepath.Join(dir, StateName), Reason: fmt.Sprintf("bad time %q", sj.Through)}
		}
	}
	st.Updated, _ = time.Parse(time.RFC3339, sj.Updated)
	return st, nil
}

// saveState writes the state atomically: a temporary file, synced, renamed over the old one, and the folder
// synced, so a crash leaves the old state or the new one, never a torn file.
func saveState(dir string, st State) error {
	sj := stateJSON{Version: stateVersion, Source: st.Source, Archive: st.Archive, Updated: time.Now().UTC().Format(time.RFC3339)}
	if !st.Through.IsZero() {
		sj.Through = st.Through.Format(wallLayout)
	}
	b, _ := json.MarshalIndent(sj, "", "  ")
	tmp, err := os.CreateTemp(dir, ".sync-state-*.tmp")
	if err != nil {
		return fmt.Errorf("saving sync state: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone already once renamed into place
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("saving sync state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("saving sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving sync state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, StateName)); err != nil {
		return fmt.Errorf("saving sync state: %w", err)
	}
	outfile.SyncDir(dir)
	return nil
}

func lockedError(dir, pid string) error {
	who := "another callscope sync"
	if pid != "" {
		who += " (pid " + pid + ")"
	}
	return fmt.Errorf("%s is using archive %s: wait for it to finish or stop it: %w", who, dir, ErrLocked)
}

// ErrLocked is returned when another sync holds the archive.
var ErrLocked = errors.New("archive locked")
