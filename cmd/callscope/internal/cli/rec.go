package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) recCommand() *cobra.Command {
	var lf lookupFlags
	var out string
	c := &cobra.Command{
		Use:   "rec",
		Short: "Save one call's recording as the PBX serves it",
		Example: `  callscope rec --demo --id 1396000115.1 -o call.gsm
  callscope rec --url http://10.0.0.5 --user admin --start 20140328114835 -o - | sox -t gsm - call.wav   # a GSM recording
  callscope rec --url http://10.0.0.5 --user admin --id 1392723066.6 -o call.wav && callscope decode call.wav --format wav -o call-pcm.wav`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := lf.lookup()
			if err != nil {
				return err
			}
			out, err := a.binaryOutput(out, "the recording")
			if err != nil {
				return err
			}
			src, err := a.source(c.Context())
			if err != nil {
				return err
			}
			rec, err := src.Recording(c.Context(), l)
			if err != nil {
				return err
			}
			defer func() { _ = rec.Close() }()
			prog := newProgress(a.stderr)
			body := io.TeeReader(rec, &byteCounter{report: prog.bytes})
			var n int64
			err = a.writeOutput(c.Context(), out, func(w io.Writer) error {
				var err error
				n, err = io.Copy(w, body)
				return err
			})
			prog.done()
			if err != nil || out == "-" {
				return err
			}
			format := rec.Format
			if format == "" {
				format = "unknown format"
			}
			a.note(fmt.Sprintf("wrote %s (%s, %s)", out, format, humanBytes(float64(n))))
			return nil
		},
	}
	lf.add(c)
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout, the default when stdout is not a terminal)")
	return c
}

// byteCounter counts the bytes passing through a TeeReader and reports the running total.
type byteCounter struct {
	n      int64
	report func(int64)
}

func (b *byteCounter) Write(p []byte) (int, error) {
	b.n += int64(len(p))
	b.report(b.n)
	return len(p), nil
}
