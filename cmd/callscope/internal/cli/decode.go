package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/audio/decode"
)

func (a *app) decodeCommand() *cobra.Command {
	var out, format string
	c := &cobra.Command{
		Use:   "decode FILE",
		Short: "Decode a recording (GSM, WAV49, A-law, µ-law, PCM) to 16-bit samples or a PCM WAV",
		Long: `decode reads a call recording in any format callscope plays and writes its samples: raw signed 16-bit
little-endian mono at the file's own rate (--format s16le), or a 16-bit PCM WAV (--format wav) that any player
opens. A truncated file writes what decoded and exits 0 with a warning; a broken one exits 1. Without -o the
samples go to stdout, unless stdout is a terminal.`,
		Example: `  callscope decode call.gsm -o call.wav --format wav
  callscope decode call.wav --format s16le -o - | sox -t raw -e signed -b 16 -r 8000 -c 1 - out.flac`,
		Args: exactlyOne("FILE", "callscope decode call.gsm -o call.wav --format wav"),
		RunE: func(c *cobra.Command, args []string) error {
			format = strings.ToLower(format)
			if format != "s16le" && format != "wav" {
				return usagef("unknown --format %q: use s16le or wav", format)
			}
			out, err := a.binaryOutput(out, "decoded audio")
			if err != nil {
				return err
			}
			s, err := decode.OpenFile(args[0])
			if err != nil {
				return err // it names the file
			}
			defer func() { _ = s.Close() }()
			write := func(w io.Writer) error {
				var err error
				if format == "wav" {
					_, err = decode.WriteWAV(w, s)
				} else {
					_, err = decode.WriteS16LE(w, s)
				}
				var pe *fs.PathError
				if err != nil && !(errors.As(err, &pe) && (pe.Op == "write" || pe.Op == "seek")) {
					err = fmt.Errorf("%s: %w", args[0], err) // the input's fault; the output's errors name it
				}
				return err
			}
			if err := a.writeOutput(c.Context(), out, write); err != nil {
				return err
			}
			info := s.Info()
			if info.Truncated {
				a.warn(fmt.Sprintf("%s: %s; wrote the %d samples that decoded", args[0], info.Warning, info.Samples))
			} else if info.Warning != "" {
				a.warn(args[0] + ": " + info.Warning)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout, the default when stdout is not a terminal)")
	c.Flags().StringVar(&format, "format", "s16le", "s16le (raw samples) or wav (16-bit PCM WAV)")
	a.enum(c, "format", []string{"s16le", "wav"}, nil)
	return c
}
