package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestDemoHasCallsAtAnyHour: whenever a new user opens the demo, in any zone, "today" on the PBX already has
// calls, weekends and nights included (only the first minutes after midnight may be empty).
func TestDemoHasCallsAtAnyHour(t *testing.T) {
	loc := pbxsim.DefaultLocation()
	monday := time.Date(2026, 11, 16, 0, 0, 0, 0, loc)
	for day := range 7 {
		for _, at := range []time.Duration{20 * time.Minute, 3*time.Hour + 7*time.Minute, 7*time.Hour + 59*time.Minute,
			12 * time.Hour, 22*time.Hour + 30*time.Minute} {
			now := monday.AddDate(0, 0, day).Add(at)
			s, err := pbxsim.New(demoOptions(now))
			if err != nil {
				t.Fatal(err)
			}
			midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
			n := 0
			s.Calls(midnight, now, func(cdr.Record) bool { n++; return true })
			if n == 0 {
				t.Errorf("demo at %s: no calls yet today", now.Format("Mon 2006-01-02 15:04"))
			}
		}
	}
}

// TestDemoIsDeterministic: the same clock gives the same calls.
func TestDemoIsDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 22, 6, 15, 0, 0, pbxsim.DefaultLocation())
	index := func() string {
		s, err := pbxsim.New(demoOptions(now))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		s.Calls(now.AddDate(0, 0, -3), now, func(r cdr.Record) bool {
			b.WriteString(strings.Join(r.Fields(), ",") + "\n")
			return true
		})
		return b.String()
	}
	if a, b := index(), index(); a != b || a == "" {
		t.Errorf("two demos at the same clock differ (or are empty: %d bytes)", len(a))
	}
}

// TestDemoHasSpecCalls: the calls the help and README name (the Com.X spec's examples) are on the demo PBX,
// with the recordings the examples expect: 1396000115.1 is GSM, so `rec … | sox -t gsm` is true.
func TestDemoHasSpecCalls(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"call", "--demo", "--id", "1396000115.1", "--format", "csv"}, "1396000115.1,2014-03-28T11:48:35+02:00,"},
		{[]string{"call", "--demo", "--start", "20140328114835", "--format", "csv"}, "1396000115.1,"},
		{[]string{"call", "--demo", "--id", "1392723066.6", "--format", "csv"}, "1392723066.6,2014-02-18T13:31:06+02:00,"},
		{[]string{"call", "--demo", "--id", "1362123180.67", "--format", "csv"}, "1362123180.67,2013-03-01T09:33:00+02:00,inbound,8266,"},
		{[]string{"call", "--demo", "--id", "1362125482.87", "--format", "csv"}, "1362125482.87,2013-03-01T10:11:31+02:00,outbound,8264,"},
		{[]string{"call", "--demo", "--kind", "difuse", "--id", "1396000115.1", "--format", "csv"}, "1396000115.1,2014-03-28T11:48:35+02:00,"},
	} {
		out, errs, code := run(t, nil, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	dir := t.TempDir()
	for id, isGSM := range map[string]bool{"1396000115.1": true, "1392723066.6": false} {
		path := filepath.Join(dir, id+".rec")
		if _, errs, code := run(t, nil, "rec", "--demo", "--id", id, "-o", path); code != 0 {
			t.Fatalf("rec %s: %s", id, errs)
		}
		b, _ := os.ReadFile(path)
		gotGSM := len(b) >= 33*4 && len(b)%33 == 0 && b[0]>>4 == 0xD && b[33]>>4 == 0xD
		gotWAV := bytes.HasPrefix(b, []byte("RIFF"))
		if gotGSM != isGSM || gotWAV == isGSM {
			t.Errorf("rec %s: %d bytes starting %q; want GSM %v", id, len(b), b[:min(12, len(b))], isGSM)
		}
	}
	var out bytes.Buffer
	if code := Main([]string{"rec", "--demo", "--start", "20140328114835", "-o", "-"}, nil, &out, &out); code != 0 {
		t.Fatalf("rec --start -o -: exit %d %s", code, out.String())
	}
	if out.Len()%33 != 0 || out.Bytes()[0]>>4 != 0xD {
		t.Errorf("rec --start 20140328114835 -o - is not raw GSM (%d bytes)", out.Len())
	}
}

// TestDemoUsersNameSpecExtensions: the spec's extensions have names, like every other.
func TestDemoUsersNameSpecExtensions(t *testing.T) {
	out, errs, code := run(t, nil, "users", "--demo", "--format", "json")
	if code != 0 {
		t.Fatal(errs)
	}
	names := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var u map[string]string
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatal(err)
		}
		names[u["extension"]] = u["name"]
	}
	for _, ext := range []string{"8264", "8266"} {
		if names[ext] == "" {
			t.Errorf("extension %s has no name in %v", ext, names)
		}
	}
}
