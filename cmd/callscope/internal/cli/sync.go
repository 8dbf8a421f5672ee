package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/cdrsync"
)

func (a *app) syncCommand() *cobra.Command {
	var (
		dir            string
		every          time.Duration
		overlap, chunk time.Duration
		since          string
	)
	c := &cobra.Command{
		Use:   "sync",
		Short: "Keep a local archive of every call and recording",
		Long: `sync copies the PBX's calls and recordings into an archive folder and, run again, fetches only what is
new (with an overlap, since a call is listed only once it has ended). How far it has got is measured by the
PBX's own clock (its answers' Date, and the newest call it returned), never this computer's; both clocks are
shown, with a warning when they differ by more than five minutes. It can be killed at any moment: what was
synced stays, and the next run carries on from there.

A recording that cannot be fetched (an error on the PBX, a host that cannot be reached) does not stop the sync:
the call is archived, the recording marked as not fetched with the reason, and the next runs try it again (five
times in all). The run ends with exit 0 and one warning that counts them; calls --archive shows why.
Browse the archive offline with --archive DIR.`,
		Example: `  callscope sync --url http://10.0.0.5 --user admin --dir ~/calls --since 2026-01-01
  callscope sync --profile office --dir ~/calls --every 1h     # keep it up to date until stopped
  callscope calls --archive ~/calls --from 2026-11-20`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) (err error) {
			if dir == "" {
				return usagef("say where the archive is with --dir DIR")
			}
			if a.archiveDir != "" {
				return usagef("sync fetches from a PBX into --dir; --archive (reading from an archive) does not apply")
			}
			if every < 0 || overlap < 0 || chunk < 0 {
				return usagef("--every, --overlap and --chunk must not be negative")
			}
			o := cdrsync.Options{Overlap: overlap, Chunk: chunk}
			if since != "" {
				t, err := cdr.ParseTime(since, nil)
				if err != nil {
					return usageError{fmt.Errorf("--since: %w", err)}
				}
				o.Since = t
			}
			arch, err := archive.InitContext(c.Context(), dir) // Ctrl-C stops an upgrade of an old archive
			if err != nil {
				return err
			}
			defer func() {
				if cerr := arch.Close(); err == nil && cerr != nil {
					err = cerr // the archive was written: its close is the last word on that
				}
			}()
			loc, err := a.location()
			if err != nil {
				return err
			}
			if loc == nil && arch.Location() != nil {
				a.zone = arch.Location() // the zone the archive's times were stored in, so they keep agreeing
			}
			o.Zone = loc
			src, err := a.pbxSource(c.Context())
			if err != nil {
				return err
			}
			if a.demo {
				// The demo PBX listens on a new port every run: name it by what it is, not where.
				o.Identity = src.Capabilities().Kind + " demo (callscope --demo)"
			}
			prog := newSyncProgress(a)
			o.OnProgress = prog.report
			o.OnWarn = func(err error) { prog.clear(); a.warn(explain(err)) }
			ctx := c.Context()
			for {
				st, err := cdrsync.Run(ctx, src, arch, o)
				prog.clear()
				if ctx.Err() != nil {
					a.info(fmt.Sprintf("sync stopped; the archive is complete up to %s", throughText(arch.Dir())))
					return nil
				}
				if err == nil {
					a.info(fmt.Sprintf("synced %d calls and %d recordings (%s) into %s; complete up to %s%s",
						st.Calls, st.Recordings, humanBytes(float64(st.Bytes)), arch.Dir(), throughText(arch.Dir()), clocksText(st)))
				}
				if every == 0 {
					return err
				}
				if err != nil {
					if errors.Is(err, cdrsync.ErrLocked) {
						return err
					}
					a.warn(explain(err) + fmt.Sprintf("; trying again in %v", every))
				}
				if !sleep(ctx, every) {
					a.info(fmt.Sprintf("sync stopped; the archive is complete up to %s", throughText(arch.Dir())))
					return nil
				}
			}
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "dir", "", "the archive folder (made if missing)")
	f.DurationVar(&every, "every", 0, "keep running, syncing again after this long (e.g. 1h); stop with Ctrl-C")
	f.DurationVar(&overlap, "overlap", cdrsync.DefaultOverlap, "ask again for this much before the last sync's end, for calls that were still going on")
	f.DurationVar(&chunk, "chunk", cdrsync.DefaultChunk, "how much PBX time one request covers")
	f.StringVar(&since, "since", "", "first sync only: start here (default: the PBX's first call)")
	return c
}

// info prints a line on stderr for people and for logs (a sync run by cron or systemd says what it did).
func (a *app) info(msg string) { fmt.Fprintln(a.stderr, "callscope: "+msg) }

func throughText(dir string) string {
	st, err := cdrsync.LoadState(dir)
	if err != nil || st.Through.IsZero() {
		return "nothing yet"
	}
	return st.Through.Format("2006-01-02 15:04")
}

// clocksText shows both clocks of a run: " (PBX clock …, this computer …)", or nothing when the PBX sent none.
func clocksText(st cdrsync.Stats) string {
	if st.PBXClock.IsZero() {
		return ""
	}
	const layout = "2006-01-02 15:04:05 -07:00"
	return fmt.Sprintf(" (PBX clock %s, this computer %s)", st.PBXClock.Format(layout), st.LocalClock.Format(layout))
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// syncProgress draws one line on a terminal ("chunk 3/8  2026-11-14 00:00…  12.3 MB  45 recordings") and
// writes a plain line per stored chunk otherwise.
type syncProgress struct {
	a       *app
	tty     bool
	last    time.Time
	visible bool
}

func newSyncProgress(a *app) *syncProgress { return &syncProgress{a: a, tty: isTerminal(a.stderr)} }

func (p *syncProgress) report(pr cdrsync.Progress) {
	span := pr.From.Format("2006-01-02 15:04") + " to "
	if pr.To.IsZero() {
		span += "now"
	} else {
		span += pr.To.Format("2006-01-02 15:04")
	}
	if pr.Retry > 0 {
		p.clear()
		p.a.warn(fmt.Sprintf("calls %s: %s; trying again (%d)", span, explain(pr.Err), pr.Retry))
		return
	}
	if !p.tty {
		if pr.Done {
			fmt.Fprintf(p.a.stderr, "callscope: synced calls %s: %d calls, %d recordings, %s\n", span, pr.Calls,
				pr.Recordings, humanBytes(float64(pr.Bytes)))
		}
		return
	}
	if now := time.Now(); !pr.Done && now.Sub(p.last) < 100*time.Millisecond {
		return
	} else {
		p.last = now
	}
	fmt.Fprintf(p.a.stderr, "\r\x1b[Kchunk %d/%d  %s  %s  %d recordings", pr.Chunk, pr.Chunks, span,
		humanBytes(float64(pr.Bytes)), pr.Recordings)
	p.visible = true
}

func (p *syncProgress) clear() {
	if p.visible {
		fmt.Fprint(p.a.stderr, "\r\x1b[K")
		p.visible = false
	}
}
