package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
)

// queryFlags are the selection flags shared by every command that lists calls.
type queryFlags struct {
	from, to     string
	page, limit  int
	exts         []string
	dispositions []string
	types        []string
	search       string
	extended     bool
	flags        *pflag.FlagSet // tells a --page 0 given from no --page
}

func (q *queryFlags) add(a *app, c *cobra.Command) {
	f := c.Flags()
	q.flags = f
	f.StringVar(&q.from, "from", "", "first start time, inclusive: 2013-03-01, 2013-03-01T23:00 or 201303012300")
	f.StringVar(&q.to, "to", "", "end of the range, exclusive (same forms)")
	f.IntVar(&q.page, "page", 0, "fetch this page (from 1) instead of a range")
	f.IntVar(&q.limit, "limit", 100, "rows per page (with --page, or the page size of a Difuse range search)")
	f.StringSliceVar(&q.exts, "ext", nil, "only calls of these extensions (repeat or comma-separate)")
	f.StringSliceVar(&q.dispositions, "disposition", nil, "only these dispositions: answered, no answer, busy, failed, …")
	f.StringSliceVar(&q.types, "type", nil, "only these call types: inbound, outbound, internal, other, unknown")
	f.StringVar(&q.search, "search", "", "only calls in which this text appears (number, caller ID, call ID, extension, name, account code;\n"+
		"any case; 082 555-1234 also finds 0825551234); an --archive answers it from its index")
	f.BoolVar(&q.extended, "extended", false, "ask for the extended fields (friendly name, account code, channels)")
	a.enum(c, "disposition", dispositionWords, validDisposition)
	a.enum(c, "type", callTypeWords, validCallType)
}

// query builds the cdr.Query and a local filter for what the PBX cannot filter itself.
func (q *queryFlags) query() (cdr.Query, func(*cdr.Record) bool, error) {
	var cq cdr.Query
	var err error
	if q.from != "" {
		if cq.From, err = cdr.ParseTime(q.from, nil); err != nil {
			return cq, nil, usageError{fmt.Errorf("--from: %w", err)}
		}
	}
	if q.to != "" {
		if cq.To, err = cdr.ParseTime(q.to, nil); err != nil {
			return cq, nil, usageError{fmt.Errorf("--to: %w", err)}
		}
	}
	if !cq.From.IsZero() && !cq.To.IsZero() && !cq.To.After(cq.From) {
		return cq, nil, usagef("--to (%s) must be after --from (%s)", q.to, q.from)
	}
	if q.page < 0 || (q.page == 0 && q.flags != nil && q.flags.Changed("page")) {
		return cq, nil, usagef("--page must be 1 or more (the first page is 1), not %d", q.page)
	}
	if q.limit <= 0 {
		return cq, nil, usagef("--limit must be 1 or more, not %d", q.limit)
	}
	if q.page > 0 && (q.from != "" || q.to != "") {
		return cq, nil, usagef("give either --page or --from/--to, not both")
	}
	cq.Page, cq.Limit, cq.Extended = q.page, q.limit, q.extended
	if len(q.exts) == 1 {
		cq.Extension = q.exts[0]
	}
	exts := set(q.exts)
	disps := map[cdr.Disposition]bool{}
	for _, d := range q.dispositions {
		disps[cdr.ParseDisposition(d)] = true
	}
	types := map[cdr.CallType]bool{}
	for _, t := range q.types {
		types[cdr.ParseCallType(t)] = true
	}
	keep := func(r *cdr.Record) bool {
		return (len(exts) == 0 || involvesAny(r, exts)) &&
			(len(disps) == 0 || disps[r.Disposition]) &&
			(len(types) == 0 || types[r.CallType])
	}
	return cq, keep, nil
}

// querySource reads the query flags, opens the source, and then fills in the profile's default range when the
// flags give none: "today" is measured in the zone (--tz, the profile's) that opening the source resolves. A
// mistake in the flags is reported before anything is dialled.
func (a *app) querySource(ctx context.Context, qf *queryFlags) (cdr.Source, cdr.Query, func(*cdr.Record) bool, error) {
	q, keep, err := qf.query()
	if err != nil {
		return nil, cdr.Query{}, nil, err
	}
	src, err := a.source(ctx)
	if err != nil {
		return nil, cdr.Query{}, nil, err
	}
	if err := a.applyProfileRange(&q); err != nil {
		return nil, cdr.Query{}, nil, err
	}
	if strings.TrimSpace(qf.search) != "" {
		src, keep = a.searched(ctx, src, qf.search, keep)
	}
	return src, q, keep, nil
}

// searchSource is a source that answers a free-text search itself, from an index (archive.Archive).
type searchSource interface {
	cdr.Source
	Search(ctx context.Context, q cdr.Query, text string, fn func(cdr.Record) error) (cdr.Result, error)
}

