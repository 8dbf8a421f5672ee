package profile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// Layer is the settings one place gives: the command-line flags or the environment. An empty string or a nil
// pointer means "not given here", so a lower layer shows through.
type Layer struct {
	Kind, URL, User, TZ, CAFile string
	Timeout                     string // Go duration
	Insecure, KeyParam          *bool
}

// EnvLayer reads the CALLSCOPE_* variables (not the password, which is a password source).
func EnvLayer(getenv func(string) string) (Layer, error) {
	l := Layer{Kind: getenv(EnvKind), URL: getenv(EnvURL), User: getenv(EnvUser), TZ: getenv(EnvTZ),
		CAFile: getenv(EnvCAFile), Timeout: getenv(EnvTimeout)}
	if v := getenv(EnvInsecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return l, fmt.Errorf("$%s=%q: use true or false", EnvInsecure, v)
		}
		l.Insecure = &b
	}
	return l, nil
}

// Inputs are everything Resolve combines.
type Inputs struct {
	Flags   Layer
	Profile string              // --profile
	Getenv  func(string) string // os.Getenv when nil
	// File is the loaded config, or nil when it was not read (NeedsFile said no, or --demo).
	File *File
}

// NeedsFile says whether the config file has to be read for these flags: when a profile is named (by flag or
// environment), or when no URL is given and so the default profile applies. A command given a URL and no profile
// never reads the file, so a broken config cannot get in the way of an explicit --url.
func NeedsFile(flags Layer, flagProfile string, getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	return flagProfile != "" || getenv(EnvProfile) != "" || (flags.URL == "" && getenv(EnvURL) == "")
}

// Effective is the settings a command uses, each with where it came from.
type Effective struct {
	ConfigPath  string
	ConfigFound bool
	Profile     string // "" when no profile is used
	ProfileFrom string // --profile, $CALLSCOPE_PROFILE or default_profile

	Kind, URL, User, TZ, CAFile string // URL never holds credentials: they are taken out into User and Password
	Insecure, KeyParam          bool
	Timeout                     time.Duration
	Range, From, To             string // the profile's default range, if any

	Password PasswordSource

	// Origin says where each setting came from: "--url", "$CALLSCOPE_URL", "profile office" or "default".
	Origin map[string]string
	// Warnings are for stderr (a clear-text password in use); Notes explain choices made (a profile password
	// not sent to a URL given on the command line).
	Warnings, Notes []string
}

// Origins of a setting.
const originDefault = "default"

