// Package cli is callscope's command line: one file per subcommand, flags that read the same everywhere, exit
// codes 0 (ok), 1 (runtime error) and 2 (usage error), and errors on stderr in one readable line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/connect"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/profile"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/client/transport"
)

// Exit codes. A command ended by SIGINT or SIGTERM exits 128 plus the signal's number (130, 143), as a shell
// reports a program the signal killed, so a script can tell "stopped" from "failed".
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// stoppedBy is the cause of Main's context when a signal ended it.
type stoppedBy struct{ sig syscall.Signal }

func (s stoppedBy) Error() string { return s.sig.String() + " signal received" }

// signalContext is a context cancelled, with a stoppedBy cause, by the first SIGINT or SIGTERM; stop releases
// the signals.
func signalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			if sig, ok := s.(syscall.Signal); ok {
				cancel(stoppedBy{sig})
			} else {
				cancel(stoppedBy{syscall.SIGINT})
			}
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// app holds the global flags and the process's streams; every subcommand reads its connection the same way.
type app struct {
	stdin          *os.File
	stdout, stderr io.Writer

	url, kind, user, tz string
	timeout             time.Duration
	caFile              string
	insecure            bool
	demo                bool
	debug               string
	verbose             bool
	keyParam            bool
	extended            bool // ask the PBX for the extended fields on every request (call)
	configFile, profile string
	archiveDir          string
	tuiFlags            tuiFlags // the root command's own flags: where the app opens
	enums               map[*pflag.Flag]enumFlag

	root       *cobra.Command
	demoServer *pbxsim.Server
	archive    *archive.Archive
	zone       *time.Location
	eff        *profile.Effective // the resolved settings, once per run
	users      []cdr.User         // the source's users list, once per run (usersOf)
	usersErr   error
	usersRead  bool
	log        *slog.Logger // --debug and -v; see openLog
	logFile    *os.File

	// inTUI holds back warnings that arrive while the app owns the terminal; Main prints them on exit. tuiWarn,
	// set while the app runs, shows them in its status bar meanwhile.
	inTUI         bool
	heldWarnings  []string
	factoryWarned sync.Once
	tuiWarn       func(string)

	// The clock (see now in tui.go): the real one, or the test hook's.
	clockOnce             sync.Once
	clockBase, clockStart time.Time
}

// Main runs callscope with args and returns the exit code.
func Main(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signalContext()
	defer stop()
	err := root.ExecuteContext(ctx)
	defer a.closeLog()
	if err != nil {
		a.logger().Debug("error: " + err.Error())
	}
	if a.demoServer != nil {
		_ = a.demoServer.Close() // a demo PBX that stopped answering made the command fail already
	}
	if a.archive != nil {
		_ = a.archive.Close() // opened for reading only
	}
	a.inTUI = false
	for _, w := range a.heldWarnings {
		a.warn(w)
	}
	if err == nil {
		return exitOK
	}
	msg := oneLine(explain(err))
	var by stoppedBy
	if errors.As(context.Cause(ctx), &by) && (errors.Is(err, context.Canceled) || strings.Contains(msg, context.Canceled.Error())) {
		// By Ctrl-C or SIGTERM, which is what the user needs to hear.
		fmt.Fprintln(stderr, "callscope: interrupted")
		return 128 + int(by.sig)
	}
	fmt.Fprintln(stderr, "callscope: "+msg)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitRuntime
}