// searched applies --search: a source with a search of its own answers it (an archive: a year in a fraction of
// a second); for a PBX, the calls it sends are filtered here by the same rules (archive.TextFilter), with its
// users' names.
func (a *app) searched(ctx context.Context, src cdr.Source, text string, keep func(*cdr.Record) bool) (cdr.Source, func(*cdr.Record) bool) {
	if s, ok := src.(searchSource); ok {
		return searchedSource{searchSource: s, text: text}, keep
	}
	users, err := a.usersOf(ctx, src)
	if err != nil {
		a.logger().Debug("--search without the users' names: " + err.Error())
	}
	f := archive.NewTextFilter(text, users)
	if f == nil { // nothing to look for once control characters are blanked: every call, as an archive's Search
		return src, keep
	}
	return src, func(r *cdr.Record) bool { return keep(r) && f.Match(r) }
}

// searchedSource answers Calls with its source's own search for text.
type searchedSource struct {
	searchSource
	text string
}

func (s searchedSource) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	return s.Search(ctx, q, s.text, fn)
}

// involvesAny says whether the call is one of these extensions' (cdr.Record.InvolvesExtension).
func involvesAny(r *cdr.Record, exts map[string]bool) bool {
	for e := range exts {
		if r.InvolvesExtension(e) {
			return true
		}
	}
	return false
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			m[x] = true
		}
	}
	return m
}

