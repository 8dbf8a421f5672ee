// Package profile reads callscope's config file: named PBX profiles, where each profile's password comes from
// (an environment variable, a command, the OS keyring, or — only when the user insists — the file itself), and
// how flags, environment and file combine into the settings a command uses (flags > environment > file).
//
// The file is $XDG_CONFIG_HOME/callscope/config.toml (os.UserConfigDir on every platform), or the path given by
// --config or $CALLSCOPE_CONFIG:
//
//	default_profile = "office"
//	theme = "light"       # the app's colours: dark, light or auto
//	country_code = "27"   # the app's search finds +27 84… as 084…
//
//	[profiles.office]
//	kind = "comx"
//	url = "https://10.0.0.5"
//	user = "admin"
//	tz = "Africa/Johannesburg"
//	ca_file = "/etc/ssl/office-pbx-ca.pem"
//	range = "last 7 days"
//	password_cmd = "pass show pbx/office"
package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/callscope/callscope/client/cdr"
)

// Environment variables callscope reads.
const (
	EnvConfig   = "CALLSCOPE_CONFIG"
	EnvProfile  = "CALLSCOPE_PROFILE"
	EnvPassword = "CALLSCOPE_PASSWORD"
	EnvURL      = "CALLSCOPE_URL"
	EnvKind     = "CALLSCOPE_KIND"
	EnvUser     = "CALLSCOPE_USER"
	EnvTZ       = "CALLSCOPE_TZ"
	EnvCAFile   = "CALLSCOPE_CA_FILE"
	EnvInsecure = "CALLSCOPE_INSECURE"
	EnvTimeout  = "CALLSCOPE_TIMEOUT"
)

// maxFileSize bounds what Load reads: a config file is a few hundred bytes; anything huge is a mistake.
const maxFileSize = 1 << 20

// File is a parsed config file.
type File struct {
	Path     string
	Found    bool // false when there is no file at Path (not an error: nothing is configured yet)
	Default  string
	Profiles map[string]Profile
	// The app's preferences, for every profile: Theme is dark, light or auto; CountryCode the calling code
	// ("27") the search maps +CC numbers with.
	Theme       string
	CountryCode string
	// Warnings are problems that did not stop the load, such as unknown settings (a typo is not silently
	// ignored, but it does not lock the user out either).
	Warnings []string
}

// Profile is one named PBX.
type Profile struct {
	Kind     string `toml:"kind,omitempty"` // comx (default) or difuse
	URL      string `toml:"url,omitempty"`
	User     string `toml:"user,omitempty"`
	TZ       string `toml:"tz,omitempty"` // IANA zone of the PBX's wall clock; inferred when empty
	CAFile   string `toml:"ca_file,omitempty"`
	Insecure bool   `toml:"insecure,omitempty"`
	Timeout  string `toml:"timeout,omitempty"`   // Go duration, e.g. "30s"
	KeyParam bool   `toml:"key_param,omitempty"` // Difuse: send the key as ?key= (discouraged by the vendor)

	// The default range of calls: either Range ("today", "last 7 days", …) or From/To (the forms --from and
	// --to accept).
	Range string `toml:"range,omitempty"`
	From  string `toml:"from,omitempty"`
	To    string `toml:"to,omitempty"`

	// Password sources; at most one may be set. With none, the OS keyring is tried, then a prompt.
	PasswordEnv        string `toml:"password_env,omitempty"`         // name of an environment variable
	PasswordCmd        string `toml:"password_cmd,omitempty"`         // shell command; its first stdout line
	PasswordCmdTimeout string `toml:"password_cmd_timeout,omitempty"` // Go duration; DefaultCommandTimeout when empty
	Keyring            bool   `toml:"keyring,omitempty"`              // the OS keyring (service "callscope", key = profile name)
	// Password in clear text: accepted only with PlaintextPasswordOK, and warned about every time it is used.
	// A cdr.Secret, so printing a Profile never shows it.
	Password            cdr.Secret `toml:"password,omitempty"`
	PlaintextPasswordOK bool       `toml:"plaintext_password_ok,omitempty"`
}

// fileDoc is the file's TOML shape.
type fileDoc struct {
	DefaultProfile string             `toml:"default_profile"`
	Theme          string             `toml:"theme"`
	CountryCode    string             `toml:"country_code"`
	Profiles       map[string]Profile `toml:"profiles"`
}

