package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/transport"
)

// writeConfig writes a config file with the given mode and returns its path.
func writeConfig(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "callscope", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
	return path
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const twoProfiles = `
default_profile = "office"

[profiles.office]
kind = "comx"
url = "http://10.0.0.5"
user = "admin"
tz = "Africa/Johannesburg"
timeout = "5s"
insecure = true
range = "last 7 days"
password_cmd = "pass show pbx/office"

[profiles.lab]
kind = "difuse"
url = "https://lab.example:8443"
user = "4001"
password_env = "LAB_PW"
key_param = true
`

func TestResolvePrecedence(t *testing.T) {
	path := writeConfig(t, twoProfiles, 0o600)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tru, fls := true, false
	type want struct {
		profile, kind, url, user, tz string
		insecure                     bool
		timeout                      time.Duration
		pwKind, pwFrom               string
		origin                       map[string]string
		note                         bool
	}
	for _, tc := range []struct {
		name    string
		flags   Layer
		profile string
		env     map[string]string
		want    want
	}{
		{"file only: the default profile", Layer{}, "", nil, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5", user: "admin", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceCommand, pwFrom: "profile office",
			origin: map[string]string{"url": "profile office", "user": "profile office", "timeout": "profile office"}}},
		{"environment over file", Layer{}, "", map[string]string{EnvUser: "envuser", EnvTZ: "UTC", EnvTimeout: "30s", EnvInsecure: "false"}, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5", user: "envuser", tz: "UTC",
			insecure: false, timeout: 30 * time.Second, pwKind: SourceCommand, pwFrom: "profile office",
			origin: map[string]string{"user": "$CALLSCOPE_USER", "tz": "$CALLSCOPE_TZ", "url": "profile office", "insecure": "$CALLSCOPE_INSECURE"}}},
		{"flags over environment over file", Layer{User: "flaguser", TZ: "Europe/London", Timeout: "2s", Insecure: &fls},
			"", map[string]string{EnvUser: "envuser", EnvTZ: "UTC", EnvTimeout: "30s", EnvInsecure: "true"}, want{
				profile: "office", kind: "comx", url: "http://10.0.0.5", user: "flaguser", tz: "Europe/London",
				insecure: false, timeout: 2 * time.Second, pwKind: SourceCommand, pwFrom: "profile office",
				origin: map[string]string{"user": "--user", "tz": "--tz", "timeout": "--timeout", "insecure": "--insecure"}}},
		{"a URL on the command line leaves the default profile out", Layer{URL: "http://192.168.1.9"}, "", nil, want{
			profile: "", kind: "comx", url: "http://192.168.1.9", timeout: transport.DefaultTimeout, pwKind: SourceNone,
			origin: map[string]string{"url": "--url", "kind": "default"}}},
		{"so does one in the environment", Layer{}, "", map[string]string{EnvURL: "http://192.168.1.9", EnvUser: "u"}, want{
			profile: "", kind: "comx", url: "http://192.168.1.9", user: "u", timeout: transport.DefaultTimeout, pwKind: SourceNone,
			origin: map[string]string{"url": "$CALLSCOPE_URL"}}},
		{"--profile picks a profile", Layer{}, "lab", nil, want{
			profile: "lab", kind: "difuse", url: "https://lab.example:8443", user: "4001",
			timeout: transport.DefaultTimeout, pwKind: SourceEnv, pwFrom: "profile lab"}},
		{"$CALLSCOPE_PROFILE picks a profile", Layer{}, "", map[string]string{EnvProfile: "lab"}, want{
			profile: "lab", kind: "difuse", url: "https://lab.example:8443", user: "4001",
			timeout: transport.DefaultTimeout, pwKind: SourceEnv, pwFrom: "profile lab"}},
		{"--profile over $CALLSCOPE_PROFILE", Layer{}, "office", map[string]string{EnvProfile: "lab"}, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5", user: "admin", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceCommand, pwFrom: "profile office"}},
		{"flag kind over profile kind", Layer{Kind: "COMX", Insecure: &tru}, "lab", nil, want{
			profile: "lab", kind: "comx", url: "https://lab.example:8443", user: "4001", insecure: true,
			timeout: transport.DefaultTimeout, pwKind: SourceEnv, pwFrom: "profile lab",
			origin: map[string]string{"kind": "--kind"}}},
		{"$CALLSCOPE_PASSWORD over the profile's source", Layer{}, "office", map[string]string{EnvPassword: "x"}, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5", user: "admin", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceEnv, pwFrom: "$CALLSCOPE_PASSWORD"}},
		{"a password in --url over $CALLSCOPE_PASSWORD", Layer{URL: "http://bob:pw@10.0.0.5"}, "office", map[string]string{EnvPassword: "x"}, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5", user: "bob", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceURL, pwFrom: "--url",
			origin: map[string]string{"user": "--url"}}},
		{"--url to the profile's host keeps the profile's password", Layer{URL: "http://10.0.0.5/commagui/cdr"}, "office", nil, want{
			profile: "office", kind: "comx", url: "http://10.0.0.5/commagui/cdr", user: "admin", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceCommand, pwFrom: "profile office"}},
		{"--url to another host drops the profile's password", Layer{URL: "http://10.9.9.9"}, "office", nil, want{
			profile: "office", kind: "comx", url: "http://10.9.9.9", user: "admin", tz: "Africa/Johannesburg",
			insecure: true, timeout: 5 * time.Second, pwKind: SourceNone, note: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Resolve(Inputs{Flags: tc.flags, Profile: tc.profile, Getenv: envMap(tc.env), File: f})
			if err != nil {
				t.Fatal(err)
			}
			got := want{profile: e.Profile, kind: e.Kind, url: e.URL, user: e.User, tz: e.TZ, insecure: e.Insecure,
				timeout: e.Timeout, pwKind: e.Password.Kind, pwFrom: e.Password.From, note: len(e.Notes) > 0}
			w := tc.want
			w.origin, got.origin = nil, nil
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			for k, v := range tc.want.origin {
				if e.Origin[k] != v {
					t.Errorf("origin of %s = %q, want %q", k, e.Origin[k], v)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	f, err := Load(writeConfig(t, twoProfiles, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	missing, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || missing.Found {
		t.Fatalf("missing file: %+v %v", missing, err)
	}
	for _, tc := range []struct {
		name    string
		in      Inputs
		message string
	}{
		{"unknown profile", Inputs{Profile: "home", File: f}, "profiles: lab, office"},
		{"no file yet", Inputs{Profile: "home", File: missing}, "callscope config add-profile home"},
		{"bad kind", Inputs{Flags: Layer{Kind: "asterisk"}, File: f}, "use comx or difuse"},
		{"bad timeout", Inputs{Flags: Layer{Timeout: "soon"}, File: f}, "duration"},
		{"bad env bool", Inputs{Getenv: envMap(map[string]string{EnvInsecure: "maybe"}), File: f}, "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Getenv == nil {
				tc.in.Getenv = envMap(nil)
			}
			_, err := Resolve(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %v, want one mentioning %q", err, tc.message)
			}
		})
	}
}

func TestLoadRefusesFilesOthersCanRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		path := writeConfig(t, twoProfiles, mode)
		_, err := Load(path)
		var pe *PermissionError
		if !errors.As(err, &pe) {
			t.Fatalf("mode %04o: got %v, want a PermissionError", mode, err)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: %q does not say how to fix it", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if _, err := Load(writeConfig(t, twoProfiles, mode)); err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Profile
		message string // "" = valid
	}{
		{"minimal", Profile{URL: "http://pbx"}, ""},
		{"no url", Profile{User: "admin"}, "has no url"},
		{"clear text refused", Profile{URL: "http://pbx", Password: "pw"}, "plaintext_password_ok = true"},
		{"clear text in url refused", Profile{URL: "http://admin:pw@pbx"}, "plaintext_password_ok = true"},
		{"clear text when insisted", Profile{URL: "http://pbx", Password: "pw", PlaintextPasswordOK: true}, ""},
		{"two sources", Profile{URL: "http://pbx", PasswordEnv: "X", PasswordCmd: "pass x"}, "keep one password source"},
		{"keyring and env", Profile{URL: "http://pbx", PasswordEnv: "X", Keyring: true}, "keep one password source"},
		{"env holds a value", Profile{URL: "http://pbx", PasswordEnv: "PW=secret"}, "name of an environment variable"},
		{"bad range", Profile{URL: "http://pbx", Range: "fortnight"}, "last N days"},
		{"range and from", Profile{URL: "http://pbx", Range: "today", From: "2026-01-01"}, "not both"},
		{"bad from", Profile{URL: "http://pbx", From: "soon"}, "cannot read time"},
		{"bad kind", Profile{URL: "http://pbx", Kind: "freepbx"}, "use comx or difuse"},
		{"bad cmd timeout", Profile{URL: "http://pbx", PasswordCmd: "x", PasswordCmdTimeout: "-1s"}, "password_cmd_timeout"},
	} {
		err := tc.p.Validate("p")
		if tc.message == "" && err != nil || tc.message != "" && (err == nil || !strings.Contains(err.Error(), tc.message)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.message)
		}
		if err != nil && strings.Contains(err.Error(), "secret") && tc.name != "env holds a value" {
			t.Errorf("%s: error shows a secret: %v", tc.name, err)
		}
	}
}

func TestClearTextPasswordWarns(t *testing.T) {
	f, err := Load(writeConfig(t, `
[profiles.p]
url = "http://pbx"
password = "clear-secret"
plaintext_password_ok = true
`, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Resolve(Inputs{Profile: "p", File: f, Getenv: envMap(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "clear text") {
		t.Errorf("warnings %q", e.Warnings)
	}
	pw, err := e.Password.Get(context.Background(), IO{})
	if err != nil || pw.Reveal() != "clear-secret" {
		t.Errorf("Get = %v, %v", pw, err)
	}
	// Nothing that formats the profile or the effective settings shows the password.
	all := fmt.Sprintf("%v %+v %#v %v %+v %#v %s %v", f.Profiles["p"], f.Profiles["p"], f.Profiles["p"], e, *e, e.Password, e.Password, e.Rows())
	if strings.Contains(all, "clear-secret") {
		t.Errorf("a formatted profile shows the password: %s", all)
	}
}

func TestTOMLErrorsHideSecrets(t *testing.T) {
	path := writeConfig(t, "[profiles.p]\nurl = \"http://pbx\"\npassword = \"hunter2\\q\"\n", 0o600)
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "line 3") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want line 3 named and the secret not shown", err)
	}
	path = writeConfig(t, "[profiles.p]\nurl = \"http://pbx\nuser = 3\n", 0o600)
	if _, err = Load(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v: want line 2", err)
	}
	path = writeConfig(t, "[profiles.p]\nurl = \"http://pbx\"\npasword = \"typo\"\n", 0o600)
	f, err := Load(path)
	if err != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "profiles.p.pasword") {
		t.Errorf("unknown key: %v %q", err, f.Warnings)
	}
	if _, err = Load(writeConfig(t, "default_profile = \"nope\"\n", 0o600)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("dangling default: %v", err)
	}
}

func TestPasswordCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("commands below are sh")
	}
	ctx := context.Background()
	var stderr bytes.Buffer
	pw, err := RunPasswordCommand(ctx, `printf 'cmd-secret\r\nsecond line\n'`, time.Second, IO{Stderr: &stderr})
	if err != nil || pw.Reveal() != "cmd-secret" {
		t.Fatalf("ok command: %q %v", pw.Reveal(), err)
	}

	stderr.Reset()
	_, err = RunPasswordCommand(ctx, `printf 'leaked-%s\n' stdout; echo "gpg: decryption failed" >&2; exit 3`, time.Second, IO{Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "leaked-stdout") {
		t.Errorf("failing command: %v", err)
	}
	if !strings.Contains(stderr.String(), "gpg: decryption failed") {
		t.Errorf("the command's stderr was not passed through: %q", stderr.String())
	}

	_, err = RunPasswordCommand(ctx, `true`, time.Second, IO{})
	if err == nil || !strings.Contains(err.Error(), "printed nothing") {
		t.Errorf("silent command: %v", err)
	}

	_, err = RunPasswordCommand(ctx, `definitely-not-a-command-callscope`, time.Second, IO{Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "exit status 127") {
		t.Errorf("missing command: %v", err)
	}

	start := time.Now()
	_, err = RunPasswordCommand(ctx, `sleep 30`, 300*time.Millisecond, IO{})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Errorf("slow command: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}

	// A helper that reads from stdin (as a prompt would) gets ours.
	pw, err = RunPasswordCommand(ctx, `read line; echo "$line"`, time.Second, IO{Stdin: strings.NewReader("typed-secret\n")})
	if err != nil || pw.Reveal() != "typed-secret" {
		t.Errorf("stdin command: %q %v", pw.Reveal(), err)
	}
}

func TestPasswordSourceGet(t *testing.T) {
	env := envMap(map[string]string{"PBX_PW": "env-secret"})
	pw, err := PasswordSource{Kind: SourceEnv, Env: "PBX_PW", getenv: env}.Get(context.Background(), IO{})
	if err != nil || pw.Reveal() != "env-secret" {
		t.Errorf("env: %v %v", pw, err)
	}
	_, err = PasswordSource{Kind: SourceEnv, Env: "OTHER", From: "profile p", getenv: env}.Get(context.Background(), IO{})
	if err == nil || !strings.Contains(err.Error(), "$OTHER") {
		t.Errorf("unset env: %v", err)
	}
	s := PasswordSource{Kind: SourceEnv, Env: "PBX_PW", From: "profile p", getenv: env}.String()
	if strings.Contains(s, "env-secret") || !strings.Contains(s, "$PBX_PW") {
		t.Errorf("String() = %q", s)
	}
}

// deadBus points the keyring library at a D-Bus address where nothing listens: what a CI machine or a server
// without a desktop session looks like to it.
func deadBus(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service keyring is Linux's")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
}

func TestKeyringUnavailable(t *testing.T) {
	deadBus(t)
	_, err := KeyringGet("office")
	if !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("got %v, want ErrKeyringUnavailable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "OS keyring is not available") || !strings.Contains(msg, "password_cmd") ||
		strings.Contains(msg, "\n") {
		t.Errorf("message %q should say the keyring is missing and what to use instead, in one line", msg)
	}
	if err := KeyringSet("office", "kr-secret"); !errors.Is(err, ErrKeyringUnavailable) || strings.Contains(err.Error(), "kr-secret") {
		t.Errorf("set: %v", err)
	}
	// Asked for by the profile: an error. Tried because nothing else was configured: no password, no error.
	if _, err := (PasswordSource{Kind: SourceKeyring, Key: "office"}).Get(context.Background(), IO{}); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("explicit keyring: %v", err)
	}
	if pw, err := (PasswordSource{Kind: SourceKeyring, Key: "office", Implicit: true}).Get(context.Background(), IO{}); err != nil || pw.IsSet() {
		t.Errorf("implicit keyring: %v %v", pw, err)
	}
}

func TestKeyringWithoutSecretService(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service keyring is Linux's")
	}
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon to start a session bus with")
	}
	addr := startBus(t, daemon)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	_, err = KeyringGet("office")
	if !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "no Secret Service") {
		t.Fatalf("got %v, want: no Secret Service", err)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 18, 14, 30, 0, 0, time.FixedZone("SAST", 2*3600)) // a Wednesday
	d := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		spec     string
		from, to time.Time
	}{
		{"today", d(2026, 11, 18, 0), d(2026, 11, 19, 0)},
		{" Yesterday ", d(2026, 11, 17, 0), d(2026, 11, 18, 0)},
		{"this week", d(2026, 11, 16, 0), d(2026, 11, 23, 0)},
		{"last week", d(2026, 11, 9, 0), d(2026, 11, 16, 0)},
		{"this month", d(2026, 11, 1, 0), d(2026, 12, 1, 0)},
		{"last month", d(2026, 10, 1, 0), d(2026, 11, 1, 0)},
		{"last 7 days", d(2026, 11, 12, 0), d(2026, 11, 19, 0)},
		{"last 1 day", d(2026, 11, 18, 0), d(2026, 11, 19, 0)},
		{"last 2 weeks", d(2026, 11, 5, 0), d(2026, 11, 19, 0)},
		{"last 24 hours", time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC), time.Time{}},
		{"all", time.Time{}, time.Time{}},
	} {
		from, to, err := ParseRange(tc.spec, now)
		if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%q = %v – %v (%v), want %v – %v", tc.spec, from, to, err, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"", "last days", "last 0 days", "last -3 days", "next 7 days", "last 7 fortnights"} {
		if _, _, err := ParseRange(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	e := &Effective{From: "2026-11-01", To: "20261102"}
	from, to, ok, err := e.DefaultRange(now)
	if !ok || err != nil || !from.Equal(d(2026, 11, 1, 0)) || !to.Equal(d(2026, 11, 2, 0)) {
		t.Errorf("from/to: %v %v %v %v", from, to, ok, err)
	}
}

func TestAddProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg", "callscope")
	path := filepath.Join(dir, "config.toml")
	if err := AddProfile(path, "office", Profile{URL: "http://10.0.0.5", User: "admin", Keyring: true, Range: "today"}, false); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(path)
		dst, _ := os.Stat(dir)
		if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
			t.Errorf("file %v dir %v, want 0600 and 0700", st.Mode(), dst.Mode())
		}
	}
	f, err := Load(path)
	if err != nil || f.Default != "office" || f.Profiles["office"].User != "admin" || !f.Profiles["office"].Keyring {
		t.Fatalf("after first add: %+v %v", f, err)
	}

	// The user's comments survive; the second profile is not the default unless asked.
	data, _ := os.ReadFile(path)
	data = append(data, "\n# the lab PBX is off at weekends\n"...)
	if err := WriteFileAtomic(path, data); err != nil {
		t.Fatal(err)
	}
	if err := AddProfile(path, "lab", Profile{Kind: "difuse", URL: "https://lab:8443", User: "4001", PasswordCmd: "pass show lab"}, false); err != nil {
		t.Fatal(err)
	}
	if f, _ = Load(path); f.Default != "office" || f.Profiles["lab"].PasswordCmd != "pass show lab" {
		t.Errorf("after second add: %+v", f)
	}
	if err := AddProfile(path, "branch", Profile{URL: "http://10.1.0.5"}, true); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	if f, _ = Load(path); f.Default != "branch" || len(f.Profiles) != 3 {
		t.Errorf("after --default: %+v", f)
	}
	if !strings.Contains(string(text), "# the lab PBX is off at weekends") || strings.Count(string(text), "default_profile") != 1 {
		t.Errorf("file text:\n%s", text)
	}

	if err := AddProfile(path, "lab", Profile{URL: "http://x"}, false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate: %v", err)
	}
	if err := AddProfile(path, "bad name", Profile{URL: "http://x"}, false); err == nil {
		t.Error("a name with a space was accepted")
	}
	err = AddProfile(path, "plain", Profile{URL: "http://x", Password: "never-written", PlaintextPasswordOK: true}, false)
	if text, _ := os.ReadFile(path); err == nil || strings.Contains(string(text), "never-written") {
		t.Errorf("a password was written: %v", err)
	}
	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
		var pe *PermissionError
		if err := AddProfile(path, "other", Profile{URL: "http://x"}, false); !errors.As(err, &pe) {
			t.Errorf("add to a world-readable file: %v", err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSetDefaultProfileText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "default_profile = \"b\"\n\n"},
		{"# c\n[profiles.a]\nurl = \"x\"\n", "# c\ndefault_profile = \"b\"\n\n[profiles.a]\nurl = \"x\"\n"},
		{"default_profile = \"a\" # old\n\n[profiles.a]\n", "default_profile = \"b\"\n\n[profiles.a]\n"},
		{"[profiles.a]\ndefault_profile = \"a\"\n", "default_profile = \"b\"\n\n[profiles.a]\ndefault_profile = \"a\"\n"},
	} {
		if got := string(setDefaultProfile([]byte(tc.in), "b")); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEffectiveRowsNameTheSource(t *testing.T) {
	f, _ := Load(writeConfig(t, twoProfiles, 0o600))
	e, err := Resolve(Inputs{Profile: "lab", File: f, Getenv: envMap(map[string]string{"LAB_PW": "lab-secret"})})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range e.Rows() {
		fmt.Fprintf(&b, "%s=%s (%s)\n", r.Key, r.Value, r.From)
	}
	out := b.String()
	if strings.Contains(out, "lab-secret") || !strings.Contains(out, "environment variable $LAB_PW") ||
		!strings.Contains(out, "kind=difuse (profile lab)") {
		t.Errorf("rows:\n%s", out)
	}
}