// oneLine is a message as it is printed: on one line, and with whatever in it came from a PBX or a push (a
// caller ID, a file name inside an error) shown visibly rather than acted on by the terminal.
func oneLine(s string) string { return safetext.Terminal(strings.Join(strings.Fields(s), " ")) }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "callscope",
		Short: "Browse a PBX's call records, play recordings, export calls to CSV",
		Long: `callscope reads call detail records (CDRs) from a Com.X or Difuse PBX. With no subcommand it opens the
terminal app; the subcommands are for scripts.

Connection settings come from flags, then environment variables ($CALLSCOPE_URL, $CALLSCOPE_KIND,
$CALLSCOPE_USER, $CALLSCOPE_TZ, $CALLSCOPE_CA_FILE, $CALLSCOPE_INSECURE, $CALLSCOPE_TIMEOUT), then a profile
in the config file (--profile NAME, $CALLSCOPE_PROFILE, or the file's default_profile): see "callscope config".

Passwords stay out of flags, which every user of the machine can read in the process list (ps): give one
with $CALLSCOPE_PASSWORD, a profile's password_env, password_cmd or OS keyring entry, user:pass@ in
$CALLSCOPE_URL, or at the prompt on a terminal. user:pass@ in --url works, with a warning.
--demo runs against a built-in simulated PBX.`,
		Example: `  callscope --demo                                  # the app, against a simulated PBX
  callscope calls --demo --from 2026-11-20 --format csv
  callscope call --demo --id 1396000115.1                # one call, every field
  callscope config add-profile office --url http://10.0.0.5 --user admin --keyring
  callscope config set-password office                   # into the OS keyring, asked without echo
  callscope calls --profile office --from 20261120 --to 20261121
  CALLSCOPE_PASSWORD=… callscope calls --url http://10.0.0.5 --user admin --from 20261120 --to 20261121
  callscope --url http://10.0.0.5 --user admin --id 1396000115.1   # open the app on one call`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if err := a.checkEnums(c); err != nil {
				return err
			}
			return a.openLog(c)
		},
		RunE: func(c *cobra.Command, args []string) error {
			return a.runTUI(c, args)
		},
	}
	a.root = root
	root.SetVersionTemplate("callscope {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", "", "PBX base URL (http://pbx_ip) or full endpoint; $CALLSCOPE_URL (a password in it shows in the process list: use $CALLSCOPE_PASSWORD)")
	pf.StringVar(&a.kind, "kind", "", "PBX kind: comx or difuse (default comx); $CALLSCOPE_KIND")
	pf.StringVar(&a.user, "user", "", "user (Com.X) or extension (Difuse); $CALLSCOPE_USER; password from $CALLSCOPE_PASSWORD or the profile")
	pf.StringVar(&a.tz, "tz", "", "the PBX's time zone (IANA name, e.g. Africa/Johannesburg); inferred when not given; $CALLSCOPE_TZ")
	pf.DurationVar(&a.timeout, "timeout", transport.DefaultTimeout, "give up on a PBX that sends nothing for this long; $CALLSCOPE_TIMEOUT")
	pf.StringVar(&a.caFile, "ca-file", "", "PEM file with the CA that signed the PBX's HTTPS certificate; $CALLSCOPE_CA_FILE")
	pf.BoolVar(&a.insecure, "insecure", false, "skip HTTPS certificate checks (prints a warning); $CALLSCOPE_INSECURE")
	pf.BoolVar(&a.keyParam, "difuse-key-param", false, "Difuse: send the key as ?key= instead of Basic auth (discouraged)")
	pf.StringVar(&a.profile, "profile", "", "use this profile from the config file; $CALLSCOPE_PROFILE")
	pf.StringVar(&a.configFile, "config", "", "config file (default: callscope/config.toml in your config directory); $CALLSCOPE_CONFIG")
	pf.BoolVar(&a.demo, "demo", false, "start a simulated PBX in-process and use it")
	pf.StringVar(&a.archiveDir, "archive", os.Getenv("CALLSCOPE_ARCHIVE"), "read calls from this archive folder (made by callscope sync or listen) instead of a PBX; $CALLSCOPE_ARCHIVE")
	pf.StringVar(&a.debug, "debug", "", "append a debug log to this file: each request to the PBX (without credentials), the decisions taken, warnings")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "print each request to the PBX and the decisions taken (zone, search) on stderr")
	a.enum(root, "kind", kindWords, nil)
	_ = root.RegisterFlagCompletionFunc("profile", a.completeProfiles)
	_ = root.RegisterFlagCompletionFunc("tz", completeZones)
	root.SetFlagErrorFunc(flagError)
	root.CompletionOptions.HiddenDefaultCmd = false

	a.addTUIFlags(root)
	root.AddCommand(a.callsCommand(), a.callCommand(), a.recCommand(), a.usersCommand(), a.decodeCommand(),
		a.playCommand(), a.configCommand(), a.exportCommand(), a.syncCommand(), a.listenCommand(),
		a.versionCommand())
	root.InitDefaultCompletionCmd()
	root.SetHelpCommand(helpCommand())
	checkArgs(root)
	return root
}

