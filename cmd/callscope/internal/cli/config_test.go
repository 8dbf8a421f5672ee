package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/profile"
)

// TestMain keeps the tests away from the developer's own config, profile, password and keyring: every run
// starts with an empty config directory and a D-Bus address where no keyring answers.
func TestMain(m *testing.M) {
	if os.Getenv(asCallscope) == "1" {
		// The examples test runs this binary as callscope (see examples_test.go).
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if os.Getenv("CALLSCOPE_OUTFILE_HELPER") == "1" {
		// A child of this test binary (outfile_test.go), which ends with os.Exit: its parent's TestMain already
		// gave it an empty config directory, and a folder of its own would be left behind.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "callscope-cli-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "no-bus"))
	for _, k := range []string{profile.EnvConfig, profile.EnvProfile, profile.EnvPassword, profile.EnvURL,
		profile.EnvKind, profile.EnvUser, profile.EnvTZ, profile.EnvCAFile, profile.EnvInsecure, profile.EnvTimeout} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// userConfig writes the config file where callscope looks by default (under a fresh $XDG_CONFIG_HOME).
func userConfig(t *testing.T, text string) string {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	path, _, err := profile.Path("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := profile.WriteFileAtomic(path, []byte(text)); err != nil {
		t.Fatal(err)
	}
	return path
}

// twoDays is the simulator the profile tests use: two days ending at midnight, the factory default login.
func twoDays(t *testing.T, o pbxsim.Options) *pbxsim.Server {
	t.Helper()
	o.Days, o.End = 2, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	srv, err := pbxsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

const factoryWarning = "factory default password"

func TestCallsWithProfile(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	userConfig(t, fmt.Sprintf(`
[profiles.office]
url = %q
user = "admin"
tz = "Africa/Johannesburg"
password_env = "OFFICE_PBX_PW"
`, srv.URL()))
	t.Setenv("OFFICE_PBX_PW", pbxsim.DefaultComxPassword)

	sim, err := pbxsim.New(pbxsim.Options{Days: 2, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	loc := pbxsim.DefaultLocation()
	want := 0
	sim.Calls(time.Date(2026, 11, 19, 0, 0, 0, 0, loc), time.Date(2026, 11, 20, 0, 0, 0, 0, loc), func(cdr.Record) bool {
		want++
		return true
	})

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"--profile", nil, []string{"--profile", "office"}},
		{"$CALLSCOPE_PROFILE", map[string]string{profile.EnvProfile: "office"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"calls", "--from", "2026-11-19", "--to", "2026-11-20", "--format", "csv"}, tc.args...)
			out, errs, code := run(t, tc.env, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || want == 0 || len(rows)-1 != want {
				t.Fatalf("%d rows (%v), simulator has %d", len(rows)-1, err, want)
			}
			if !strings.HasSuffix(rows[1][1], "+02:00") {
				t.Errorf("start %q is not in the profile's zone", rows[1][1])
			}
			// The PBX took the factory default: said once, without the password.
			if n := strings.Count(errs, factoryWarning); n != 1 {
				t.Errorf("factory default warning %d times in %q", n, errs)
			}
			if strings.Contains(errs+out, pbxsim.DefaultComxPassword) {
				t.Error("the password was printed")
			}
		})
	}
}

func TestDefaultProfileAndOverrides(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	userConfig(t, fmt.Sprintf(`
default_profile = "office"

[profiles.office]
url = %q
user = "nobody"
password_env = "OFFICE_PBX_PW"
`, srv.URL()))
	t.Setenv("OFFICE_PBX_PW", pbxsim.DefaultComxPassword)
	// The file's user is wrong: the default profile is used, and the PBX refuses it.
	if _, errs, code := run(t, nil, "users"); code != 1 || !strings.Contains(errs, "wrong user or password") {
		t.Fatalf("file only: exit %d %s", code, errs)
	}
	// The environment overrides the file, a flag overrides the environment.
	if _, errs, code := run(t, map[string]string{profile.EnvUser: "admin"}, "users"); code != 0 {
		t.Fatalf("env user: exit %d %s", code, errs)
	}
	if _, errs, code := run(t, map[string]string{profile.EnvUser: "admin"}, "users", "--user", "nobody"); code != 1 ||
		!strings.Contains(errs, "wrong user or password") {
		t.Fatalf("flag user: exit %d %s", code, errs)
	}
	out, errs, code := run(t, map[string]string{profile.EnvUser: "admin"}, "config", "--tz", "UTC")
	if code != 0 {
		t.Fatal(errs)
	}
	for _, line := range []string{"profile", "user", "tz", "url", "password"} {
		if !strings.Contains(out, "  "+line) {
			t.Errorf("config output lacks %s:\n%s", line, out)
		}
	}
	for _, want := range []string{"(default_profile)", "admin", "($CALLSCOPE_USER)", "(--tz)", "(profile office)", "$OFFICE_PBX_PW"} {
		if !strings.Contains(out, want) {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	srv := twoDays(t, pbxsim.Options{})
	path := userConfig(t, fmt.Sprintf("[profiles.office]\nurl = %q\nuser = \"admin\"\npassword_env = \"OFFICE_PBX_PW\"\n", srv.URL()))
	t.Setenv("OFFICE_PBX_PW", pbxsim.DefaultComxPassword)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"users", "--profile", "office"}, {"config"}, {"config", "list"}} {
		_, errs, code := run(t, nil, args...)
		if code != 1 || !strings.Contains(errs, "chmod 600 "+path) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v on a 0644 config: exit %d %q", args, code, errs)
		}
	}
	// An explicit --url does not need the file, so a broken one does not get in the way.
	if _, errs, code := run(t, map[string]string{profile.EnvPassword: pbxsim.DefaultComxPassword}, "users", "--url", srv.URL(), "--user", "admin"); code != 0 {
		t.Errorf("--url with a 0644 config: exit %d %s", code, errs)
	}
	os.Chmod(path, 0o600)
	if _, errs, code := run(t, nil, "users", "--profile", "office"); code != 0 {
		t.Errorf("0600 config: exit %d %s", code, errs)
	}
}

func TestFactoryDefaultWarning(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	pw := map[string]string{profile.EnvPassword: pbxsim.DefaultComxPassword}

	// Once per run, however many requests the run makes.
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCommand()
	t.Setenv(profile.EnvPassword, pbxsim.DefaultComxPassword)
	if err := root.PersistentFlags().Parse([]string{"--url", srv.URL(), "--user", "admin"}); err != nil {
		t.Fatal(err)
	}
	src, err := a.source(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if errb.Len() != 0 {
		t.Errorf("warned before the PBX answered: %q", errb.String())
	}
	for i := 0; i < 3; i++ {
		if _, err := src.Users(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Calls(context.Background(), cdr.Query{Page: 1, Limit: 5}, func(cdr.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(errb.String(), factoryWarning); n != 1 {
		t.Errorf("warned %d times: %q", n, errb.String())
	}
	if strings.Contains(errb.String(), pbxsim.DefaultComxPassword) {
		t.Errorf("the warning shows the password: %q", errb.String())
	}

	// Not for the demo, which uses the default on purpose.
	if _, errs, code := run(t, nil, "users", "--demo"); code != 0 || strings.Contains(errs, factoryWarning) {
		t.Errorf("--demo: exit %d %q", code, errs)
	}
	// Not when the login fails.
	if _, errs, _ := run(t, map[string]string{profile.EnvPassword: "nope"}, "users", "--url", srv.URL(), "--user", "admin"); strings.Contains(errs, factoryWarning) {
		t.Errorf("wrong password: %q", errs)
	}
	// Not for a PBX whose password was changed.
	changed := twoDays(t, pbxsim.Options{ComxPassword: "Changed-1"})
	if _, errs, code := run(t, map[string]string{profile.EnvPassword: "Changed-1"}, "users", "--url", changed.URL(), "--user", "admin"); code != 0 || strings.Contains(errs, factoryWarning) {
		t.Errorf("changed password: exit %d %q", code, errs)
	}
	// Not for Difuse, which has no such default.
	if _, errs, _ := run(t, pw, "users", "--kind", "difuse", "--url", srv.URL(), "--user", "admin"); strings.Contains(errs, factoryWarning) {
		t.Errorf("difuse: %q", errs)
	}
}

// TestNoSecretInAnyOutput puts a distinct secret in every place a password can come from and runs the config
// commands and failing commands: none of the secrets may appear on stdout or stderr.
func TestNoSecretInAnyOutput(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "pw")
	os.WriteFile(secretFile, []byte("cmd-secret-5\n"), 0o600)
	secrets := []string{"env-secret-1", "url-secret-2", "file-secret-3", "var-secret-4", "cmd-secret-5", "envurl-secret-6",
		"stdin-secret-7", "toml-secret-8"}
	path := userConfig(t, fmt.Sprintf(`
default_profile = "plain"

[profiles.plain]
url = %[1]q
user = "admin"
password = "file-secret-3"
plaintext_password_ok = true

[profiles.inurl]
url = "http://admin:file-secret-3@127.0.0.1:1"
plaintext_password_ok = true

[profiles.var]
url = %[1]q
user = "admin"
password_env = "PBX_VAR"

[profiles.cmd]
url = %[1]q
user = "admin"
password_cmd = "cat %[2]s"

[profiles.ring]
url = %[1]q
user = "admin"
keyring = true

[profiles.dead]
url = "http://127.0.0.1:1"
user = "admin"
password_cmd = "cat %[2]s"
`, srv.URL(), secretFile))
	t.Setenv("PBX_VAR", "var-secret-4")
	env := map[string]string{profile.EnvPassword: "env-secret-1"}
	urlWithSecret := strings.Replace(srv.URL(), "://", "://admin:url-secret-2@", 1)

	var all strings.Builder
	check := func(args []string, env map[string]string, stdin *os.File) (string, string, int) {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := Main(args, stdin, &out, &errb)
		for k := range env {
			os.Unsetenv(k)
		}
		fmt.Fprintf(&all, "$ %v → %d\n%s%s", args, code, out.String(), errb.String())
		for _, s := range secrets {
			if strings.Contains(out.String()+errb.String(), s) {
				t.Errorf("%v shows %s:\nstdout: %s\nstderr: %s", args, s, out.String(), errb.String())
			}
		}
		return out.String(), errb.String(), code
	}
	for _, p := range []string{"plain", "inurl", "var", "cmd", "ring", "dead"} {
		check([]string{"config", "--profile", p}, nil, nil)
		check([]string{"config", "--profile", p}, env, nil)
		check([]string{"config", "--profile", p, "--url", urlWithSecret}, env, nil)
		check([]string{"users", "--profile", p}, nil, nil)
		check([]string{"users", "--profile", p, "--timeout", "1s"}, map[string]string{profile.EnvPassword: "env-secret-1"}, nil)
		check([]string{"calls", "--profile", p, "--page", "1", "--limit", "2", "--format", "json"}, nil, nil)
	}
	check([]string{"config"}, map[string]string{profile.EnvURL: strings.Replace(srv.URL(), "://", "://admin:envurl-secret-6@", 1)}, nil)
	check([]string{"users"}, map[string]string{profile.EnvURL: strings.Replace(srv.URL(), "://", "://admin:envurl-secret-6@", 1)}, nil)
	check([]string{"config", "list"}, env, nil)
	check([]string{"users", "--url", urlWithSecret}, nil, nil)
	check([]string{"config", "add-profile", "new", "--url", urlWithSecret}, nil, nil)
	check([]string{"users", "--password", "url-secret-2"}, nil, nil)
	check([]string{"users", "--password=url-secret-2", "--profile", "plain"}, nil, nil)

	// set-password with the password piped in, and no keyring to put it in.
	r, w, _ := os.Pipe()
	w.WriteString("stdin-secret-7\n")
	w.Close()
	_, errs, code := check([]string{"config", "set-password", "ring"}, nil, r)
	r.Close()
	if code != 1 || !strings.Contains(errs, "OS keyring is not available") {
		t.Errorf("set-password without a keyring: exit %d %q", code, errs)
	}

	// A config that does not parse on its password line.
	os.WriteFile(path, []byte("[profiles.p]\nurl = \"http://x\"\npassword = \"toml-secret-8\\q\"\n"), 0o600)
	_, errs, code = check([]string{"config"}, nil, nil)
	if code != 1 || !strings.Contains(errs, "line 3") {
		t.Errorf("bad TOML: exit %d %q", code, errs)
	}
	if testing.Verbose() {
		t.Log(all.String())
	}
}

func TestNoPasswordFlag(t *testing.T) {
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	allowed := map[string]bool{"password-env": true, "password-cmd": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			n := strings.ToLower(f.Name)
			// A flag may name where a secret is (an environment variable, a command, a file), never hold it.
			where := strings.HasSuffix(n, "-file") || strings.HasSuffix(n, "-env")
			if (strings.Contains(n, "pass") || strings.Contains(n, "secret") || n == "pw" || strings.Contains(n, "token")) && !allowed[n] && !where {
				t.Errorf("%s has a flag --%s: secrets must not be on the command line", c.CommandPath(), f.Name)
			}
		}
		c.Flags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.rootCommand())
	_, errs, code := run(t, nil, "calls", "--demo", "--password", "pw-on-cmdline")
	if code != 2 || !strings.Contains(errs, "unknown flag: --password") || strings.Contains(errs, "pw-on-cmdline") {
		t.Errorf("--password: exit %d %q", code, errs)
	}
}

func TestConfigCommands(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	want, _, _ := profile.Path("", os.Getenv)
	if out, _, code := run(t, nil, "config", "path"); code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("config path = %q, want %q", out, want)
	}
	other := filepath.Join(t.TempDir(), "other.toml")
	if out, _, _ := run(t, map[string]string{profile.EnvConfig: other}, "config", "path"); strings.TrimSpace(out) != other {
		t.Errorf("$CALLSCOPE_CONFIG: %q", out)
	}
	os.Unsetenv(profile.EnvConfig)
	flagPath := filepath.Join(t.TempDir(), "flag.toml")
	if out, _, _ := run(t, map[string]string{profile.EnvConfig: other}, "config", "path", "--config", flagPath); strings.TrimSpace(out) != flagPath {
		t.Errorf("--config: %q", out)
	}
	os.Unsetenv(profile.EnvConfig)

	// No file yet: config says so, and what to do.
	out, errs, code := run(t, nil, "config")
	if code != 0 || !strings.Contains(out, "not found") || !strings.Contains(out, "add-profile") {
		t.Errorf("config with no file: exit %d %q %q", code, out, errs)
	}
	if _, errs, code := run(t, nil, "calls", "--profile", "office"); code != 2 || !strings.Contains(errs, "add-profile office") {
		t.Errorf("unknown profile, no file: exit %d %q", code, errs)
	}

	// add-profile writes a private file that calls can use at once.
	out, errs, code = run(t, nil, "config", "add-profile", "office", "--url", srv.URL(), "--user", "admin",
		"--tz", "Africa/Johannesburg", "--password-env", "OFFICE_PBX_PW", "--range", "last 7 days")
	if code != 0 || !strings.Contains(out, "added profile office") || !strings.Contains(out, "default profile") {
		t.Fatalf("add-profile: exit %d %q %q", code, out, errs)
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(want); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("config written with %v (%v), want 0600", st.Mode(), err)
		}
	}
	t.Setenv("OFFICE_PBX_PW", pbxsim.DefaultComxPassword)
	if _, errs, code := run(t, nil, "calls", "--page", "1", "--limit", "3"); code != 0 {
		t.Errorf("calls with the new default profile: exit %d %s", code, errs)
	}
	if _, errs, code := run(t, nil, "config", "add-profile", "office", "--url", srv.URL()); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("duplicate: exit %d %q", code, errs)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"config", "add-profile", "x"}, "--url"},
		{[]string{"config", "add-profile"}, "one profile name"},
		{[]string{"config", "add-profile", "x y", "--url", "http://pbx"}, "profile name"},
		{[]string{"config", "add-profile", "x", "--url", "http://pbx", "--kind", "avaya"}, "comx or difuse"},
		{[]string{"config", "add-profile", "x", "--url", "http://pbx", "--tz", "Mars/Base"}, "time zone"},
		{[]string{"config", "add-profile", "x", "--url", "http://pbx", "--keyring", "--password-env", "X"}, "one of"},
		{[]string{"config", "add-profile", "x", "--url", "http://pbx", "--range", "forever"}, "last N days"},
		{[]string{"config", "add-profile", "x", "--url", "http://a:b@pbx"}, "holds a password"},
		{[]string{"config", "set-password", "nope"}, "profiles: office"},
	} {
		if _, errs, code := run(t, nil, tc.args...); code != 2 || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, errs, tc.msg)
		}
	}
	if _, errs, code := run(t, nil, "config", "add-profile", "lab", "--kind", "difuse", "--url", "https://lab:8443",
		"--user", "4001", "--keyring", "--insecure"); code != 0 {
		t.Fatalf("second profile: %s", errs)
	}
	out, _, _ = run(t, nil, "config", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "*") || !strings.Contains(lines[2], "office") ||
		!strings.Contains(lines[1], "difuse") || !strings.Contains(lines[1], "OS keyring") {
		t.Errorf("list:\n%s", out)
	}
	// A profile whose keyring cannot be reached says so, in one line.
	if _, errs, code := run(t, nil, "users", "--profile", "lab"); code != 1 || !strings.Contains(errs, "OS keyring is not available") ||
		strings.Count(strings.TrimSpace(errs), "\n") > 0 {
		t.Errorf("keyring profile without a keyring: exit %d %q", code, errs)
	}
}

