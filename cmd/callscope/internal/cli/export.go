package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/export"
)

// maxParallel bounds --parallel: a PBX is a small box, and more connections do not make its disk faster.
const maxParallel = 16

func (a *app) exportCommand() *cobra.Command {
	var qf queryFlags
	var out, recDir, convert string
	var parallel int
	var csvRaw bool
	c := &cobra.Command{
		Use:   "export",
		Short: "Write calls to a CSV file and save their recordings in a folder",
		Long: `export writes the calls of a range (with the same filters as calls) to a CSV file, the same CSV as
calls --format csv, and with --recordings saves each call's recording in a folder, named after the call's
unique ID. A manifest.csv in the folder maps each unique ID to its file.

Running the same export again skips the recordings already saved, so an interrupted export is finished by
running it again; a file under its final name is always complete. A recording that cannot be saved is
reported and the others continue; the exit code is then 1.`,
		Example: `  callscope export --demo --from 2026-11-20 --to 2026-11-21 -o calls.csv --recordings calls-rec
  callscope export --url http://10.0.0.5 --user admin --from 20261101 --to 20261201 --ext 201 \
      -o november.csv --recordings november --convert wav --parallel 4`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("say where to write the CSV with -o FILE (or -o - for stdout)")
			}
			convert = strings.ToLower(strings.TrimSpace(convert))
			if convert != "" && convert != "wav" {
				return usagef("unknown --convert %q: the only conversion is wav", convert)
			}
			if convert != "" && recDir == "" {
				return usagef("--convert needs --recordings DIR to say where the recordings go")
			}
			if parallel < 1 || parallel > maxParallel {
				return usagef("--parallel must be between 1 and %d", maxParallel)
			}
			if out != "-" && recDir != "" && filepath.Clean(out) == filepath.Clean(recDir) {
				return usagef("-o and --recordings name the same path; give the recordings a folder of their own")
			}
			if err := checkOutput(out); err != nil {
				return err
			}
			src, q, keep, err := a.querySource(c.Context(), &qf)
			if err != nil {
				return err
			}
			calls, err := a.fetchCalls(c.Context(), src, q, keep)
			if err != nil {
				return err
			}
			if err := a.writeExportCSV(c.Context(), out, calls, csvRaw); err != nil {
				return err
			}
			where := out
			if out == "-" {
				where = "stdout"
			}
			if recDir == "" {
				a.note(fmt.Sprintf("exported %s to %s", plural(len(calls), "call", "calls"), where))
				return nil
			}
			return a.exportRecordings(c.Context(), src, calls, where, export.Options{Dir: recDir, Convert: convert,
				Parallel: parallel})
		},
	}
	qf.add(a, c)
	f := c.Flags()
	f.StringVarP(&out, "output", "o", "", "CSV file to write (- for stdout); replaced atomically if it exists")
	f.StringVar(&recDir, "recordings", "", "also save the calls' recordings in this folder (created if missing)")
	f.StringVar(&convert, "convert", "", "convert the recordings: wav (16-bit PCM, opens in any player)")
	addCSVRawFlag(c, &csvRaw)
	f.IntVar(&parallel, "parallel", 2, fmt.Sprintf("recordings to download at once (1-%d)", maxParallel))
	a.enum(c, "convert", []string{"wav"}, nil)
	_ = c.MarkFlagDirname("recordings")
	return c
}

// fetchCalls reads the calls the query selects, as `calls` does, with the same progress line and warnings.
func (a *app) fetchCalls(ctx context.Context, src cdr.Source, q cdr.Query, keep func(*cdr.Record) bool) ([]cdr.Record, error) {
	var calls []cdr.Record
	_, err := a.streamCalls(ctx, src, q, keep, func(r *cdr.Record) error {
		calls = append(calls, *r)
		return nil
	})
	return calls, err
}

