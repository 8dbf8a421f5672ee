package profile

import (
	"errors"
	"strings"
	"testing"
)

// TestPasswordInURLFlagWarns: a password in --url is on the command line, where every user of the machine can
// read it (ps, /proc/PID/cmdline). It still works, with a warning that says what to do instead; the same URL
// from the environment is not in the process list and gets none.
func TestPasswordInURLFlagWarns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Layer
		env   map[string]string
		warn  bool
	}{
		{"password in --url", Layer{URL: "http://bob:pw-in-flag@10.0.0.5"}, nil, true},
		{"and $CALLSCOPE_PASSWORD set too", Layer{URL: "http://bob:pw-in-flag@10.0.0.5"}, map[string]string{EnvPassword: "x"}, true},
		{"user only in --url", Layer{URL: "http://bob@10.0.0.5"}, nil, false},
		{"password in $CALLSCOPE_URL", Layer{}, map[string]string{EnvURL: "http://bob:pw-in-flag@10.0.0.5"}, false},
		{"no credentials", Layer{URL: "http://10.0.0.5"}, nil, false},
	} {
		e, err := Resolve(Inputs{Flags: tc.flags, Getenv: envMap(tc.env)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		warned := false
		for _, w := range e.Warnings {
			if strings.Contains(w, "process list") && strings.Contains(w, EnvPassword) {
				warned = true
			}
			if strings.Contains(w, "pw-in-flag") {
				t.Errorf("%s: the warning shows the password: %s", tc.name, w)
			}
		}
		if warned != tc.warn {
			t.Errorf("%s: warned %v, want %v (%q)", tc.name, warned, tc.warn, e.Warnings)
		}
	}
}

// TestNoPasswordError: the message for a run with no password from anywhere names what to do for the way the
// settings were given.
func TestNoPasswordError(t *testing.T) {
	f, err := Load(writeConfig(t, `
[profiles.bare]
url = "http://10.0.0.5"
user = "admin"
`, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   Inputs
		says string
	}{
		{"flags only", Inputs{Flags: Layer{URL: "http://10.0.0.5", User: "admin"}}, "no password given: set CALLSCOPE_PASSWORD or use a profile"},
		{"no user either", Inputs{Flags: Layer{URL: "http://10.0.0.5"}}, "name the user with --user"},
		{"a profile without a source", Inputs{Profile: "bare", File: f}, "callscope config set-password bare"},
	} {
		tc.in.Getenv = envMap(nil)
		e, err := Resolve(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = e.NoPasswordError()
		if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "no password given: ") {
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.says)
		}
	}
}

// TestProfilePasswordOnlyToItsOrigin: a profile's password goes with a --url only when it names the profile's
// scheme, host and port (the default port written or not).
func TestProfilePasswordOnlyToItsOrigin(t *testing.T) {
	f, err := Load(writeConfig(t, `
[profiles.p]
url = "https://pbx.example"
user = "admin"
password_env = "PBX_PW"
`, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		kept bool
	}{
		{"https://PBX.example:443/commagui/cdr", true},
		{"https://pbx.example/", true},
		{"http://pbx.example", false},
		{"https://pbx.example:8443", false},
		{"https://pbx.example.evil", false},
	} {
		e, err := Resolve(Inputs{Flags: Layer{URL: tc.url}, Profile: "p", File: f, Getenv: envMap(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if kept := e.Password.Kind == SourceEnv; kept != tc.kept {
			t.Errorf("--url %s: profile password kept %v, want %v", tc.url, kept, tc.kept)
		}
	}
}
