package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/safetext"
)

func (a *app) usersCommand() *cobra.Command {
	var format string
	var revealPINs, csvRaw bool
	c := &cobra.Command{
		Use:   "users",
		Short: "List the PBX's extensions and names (never the voicemail PINs unless asked by name)",
		Example: `  callscope users --demo
  callscope users --url http://10.0.0.5 --user admin --format csv > extensions.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch strings.ToLower(format) {
			case "table", "csv", "json":
			default:
				return usagef("unknown --format %q: use table, csv or json", format)
			}
			if csvRaw && strings.ToLower(format) != "csv" {
				return usagef("--csv-raw is for --format csv")
			}
			src, err := a.source(c.Context())
			if err != nil {
				return err
			}
			users, err := src.Users(c.Context())
			if err != nil {
				return err
			}
			pin := func(i int) string {
				if revealPINs {
					return users[i].PIN.Reveal()
				}
				return ""
			}
			switch strings.ToLower(format) {
			case "csv":
				w := csv.NewWriter(a.stdout)
				cell := csvCell(csvRaw, a.stdout)
				head := []string{"extension", "name"}
				if revealPINs {
					head = append(head, "voicemail_pin")
				}
				if err := w.Write(head); err != nil {
					return err
				}
				for i, u := range users {
					row := []string{cell(u.Extension), cell(u.Name)}
					if revealPINs {
						row = append(row, cell(pin(i)))
					}
					if err := w.Write(row); err != nil {
						return err
					}
				}
				w.Flush()
				return w.Error()
			case "json":
				enc := json.NewEncoder(a.stdout)
				for i, u := range users {
					m := map[string]string{"extension": u.Extension, "name": u.Name}
					if revealPINs {
						m["voicemail_pin"] = pin(i)
					}
					if err := enc.Encode(m); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			head := "EXTENSION\tNAME"
			if revealPINs {
				head += "\tVOICEMAIL PIN"
			}
			fmt.Fprintln(tw, head)
			for i, u := range users {
				line := safetext.Terminal(u.Extension) + "\t" + clip(u.Name, 40)
				if revealPINs {
					line += "\t" + safetext.Terminal(pin(i))
				}
				fmt.Fprintln(tw, line)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&format, "format", "table", "output: table, csv or json")
	addCSVRawFlag(c, &csvRaw)
	c.Flags().BoolVar(&revealPINs, "reveal-voicemail-pins", false, "also print the voicemail PINs (secrets: only when you need them)")
	a.enum(c, "format", recordFormats, nil)
	return c
}