// warn prints a warning on stderr (and into the debug log).
func (a *app) warn(msg string) {
	a.logger().Warn(oneLine(msg))
	fmt.Fprintln(a.stderr, "callscope: warning: "+oneLine(msg))
}

// location resolves the effective time zone (--tz, $CALLSCOPE_TZ or the profile's tz).
func (a *app) location() (*time.Location, error) {
	if a.zone != nil || a.tz == "" {
		return a.zone, nil
	}
	loc, err := time.LoadLocation(a.tz)
	if err != nil {
		return nil, usagef("unknown time zone %q: use an IANA name such as Europe/London", a.tz)
	}
	a.zone = loc
	return loc, nil
}

// flagLayer is the connection settings given as flags on this command line (only those actually given, so the
// environment and the profile show through the rest).
func (a *app) flagLayer() profile.Layer {
	var l profile.Layer
	given := func(name string) bool {
		f := a.root.PersistentFlags().Lookup(name)
		return f != nil && f.Changed
	}
	str := func(name, v string) string {
		if given(name) {
			return v
		}
		return ""
	}
	boolp := func(name string, v bool) *bool {
		if given(name) {
			return &v
		}
		return nil
	}
	l.URL, l.Kind, l.User, l.TZ = str("url", a.url), str("kind", a.kind), str("user", a.user), str("tz", a.tz)
	l.CAFile = str("ca-file", a.caFile)
	if given("timeout") {
		l.Timeout = a.timeout.String()
	}
	l.Insecure, l.KeyParam = boolp("insecure", a.insecure), boolp("difuse-key-param", a.keyParam)
	return l
}

// configPath says which config file this run uses.
func (a *app) configPath() (string, error) {
	path, _, err := profile.Path(a.configFile, os.Getenv)
	return path, err
}

// loadConfig reads the config file (a missing one is empty, not an error).
func (a *app) loadConfig() (*profile.File, error) {
	path, err := a.configPath()
	if err != nil {
		return nil, err
	}
	return profile.Load(path)
}

// effective resolves flags > environment > config file once per run. alwaysLoad reads the file even when the
// flags alone say which PBX (callscope config shows it); otherwise a command given --url never depends on it.
func (a *app) effective(alwaysLoad bool) (*profile.Effective, error) {
	if a.eff != nil {
		return a.eff, nil
	}
	flags := a.flagLayer()
	in := profile.Inputs{Flags: flags, Profile: a.profile, Getenv: os.Getenv}
	if a.demo {
		// The demo is its own PBX: no profile, no config file to get in a new user's way.
		in.Profile = ""
		in.Getenv = func(k string) string {
			if k == profile.EnvProfile {
				return ""
			}
			return os.Getenv(k)
		}
	} else if alwaysLoad || profile.NeedsFile(flags, a.profile, os.Getenv) {
		f, err := a.loadConfig()
		if err != nil {
			return nil, err
		}
		in.File = f
	}
	eff, err := profile.Resolve(in)
	if err != nil {
		var ke *profile.KeyringError
		if errors.As(err, &ke) {
			return nil, err
		}
		return nil, usageError{err}
	}
	a.eff = eff
	return eff, nil
}

// source opens where calls come from: the archive given by --archive, or the PBX (pbxSource).
func (a *app) source(ctx context.Context) (cdr.Source, error) {
	src, err := a.openSource(ctx)
	if err != nil {
		return nil, err
	}
	a.logger().Info("reading calls from " + src.Describe())
	if a.inTUI && a.log != nil {
		src = loggedSource{Source: src, log: a.log}
	}
	return src, nil
}

