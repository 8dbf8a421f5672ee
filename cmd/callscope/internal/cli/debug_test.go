package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/pbxsim"
)

// TestDebugLog: --debug FILE logs every command's HTTP requests (method, URL without credentials or key,
// status, bytes, time) and its decisions; -v prints the same summary lines on stderr.
func TestDebugLog(t *testing.T) {
	dir := t.TempDir()
	request := regexp.MustCompile(`GET http://127\.0\.0\.1:\d+/commagui/cdr\?\S+ 200 [0-9.]+ k?B \d+(\.\d+)?(µs|ms|s)`)
	for _, tc := range []struct {
		name string
		args []string
		want []*regexp.Regexp
	}{
		{"calls", []string{"calls", "--demo", "--from", "2014-03-28", "--to", "2014-03-29", "--format", "csv"},
			[]*regexp.Regexp{request, regexp.MustCompile(`times are UTC\+02:00 \(inferred from 1 of 1 rows\); --tz sets the zone`)}},
		{"call", []string{"call", "--demo", "--id", "1396000115.1"}, []*regexp.Regexp{request}},
		{"rec", []string{"rec", "--demo", "--id", "1396000115.1", "-o", filepath.Join(dir, "x.gsm")},
			[]*regexp.Regexp{regexp.MustCompile(`GET \S+id=1396000115\.1 200 (6[0-9]|7[0-9])\.\d kB`)}},
		{"difuse key", []string{"calls", "--demo", "--kind", "difuse", "--difuse-key-param", "--page", "1", "--limit", "5"},
			[]*regexp.Regexp{regexp.MustCompile(`GET http://\S+/pbx/cdr/data\?\S*key=(%5B|\[)redacted`)}},
		{"difuse search", []string{"calls", "--demo", "--kind", "difuse", "--from", "2014-03-28", "--to", "2014-03-29"},
			[]*regexp.Regexp{regexp.MustCompile(`difuse: searching pages \d+ to \d+ of \d+`)}},
		{"decode", []string{"decode", "../../../../testdata/gsm/speech.gsm", "-o", filepath.Join(dir, "x.raw")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(dir, tc.name+".log")
			out, errs, code := run(t, nil, append(tc.args, "--debug", log)...)
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatalf("no debug log: %v", err)
			}
			for _, re := range tc.want {
				if !re.Match(b) {
					t.Errorf("debug log does not match %s:\n%s", re, b)
				}
			}
			for _, secret := range []string{pbxsim.DefaultComxPassword, pbxsim.DefaultDifuseSecret, pbxsim.DifuseKey(pbxsim.DefaultDifuseSecret)} {
				if strings.Contains(string(b), secret) {
					t.Errorf("debug log holds a secret %q:\n%s", secret, b)
				}
			}
			if st, err := os.Stat(log); err == nil && st.Mode().Perm() != 0o600 {
				t.Errorf("debug log mode %v, want 0600", st.Mode().Perm())
			}
		})
	}
	t.Run("-v", func(t *testing.T) {
		out, errs, code := run(t, nil, "call", "--demo", "--id", "1396000115.1", "-v", "--format", "csv")
		if code != 0 || !strings.Contains(out, "1396000115.1,") {
			t.Fatalf("exit %d: %s %s", code, out, errs)
		}
		if !request.MatchString(errs) || !strings.Contains(errs, "\ncallscope: GET ") {
			t.Errorf("-v stderr does not show the request:\n%s", errs)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		_, errs, code := run(t, nil, "calls", "--demo", "--debug", filepath.Join(dir, "no", "such", "dir", "x.log"))
		if code != 1 || !strings.Contains(errs, "debug log") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}