func (a *app) callsCommand() *cobra.Command {
	var qf queryFlags
	var format, out string
	var csvRaw bool
	c := &cobra.Command{
		Use:   "calls",
		Short: "List calls for a time range or a page",
		Example: `  callscope calls --demo --from 2026-11-20 --format csv > calls.csv
  callscope calls --url http://10.0.0.5 --user admin --from 201303010000 --to 201303020000 --ext 8266
  callscope calls --kind difuse --url https://pbx:8443 --user 4001 --page 1 --limit 50 --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if _, err := newRecordWriter(format, csvRaw, io.Discard); err != nil {
				return err
			}
			if out == "" {
				out = "-"
			}
			if err := checkOutput(out); err != nil {
				return err
			}
			src, q, keep, err := a.querySource(c.Context(), &qf)
			if err != nil {
				return err
			}
			notes, err := notFetched(c.Context(), src, q)
			if err != nil {
				return err
			}
			var res cdr.Result
			var missing []string // calls listed whose recording the archive could not fetch
			tableOut := false
			err = a.writeOutput(c.Context(), out, func(to io.Writer) error {
				w, _ := newRecordWriter(format, csvRaw, to)
				if tw, ok := w.(*tableWriter); ok {
					tw.names = a.extensionNames(c.Context(), src)
					tw.notes = notes
					tableOut = true
				}
				var err error
				if ew, ok := w.(cdr.EncodedWriter); ok && notes == nil {
					res, err = a.writeCalls(c.Context(), src, q, keep, ew)
				} else {
					res, err = a.streamCalls(c.Context(), src, q, keep, func(r *cdr.Record) error {
						if why, ok := notes[r.UniqueID]; ok {
							missing = append(missing, "call "+r.UniqueID+": "+why)
						}
						return w.Write(r)
					})
				}
				if ferr := w.Flush(); err == nil {
					err = ferr
				}
				return err
			})
			if err != nil {
				return err
			}
			if len(missing) > 0 && !tableOut {
				a.warn(notFetchedText(missing))
			}
			if q.Page > 0 && res.TotalPages > 0 {
				a.note(fmt.Sprintf("page %d of %d", res.Page, res.TotalPages))
			}
			return nil
		},
	}
	qf.add(a, c)
	c.Flags().StringVar(&format, "format", "table", "output: table, csv or json (one object per line)")
	addCSVRawFlag(c, &csvRaw)
	c.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout; replaced only once complete")
	a.enum(c, "format", recordFormats, nil)
	return c
}

// notFetched maps the calls of an archive's query whose recording sync could not fetch to why; nil for a PBX.
func notFetched(ctx context.Context, src cdr.Source, q cdr.Query) (map[string]string, error) {
	arch, ok := src.(interface {
		NotFetched(context.Context, cdr.Query, func(cdr.Record, archive.RecordingState) error) error
	})
	if !ok {
		return nil, nil
	}
	notes := map[string]string{}
	err := arch.NotFetched(ctx, cdr.Query{From: q.From, To: q.To}, func(r cdr.Record, st archive.RecordingState) error {
		notes[r.UniqueID] = plainText(st.Reason)
		return nil
	})
	return notes, err
}

// notFetchedText is the one warning that tells a script which listed calls lack their recording.
func notFetchedText(missing []string) string {
	head := "1 call's recording was not fetched"
	if len(missing) > 1 {
		head = fmt.Sprintf("%d calls' recordings were not fetched", len(missing))
	}
	first := missing[0]
	if len(missing) > 1 {
		first += fmt.Sprintf("; and %d more", len(missing)-1)
	}
	return head + " (" + first + "); callscope sync tries again"
}

// plainText keeps a stored reason to one line of printable text: it can carry a host name the PBX sent.
func plainText(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
}

// streamCalls runs a query with a progress line on a terminal, warnings on stderr, the local filter keep, and
// a note of the zone the times were placed in; fn receives each kept row. The row fn gets is reused for the
// next: fn must not keep it.
func (a *app) streamCalls(ctx context.Context, src cdr.Source, q cdr.Query, keep func(*cdr.Record) bool, fn func(*cdr.Record) error) (cdr.Result, error) {
	ctx, prog := a.observe(ctx)
	// One row for the whole stream: passing each row's address to keep and fn would move every row to the heap.
	row := new(cdr.Record)
	res, err := src.Calls(ctx, q, func(r cdr.Record) error {
		*row = r
		if !keep(row) {
			return nil
		}
		prog.row()
		return fn(row)
	})
	return a.finishCalls(src, prog, res, err)
}

// callsWriter is a source that writes calls straight into an encoded output, parsing and encoding on several
// goroutines (comx.Client.WriteCalls).
type callsWriter interface {
	WriteCalls(ctx context.Context, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error)
}

// writeCalls is streamCalls writing every kept row to w, through the source's WriteCalls where it has one (the
// same bytes, at the speed of the wire).
func (a *app) writeCalls(ctx context.Context, src cdr.Source, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error) {
	cw, ok := src.(callsWriter)
	if !ok {
		return a.streamCalls(ctx, src, q, keep, func(r *cdr.Record) error {
			return w.(interface{ Write(*cdr.Record) error }).Write(r)
		})
	}
	ctx, prog := a.observe(ctx)
	res, err := cw.WriteCalls(ctx, q, keep, countedWriter{EncodedWriter: w, prog: prog})
	return a.finishCalls(src, prog, res, err)
}

// countedWriter counts the rows written for the progress line.
type countedWriter struct {
	cdr.EncodedWriter
	prog *progress
}

func (c countedWriter) WriteEncoded(p []byte, rows int) error {
	c.prog.rows += rows
	c.prog.tick()
	return c.EncodedWriter.WriteEncoded(p, rows)
}

// observe sends a query's warnings to stderr (with the CLI's remedy) and its progress to a progress line on a
// terminal, through the context's cdr.Observer.
func (a *app) observe(ctx context.Context) (context.Context, *progress) {
	prog := newProgress(a.stderr)
	return cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) { prog.clear(); a.warn(explain(err)) }, OnProgress: prog.bytes}), prog
}

// finishCalls ends a query's progress line and notes the zone and the rows skipped.
func (a *app) finishCalls(src cdr.Source, prog *progress, res cdr.Result, err error) (cdr.Result, error) {
	prog.done()
	if err != nil {
		return res, err
	}
	if zi := src.Zone(); zi.Inferred && res.Rows > 0 {
		a.note("times are " + zi.String() + "; --tz sets the zone")
	}
	if res.Skipped > 0 {
		if res.Skipped == 1 {
			a.warn("1 malformed row was skipped (see the warning above)")
		} else {
			a.warn(fmt.Sprintf("%d malformed rows were skipped (see the warnings above)", res.Skipped))
		}
	}
	return res, nil
}

// note prints an informational line on stderr, only for people (a terminal); it is a summary line of the
// debug log and of -v, which prints it on stderr either way.
func (a *app) note(msg string) {
	a.logger().Info(msg)
	if isTerminal(a.stderr) && !a.verbose {
		fmt.Fprintln(a.stderr, "callscope: "+oneLine(msg))
	}
}

func fixedCompletion(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// progress draws "12,345 rows  3.2 MB  1.1 MB/s" on a terminal's stderr; it draws nothing when piped.
type progress struct {
	w       interface{ Write([]byte) (int, error) }
	on      bool
	start   time.Time
	last    time.Time
	rows    int
	n       int64
	visible bool
}

func newProgress(w interface{ Write([]byte) (int, error) }) *progress {
	return &progress{w: w, on: isTerminal(w), start: time.Now()}
}

func (p *progress) row() { p.rows++; p.tick() }

func (p *progress) bytes(n int64) { p.n = n; p.tick() }

func (p *progress) tick() {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(p.n) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[K%d rows  %s  %s/s", p.rows, humanBytes(float64(p.n)), humanBytes(rate))
	p.visible = true
}

func (p *progress) clear() {
	if p.visible {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.visible = false
	}
}

func (p *progress) done() { p.clear() }

// humanBytes writes a size in the one unit style the app and the CLI share (decimal: 72.1 kB).
func humanBytes(v float64) string { return human.Bytes(int64(v)) }