func (a *app) openSource(ctx context.Context) (cdr.Source, error) {
	if a.archiveDir == "" {
		return a.pbxSource(ctx)
	}
	if a.demo {
		return nil, usagef("give either --archive or --demo, not both")
	}
	if a.archive == nil {
		arch, err := archive.Open(a.archiveDir)
		if err != nil {
			return nil, err
		}
		a.archive = arch
	}
	return a.archive, nil
}

// pbxSource opens the PBX the flags, environment and profile describe (starting the demo simulator when asked).
func (a *app) pbxSource(ctx context.Context) (cdr.Source, error) {
	eff, err := a.effective(false)
	if err != nil {
		return nil, err
	}
	a.tz = eff.TZ
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	for _, w := range eff.Warnings {
		a.warn(w)
	}
	for _, n := range eff.Notes {
		a.note(n)
	}
	s := connect.Settings{Kind: eff.Kind, URL: eff.URL, User: eff.User, Zone: loc, Timeout: eff.Timeout,
		CAFile: eff.CAFile, Insecure: eff.Insecure, KeyParam: eff.KeyParam, Warn: a.warn, Extended: a.extended}
	if a.demo {
		if err := a.startDemo(&s); err != nil {
			return nil, err
		}
		a.warnInsecure(s, eff)
		return connect.Open(s)
	}
	if eff.URL == "" {
		return nil, usageError{transport.ErrNoURL}
	}
	var stdin io.Reader
	if a.stdin != nil {
		stdin = a.stdin
	}
	pw, err := eff.Password.Get(ctx, profile.IO{Stdin: stdin, Stderr: a.stderr})
	if err != nil {
		return nil, err
	}
	s.Password = pw
	if !s.Password.IsSet() && s.User != "" {
		if s.Password, err = a.promptPassword(s.User); err != nil {
			return nil, err
		}
	}
	if !s.Password.IsSet() {
		return nil, usageError{eff.NoPasswordError()}
	}
	a.warnInsecure(s, eff)
	src, err := connect.Open(s)
	if err != nil {
		return nil, err
	}
	if isFactoryDefault(s) {
		check := &factoryDefaultCheck{Source: src, seen: func() {
			a.factoryWarned.Do(func() {
				a.warnHeld(fmt.Sprintf("%s accepts the factory default password for user %s: change it on the PBX, "+
					"anyone who knows the default can read your call records and recordings", src.Describe(), s.User))
			})
		}}
		if cw, ok := src.(callsWriter); ok {
			return &factoryDefaultWriterCheck{factoryDefaultCheck: check, w: cw}, nil
		}
		return check, nil
	}
	return src, nil
}

// warnInsecure warns, as the PBX is about to be opened, when TLS checks are off, naming the setting that turned
// them off: the flag, the variable or the profile.
func (a *app) warnInsecure(s connect.Settings, eff *profile.Effective) {
	if s.Insecure {
		a.warn("TLS certificate checks are off (" + eff.Origin["insecure"] + "): anyone on the network path can read the PBX's answers and your credentials")
	}
}

// applyProfileRange fills q with the profile's default range (range = "last 7 days", or from/to) when the
// command line chose none (no --from, --to or --page). Call it after source(), which resolves the profile and
// the zone; "today" is the PBX's today when its zone is known, else this machine's.
func (a *app) applyProfileRange(q *cdr.Query) error {
	if a.eff == nil || !q.From.IsZero() || !q.To.IsZero() || q.Page > 0 {
		return nil
	}
	now := a.now()
	if a.zone != nil {
		now = now.In(a.zone)
	}
	from, to, ok, err := a.eff.DefaultRange(now)
	if err != nil {
		return usageError{fmt.Errorf("profile %s: %w", a.eff.Profile, err)}
	}
	if ok {
		q.From, q.To = from, to
	}
	return nil
}

// isFactoryDefault reports whether the settings use a Com.X PBX's factory default credentials. Only the
// credentials already chosen are compared: nothing is sent anywhere to find out.
func isFactoryDefault(s connect.Settings) bool {
	if strings.ToLower(s.Kind) != cdr.KindComX && s.Kind != "" {
		return false
	}
	return comx.IsFactoryDefault(s.User, s.Password)
}

