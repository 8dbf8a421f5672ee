package cli

import (
	"strings"
	"testing"

	"github.com/callscope/callscope/client/pbxsim"
)

// TestNoPasswordSaysSo: run from cron (no terminal, no $CALLSCOPE_PASSWORD, no profile), a command says that no
// password was given and how to give one, instead of sending none and reporting the PBX's 401 as a wrong
// password.
func TestNoPasswordSaysSo(t *testing.T) {
	srv, _ := sim(t, pbxsim.Faults{})
	for _, args := range [][]string{
		{"calls", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-18"},
		{"calls", "--kind", "difuse", "--url", srv.URL(), "--user", pbxsim.DefaultDifuseExtension, "--page", "1"},
		{"calls", "--url", srv.URL(), "--from", "2026-11-18"},
	} {
		_, errs, code := run(t, nil, args...)
		if code != exitUsage || !strings.Contains(errs, "no password given: set CALLSCOPE_PASSWORD or use a profile") ||
			strings.Contains(errs, "wrong user or password") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}

// TestPasswordInURLFlag: a password in --url still works, with a warning that it shows in the process list;
// --help no longer says passwords never go in flags while offering user:pass@ in --url.
func TestPasswordInURLFlag(t *testing.T) {
	srv, _ := sim(t, pbxsim.Faults{})
	withPass := strings.Replace(srv.URL(), "://", "://admin:C%4011Me@", 1)
	out, errs, code := run(t, nil, "calls", "--url", withPass, "--from", "2026-11-18", "--to", "2026-11-19", "--format", "csv")
	if code != 0 || strings.Count(out, "\n") < 2 {
		t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), errs)
	}
	if !strings.Contains(errs, "warning: ") || !strings.Contains(errs, "process list") || strings.Contains(errs, "C@11Me") ||
		strings.Contains(errs, "C%4011Me") {
		t.Errorf("stderr %q: want one warning about the process list, without the password", errs)
	}
	out, _, _ = run(t, nil, "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "--url") && strings.Contains(line, "PBX base URL") && !strings.Contains(line, "process list") {
			t.Errorf("--url's help does not warn that a password in it shows in the process list: %q", line)
		}
	}
	if strings.Contains(oneLine(out), "Passwords are never flags, so they stay out of the process list: $CALLSCOPE_PASSWORD, a profile's password_env, password_cmd or OS keyring entry, user:pass@ in the URL") {
		t.Errorf("--help still offers user:pass@ in the URL as a way that stays out of the process list")
	}
}
