package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
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
starts playing while it downloads). The keys are the app's player keys: space or p pauses, ←/→ seek 5 s, ⇧←/⇧→
(or H/L) 30 s, [/] the previous/next stretch of speech, </> speed (pitch kept), -/+ volume, s stops, q or esc
quits, ? lists them. With no sound device the clock still runs and callscope says so once.`,
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
			var speech func(context.Context) (*waveform.Analysis, error) // a second decode, for the [/] keys
			var err error
			switch {
			case len(args) == 1:
				title = filepath.Base(args[0])
				stream, err = decode.OpenFile(args[0])
				if err != nil {
					return err // it names the file
				}
				speech = func(ctx context.Context) (*waveform.Analysis, error) {
					s, err := decode.OpenFile(args[0])
					if err != nil {
						return nil, err
					}
					defer func() { _ = s.Close() }()
					return waveform.Analyze(ctx, s, s.Format().SampleRate)
				}
			case lf.set():
				stream, title, speech, err = a.openRemote(c, lf)
				if err != nil {
					return err
				}
			default:
				return usagef("say what to play: a FILE, or --id ID / --start TIME with a PBX")
			}
			p := player.New(output.Open(output.Config{}))
			defer func() { _ = p.Close() }() // playback is over; a sound device that fails to close leaves nothing to do
			if err := p.Load(stream, stream.Format(), title); err != nil {
				return err
			}
			return playline.Run(c.Context(), p, title, a.stdin, a.stdout, playline.WithSpeech(speech))
		},
	}
	lf.add(c)
	return c
}

// openRemote fetches a call's recording into the recordings cache and opens it while it downloads; speech
// analyses a second decode of the same download (it waits for the download's end).
func (a *app) openRemote(c *cobra.Command, lf lookupFlags) (s *decode.Stream, title string, speech func(context.Context) (*waveform.Analysis, error), err error) {
	l, err := lf.lookup()
	if err != nil {
		return nil, "", nil, err
	}
	a.extended = true // the title names the extension
	src, err := a.source(c.Context())
	if err != nil {
		return nil, "", nil, err
	}
	rec, err := src.Call(c.Context(), l)
	if err != nil {
		return nil, "", nil, err
	}
	cache, err := reccache.Open(reccache.DefaultDir())
	if err != nil {
		return nil, "", nil, err
	}
	e, err := cache.Fetch(c.Context(), src, rec, nil)
	if err != nil {
		return nil, "", nil, err
	}
	s, err = decode.Open(decode.FollowDownload(e.File, e.Done(), e.Err), e.Name)
	if err != nil {
		return nil, "", nil, fmt.Errorf("call %s: %w", rec.UniqueID, err)
	}
	speech = func(ctx context.Context) (*waveform.Analysis, error) {
		f, err := e.Reopen()
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		st, err := decode.Open(decode.FollowDownload(f, e.Done(), e.Err), e.Name)
		if err != nil {
			return nil, err
		}
		defer func() { _ = st.Close() }()
		return waveform.Analyze(ctx, st, st.Format().SampleRate)
	}
	return s, callTitle(rec), speech, nil
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
