package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
)

// lookupFlags name one call: --id or --start.
type lookupFlags struct {
	id, start string
}

func (l *lookupFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&l.id, "id", "", "the call's unique ID, e.g. 1396000115.1")
	c.Flags().StringVar(&l.start, "start", "", "the call's exact start time: 20140328114835 or 2014-03-28 11:48:35")
}

func (l *lookupFlags) set() bool { return l.id != "" || l.start != "" }

func (l *lookupFlags) lookup() (cdr.Lookup, error) {
	switch {
	case l.id != "" && l.start != "":
		return cdr.Lookup{}, usagef("give either --id or --start, not both")
	case l.id != "":
		return cdr.ByID(l.id), nil
	case l.start != "":
		t, err := cdr.ParseTime(l.start, nil)
		if err != nil {
			return cdr.Lookup{}, usagef("--start: %v", err)
		}
		return cdr.ByStart(t), nil
	}
	return cdr.Lookup{}, usagef("name the call with --id ID or --start YYYYMMDDhhmmss")
}

func (a *app) callCommand() *cobra.Command {
	var lf lookupFlags
	var format string
	var csvRaw bool
	c := &cobra.Command{
		Use:   "call",
		Short: "Show one call's record, by unique ID or exact start time",
		Example: `  callscope call --demo --id 1396000115.1
  callscope call --url http://10.0.0.5 --user admin --start 20140328114835 --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := lf.lookup()
			if err != nil {
				return err
			}
			w, err := newRecordWriter(format, csvRaw, a.stdout)
			if err != nil {
				return err
			}
			a.extended = true // one call: its channels and account code cost nothing extra
			src, err := a.source(c.Context())
			if err != nil {
				return err
			}
			r, err := src.Call(c.Context(), l)
			if err != nil {
				return err
			}
			if _, ok := w.(*tableWriter); ok {
				return printCall(a.stdout, &r, a.extensionNames(c.Context(), src))
			}
			if err := w.Write(&r); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	lf.add(c)
	c.Flags().StringVar(&format, "format", "table", "output: table, csv or json")
	addCSVRawFlag(c, &csvRaw)
	a.enum(c, "format", recordFormats, nil)
	return c
}

// printCall writes every field of a call, one per line: the people's view of one call.
func printCall(w io.Writer, r *cdr.Record, names map[string]string) error {
	name := r.FriendlyName
	if name == "" {
		name = names[r.Extension]
	}
	size := "-"
	switch {
	case r.RecordingSize > 0:
		size = human.Count(r.RecordingSize) + " bytes"
	case r.RecordingSize == 0:
		size = "none"
	}
	rows := [][2]string{
		{"unique ID", r.UniqueID},
		{"start", cdr.FormatTime(r.Start)},
		{"type", string(r.CallType)},
		{"extension", strings.TrimSpace(r.Extension + " " + name)},
		{"dialled number", r.DialledNumber},
		{"caller ID", r.CallerID},
		{"disposition", string(r.Disposition)},
		{"duration", dur(r.DurationS)},
		{"billable", dur(r.BillableS)},
		{"recording file", r.Recording},
		{"recording size", size},
		{"account code", r.AccountCode},
		{"channel", r.Channel},
		{"destination channel", r.DestChannel},
	}
	var b strings.Builder
	for _, row := range rows {
		v := oneLine(row[1])
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(&b, "%-21s%s\n", row[0], v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
