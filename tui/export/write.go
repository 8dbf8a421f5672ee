package export

import (
	"context"

	engine "github.com/callscope/callscope/client/export"
	"github.com/callscope/callscope/tui/common"
)

// RecordingsDir is the folder for a CSV's recordings: beside it, named after it.
func RecordingsDir(csvPath string) string { return engine.RecordingsDir(csvPath) }

// DefaultName is the file name the prompt offers: calls-YYYYMMDD-HHMM.csv.
func DefaultName(now func() string) string { return "calls-" + now() + ".csv" }

// WriteCSV writes every row through cdr.CSVWriter (the one writer `callscope calls --format csv` uses) to path,
// atomically; with overwrite false an existing file is never replaced. It is client/export's WriteCSV, shared
// with `callscope export`.
func WriteCSV(ctx context.Context, path string, rows common.Rows, overwrite bool) (int, error) {
	return engine.WriteCSV(ctx, path, rows, overwrite)
}
