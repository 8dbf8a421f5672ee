// Package export writes calls out of callscope: the CSV (through cdr.CSVWriter, the one writer that
// `callscope calls --format csv` uses too) and the calls' recordings, saved into a folder under safe, unique
// names made from the unique IDs, never from the PBX's file names. Every file is written to a temporary name,
// synced and renamed, so an interrupted export never leaves a half-written file under a final name; the CSV goes
// where the user pointed by client/outfile's rules (a FIFO is written into, a link's target is replaced). The TUI's
// export dialog and `callscope export` both use it.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/outfile"
)

// Rows is an indexable list of calls, in export order. A nil *cdr.Record is skipped.
type Rows interface {
	Len() int
	At(i int) *cdr.Record
}

// Records adapts a slice to Rows.
type Records []cdr.Record

func (r Records) Len() int             { return len(r) }
func (r Records) At(i int) *cdr.Record { return &r[i] }

// RecordingsDir is the folder for a CSV's recordings: beside it, named after it.
func RecordingsDir(csvPath string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + "-recordings"
}

// CSVOptions say how WriteCSV writes.
type CSVOptions struct {
	// Overwrite replaces an existing file; without it an existing file is never replaced, even one that
	// appeared after the user was asked.
	Overwrite bool
	// Raw writes every cell as the PBX sent it (cdr.NewRawCSVWriter, --csv-raw) instead of neutralising cells
	// a spreadsheet would run as formulas.
	Raw bool
}

// WriteCSV writes every row through cdr.CSVWriter to path by client/outfile's rules: a regular file (or a
// symbolic link's target) atomically, through a temporary file in the same folder that is synced and then moved
// into place; a FIFO or device straight into it; a folder is refused. Without o.Overwrite an existing file is
// never replaced, even one that appeared after the user was asked. It returns the rows written.
func WriteCSV(ctx context.Context, path string, rows Rows, o CSVOptions) (int, error) {
	n := 0
	if rows != nil {
		n = rows.Len()
	}
	written := 0
	write := func(w io.Writer) error {
		cw := cdr.NewCSVWriter(w)
		if o.Raw {
			cw = cdr.NewRawCSVWriter(w)
		}
		for i := range n {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			r := rows.At(i)
			if r == nil {
				continue
			}
			if err := cw.Write(r); err != nil {
				return err
			}
			written++
		}
		return cw.Flush()
	}
	var err error
	if o.Overwrite {
		err = outfile.Write(ctx, path, write)
	} else {
		err = outfile.WriteNew(ctx, path, write)
	}
	if errors.Is(err, fs.ErrExist) {
		return 0, fmt.Errorf("%s already exists; choose another name or confirm overwriting", path)
	}
	if err != nil {
		return 0, err
	}
	return written, nil
}
