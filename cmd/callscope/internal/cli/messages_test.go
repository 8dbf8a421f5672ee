package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// TestMessagesSayEachThingOnce: errors and warnings name a file once, never a temporary file, never a phrase
// twice, and count in English.
func TestMessagesSayEachThingOnce(t *testing.T) {
	broken := filepath.Join("..", "..", "..", "..", "testdata", "audio", "broken")
	out := filepath.Join(t.TempDir(), "out.raw")
	t.Setenv("CALLSCOPE_PASSWORD", "not-the-real-one") // the CA file case must get as far as the CA file
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    string
		notWant []string
	}{
		{"not a wav", []string{"decode", filepath.Join(broken, "random.wav"), "-o", out}, 1,
			"random.wav: not a WAV file", []string{"random.wav: random.wav"}},
		{"play not a wav", []string{"play", filepath.Join(broken, "random.wav")}, 1,
			"random.wav: not a WAV file", []string{"random.wav: random.wav"}},
		{"missing", []string{"decode", "no-such.gsm", "-o", out}, 1,
			"no-such.gsm: no such file or directory", []string{"open recording", "open no-such.gsm"}},
		{"directory", []string{"decode", broken, "-o", out}, 1,
			"is a directory, not an audio file", []string{"open recording", "broken: " + broken}},
		{"truncated", []string{"decode", filepath.Join(broken, "truncated-gsm.gsm"), "-o", out}, 0,
			"truncated-gsm.gsm: truncated: the file ends 16 bytes into a 33-byte frame; wrote the 13760 samples that decoded",
			[]string{"truncated: truncated", "is truncated"}},
		{"unwritable output", []string{"decode", filepath.Join(broken, "..", "speech-gsm.gsm"), "-o", filepath.Join(out, "x.raw")}, 1,
			filepath.Join(out, "x.raw") + ": not a directory", []string{".part", ".tmp", "speech-gsm.gsm:"}},
		{"one call", []string{"export", "--demo", "-v", "--from", "2014-03-28", "--to", "2014-03-29", "-o", filepath.Join(t.TempDir(), "one.csv")}, 0,
			"exported 1 call to ", []string{"1 calls"}},
		{"difuse users", []string{"users", "--demo", "--kind", "difuse"}, 1,
			"the Difuse CDR API offers no list of users", []string{"unsupported operation"}},
		{"ca file", []string{"calls", "--url", "http://127.0.0.1:1", "--user", "admin", "--ca-file", "no-such-ca.pem"}, 1,
			"no-such-ca.pem: no such file or directory", []string{"open no-such-ca.pem"}},
		{"no terminal", []string{"--demo"}, 2,
			"the app needs a terminal; for scripts use callscope calls", []string{"TTY", "bubbletea"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errs, tc.code, tc.want)
			}
			for _, nw := range tc.notWant {
				if strings.Contains(errs, nw) {
					t.Errorf("stderr %q says %q", errs, nw)
				}
			}
		})
	}
}

// TestOneMalformedRow: a single skipped row is counted as one.
func TestOneMalformedRow(t *testing.T) {
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, pbxsim.DefaultLocation())
	srv, err := pbxsim.Start(pbxsim.Options{Days: 1, End: end, CallsPerDay: 150, Faults: pbxsim.Faults{MalformedEvery: 100}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Total() < 100 || srv.Total() >= 200 {
		t.Fatalf("%d calls: the test needs one malformed line", srv.Total())
	}
	_, errs, code := run(t, map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword},
		"calls", "--url", srv.URL(), "--user", "admin", "--format", "csv")
	if code != 0 || !strings.Contains(errs, "1 malformed row was skipped") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	os.Unsetenv("CALLSCOPE_PASSWORD")
}
