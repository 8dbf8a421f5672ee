package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
opens. A truncated file writes what decoded and exits 0 with a warning; a broken one exits 1.`,
		Example: `  callscope decode call.gsm -o call.wav --format wav
  callscope decode call.wav --format s16le -o - | sox -t raw -e signed -b 16 -r 8000 -c 1 - out.flac`,
		Args: exactlyOne("FILE", "callscope decode call.gsm -o call.wav --format wav"),
		RunE: func(c *cobra.Command, args []string) error {
			format = strings.ToLower(format)
			if format != "s16le" && format != "wav" {
				return usagef("unknown --format %q: use s16le or wav", format)
			}
			if out == "" {
				return usagef("say where to write with -o FILE (or -o - for stdout)")
			}
			s, err := decode.OpenFile(args[0])
			if err != nil {
				return err // it names the file
			}
			defer s.Close()
			write := func(w io.Writer) error {
				var err error
				if format == "wav" {
					_, err = decode.WriteWAV(w, s)
				} else {
					_, err = decode.WriteS16LE(w, s)
				}
				return err
			}
			if out == "-" {
				err = write(a.stdout)
			} else {
				err = writeAtomic(out, write)
			}
			if err != nil {
				var we *writeError
				if errors.As(err, &we) {
					return err // it names the output
				}
				return fmt.Errorf("%s: %w", args[0], err)
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
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout)")
	c.Flags().StringVar(&format, "format", "s16le", "s16le (raw samples) or wav (16-bit PCM WAV)")
	a.enum(c, "format", []string{"s16le", "wav"}, nil)
	return c
}

// writeAtomic runs write against a temporary file beside path and renames it into place only when write and the
// flush to disk succeed. write may seek the file (a WAV header is filled in at the end). A failure to write
// is a *writeError naming path, never the temporary file, which is the program's business.
func writeAtomic(path string, write func(io.Writer) error) error {
	dir, base := splitPath(path)
	tmp, err := os.CreateTemp(dir, "."+base+".*.part")
	if err != nil {
		return &writeError{path: path, err: rootCause(err)}
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		var pe *fs.PathError
		var le *os.LinkError
		if errors.As(err, &pe) || errors.As(err, &le) {
			return &writeError{path: path, err: rootCause(err)}
		}
	}
	return err
}

// writeError is a file that could not be written: "cannot write out.wav: no space left on device".
type writeError struct {
	path string
	err  error
}

func (e *writeError) Error() string { return "cannot write " + e.path + ": " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// rootCause is the system's reason inside a file operation's error, without the operation and file name.
func rootCause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

func splitPath(path string) (dir, base string) {
	i := strings.LastIndexAny(path, `/\`)
	if i < 0 {
		return ".", path
	}
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}
