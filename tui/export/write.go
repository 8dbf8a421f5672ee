package export

import (
	"context"

	"github.com/callscope/callscope/client/cdr"
	engine "github.com/callscope/callscope/client/export"
	"github.com/callscope/callscope/tui/common"
)

// RecordingsDir is the folder for a CSV's recordings: beside it, named after it.
func RecordingsDir(csvPath string) string { return engine.RecordingsDir(csvPath) }

// DefaultName is the file name the prompt offers: calls-YYYYMMDD-HHMM.csv.
func DefaultName(now func() string) string { return "calls-" + now() + ".csv" }

// WriteCSV writes every row through cdr.CSVWriter (the one writer `callscope calls --format csv` uses) to path,
// atomically; without o.Overwrite an existing file is never replaced. It is client/export's WriteCSV, shared
// with `callscope export`.
func WriteCSV(ctx context.Context, path string, rows common.Rows, o engine.CSVOptions) (int, error) {
	return engine.WriteCSV(ctx, path, engineRows{rows}, o)
}

// engineRows hands the table's rows to client/export, which takes pointers. The table builds each row as a
// value on demand, so every row gets its own copy: the engine may keep what it is given.
type engineRows struct{ rows common.Rows }

func (e engineRows) Len() int {
	if e.rows == nil {
		return 0
	}
	return e.rows.Len()
}

func (e engineRows) At(i int) *cdr.Record {
	r := e.rows.At(i)
	return &r
}