// nameRE is what a profile name may be: it is a TOML bare key and a keyring key, and people type it.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidName reports whether name can be a profile name, with a message saying what is allowed when not.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("profile name %q: use letters, digits, - and _ (up to 64, starting with a letter or digit)", name)
	}
	return nil
}

// Path says which config file to use: the --config flag, then $CALLSCOPE_CONFIG, then callscope/config.toml in
// the user config directory. from says which of the three it was.
func Path(flag string, getenv func(string) string) (path, from string, err error) {
	if flag != "" {
		return flag, "--config", nil
	}
	if v := getenv(EnvConfig); v != "" {
		return v, "$" + EnvConfig, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", "", fmt.Errorf("cannot find your config directory (%v): set $XDG_CONFIG_HOME or use --config FILE", err)
	}
	return filepath.Join(dir, "callscope", "config.toml"), "default", nil
}

// PermissionError is a config file that other users can read or change.
type PermissionError struct {
	Path string
	Mode os.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("config %s can be read or changed by other users (mode %04o): run `chmod 600 %s` and try again",
		e.Path, e.Mode, shellQuote(e.Path))
}

// shellQuote quotes a path for a command the user copies, when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '~' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Load reads the config file at path. A missing file gives an empty File with Found false. A file that other
// users can read or write is refused (it may hold password commands or, when the user insisted, a password).
func Load(path string) (*File, error) {
	f := &File{Path: path, Profiles: map[string]Profile{}}
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, unwrapPathError(err))
	}
	defer func() { _ = fh.Close() }()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, unwrapPathError(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("config %s is a directory: give the file's path", path)
	}
	if err := checkPrivate(path, st); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, unwrapPathError(err))
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("config %s is larger than %d bytes: is it the right file?", path, maxFileSize)
	}
	if err := f.parse(data); err != nil {
		return nil, err
	}
	f.Found = true
	return f, nil
}

func (f *File) parse(data []byte) error {
	var doc fileDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return fmt.Errorf("config %s: %s", f.Path, tomlMessage(err, data))
	}
	f.Default, f.Theme, f.CountryCode = doc.DefaultProfile, doc.Theme, doc.CountryCode
	if doc.Profiles != nil {
		f.Profiles = doc.Profiles
	}
	for name := range f.Profiles {
		if err := ValidName(name); err != nil {
			return fmt.Errorf("config %s: %v", f.Path, err)
		}
	}
	if f.Default != "" {
		if _, ok := f.Profiles[f.Default]; !ok {
			return fmt.Errorf("config %s: default_profile %q is not a profile here (profiles: %s)", f.Path, f.Default, f.namesList())
		}
	}
	for _, k := range md.Undecoded() {
		f.Warnings = append(f.Warnings, fmt.Sprintf("config %s: unknown setting %q is ignored (a typo?)", f.Path, k.String()))
	}
	return nil
}

// tomlMessage turns a TOML error into one line. The parser quotes the text it choked on, which on a password
// line would be the password: such lines are reported by number only.
func tomlMessage(err error, data []byte) string {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return "not valid TOML: " + oneLine(err.Error())
	}
	line := ""
	if lines := bytes.Split(data, []byte("\n")); pe.Position.Line >= 1 && pe.Position.Line <= len(lines) {
		line = strings.ToLower(string(lines[pe.Position.Line-1]))
	}
	if strings.Contains(line, "password") || strings.Contains(strings.ToLower(pe.LastKey), "password") ||
		strings.Contains(line, "@") {
		return fmt.Sprintf("line %d is not valid TOML (not shown: it may hold a secret)", pe.Position.Line)
	}
	return fmt.Sprintf("line %d is not valid TOML: %s", pe.Position.Line, oneLine(pe.Message))
}

// Names lists the profiles in order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *File) namesList() string {
	if len(f.Profiles) == 0 {
		return "none yet"
	}
	return strings.Join(f.Names(), ", ")
}

// Lookup finds a profile by name, with an error that lists the ones there are.
func (f *File) Lookup(name string) (Profile, error) {
	p, ok := f.Profiles[name]
	if ok {
		return p, nil
	}
	if !f.Found {
		return Profile{}, fmt.Errorf("no profile %q: there is no config file at %s yet; add one with `callscope config add-profile %s --url http://PBX_ADDRESS --user USER`", name, f.Path, name)
	}
	return Profile{}, fmt.Errorf("no profile %q in %s (profiles: %s)", name, f.Path, f.namesList())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unwrapPathError drops *PathError's repetition of the path, which the caller already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
