package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/tui/common"
)

// RecordingsDir is the folder for a CSV's recordings: beside it, named after it.
func RecordingsDir(csvPath string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + "-recordings"
}

// DefaultName is the file name the prompt offers: calls-YYYYMMDD-HHMM.csv.
func DefaultName(now func() string) string { return "calls-" + now() + ".csv" }

// WriteCSV writes every row through cdr.CSVWriter (the one writer `callscope calls --format csv` uses) to path,
// atomically: a temporary file in the same directory, synced, then moved into place. With overwrite false an
// existing file is never replaced, even one that appeared after the user was asked. It returns the rows
// written.
func WriteCSV(ctx context.Context, path string, rows common.Rows, overwrite bool) (int, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("cannot write in %s: %s", dir, rootCause(err))
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once moved into place
	n := 0
	if rows != nil {
		n = rows.Len()
	}
	cw := cdr.NewCSVWriter(tmp)
	written := 0
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			tmp.Close()
			return 0, ctx.Err()
		}
		r := rows.At(i)
		if r == nil {
			continue
		}
		if err := cw.Write(r); err != nil {
			tmp.Close()
			return 0, fmt.Errorf("writing %s: %s", filepath.Base(path), rootCause(err))
		}
		written++
	}
	if err := cw.Flush(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("writing %s: %s", filepath.Base(path), rootCause(err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("writing %s: %s", filepath.Base(path), rootCause(err))
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("writing %s: %s", filepath.Base(path), rootCause(err))
	}
	// CreateTemp makes the file 0600; an export is an ordinary document.
	os.Chmod(tmpName, 0o644)
	if overwrite {
		if err := os.Rename(tmpName, path); err != nil {
			return 0, fmt.Errorf("cannot save %s: %s", path, rootCause(err))
		}
		return written, nil
	}
	// Link fails if the name exists, so a file created since we asked is never replaced.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%s already exists; choose another name or confirm overwriting", path)
		}
		return 0, fmt.Errorf("cannot save %s: %s", path, rootCause(err))
	}
	return written, nil
}

// rootCause drops *PathError's repetition of the path the message already names.
func rootCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return err.Error()
}

// namer hands out file names for recordings that are safe (reduced to [A-Za-z0-9._-]) and unique within one
// export, whatever the PBX's IDs and file names hold.
type namer struct{ used map[string]bool }

func (n *namer) name(r *cdr.Record, format string) string {
	if n.used == nil {
		n.used = map[string]bool{}
	}
	ext := ""
	switch format {
	case "wav":
		ext = ".wav"
	case "gsm":
		ext = ".gsm"
	default:
		ext = strings.ToLower(filepath.Ext(reccache.SafeName(r.Recording)))
		if ext == "" || len(ext) > 6 {
			ext = ".audio"
		}
	}
	base := reccache.SafeID(r.UniqueID)
	if base == "" {
		base = "call-" + r.Start.Format("20060102-150405")
	}
	name := base + ext
	for i := 2; n.used[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d%s", base, i, ext)
	}
	n.used[strings.ToLower(name)] = true
	return name
}

// recordingResult is one recording's outcome.
type recordingResult struct {
	name  string
	bytes int64
	err   error
}

// saveRecording copies one call's recording into dir under a safe unique name, atomically. A recording already
// in the cache is copied from disk; others are downloaded straight into the export (not into the cache, which a
// big export would otherwise flush).
func saveRecording(ctx context.Context, src cdr.Source, cache *reccache.Cache, dir string, names *namer, r cdr.Record, onBytes func(int64)) recordingResult {
	var (
		rd     io.Reader
		format string
		closer func()
	)
	if cache != nil && cache.Has(src, r) {
		e, err := cache.Fetch(ctx, src, r, nil)
		if err == nil {
			rd, format, closer = e.File, e.Format, func() { e.File.Close() }
		}
	}
	if rd == nil {
		if src == nil {
			return recordingResult{err: errors.New("no PBX to fetch recordings from")}
		}
		rec, err := src.Recording(ctx, cdr.ByRecord(r))
		if err != nil {
			return recordingResult{err: err}
		}
		rd, format, closer = rec, rec.Format, func() { rec.Close() }
	}
	defer closer()
	name := names.name(&r, format)
	final := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return recordingResult{name: name, err: fmt.Errorf("cannot write in %s: %s", dir, rootCause(err))}
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, &countingReader{r: rd, ctx: ctx, on: onBytes})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == 0 {
		err = errors.New("the PBX sent an empty recording")
	}
	if err != nil {
		return recordingResult{name: name, err: err}
	}
	os.Chmod(tmp.Name(), 0o644)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return recordingResult{name: name, err: fmt.Errorf("cannot save %s: %s", name, rootCause(err))}
	}
	return recordingResult{name: name, bytes: n}
}

type countingReader struct {
	r   io.Reader
	ctx context.Context
	on  func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 && c.on != nil {
		c.on(int64(n))
	}
	return n, err
}
