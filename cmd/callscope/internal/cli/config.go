package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/profile"
	"github.com/callscope/callscope/client/transport"
)

func (a *app) configCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show where the config file is and the settings in effect (secrets redacted)",
		Long: `callscope keeps named PBX profiles in a TOML file: callscope/config.toml in your config directory
($XDG_CONFIG_HOME, ~/.config on Linux), or the file given by --config or $CALLSCOPE_CONFIG. It must be private
to you (chmod 600); callscope refuses a config other users can read.

Each setting comes from the first of: a flag, an environment variable, the profile (--profile NAME, then
$CALLSCOPE_PROFILE, then default_profile when no --url is given). A profile's password is only sent to the
profile's own PBX.

Passwords are not kept in the file: a profile says where its password comes from —
  password_env = "VAR"              an environment variable
  password_cmd = "pass show pbx"    the first line a command prints (sh -c; cmd /C on Windows)
  keyring = true                    the OS keyring (store it with: callscope config set-password NAME)
With none of these, the keyring entry is used if there is one, else callscope asks on a terminal.
$CALLSCOPE_PASSWORD overrides them all. password = "..." works only beside plaintext_password_ok = true.

A profile:
  default_profile = "office"

  [profiles.office]
  kind = "comx"                     # or difuse
  url = "https://10.0.0.5"
  user = "admin"
  tz = "Africa/Johannesburg"        # inferred from the records when not set
  ca_file = "/etc/ssl/office-ca.pem"
  insecure = false
  timeout = "10s"
  range = "last 7 days"             # or from = "2026-11-01", to = "2026-12-01"
  key_param = false                 # Difuse: send the key as ?key= (discouraged)
  password_cmd = "pass show pbx/office"
  password_cmd_timeout = "60s"

With no subcommand, config prints the file's path, its profiles, and every setting in effect for this command
line with where it came from; the password row names its source, never its value.`,
		Example: `  callscope config add-profile office --url https://10.0.0.5 --user admin --tz Africa/Johannesburg --keyring
  callscope config set-password office
  callscope config
  callscope config --profile office
  callscope config list
  $EDITOR "$(callscope config path)"`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.showConfig() },
	}
	c.AddCommand(a.configPathCommand(), a.configListCommand(), a.configAddCommand(), a.configSetPasswordCommand())
	return c
}

func (a *app) showConfig() error {
	path, from, err := profile.Path(a.configFile, os.Getenv)
	if err != nil {
		return err
	}
	f, err := profile.Load(path)
	if err != nil {
		return err
	}
	state := "not found; `callscope config add-profile` creates it"
	if f.Found {
		state = "found"
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "config file:\t%s\t(%s; %s)\n", path, state, describePathFrom(from))
	names := f.Names()
	for i, n := range names {
		if n == f.Default {
			names[i] = n + " (default)"
		}
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	fmt.Fprintf(w, "profiles:\t%s\n", strings.Join(names, ", "))
	if err := w.Flush(); err != nil {
		return err
	}
	for _, warn := range f.Warnings {
		a.warn(warn)
	}

	eff, err := a.effective(true)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "\nin effect:")
	w = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, r := range eff.Rows() {
		from := ""
		if r.From != "" {
			from = "(" + r.From + ")"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", r.Key, orDash(r.Value), from)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, n := range eff.Notes {
		fmt.Fprintln(a.stdout, "note: "+n)
	}
	for _, warn := range eff.Warnings {
		if !contains(f.Warnings, warn) {
			a.warn(warn)
		}
	}
	return nil
}

func describePathFrom(from string) string {
	switch from {
	case "--config":
		return "from --config"
	case "$" + profile.EnvConfig:
		return "from $" + profile.EnvConfig
	}
	return "the default place; --config or $" + profile.EnvConfig + " change it"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (a *app) configPathCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the config file's path",
		Example: `  $EDITOR "$(callscope config path)"`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			path, err := a.configPath()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, path) // read by scripts: $(callscope config path)
			return err
		},
	}
}

func (a *app) configListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the profiles: name, kind, URL, user and where the password comes from",
		Example: `  callscope config list`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f, err := a.loadConfig()
			if err != nil {
				return err
			}
			if len(f.Profiles) == 0 {
				fmt.Fprintf(a.stderr, "callscope: no profiles in %s yet: add one with `callscope config add-profile NAME --url http://PBX_ADDRESS --user USER`\n", f.Path)
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "\tNAME\tKIND\tURL\tUSER\tPASSWORD")
			for _, n := range f.Names() {
				p := f.Profiles[n]
				mark := ""
				if n == f.Default {
					mark = "*"
				}
				pw := p.CredentialSource(n).String()
				if err := p.Validate(n); err != nil {
					pw = "invalid: " + err.Error()
				}
				kind := p.Kind
				if kind == "" {
					kind = cdr.KindComX
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, n, kind, profile.DisplayURL(p.URL), orDash(p.User),
					strings.TrimSuffix(pw, ", from profile "+n))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			for _, warn := range f.Warnings {
				a.warn(warn)
			}
			return nil
		},
	}
}