// Resolve combines flags, environment and the config file: for each setting the first place that gives it wins,
// in that order. A profile is picked by --profile, then $CALLSCOPE_PROFILE, then the file's default_profile (only
// when no URL is given by flag or environment: a URL typed on the command line means "this PBX", not the default
// one). A profile's password is only ever used for the profile's own PBX: when a flag or the environment points
// the URL at another host, the profile's password sources are left out.
func Resolve(in Inputs) (*Effective, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env, err := EnvLayer(getenv)
	if err != nil {
		return nil, err
	}
	e := &Effective{Origin: map[string]string{}}
	if in.File != nil {
		e.ConfigPath, e.ConfigFound = in.File.Path, in.File.Found
		e.Warnings = append(e.Warnings, in.File.Warnings...)
	}

	// Which profile.
	switch {
	case in.Profile != "":
		e.Profile, e.ProfileFrom = in.Profile, "--profile"
	case getenv(EnvProfile) != "":
		e.Profile, e.ProfileFrom = getenv(EnvProfile), "$"+EnvProfile
	case in.File != nil && in.File.Default != "" && in.Flags.URL == "" && env.URL == "":
		e.Profile, e.ProfileFrom = in.File.Default, "default_profile"
	}
	var prof *Profile
	profLayer := Layer{}
	profOrigin := ""
	if e.Profile != "" {
		if in.File == nil {
			return nil, fmt.Errorf("profile %q: the config file was not read", e.Profile)
		}
		p, err := in.File.Lookup(e.Profile)
		if err != nil {
			return nil, err
		}
		if err := p.Validate(e.Profile); err != nil {
			return nil, fmt.Errorf("config %s: %w", in.File.Path, err)
		}
		prof = &p
		profOrigin = "profile " + e.Profile
		ins, kp := p.Insecure, p.KeyParam
		profLayer = Layer{Kind: p.Kind, URL: p.URL, User: p.User, TZ: p.TZ, CAFile: p.CAFile, Timeout: p.Timeout}
		if ins {
			profLayer.Insecure = &ins
		}
		if kp {
			profLayer.KeyParam = &kp
		}
		e.Range, e.From, e.To = p.Range, p.From, p.To
		if p.Range != "" || p.From != "" || p.To != "" {
			e.Origin["range"] = profOrigin
		}
	}

	layers := []struct {
		l      Layer
		origin func(flag, envName string) string
	}{
		{in.Flags, func(flag, _ string) string { return "--" + flag }},
		{env, func(_, envName string) string { return "$" + envName }},
		{profLayer, func(string, string) string { return profOrigin }},
	}
	pickStr := func(key, flag, envName string, get func(Layer) string, def string) string {
		for _, ly := range layers {
			if v := get(ly.l); v != "" {
				e.Origin[key] = ly.origin(flag, envName)
				return v
			}
		}
		e.Origin[key] = originDefault
		return def
	}
	pickBool := func(key, flag, envName string, get func(Layer) *bool) bool {
		for _, ly := range layers {
			if v := get(ly.l); v != nil {
				e.Origin[key] = ly.origin(flag, envName)
				return *v
			}
		}
		e.Origin[key] = originDefault
		return false
	}

	e.Kind = strings.ToLower(pickStr("kind", "kind", EnvKind, func(l Layer) string { return l.Kind }, cdr.KindComX))
	if e.Kind != cdr.KindComX && e.Kind != cdr.KindDifuse {
		return nil, fmt.Errorf("unknown PBX kind %q (from %s): use comx or difuse", e.Kind, e.Origin["kind"])
	}
	e.TZ = pickStr("tz", "tz", EnvTZ, func(l Layer) string { return l.TZ }, "")
	e.CAFile = pickStr("ca_file", "ca-file", EnvCAFile, func(l Layer) string { return l.CAFile }, "")
	e.Insecure = pickBool("insecure", "insecure", EnvInsecure, func(l Layer) *bool { return l.Insecure })
	e.KeyParam = pickBool("key_param", "difuse-key-param", "", func(l Layer) *bool { return l.KeyParam })
	timeout := pickStr("timeout", "timeout", EnvTimeout, func(l Layer) string { return l.Timeout }, "")
	e.Timeout = transport.DefaultTimeout
	if timeout != "" {
		if e.Timeout, err = time.ParseDuration(timeout); err != nil || e.Timeout <= 0 {
			return nil, fmt.Errorf("timeout %q (from %s): use a duration such as 10s or 1m", timeout, e.Origin["timeout"])
		}
	}

	// The URL, and the credentials the layer that gave it put in it.
	rawURL := pickStr("url", "url", EnvURL, func(l Layer) string { return l.URL }, "")
	urlOrigin := e.Origin["url"]
	if rawURL == "" {
		delete(e.Origin, "url")
	}
	var urlUser string
	var urlPass cdr.Secret
	var urlHasPass bool
	e.URL, urlUser, urlPass, urlHasPass = splitURL(rawURL)

	// The user: the first layer that names one, where a URL's user counts for the layer that gave that URL.
	for _, ly := range layers {
		if ly.l.User != "" {
			e.User, e.Origin["user"] = ly.l.User, ly.origin("user", EnvUser)
			break
		}
		if urlUser != "" && ly.l.URL != "" && ly.l.URL == rawURL {
			e.User, e.Origin["user"] = urlUser, urlOrigin
			break
		}
	}

	// Whether the profile's credentials may go to this URL.
	profCreds := prof != nil
	if prof != nil && urlOrigin != profOrigin && rawURL != "" && !sameHost(rawURL, prof.URL) {
		profCreds = false
		e.Notes = append(e.Notes, fmt.Sprintf("the password of profile %s is not used: the URL (from %s) points at another PBX than the profile's",
			e.Profile, urlOrigin))
	}

	// The password: the first source in precedence order.
	switch {
	case urlHasPass && urlOrigin == "--url":
		e.Password = PasswordSource{Kind: SourceURL, From: "--url", value: urlPass}
	case getenv(EnvPassword) != "":
		e.Password = PasswordSource{Kind: SourceEnv, Env: EnvPassword, From: "$" + EnvPassword}
	case urlHasPass && urlOrigin == "$"+EnvURL:
		e.Password = PasswordSource{Kind: SourceURL, From: "$" + EnvURL, value: urlPass}
	case profCreds:
		e.Password = prof.CredentialSource(e.Profile)
		if e.Password.Kind == SourceFile {
			e.Warnings = append(e.Warnings, fmt.Sprintf("profile %s keeps its password in clear text in %s: move it to the OS keyring (`callscope config set-password %s`) or use password_cmd",
				e.Profile, in.File.Path, e.Profile))
		}
	}
	if urlHasPass && urlOrigin == "--url" {
		e.Warnings = append(e.Warnings, "the password in --url can be read by every user of this machine in the process list (ps): set "+
			EnvPassword+" or use a profile (see callscope config) instead")
	}
	e.Password.getenv = getenv
	return e, nil
}

