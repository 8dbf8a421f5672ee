package cli

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/reccache"
	tuiapp "github.com/callscope/callscope/tui/app"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/playerbar"
)

// Environment variables only the app reads.
const (
	envTheme       = "CALLSCOPE_THEME"
	envCountryCode = "CALLSCOPE_COUNTRY_CODE"
	// envTestNow is a test hook, not a setting: an RFC 3339 instant the clock starts from (the app's "now" and
	// the demo PBX's), so the end-to-end tests can open the demo at a chosen hour. It then advances in real time.
	envTestNow = "CALLSCOPE_TEST_NOW"
)

// tuiFlags are the root command's own flags: where the app opens and how it looks.
type tuiFlags struct {
	lookup      lookupFlags
	from, to    string
	csvRaw      bool
	theme       string
	countryCode string
}

func (a *app) addTUIFlags(root *cobra.Command) {
	a.tuiFlags.lookup.add(root)
	root.Flags().StringVar(&a.tuiFlags.from, "from", "", "open on calls from this time, inclusive (default: the PBX's today)")
	root.Flags().StringVar(&a.tuiFlags.to, "to", "", "open on calls before this time: \"to\" is exclusive, as in calls --to")
	root.Flags().StringVar(&a.tuiFlags.theme, "theme", "", "colours: dark, light or auto (ask the terminal; the default); $"+envTheme+" or theme in the config file; NO_COLOR turns colour off")
	root.Flags().StringVar(&a.tuiFlags.countryCode, "country-code", "", "the PBX's country calling code (27): search finds +27 84… as 084…; $"+envCountryCode+" or country_code in the config file")
	addCSVRawFlag(root, &a.tuiFlags.csvRaw) // for the app's export
	_ = root.RegisterFlagCompletionFunc("theme", fixedCompletion("auto", "dark", "light"))
}

// now is the clock: time.Now, or when the test hook $CALLSCOPE_TEST_NOW is set, that instant advancing in real
// time from the moment it is first read. The app and the demo PBX share it.
func (a *app) now() time.Time {
	a.clockOnce.Do(func() {
		v := os.Getenv(envTestNow)
		if v == "" {
			return
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			a.warn(fmt.Sprintf("$%s=%q is not an RFC 3339 time (2026-12-06T05:30:00+02:00): the real clock is used", envTestNow, v))
			return
		}
		a.clockBase, a.clockStart = t, time.Now()
	})
	if a.clockBase.IsZero() {
		return time.Now()
	}
	return a.clockBase.Add(time.Since(a.clockStart)).Local() // read in this machine's zone, as time.Now is
}

// appSettings are the app's own settings, beside the connection: flags, then environment, then the config file.
type appSettings struct {
	dark        *bool // nil: ask the terminal
	countryCode string
}

// appPreferences resolves --theme and --country-code. The config file is read for them even with --demo, but a
// file that cannot be read only loses its preferences here (commands that need it report why).
func (a *app) appPreferences() (appSettings, error) {
	var out appSettings
	theme, cc := a.tuiFlags.theme, a.tuiFlags.countryCode
	themeFrom, ccFrom := "--theme", "--country-code"
	if theme == "" {
		theme, themeFrom = os.Getenv(envTheme), "$"+envTheme
	}
	if cc == "" {
		cc, ccFrom = os.Getenv(envCountryCode), "$"+envCountryCode
	}
	if theme == "" || cc == "" {
		if f, err := a.loadConfig(); err == nil {
			if theme == "" {
				theme, themeFrom = f.Theme, "theme in "+f.Path
			}
			if cc == "" {
				cc, ccFrom = f.CountryCode, "country_code in "+f.Path
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(theme)) {
	case "", "auto":
	case "dark":
		out.dark = ptr(true)
	case "light":
		out.dark = ptr(false)
	default:
		return out, usagef("%s: theme %q: use dark, light or auto", themeFrom, theme)
	}
	if cc == "" && a.demo {
		cc = "27" // the demo PBX is in Johannesburg (pbxsim.DefaultZone)
	}
	if cc != "" {
		c, err := filter.ParseCountryCode(cc)
		if err != nil {
			return out, usagef("%s: %v", ccFrom, err)
		}
		out.countryCode = c
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// appWarnings is where warnings go while the app owns the terminal: into its status bar (they are printed again
// on stderr after it closes).
func (a *app) appWarnings() <-chan string {
	ch := make(chan string, 8)
	a.tuiWarn = func(msg string) {
		select {
		case ch <- msg:
		default: // the app is not reading: it still gets printed after the app closes
		}
	}
	return ch
}

// runTUI opens the interactive app.
func (a *app) runTUI(c *cobra.Command, _ []string) error {
	var o tuiapp.Options
	prefs, err := a.appPreferences()
	if err != nil {
		return err
	}
	o.Dark, o.CountryCode = prefs.dark, prefs.countryCode
	if !isTerminal(a.stdout) {
		return usagef("the app needs a terminal; for scripts use callscope calls (see callscope --help)")
	}
	a.inTUI = true
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
	src, err := a.source(c.Context())
	if err != nil {
		return err
	}
	o.Source = src
	if err := a.applyProfileRange(&o.Initial); err != nil {
		return err
	}
	o.Log = a.debugLogger()
	o.Now = a.now
	o.Warnings = a.appWarnings()
	o.NoColor = os.Getenv("NO_COLOR") != ""
	o.CacheDir = reccache.DefaultDir()
	o.Player = playerbar.DefaultPlayer // CALLSCOPE_AUDIO=null forces silent playback
	o.CSVRaw = a.tuiFlags.csvRaw
	return tuiapp.Run(c.Context(), o)
}

// debugLogger is the app's view of the run's log (openLog): the --debug file when one was given, nothing
// otherwise (the terminal belongs to the UI, so -v's stderr lines are held back while it runs).
func (a *app) debugLogger() *log.Logger {
	return slog.NewLogLogger(a.logger().Handler(), slog.LevelDebug)
}
