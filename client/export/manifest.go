package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/callscope/callscope/client/outfile"
	"github.com/callscope/callscope/client/safetext"
)

// ManifestName is the file in a recordings folder that says which call each file belongs to.
const ManifestName = "manifest.csv"

// ManifestColumns is the manifest's header: the call's unique ID, the file saved for it in the folder, the
// file's size in bytes, "wav" when it was converted (empty when it holds the PBX's bytes), and the PBX's own
// name for the recording (as in the calls CSV's recording_file column). The manifest is opened in spreadsheets
// too, so the PBX's text in it (the ID and the name) is written as the calls CSV writes it: a cell that would
// run as a formula gets a ' in front (safetext.CSVCell), which ReadManifest takes off again.
var ManifestColumns = []string{"unique_id", "file", "bytes", "convert", "recording_file"}

// ManifestEntry is one line of a manifest.
type ManifestEntry struct {
	UniqueID      string
	File          string
	Bytes         int64
	Convert       string
	RecordingFile string
}

func (e ManifestEntry) fields() []string {
	return []string{safetext.CSVCell(e.UniqueID), e.File, strconv.FormatInt(e.Bytes, 10), e.Convert,
		safetext.CSVCell(e.RecordingFile)}
}

// fromCSVCell undoes safetext.CSVCell on a cell the manifest wrote. (A PBX text that itself began with ' before
// a formula reads back without it: such a call's recording is fetched again, nothing worse.)
func fromCSVCell(s string) string {
	if t, ok := strings.CutPrefix(s, safetext.CSVPrefix); ok && safetext.CSVCell(t) == s {
		return t
	}
	return s
}

// ReadManifest reads the manifest of a recordings folder; a folder without one gives no entries and no error.
// Lines that do not name a plain file in the folder are ignored, and a later line for the same call replaces
// an earlier one (the file is appended to while an export runs). Reading stops quietly at a line cut off by a
// crash.
func ReadManifest(dir string) ([]ManifestEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %s", filepath.Join(dir, ManifestName), outfile.Cause(err))
	}
	// A line without its newline was being written when the process stopped: it cannot be trusted.
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		b = b[:i+1]
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var out []ManifestEntry
	at := map[string]int{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // a damaged line: what came before it still counts
		}
		if len(row) < 4 || (row[0] == ManifestColumns[0] && row[1] == ManifestColumns[1]) {
			continue
		}
		n, err := strconv.ParseInt(row[2], 10, 64)
		if err != nil || n <= 0 || !validFile(row[1]) || row[0] == "" {
			continue
		}
		e := ManifestEntry{UniqueID: fromCSVCell(row[0]), File: row[1], Bytes: n, Convert: row[3]}
		if len(row) > 4 {
			e.RecordingFile = fromCSVCell(row[4])
		}
		if i, ok := at[e.UniqueID]; ok {
			out[i] = e
			continue
		}
		at[e.UniqueID] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// writeManifest replaces the manifest atomically.
func writeManifest(dir string, entries []ManifestEntry) error {
	tmp, err := outfile.Temp(dir, ManifestName)
	if err != nil {
		return fmt.Errorf("cannot write in %s: %s", dir, outfile.Cause(err))
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op once renamed
	rows := make([][]string, 0, 1+len(entries))
	rows = append(rows, ManifestColumns)
	for _, e := range entries {
		rows = append(rows, e.fields())
	}
	err = csv.NewWriter(tmp).WriteAll(rows)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, ManifestName))
	}
	if err != nil {
		return fmt.Errorf("cannot save %s: %s", filepath.Join(dir, ManifestName), outfile.Cause(err))
	}
	return nil
}

// journal appends one line per saved file to the manifest and syncs it, so a run killed at any moment still
// knows, next time, every file it finished.
type journal struct {
	mu   sync.Mutex
	path string
}

func (j *journal) add(e ManifestEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var buf bytes.Buffer
	if err := csv.NewWriter(&buf).WriteAll([][]string{e.fields()}); err != nil {
		return fmt.Errorf("cannot update %s: %s", j.path, outfile.Cause(err))
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cannot update %s: %s", j.path, outfile.Cause(err))
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot update %s: %s", j.path, outfile.Cause(err))
	}
	return nil
}
