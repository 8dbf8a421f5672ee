package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/cmd/callscope/internal/playline"
)

func (a *app) playCommand() *cobra.Command {
	var lf lookupFlags
	c := &cobra.Command{
		Use:   "play [FILE]",
		Short: "Play a recording file, or a call's recording from the PBX, with a one-line progress display",
		Long: `play plays a recording: a local file, or with --id/--start a call's recording fetched from the PBX (it
starts playing while it downloads). Keys: space pauses, ←/→ seek 5 s, ↑/↓ seek 30 s, +/- speed (pitch kept),
9/0 volume, q quits. With no sound device the clock still runs and callscope says so once.`,
		Example: `  callscope play call.gsm
  callscope play --demo --id 1396000115.1`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("play takes one FILE (or --id/--start with a PBX), e.g. callscope play call.gsm")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 && lf.set() {
				return usagef("give a FILE or --id/--start, not both")
			}
			var stream *decode.Stream
			var title string
			var err error
			switch {
			case len(args) == 1:
				title = filepath.Base(args[0])
				stream, err = decode.OpenFile(args[0])
				if err != nil {
					return err // it names the file
				}
			case lf.set():
				stream, title, err = a.openRemote(c, lf)
				if err != nil {
					return err
				}
			default:
				return usagef("say what to play: a FILE, or --id ID / --start TIME with a PBX")
			}
			p := player.New(output.Open(output.Config{}))
			defer p.Close()
			if err := p.Load(stream, stream.Format(), title); err != nil {
				return err
			}
			return playline.Run(c.Context(), p, title, a.stdin, a.stdout)
		},
	}
	lf.add(c)
	return c
}

// openRemote fetches a call's recording into the recordings cache and opens it while it downloads.
func (a *app) openRemote(c *cobra.Command, lf lookupFlags) (*decode.Stream, string, error) {
	l, err := lf.lookup()
	if err != nil {
		return nil, "", err
	}
	a.extended = true // the title names the extension
	src, err := a.source(c.Context())
	if err != nil {
		return nil, "", err
	}
	rec, err := src.Call(c.Context(), l)
	if err != nil {
		return nil, "", err
	}
	cache, err := reccache.Open(recordingsCacheDir())
	if err != nil {
		return nil, "", err
	}
	e, err := cache.Fetch(c.Context(), src, rec, nil)
	if err != nil {
		return nil, "", err
	}
	s, err := decode.Open(decode.FollowDownload(e.File, e.Done(), e.Err), e.Name)
	if err != nil {
		return nil, "", fmt.Errorf("call %s: %w", rec.UniqueID, err)
	}
	return s, callTitle(rec), nil
}

// callTitle names a call for the player: "8266 Reception ← 0215551111, 2013-03-01 09:33", cleaned for the
// terminal (the names and numbers are the PBX's).
func callTitle(r cdr.Record) string {
	who := r.Extension
	if r.FriendlyName != "" {
		who += " " + r.FriendlyName
	}
	arrow := "→"
	if r.CallType == cdr.CallInbound {
		arrow = "←"
	}
	return safetext.Terminal(fmt.Sprintf("%s %s %s, %s", who, arrow, r.OtherParty(), r.Start.Format("2006-01-02 15:04")))
}