// factoryDefaultCheck reports the first successful answer of a PBX reached with the factory default password:
// only then is it known that the PBX accepts it. (A "no such call" answer also passed the login, but the
// command's own error is the line that matters then.)
type factoryDefaultCheck struct {
	cdr.Source
	seen func()
}

func (f *factoryDefaultCheck) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	res, err := f.Source.Calls(ctx, q, fn)
	if err == nil || res.Rows > 0 {
		f.seen()
	}
	return res, err
}

// factoryDefaultWriterCheck is factoryDefaultCheck for a source that writes calls itself (callsWriter).
type factoryDefaultWriterCheck struct {
	*factoryDefaultCheck
	w callsWriter
}

func (f *factoryDefaultWriterCheck) WriteCalls(ctx context.Context, q cdr.Query, keep func(*cdr.Record) bool, w cdr.EncodedWriter) (cdr.Result, error) {
	res, err := f.w.WriteCalls(ctx, q, keep, w)
	if err == nil || res.Rows > 0 {
		f.seen()
	}
	return res, err
}

func (f *factoryDefaultCheck) Call(ctx context.Context, l cdr.Lookup) (cdr.Record, error) {
	r, err := f.Source.Call(ctx, l)
	if err == nil {
		f.seen()
	}
	return r, err
}

func (f *factoryDefaultCheck) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	r, err := f.Source.Recording(ctx, l)
	if err == nil {
		f.seen()
	}
	return r, err
}

func (f *factoryDefaultCheck) Users(ctx context.Context) ([]cdr.User, error) {
	u, err := f.Source.Users(ctx)
	if err == nil {
		f.seen()
	}
	return u, err
}

// warnHeld warns now, or after the app closes when the app owns the terminal. It can arrive while a progress
// line is drawn on a terminal's stderr, so it clears that line first (the progress redraws on its next tick).
func (a *app) warnHeld(msg string) {
	if a.inTUI {
		a.heldWarnings = append(a.heldWarnings, msg)
		if a.tuiWarn != nil {
			a.tuiWarn(msg)
		}
		return
	}
	if isTerminal(a.stderr) {
		fmt.Fprint(a.stderr, "\r\x1b[K")
	}
	a.warn(msg)
}

// startDemo starts the simulator on a loopback port and points the settings at it.
func (a *app) startDemo(s *connect.Settings) error {
	if a.demoServer == nil {
		srv, err := pbxsim.Start(demoOptions(a.now()))
		if err != nil {
			return fmt.Errorf("starting the demo PBX: %w", err)
		}
		a.demoServer = srv
	}
	s.URL = a.demoServer.URL()
	if strings.ToLower(s.Kind) == cdr.KindDifuse {
		s.User, s.Password = pbxsim.DefaultDifuseExtension, cdr.Secret(pbxsim.DefaultDifuseSecret)
	} else {
		s.User, s.Password = pbxsim.DefaultComxUser, cdr.Secret(pbxsim.DefaultComxPassword)
	}
	return nil
}

// demoOptions is the demo PBX at the clock now: 45 days of calls at every hour up to now, and the calls the
// examples in --help and the README name. Its own clock (the Date of its answers, which the app takes "today"
// from) starts at now too, so the test hook's clock moves both.
func demoOptions(now time.Time) pbxsim.Options {
	return pbxsim.Options{Days: 45, End: now, Now: now, RecordingsDir: pbxsim.DefaultRecordings(), AroundTheClock: true,
		SpecExamples: true}
}

// promptPassword asks for the password without echo when stdin is a terminal.
func (a *app) promptPassword(user string) (cdr.Secret, error) {
	if a.stdin == nil || !term.IsTerminal(int(a.stdin.Fd())) {
		return "", nil
	}
	fmt.Fprintf(a.stderr, "Password for %s: ", user)
	b, err := term.ReadPassword(int(a.stdin.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	return cdr.Secret(b), nil
}

// isTerminal reports whether w is a terminal (progress lines go only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