// ErrNoPassword marks a command that needs a password and got none from any source, with no terminal to ask on.
var ErrNoPassword = errors.New("no password given")

// NoPasswordError says that no password came from anywhere (no flag, no environment, no profile source, no
// terminal) and how to give one. Sending none would only earn the PBX's 401, which reads as a wrong password.
func (e *Effective) NoPasswordError() error {
	msg := "no password given: set " + EnvPassword + " or use a profile (see callscope config)"
	switch {
	case e.Password.Kind == SourceKeyring && e.Password.Implicit:
		msg = fmt.Sprintf("no password given: profile %s names no password source and the OS keyring has none for it: store one with `callscope config set-password %s`, or set %s",
			e.Profile, e.Profile, EnvPassword)
	case e.User == "":
		msg += ", and name the user with --user"
	}
	return &noPasswordError{msg}
}

type noPasswordError struct{ msg string }

func (e *noPasswordError) Error() string { return e.msg }
func (e *noPasswordError) Unwrap() error { return ErrNoPassword }

// splitURL takes user info out of a URL. A URL that does not parse is returned as given: opening it reports
// the problem (with the credentials redacted).
func splitURL(raw string) (clean, user string, pass cdr.Secret, hasPass bool) {
	if raw == "" || !strings.Contains(raw, "@") {
		return raw, "", "", false
	}
	ep, err := transport.ParseEndpoint(raw)
	if err != nil {
		return raw, "", "", false
	}
	if ep.User == "" && !ep.HasPass {
		return raw, "", "", false
	}
	return ep.URL.String(), ep.User, ep.Password, ep.HasPass
}

