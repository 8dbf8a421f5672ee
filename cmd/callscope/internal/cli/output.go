package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
)

// recordWriter is one of the output formats.
type recordWriter interface {
	Write(*cdr.Record) error
	Flush() error
}

// newRecordWriter opens the output of --format; csvRaw is --csv-raw.
func newRecordWriter(format string, csvRaw bool, w io.Writer) (recordWriter, error) {
	if csvRaw && strings.ToLower(format) != "csv" {
		return nil, usagef("--csv-raw is for --format csv")
	}
	switch strings.ToLower(format) {
	case "csv":
		cw := cdr.NewCSVWriter(w)
		if csvRaw {
			cw = cdr.NewRawCSVWriter(w)
		}
		if isTerminal(w) {
			cw.ForTerminal() // a person reads it: the PBX's escapes show instead of acting
		}
		return cw, nil
	case "json":
		return cdr.NewJSONWriter(w), nil
	case "table", "":
		return newTableWriter(w), nil
	}
	return nil, usagef("unknown --format %q: use table, csv or json", format)
}

// addCSVRawFlag adds --csv-raw to a command that writes CSV.
func addCSVRawFlag(c *cobra.Command, raw *bool) {
	c.Flags().BoolVar(raw, "csv-raw", false, "write CSV cells exactly as the PBX sent them, without the ' put before "+
		"text a spreadsheet would run as a formula (=…, @…, +/- not followed by a number)")
}

// csvCell is the CSV cell writer of --csv-raw or its absence, for the CSVs not written by cdr.CSVWriter, with
// the terminal cleaning of cdr.CSVWriter.ForTerminal when w is a terminal.
func csvCell(raw bool, w io.Writer) func(string) string {
	cell := safetext.CSVCell
	if raw {
		cell = safetext.CSVRawCell
	}
	if isTerminal(w) {
		return func(s string) string { return safetext.Terminal(cell(s)) }
	}
	return cell
}

// extensionNames maps the source's extensions to their names, for the table's NAME column; a source that
// cannot list its users gives an empty map (the table then shows the names the PBX sent, if any).
func (a *app) extensionNames(ctx context.Context, src cdr.Source) map[string]string {
	names := map[string]string{}
	users, err := a.usersOf(ctx, src)
	if err != nil {
		a.logger().Debug("no extension names for the table: " + err.Error())
		return names
	}
	for _, u := range users {
		names[u.Extension] = u.Name
	}
	return names
}

// usersOf is src's users list, asked for once per command: --search and the table's names both need it.
func (a *app) usersOf(ctx context.Context, src cdr.Source) ([]cdr.User, error) {
	if !a.usersRead {
		a.users, a.usersErr = src.Users(ctx)
		a.usersRead = true
	}
	return a.users, a.usersErr
}

// tableWriter is the people's format: aligned columns, times with their offset. names (extension to name, from
// the users list) fill the NAME column where the PBX sent no friendly name. Every text from the PBX is cleaned
// for the terminal (a caller ID can hold escape sequences).
type tableWriter struct {
	tw     *tabwriter.Writer
	header bool
	names  map[string]string
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
	name := r.FriendlyName
	if name == "" {
		name = t.names[r.Extension]
	}
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", cdr.FormatTime(r.Start),
		safetext.Terminal(string(r.CallType)), safetext.Terminal(r.Extension), clip(name, 20),
		clip(r.OtherParty(), 28), safetext.Terminal(string(r.Disposition)), dur(r.DurationS), dur(r.BillableS), rec,
		safetext.Terminal(r.UniqueID), note)
	return err
}

func (t *tableWriter) Flush() error { return t.tw.Flush() }

// plural is "1 call", "2 calls": a number and its noun in the right form.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func dur(s int) string {
	if s < 0 {
		return ""
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// clip cleans s for the terminal (a tab would also break the table's columns) and cuts it to n characters.
func clip(s string, n int) string {
	s = safetext.Terminal(s)
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return s
}
