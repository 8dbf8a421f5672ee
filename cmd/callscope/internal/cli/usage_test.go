package cli

import (
	"strings"
	"testing"
)

// TestUsageErrors: every way of calling a command wrongly exits 2 with one line that says what is wrong and,
// where a near miss is likely, the nearest valid word.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    []string // all of these in stderr
		notWant string
	}{
		{[]string{"clls"}, []string{`unknown command "clls"`, "did you mean calls?"}, ""},
		{[]string{"exprot", "--demo"}, []string{"did you mean export?"}, ""},
		{[]string{"calls", "extra-arg"}, []string{`calls takes no arguments`, `"extra-arg"`}, ""},
		{[]string{"decode"}, []string{"decode takes one FILE"}, ""},
		{[]string{"decode", "a.gsm", "b.gsm"}, []string{"decode takes one FILE"}, ""},
		{[]string{"config", "nosuch"}, []string{`unknown command "nosuch" for "callscope config"`}, ""},
		{[]string{"config", "lsit"}, []string{"did you mean list?"}, ""},
		{[]string{"completion", "tcsh"}, []string{`"tcsh"`, "bash"}, ""},
		{[]string{"help", "nosuch"}, []string{`unknown command "nosuch" for "callscope"`, "calls"}, ""},
		{[]string{"help", "clls"}, []string{"did you mean calls?"}, ""},
		{[]string{"help", "config", "lsit"}, []string{`for "callscope config"`, "did you mean list?"}, ""},
		{[]string{"calls", "--demo", "--disposition", "answerd"}, []string{`--disposition "answerd"`, "did you mean answered?", "no answer"}, ""},
		{[]string{"calls", "--demo", "--disposition", "answered,bsy"}, []string{`"bsy"`, "did you mean busy?"}, ""},
		{[]string{"calls", "--demo", "--type", "inbnd"}, []string{`--type "inbnd"`, "did you mean inbound?", "outbound"}, ""},
		{[]string{"export", "--demo", "-o", "x.csv", "--type", "nonsense"}, []string{`--type "nonsense"`, "inbound, outbound"}, "did you mean"},
		{[]string{"calls", "--demo", "--format", "jsn"}, []string{`--format "jsn"`, "did you mean json?"}, ""},
		{[]string{"users", "--demo", "--format", "xml"}, []string{`--format "xml"`, "table, csv or json"}, ""},
		{[]string{"decode", "x.gsm", "-o", "-", "--format", "wave"}, []string{"did you mean wav?"}, ""},
		{[]string{"calls", "--demo", "--kind", "difuze"}, []string{`--kind "difuze"`, "did you mean difuse?"}, ""},
		{[]string{"calls", "--demo", "--page", "0"}, []string{"--page must be 1 or more"}, ""},
		{[]string{"calls", "--demo", "--page", "-1"}, []string{"--page must be 1 or more"}, ""},
		{[]string{"calls", "--demo", "--page", "abc"}, []string{"--page must be a whole number"}, "strconv"},
		{[]string{"calls", "--demo", "--limit", "ten"}, []string{"--limit must be a whole number"}, "strconv"},
		{[]string{"calls", "--demo", "--timeout", "soon"}, []string{"--timeout must be a duration such as 30s or 2m"}, "time:"},
		{[]string{"calls", "--demo", "--insecure=maybe"}, []string{"--insecure must be true or false"}, "strconv"},
		{[]string{"calls", "--fromm", "2026-11-20"}, []string{"unknown flag: --fromm", "did you mean --from?"}, ""},
		{[]string{"calls", "--demo", "--page"}, []string{"--page needs a value"}, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errs, code := run(t, nil, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not say %q", errs, w)
				}
			}
			if tc.notWant != "" && strings.Contains(errs, tc.notWant) {
				t.Errorf("stderr %q says %q", errs, tc.notWant)
			}
			if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("not one line: %q", errs)
			}
		})
	}
}

// TestValidEnumValues: the forms the PBXs themselves use are accepted, in any case.
func TestValidEnumValues(t *testing.T) {
	for _, args := range [][]string{
		{"calls", "--demo", "--page", "1", "--disposition", "no answer,CALL_BUSY,Answered", "--type", "in,OUTBOUND,internal"},
		{"calls", "--demo", "--page", "1", "--disposition", "noanswer", "--format", "CSV"},
		{"calls", "--demo", "--page", "1", "--kind", "Difuse", "--type", "CALLTYPE_OTHER"},
	} {
		if _, errs, code := run(t, nil, args...); code != 0 {
			t.Errorf("%q: exit %d %s", args, code, errs)
		}
	}
}

func TestNearest(t *testing.T) {
	words := []string{"calls", "call", "config", "completion", "export", "users"}
	for _, tc := range []struct{ in, want string }{
		{"clls", "calls"},
		{"exprot", "export"},
		{"CALS", "calls"},
		{"conf", "config"},
		{"usrs", "users"},
		{"x", ""},
		{"tcsh", ""},
		{"", ""},
		{"completely-different", ""},
	} {
		if got := nearest(tc.in, words); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if d := editDistance("lsit", "list"); d != 1 {
		t.Errorf("a swap of neighbours costs %d, want 1", d)
	}
}

// FuzzNearest: any typed word gives a valid suggestion or none, never a panic.
func FuzzNearest(f *testing.F) {
	for _, s := range []string{"clls", "", "ä", "answerd", strings.Repeat("z", 100), "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := nearest(s, dispositionWords)
		if got != "" && !strings.Contains(strings.Join(dispositionWords, "|"), got) {
			t.Fatalf("nearest(%q) = %q, not an option", s, got)
		}
		if d := editDistance(s, "answered"); d < 0 {
			t.Fatalf("distance %d", d)
		}
	})
}

// TestHelpTopics: `help` with a command's words shows that command's help, as `COMMAND --help` does.
func TestHelpTopics(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"help", "calls"}, {"help", "config", "list"}} {
		out, errs, code := run(t, nil, args...)
		want, _, _ := run(t, nil, append(args[1:], "--help")...)
		if code != 0 || errs != "" || out != want {
			t.Errorf("%v: exit %d, stderr %q; the help differs from --help's: %v", args, code, errs, out != want)
		}
	}
}
