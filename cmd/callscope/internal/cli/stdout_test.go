package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// A listing whose standard output cannot take it (a full disk: /dev/full) fails with a one-line error and exit
// status 1, instead of ending well with the output lost.
func TestFullStdoutFails(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full to stand for a full disk: %v", err)
	}
	defer func() { _ = full.Close() }()
	userConfig(t, "[profiles.office]\nurl = \"http://192.0.2.1\"\nuser = \"admin\"\npassword_env = \"OFFICE_PBX_PW\"\n")
	for _, args := range [][]string{
		{"config"},
		{"config", "list"},
		{"config", "path"},
		{"version"},
		{"users", "--demo", "--format", "csv"},
		{"users", "--demo"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var errb bytes.Buffer
			code := Main(args, nil, full, &errb)
			msg := strings.TrimSpace(errb.String())
			if code != 1 || !strings.Contains(msg, "no space left on device") || strings.Count(msg, "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want 1 and one line that says the output did not fit", code, msg)
			}
		})
	}
}