// writeExportCSV writes the calls through the one CSV writer: to stdout, or atomically to a file. raw is
// --csv-raw.
func (a *app) writeExportCSV(ctx context.Context, out string, calls []cdr.Record, raw bool) error {
	if out == "-" {
		w := cdr.NewCSVWriter(a.stdout)
		if raw {
			w = cdr.NewRawCSVWriter(a.stdout)
		}
		if isTerminal(a.stdout) {
			w.ForTerminal()
		}
		for i := range calls {
			if err := w.Write(&calls[i]); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	_, err := export.WriteCSV(ctx, out, export.Records(calls), export.CSVOptions{Overwrite: true, Raw: raw})
	return err
}

// exportRecordings saves the recordings with a progress bar on a terminal, a line per file otherwise, and
// a summary; it fails (exit 1) when any recording could not be saved or the run was interrupted.
func (a *app) exportRecordings(ctx context.Context, src cdr.Source, calls []cdr.Record, where string, o export.Options) error {
	p := newExportProgress(a.stderr)
	o.Source, o.Resume, o.OnEvent = src, true, p.event
	sum, err := export.Save(ctx, export.Records(calls), o)
	p.finish()
	if err != nil {
		return err
	}
	line := fmt.Sprintf("exported %s to %s; recordings in %s: %d saved (%s)", plural(len(calls), "call", "calls"),
		where, o.Dir, sum.Saved, humanBytes(float64(sum.Bytes)))
	if sum.Skipped > 0 {
		line += fmt.Sprintf(", %d already complete", sum.Skipped)
	}
	if sum.Failed > 0 {
		line += fmt.Sprintf(", %d failed", sum.Failed)
	}
	fmt.Fprintln(a.stderr, "callscope: "+line)
	switch {
	case sum.Cancelled:
		left := sum.Total - sum.Saved - sum.Skipped - sum.Failed
		return fmt.Errorf("interrupted with %s not saved; run the same command again to finish", plural(left, "recording", "recordings"))
	case sum.Failed > 0:
		return fmt.Errorf("%d of %d recordings could not be saved (see above); run the same command again to retry them",
			sum.Failed, sum.Total)
	}
	return nil
}

// exportProgress shows the recordings' progress: a bar with files, bytes, rate and time left on a terminal,
// one plain line per file otherwise. Failures are printed in both cases.
type exportProgress struct {
	w       io.Writer
	term    bool
	start   time.Time
	last    time.Time
	files   int   // to download
	unknown int   // of them, without a size in the index
	total   int64 // bytes the index announces for them
	done    int
	read    int64
	visible bool
}

func newExportProgress(w io.Writer) *exportProgress {
	return &exportProgress{w: w, term: isTerminal(w), start: time.Now()}
}

// event is export.Options.OnEvent; the engine calls it from one goroutine at a time.
func (p *exportProgress) event(e export.Event) {
	switch e.Kind {
	case export.Planned:
		p.files, p.unknown, p.total = e.Files, e.Unknown, e.Bytes
		p.start = time.Now()
	case export.Progress:
		p.read += e.Bytes
	case export.Saved:
		p.done++
		if !p.term {
			fmt.Fprintf(p.w, "saved %s (%s)\n", e.File, humanBytes(float64(e.Bytes)))
		}
		if e.Warning != "" {
			p.line(fmt.Sprintf("callscope: warning: call %s: %s", e.Call.UniqueID, oneLine(e.Warning)))
		}
	case export.Skipped:
		if !p.term {
			fmt.Fprintf(p.w, "skipped %s (already complete)\n", e.File)
		}
		return
	case export.Failed:
		p.done++
		msg := oneLine(explain(e.Err))
		if e.Call.UniqueID == "" || !strings.Contains(msg, e.Call.UniqueID) {
			msg = "call " + e.Call.Ref() + " failed: " + msg
		} else {
			msg = "failed: " + msg // the error names the call already
		}
		p.line("callscope: " + msg)
	}
	p.draw(false)
}

// line prints a line above the bar.
func (p *exportProgress) line(s string) {
	p.clear()
	fmt.Fprintln(p.w, oneLine(s))
	p.draw(true)
}

func (p *exportProgress) clear() {
	if p.visible {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.visible = false
	}
}

func (p *exportProgress) draw(force bool) {
	if !p.term || p.files == 0 {
		return
	}
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprint(p.w, "\r\x1b[K"+p.status(now))
	p.visible = true
}

// status is the bar's text: [#####.....] 12/50 files  3.2 MB of 10.1 MB  1.1 MB/s  ETA 7s
func (p *exportProgress) status(now time.Time) string {
	const width = 24
	frac := float64(p.done) / float64(p.files)
	bytesKnown := p.unknown == 0 && p.total > 0
	if bytesKnown {
		frac = min(1, float64(p.read)/float64(p.total))
	}
	fill := int(frac * width)
	bar := "[" + strings.Repeat("#", fill) + strings.Repeat(".", width-fill) + "]"
	elapsed := now.Sub(p.start).Seconds()
	size := humanBytes(float64(p.read))
	if bytesKnown {
		size += " of " + humanBytes(float64(p.total))
	}
	s := fmt.Sprintf("%s %d/%d files  %s", bar, p.done, p.files, size)
	if elapsed > 0.5 {
		s += fmt.Sprintf("  %s/s", humanBytes(float64(p.read)/elapsed))
		if frac > 0 && frac < 1 {
			s += "  ETA " + time.Duration(elapsed*(1-frac)/frac*float64(time.Second)).Round(time.Second).String()
		}
	}
	return s
}

func (p *exportProgress) finish() { p.clear() }