func (a *app) configAddCommand() *cobra.Command {
	var rng, pwEnv, pwCmd string
	var useKeyring, makeDefault bool
	c := &cobra.Command{
		Use:   "add-profile NAME --url URL [--kind comx|difuse] [--user USER] [flags]",
		Short: "Add a PBX profile to the config file (written 0600)",
		Long: `add-profile appends a profile to the config file, creating the file (mode 0600) when there is none. It takes
the connection flags given on its command line (--url, --kind, --user, --tz, --ca-file, --insecure, --timeout,
--difuse-key-param) and where the password comes from (--password-env, --password-cmd or --keyring); the
password itself is never a flag. The first profile becomes the default; --default makes this one the default.
The rest of the file, comments included, is kept as it is.`,
		Example: `  callscope config add-profile office --url https://10.0.0.5 --user admin --tz Africa/Johannesburg --keyring
  callscope config add-profile lab --kind difuse --url https://lab:8443 --user 4001 --password-cmd "pass show pbx/lab"
  callscope config add-profile branch --url http://10.1.0.5 --user admin --password-env BRANCH_PBX_PASSWORD --range "last 7 days"`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("add-profile takes one profile name, e.g. callscope config add-profile office --url http://10.0.0.5")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			if err := profile.ValidName(name); err != nil {
				return usageError{err}
			}
			fl := a.flagLayer()
			if fl.URL == "" {
				return usagef("add-profile needs --url http://PBX_ADDRESS")
			}
			if ep, err := transport.ParseEndpoint(fl.URL); err != nil {
				return usageError{err}
			} else if ep.HasPass {
				return usagef("--url holds a password: give the URL without it; the password goes to the keyring (--keyring, then callscope config set-password %s)", name)
			}
			if fl.TZ != "" {
				if _, err := time.LoadLocation(fl.TZ); err != nil {
					return usagef("unknown time zone %q: use an IANA name such as Europe/London", fl.TZ)
				}
			}
			n := 0
			for _, set := range []bool{pwEnv != "", pwCmd != "", useKeyring} {
				if set {
					n++
				}
			}
			if n > 1 {
				return usagef("give one of --password-env, --password-cmd and --keyring")
			}
			p := profile.Profile{Kind: strings.ToLower(fl.Kind), URL: fl.URL, User: fl.User, TZ: fl.TZ,
				CAFile: fl.CAFile, Timeout: fl.Timeout, Range: rng, PasswordEnv: pwEnv, PasswordCmd: pwCmd,
				Keyring: useKeyring}
			if fl.Insecure != nil {
				p.Insecure = *fl.Insecure
			}
			if fl.KeyParam != nil {
				p.KeyParam = *fl.KeyParam
			}
			if err := p.Validate(name); err != nil {
				return usageError{err}
			}
			path, err := a.configPath()
			if err != nil {
				return err
			}
			if err := profile.AddProfile(path, name, p, makeDefault); err != nil {
				return err
			}
			f, err := profile.Load(path)
			if err != nil {
				return err
			}
			def := ""
			if f.Default == name {
				def = " (the default profile)"
			}
			fmt.Fprintf(a.stdout, "added profile %s to %s%s\n", name, path, def)
			switch {
			case useKeyring:
				fmt.Fprintf(a.stdout, "now store its password: callscope config set-password %s\n", name)
			case pwEnv == "" && pwCmd == "" && p.User != "":
				fmt.Fprintf(a.stdout, "its password: callscope config set-password %s (OS keyring), or set password_env / password_cmd in the file; otherwise callscope asks each time\n", name)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&rng, "range", "", `default range of calls: today, yesterday, this week, last 7 days, …`)
	f.StringVar(&pwEnv, "password-env", "", "the password comes from this environment variable (its name, not the password)")
	f.StringVar(&pwCmd, "password-cmd", "", `the password is the first line this command prints, e.g. "pass show pbx"`)
	f.BoolVar(&useKeyring, "keyring", false, "the password comes from the OS keyring (store it with config set-password)")
	f.BoolVar(&makeDefault, "default", false, "make this the default profile")
	return c
}

func (a *app) configSetPasswordCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "set-password PROFILE",
		Short: "Store a profile's password in the OS keyring (asked for without echo)",
		Long: `set-password asks for the profile's password without echo (twice, on a terminal) and stores it in the OS
keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows) under service "callscope"
and the profile's name. Piped in, the first line of standard input is the password. Where no keyring is
available (a server without a desktop session), use password_cmd or password_env in the profile instead.`,
		Example: `  callscope config set-password office
  pass show pbx/office | callscope config set-password office`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("set-password takes one profile name, e.g. callscope config set-password office")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			f, err := a.loadConfig()
			if err != nil {
				return err
			}
			p, err := f.Lookup(name)
			if err != nil {
				return usageError{err}
			}
			pw, err := a.readNewPassword(name)
			if err != nil {
				return err
			}
			if err := profile.KeyringSet(name, pw); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "stored the password of profile %s in the OS keyring\n", name)
			if src := p.CredentialSource(name); src.Kind != profile.SourceKeyring {
				a.warn(fmt.Sprintf("profile %s takes its password from its %s, so the keyring entry is not used: remove that from %s (or set keyring = true)",
					name, src.String(), f.Path))
			}
			return nil
		},
	}
}

// readNewPassword reads a password to store: twice without echo on a terminal, else the first line of stdin.
func (a *app) readNewPassword(name string) (cdr.Secret, error) {
	if a.stdin == nil {
		return "", errors.New("no password given: run set-password on a terminal, or pipe the password in")
	}
	fd := int(a.stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password given on standard input")
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("no password given on standard input")
		}
		return cdr.Secret(pw), nil
	}
	fmt.Fprintf(a.stderr, "Password for profile %s: ", name)
	b1, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	if len(b1) == 0 {
		return "", errors.New("no password given; nothing stored")
	}
	fmt.Fprint(a.stderr, "Again: ")
	b2, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	if string(b1) != string(b2) {
		return "", errors.New("the two passwords differ; nothing stored")
	}
	return cdr.Secret(b1), nil
}

// completeProfiles offers the config file's profile names to shell completion.
func (a *app) completeProfiles(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	f, err := a.loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return f.Names(), cobra.ShellCompDirectiveNoFileComp
}
