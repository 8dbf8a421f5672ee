package cli

import (
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	tuiapp "github.com/callscope/callscope/tui/app"
	"github.com/callscope/callscope/tui/playerbar"
)

// tuiFlags are the root command's own flags: where the app opens.
type tuiFlags struct {
	lookup   lookupFlags
	from, to string
	csvRaw   bool
}

func (a *app) addTUIFlags(root *cobra.Command) {
	a.tuiFlags.lookup.add(root)
	root.Flags().StringVar(&a.tuiFlags.from, "from", "", "open on calls from this time (default: today)")
	root.Flags().StringVar(&a.tuiFlags.to, "to", "", "open on calls up to this time, exclusive")
	addCSVRawFlag(root, &a.tuiFlags.csvRaw) // for the app's export
}

// runTUI opens the interactive app.
func (a *app) runTUI(c *cobra.Command, _ []string) error {
	var o tuiapp.Options
	if a.tuiFlags.lookup.set() {
		l, err := a.tuiFlags.lookup.lookup()
		if err != nil {
			return err
		}
		o.Goto = l
	}
	if a.tuiFlags.from != "" || a.tuiFlags.to != "" {
		qf := queryFlags{from: a.tuiFlags.from, to: a.tuiFlags.to, limit: 100}
		q, _, err := qf.query()
		if err != nil {
			return err
		}
		o.Initial = q
	}
	logger, closeLog, err := a.debugLogger()
	if err != nil {
		return err
	}
	defer closeLog()
	src, err := a.source(c.Context())
	if err != nil {
		return err
	}
	o.Source = src
	if err := a.applyProfileRange(&o.Initial); err != nil {
		return err
	}
	o.Log = logger
	o.NoColor = os.Getenv("NO_COLOR") != ""
	o.CacheDir = recordingsCacheDir()
	o.Player = playerbar.DefaultPlayer // CALLSCOPE_AUDIO=null forces silent playback
	o.CSVRaw = a.tuiFlags.csvRaw
	return tuiapp.Run(c.Context(), o)
}

// debugLogger opens the --debug log file; without it logs are discarded (the terminal belongs to the UI).
func (a *app) debugLogger() (*log.Logger, func(), error) {
	if a.debug == "" {
		return log.New(io.Discard, "", 0), func() {}, nil
	}
	f, err := os.OpenFile(a.debug, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return log.New(f, "", log.LstdFlags|log.Lmicroseconds), func() { f.Close() }, nil
}

// recordingsCacheDir is where the app keeps downloaded recordings.
func recordingsCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "callscope", "recordings")
}