// sameHost reports whether two PBX URLs name the same scheme, host and port.
func sameHost(a, b string) bool {
	ea, err1 := transport.ParseEndpoint(a)
	eb, err2 := transport.ParseEndpoint(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return transport.OriginOf(ea.URL) == transport.OriginOf(eb.URL)
}

// Validate checks a profile on its own: a known kind, a URL, at most one password source, a clear-text password
// only where the user said so, a readable range and durations.
func (p Profile) Validate(name string) error {
	if p.Kind != "" && !strings.EqualFold(p.Kind, cdr.KindComX) && !strings.EqualFold(p.Kind, cdr.KindDifuse) {
		return fmt.Errorf("profile %s: kind %q: use comx or difuse", name, p.Kind)
	}
	if p.URL == "" {
		return fmt.Errorf("profile %s has no url: add url = \"http://PBX_ADDRESS\"", name)
	}
	_, _, _, urlPass := splitURL(p.URL)
	var sources []string
	if p.PasswordEnv != "" {
		sources = append(sources, "password_env")
	}
	if p.PasswordCmd != "" {
		sources = append(sources, "password_cmd")
	}
	if p.Keyring {
		sources = append(sources, "keyring")
	}
	if p.Password.IsSet() {
		sources = append(sources, "password")
	}
	if urlPass {
		sources = append(sources, "a password in url")
	}
	if len(sources) > 1 {
		return fmt.Errorf("profile %s has %s: keep one password source", name, strings.Join(sources, " and "))
	}
	if (p.Password.IsSet() || urlPass) && !p.PlaintextPasswordOK {
		return fmt.Errorf("profile %s has a password in clear text: store it in the OS keyring with `callscope config set-password %s` (or use password_cmd or password_env), or add plaintext_password_ok = true to keep it in the file",
			name, name)
	}
	if p.PasswordCmdTimeout != "" {
		if d, err := time.ParseDuration(p.PasswordCmdTimeout); err != nil || d <= 0 {
			return fmt.Errorf("profile %s: password_cmd_timeout %q: use a duration such as 30s", name, p.PasswordCmdTimeout)
		}
	}
	if p.Timeout != "" {
		if d, err := time.ParseDuration(p.Timeout); err != nil || d <= 0 {
			return fmt.Errorf("profile %s: timeout %q: use a duration such as 10s", name, p.Timeout)
		}
	}
	if p.Range != "" && (p.From != "" || p.To != "") {
		return fmt.Errorf("profile %s: give either range or from/to, not both", name)
	}
	if p.Range != "" {
		if _, _, err := ParseRange(p.Range, time.Now()); err != nil {
			return fmt.Errorf("profile %s: %w", name, err)
		}
	}
	for key, v := range map[string]string{"from": p.From, "to": p.To} {
		if v != "" {
			if _, err := cdr.ParseTime(v, nil); err != nil {
				return fmt.Errorf("profile %s: %s: %w", name, key, err)
			}
		}
	}
	if p.PasswordEnv != "" && strings.ContainsAny(p.PasswordEnv, "= \t$") {
		return fmt.Errorf("profile %s: password_env is the name of an environment variable (like PBX_PASSWORD), not a value", name)
	}
	return nil
}

// CredentialSource is where the profile says its password comes from; with nothing said, the keyring is tried.
func (p Profile) CredentialSource(name string) PasswordSource {
	_, _, pass, urlPass := splitURL(p.URL)
	from := "profile " + name
	switch {
	case p.PasswordEnv != "":
		return PasswordSource{Kind: SourceEnv, Env: p.PasswordEnv, From: from}
	case p.PasswordCmd != "":
		d := DefaultCommandTimeout
		if p.PasswordCmdTimeout != "" {
			d, _ = time.ParseDuration(p.PasswordCmdTimeout) // checked by Validate
		}
		return PasswordSource{Kind: SourceCommand, Command: p.PasswordCmd, Timeout: d, From: from}
	case p.Keyring:
		return PasswordSource{Kind: SourceKeyring, Key: name, From: from}
	case p.Password.IsSet():
		return PasswordSource{Kind: SourceFile, From: from, value: p.Password}
	case urlPass:
		return PasswordSource{Kind: SourceFile, From: from, value: pass}
	}
	return PasswordSource{Kind: SourceKeyring, Key: name, From: from, Implicit: true}
}

// DefaultRange is the profile's default range of calls as wall-clock times (read as UTC, like cdr.ParseTime),
// with now the PBX's wall clock. ok is false when the profile sets none.
func (e *Effective) DefaultRange(now time.Time) (from, to time.Time, ok bool, err error) {
	switch {
	case e.Range != "":
		from, to, err = ParseRange(e.Range, now)
		return from, to, err == nil, err
	case e.From != "" || e.To != "":
		if e.From != "" {
			if from, err = cdr.ParseTime(e.From, nil); err != nil {
				return from, to, false, err
			}
		}
		if e.To != "" {
			if to, err = cdr.ParseTime(e.To, nil); err != nil {
				return from, to, false, err
			}
		}
		return from, to, true, nil
	}
	return from, to, false, nil
}

// Row is one line of `callscope config`: a setting, its value (never a secret) and where it came from.
type Row struct{ Key, Value, From string }

// Rows lists the effective settings for people. Secrets are never in it: the password row names its source.
func (e *Effective) Rows() []Row {
	show := func(key, v string) Row {
		from := e.Origin[key]
		if v == "" && from == originDefault {
			from = ""
		}
		return Row{key, v, from}
	}
	profile := e.Profile
	if profile == "" {
		profile = "(none)"
	}
	rng := e.Range
	if rng == "" && (e.From != "" || e.To != "") {
		rng = "from " + orOpen(e.From) + " to " + orOpen(e.To)
	}
	return []Row{
		{"profile", profile, e.ProfileFrom},
		show("kind", e.Kind),
		show("url", DisplayURL(e.URL)),
		show("user", e.User),
		{"password", e.Password.Describe(), passwordFrom(e.Password)},
		show("tz", orDefault(e.TZ, "inferred from the records")),
		show("ca_file", e.CAFile),
		show("insecure", strconv.FormatBool(e.Insecure)),
		show("timeout", e.Timeout.String()),
		show("key_param", strconv.FormatBool(e.KeyParam)),
		show("range", rng),
	}
}

func passwordFrom(p PasswordSource) string {
	if p.From == "$"+p.Env {
		return ""
	}
	return p.From
}

// DisplayURL is a URL as people may see it: without user info (whatever its form) or a key= parameter.
func DisplayURL(raw string) string {
	if clean, _, _, _ := splitURL(raw); clean != raw {
		return transport.Redact(clean)
	}
	return transport.Redact(raw)
}

func orOpen(s string) string { return orDefault(s, "(open)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
