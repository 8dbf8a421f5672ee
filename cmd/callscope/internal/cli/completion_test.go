package cli

import (
	"strings"
	"testing"
)

// TestCompletion: the shell offers the words the enum flags take and the time zones for --tz.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"calls", "--disposition", ""}, []string{"answered", "no answer", "busy", "failed"}},
		{[]string{"export", "--type", ""}, []string{"inbound", "outbound", "internal", "other", "unknown"}},
		{[]string{"calls", "--kind", ""}, []string{"comx", "difuse"}},
		{[]string{"call", "--format", ""}, []string{"table", "csv", "json"}},
		{[]string{"decode", "x.gsm", "--format", ""}, []string{"s16le", "wav"}},
		{[]string{"calls", "--tz", "Africa/Jo"}, []string{"Africa/Johannesburg"}},
		{[]string{"--tz", "europe/lon"}, []string{"Europe/London"}},
	} {
		out, errs, code := run(t, nil, append([]string{"__complete"}, tc.args...)...)
		if code != 0 {
			t.Errorf("%q: exit %d %s", tc.args, code, errs)
			continue
		}
		got := strings.Split(strings.TrimSpace(out), "\n")
		for _, w := range tc.want {
			found := false
			for _, g := range got {
				if strings.SplitN(g, "\t", 2)[0] == w {
					found = true
				}
			}
			if !found {
				t.Errorf("completing %q does not offer %q: %q", tc.args, w, got)
			}
		}
		if last := got[len(got)-1]; last != ":4" {
			t.Errorf("completing %q: directive %s, want :4 (no file names)", tc.args, last)
		}
	}
	// A zone prefix offers zones only under it.
	out, _, _ := run(t, nil, "__complete", "calls", "--tz", "Africa/Jo")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "Africa/Jo") && !strings.HasPrefix(line, ":") {
			t.Errorf("completing Africa/Jo offers %q", line)
		}
	}
}

// TestZoneNamesWithoutDatabase: a system without a zone database (Windows) still completes common zones.
func TestZoneNamesWithoutDatabase(t *testing.T) {
	saved := zoneDirs
	defer func() { zoneDirs = saved }()
	zoneDirs = []string{t.TempDir()}
	t.Setenv("ZONEINFO", "")
	if got := zoneNames("africa/j"); len(got) != 1 || got[0] != "Africa/Johannesburg" {
		t.Errorf("zoneNames(africa/j) = %q", got)
	}
}
