// Package cli is callscope's command line: one file per subcommand, flags that read the same everywhere, exit
// codes 0 (ok), 1 (runtime error) and 2 (usage error), and errors on stderr in one readable line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/connect"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

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
	keyParam            bool

	demoServer *pbxsim.Server
	zone       *time.Location
}

// Main runs callscope with args and returns the exit code.
func Main(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if a.demoServer != nil {
		a.demoServer.Close()
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "callscope: "+oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitRuntime
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "callscope",
		Short: "Browse a PBX's call records, play recordings, export calls to CSV",
		Long: `callscope reads call detail records (CDRs) from a Com.X or Difuse PBX. With no subcommand it opens the
terminal app; the subcommands are for scripts.

Credentials: --user, and the password from $CALLSCOPE_PASSWORD (never a flag, so it stays out of the
process list), or user:pass@ in the URL. --demo runs against a built-in simulated PBX.`,
		Example: `  callscope --demo                                  # the app, against a simulated PBX
  callscope calls --demo --from 2026-11-20 --format csv
  CALLSCOPE_PASSWORD=… callscope calls --url http://10.0.0.5 --user admin --from 20261120 --to 20261121
  callscope --url http://10.0.0.5 --user admin --id 1396000115.1   # open the app on one call`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          a.runTUI,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", os.Getenv("CALLSCOPE_URL"), "PBX base URL (http://pbx_ip) or full endpoint; $CALLSCOPE_URL")
	pf.StringVar(&a.kind, "kind", envOr("CALLSCOPE_KIND", connect.KindComX), "PBX kind: comx or difuse")
	pf.StringVar(&a.user, "user", os.Getenv("CALLSCOPE_USER"), "user (Com.X) or extension (Difuse); password from $CALLSCOPE_PASSWORD")
	pf.StringVar(&a.tz, "tz", os.Getenv("CALLSCOPE_TZ"), "the PBX's time zone (IANA name, e.g. Africa/Johannesburg); inferred when not given")
	pf.DurationVar(&a.timeout, "timeout", transport.DefaultTimeout, "give up on a PBX that sends nothing for this long")
	pf.StringVar(&a.caFile, "ca-file", "", "PEM file with the CA that signed the PBX's HTTPS certificate")
	pf.BoolVar(&a.insecure, "insecure", false, "skip HTTPS certificate checks (prints a warning)")
	pf.BoolVar(&a.keyParam, "difuse-key-param", false, "Difuse: send the key as ?key= instead of Basic auth (discouraged)")
	pf.BoolVar(&a.demo, "demo", false, "start a simulated PBX in-process and use it")
	pf.StringVar(&a.debug, "debug", "", "write a debug log to this file")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = false

	a.addTUIFlags(root)
	root.AddCommand(a.callsCommand(), a.callCommand(), a.recCommand(), a.usersCommand(), a.decodeCommand(),
		a.playCommand())
	return root
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// warn prints a warning on stderr.
func (a *app) warn(msg string) { fmt.Fprintln(a.stderr, "callscope: warning: "+oneLine(msg)) }

// location resolves --tz.
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

// source opens the PBX the flags describe (starting the demo simulator when asked).
func (a *app) source(ctx context.Context) (cdr.Source, error) {
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	s := connect.Settings{Kind: a.kind, URL: a.url, User: a.user, Zone: loc, Timeout: a.timeout,
		CAFile: a.caFile, Insecure: a.insecure, KeyParam: a.keyParam, Warn: a.warn}
	if pw, ok := os.LookupEnv("CALLSCOPE_PASSWORD"); ok {
		s.Password = cdr.Secret(pw)
	}
	if a.demo {
		if err := a.startDemo(&s); err != nil {
			return nil, err
		}
	} else if a.url == "" {
		return nil, usagef("no PBX given: use --url http://PBX_ADDRESS (or --demo to try callscope on a simulated PBX)")
	}
	if !s.Password.IsSet() && s.User != "" && !a.demo && !strings.Contains(s.URL, "@") {
		pw, err := a.promptPassword(s.User)
		if err != nil {
			return nil, err
		}
		s.Password = pw
	}
	return connect.Open(s)
}

// startDemo starts the simulator on a loopback port and points the settings at it.
func (a *app) startDemo(s *connect.Settings) error {
	if a.demoServer == nil {
		srv, err := pbxsim.Start(pbxsim.Options{Days: 45, RecordingsDir: pbxsim.DefaultRecordings()})
		if err != nil {
			return fmt.Errorf("starting the demo PBX: %w", err)
		}
		a.demoServer = srv
	}
	s.URL = a.demoServer.URL()
	if strings.ToLower(s.Kind) == connect.KindDifuse {
		s.User, s.Password = pbxsim.DefaultDifuseExtension, cdr.Secret(pbxsim.DefaultDifuseSecret)
	} else {
		s.User, s.Password = pbxsim.DefaultComxUser, cdr.Secret(pbxsim.DefaultComxPassword)
	}
	return nil
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