func TestPasswordCommandProfile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sh commands")
	}
	srv := twoDays(t, pbxsim.Options{})
	userConfig(t, fmt.Sprintf(`
[profiles.ok]
url = %[1]q
user = "admin"
password_cmd = "printf '%%s\n' 'C@11Me'"

[profiles.failing]
url = %[1]q
user = "admin"
password_cmd = "echo 'pass: pbx/office is not in the password store.' >&2; exit 1"

[profiles.slow]
url = %[1]q
user = "admin"
password_cmd = "sleep 20"
password_cmd_timeout = "200ms"
`, srv.URL()))
	if _, errs, code := run(t, nil, "users", "--profile", "ok"); code != 0 {
		t.Errorf("ok: exit %d %s", code, errs)
	}
	_, errs, code := run(t, nil, "users", "--profile", "failing")
	if code != 1 || !strings.Contains(errs, "is not in the password store") || !strings.Contains(errs, "password_cmd") {
		t.Errorf("failing: exit %d %q", code, errs)
	}
	_, errs, code = run(t, nil, "users", "--profile", "slow")
	if code != 1 || !strings.Contains(errs, "did not finish within 200ms") {
		t.Errorf("slow: exit %d %q", code, errs)
	}
}

func TestProfileRange(t *testing.T) {
	srv := twoDays(t, pbxsim.Options{})
	userConfig(t, fmt.Sprintf("[profiles.office]\nurl = %q\nuser = \"admin\"\ntz = \"Africa/Johannesburg\"\nrange = \"today\"\npassword_env = \"OFFICE_PBX_PW\"\n", srv.URL()))
	t.Setenv("OFFICE_PBX_PW", "x")
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	root := a.rootCommand()
	if err := root.PersistentFlags().Parse([]string{"--profile", "office"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.source(context.Background()); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Africa/Johannesburg")
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var q cdr.Query
	if err := a.applyProfileRange(&q); err != nil || !q.From.Equal(today) || !q.To.Equal(today.AddDate(0, 0, 1)) {
		t.Errorf("range today: %v – %v (%v), want %v", q.From, q.To, err, today)
	}
	paged := cdr.Query{Page: 1}
	given := cdr.Query{From: today.AddDate(0, 0, -3)}
	a.applyProfileRange(&paged)
	a.applyProfileRange(&given)
	if !paged.From.IsZero() || !given.To.IsZero() {
		t.Errorf("the command line's choice was overridden: %+v %+v", paged, given)
	}
}
