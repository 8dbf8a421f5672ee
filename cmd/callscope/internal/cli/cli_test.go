package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// run calls Main in-process with the given environment additions and returns stdout, stderr and the exit code.
func run(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := Main(args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

// sim starts a simulator with a fixed week so tests know what to expect.
func sim(t *testing.T, f pbxsim.Faults) (*pbxsim.Server, *pbxsim.Sim) {
	t.Helper()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s, err := pbxsim.New(pbxsim.Options{Days: 7, End: end, CallsPerDay: 150, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pbxsim.Start(pbxsim.Options{Days: 7, End: end, CallsPerDay: 150, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, s
}

func TestCallsCSVMatchesSimulator(t *testing.T) {
	srv, s := sim(t, pbxsim.Faults{})
	env := map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword}
	out, errs, code := run(t, env, "calls", "--url", srv.URL(), "--user", "admin", "--from", "2026-11-18",
		"--to", "20261119", "--format", "csv", "--extended")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(cdr.Columns, ",") {
		t.Fatalf("header %v", rows[0])
	}
	var want []cdr.Record
	loc := pbxsim.DefaultLocation()
	s.Calls(time.Date(2026, 11, 18, 0, 0, 0, 0, loc), time.Date(2026, 11, 19, 0, 0, 0, 0, loc), func(r cdr.Record) bool {
		want = append(want, r)
		return true
	})
	if len(want) == 0 || len(rows)-1 != len(want) {
		t.Fatalf("got %d rows, simulator has %d", len(rows)-1, len(want))
	}
	for i, w := range want {
		got := rows[i+1]
		if got[0] != w.UniqueID || !strings.HasSuffix(got[1], "+02:00") || got[3] != w.Extension {
			t.Errorf("row %d = %v, want id %s ext %s (+02:00)", i, got, w.UniqueID, w.Extension)
			break
		}
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	srv, _ := sim(t, pbxsim.Faults{})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"no url", nil, []string{"calls"}, 2, "--url"},
		{"bad time", nil, []string{"calls", "--url", srv.URL(), "--from", "tomorrow"}, 2, "cannot read time"},
		{"bad format", nil, []string{"calls", "--url", srv.URL(), "--format", "xml"}, 2, "--format"},
		{"unknown flag", nil, []string{"calls", "--nope"}, 2, "unknown flag"},
		{"to before from", nil, []string{"calls", "--url", srv.URL(), "--from", "20261110", "--to", "20261101"}, 2, "after"},
		{"wrong password", map[string]string{"CALLSCOPE_PASSWORD": "guess"}, []string{"calls", "--url", srv.URL(), "--user", "admin"}, 1, "wrong user or password"},
		{"dead server", map[string]string{"CALLSCOPE_PASSWORD": "x"}, []string{"calls", "--url", "http://127.0.0.1:1", "--user", "admin"}, 1, "connection refused"},
		{"unknown id", map[string]string{"CALLSCOPE_PASSWORD": pbxsim.DefaultComxPassword}, []string{"call", "--url", srv.URL(), "--user", "admin", "--id", "1.1"}, 1, "no call with ID 1.1"},
		// In $CALLSCOPE_URL: the same URL in --url adds a warning line (see TestPasswordInURLFlag).
		{"password in url", map[string]string{"CALLSCOPE_URL": strings.Replace(srv.URL(), "://", "://admin:wrong-secret@", 1)}, []string{"users"}, 1, "wrong user or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CALLSCOPE_PASSWORD", "")
			os.Unsetenv("CALLSCOPE_PASSWORD")
			_, errs, code := run(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tc.code, tc.msg)
			}
			if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("error is not one line: %q", errs)
			}
			for _, secret := range []string{"wrong-secret", "guess", pbxsim.DefaultComxPassword} {
				if strings.Contains(errs, secret) {
					t.Errorf("stderr shows a secret: %q", errs)
				}
			}
		})
	}
}

func TestDemoSubcommands(t *testing.T) {
	out, errs, code := run(t, nil, "users", "--demo", "--format", "json")
	if code != 0 {
		t.Fatalf("users: exit %d %s", code, errs)
	}
	var u map[string]string
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &u); err != nil || u["extension"] == "" {
		t.Fatalf("users json %q: %v", out, err)
	}
	if _, ok := u["voicemail_pin"]; ok {
		t.Error("PIN printed without --reveal-voicemail-pins")
	}
	out, errs, code = run(t, nil, "calls", "--demo", "--page", "1", "--limit", "5", "--format", "json")
	if code != 0 {
		t.Fatalf("calls: exit %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("page of 5 gave %d lines", len(lines))
	}
	var rec map[string]any
	json.Unmarshal([]byte(lines[0]), &rec)
	id, _ := rec["unique_id"].(string)
	out, errs, code = run(t, nil, "call", "--demo", "--id", id, "--format", "csv")
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("call --id %s: exit %d %s %s", id, code, out, errs)
	}
}

func TestRecSavesRecording(t *testing.T) {
	out, errs, code := run(t, nil, "calls", "--demo", "--page", "1", "--limit", "50", "--format", "json")
	if code != 0 {
		t.Fatal(errs)
	}
	var id string
	var size float64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		json.Unmarshal([]byte(line), &rec)
		if s, ok := rec["recording_size"].(float64); ok && s > 0 {
			id, size = rec["unique_id"].(string), s
			break
		}
	}
	if id == "" {
		t.Fatal("no recorded call on the first page")
	}
	path := filepath.Join(t.TempDir(), "call.audio")
	if _, errs, code := run(t, nil, "rec", "--demo", "--id", id, "-o", path); code != 0 {
		t.Fatal(errs)
	}
	st, err := os.Stat(path)
	if err != nil || float64(st.Size()) != size {
		t.Fatalf("saved %v bytes, index says %v (%v)", st, size, err)
	}
}
