package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/callscope/callscope/client/cdr"
)

// recordWriter is one of the output formats.
type recordWriter interface {
	Write(*cdr.Record) error
	Flush() error
}

func newRecordWriter(format string, w io.Writer) (recordWriter, error) {
	switch strings.ToLower(format) {
	case "csv":
		return cdr.NewCSVWriter(w), nil
	case "json":
		return cdr.NewJSONWriter(w), nil
	case "table", "":
		return newTableWriter(w), nil
	}
	return nil, usagef("unknown --format %q: use table, csv or json", format)
}

// tableWriter is the people's format: aligned columns, times with their offset.
type tableWriter struct {
	tw     *tabwriter.Writer
	header bool
	notes  map[string]string // archive calls whose recording was not fetched, with why: shown after the row
}

func newTableWriter(w io.Writer) *tableWriter {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (t *tableWriter) Write(r *cdr.Record) error {
	if !t.header {
		t.header = true
		fmt.Fprintln(t.tw, "START\tTYPE\tEXT\tNAME\tOTHER PARTY\tDISPOSITION\tDUR\tBILL\tREC\tUNIQUE ID")
	}
	rec, note := "", ""
	if why, ok := t.notes[r.UniqueID]; ok {
		rec, note = "!", "\trecording not fetched: "+clip(why, 160)
	} else if r.HasRecording() {
		rec = "●"
	}
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", cdr.FormatTime(r.Start), r.CallType,
		r.Extension, clip(r.FriendlyName, 20), clip(r.OtherParty(), 28), r.Disposition, dur(r.DurationS),
		dur(r.BillableS), rec, r.UniqueID, note)
	return err
}

func (t *tableWriter) Flush() error { return t.tw.Flush() }

func dur(s int) string {
	if s < 0 {
		return ""
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return s
}
