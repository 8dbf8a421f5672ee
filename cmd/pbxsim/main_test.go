package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteIndex(t *testing.T) {
	f := filepath.Join(t.TempDir(), "index.txt")
	var out, errb bytes.Buffer
	if code := run([]string{"--write-index", f, "--days", "2", "--per-day", "50", "--end", "2024-03-01", "--seed", "3"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 40 || !strings.Contains(errb.String(), "wrote ") {
		t.Fatalf("%d lines; stderr %q", len(lines), errb.String())
	}
	if !strings.HasPrefix(strings.SplitN(lines[0], ",", 3)[1], "2024/02/29/") {
		t.Errorf("first line %q is not on the first day", lines[0])
	}
	// Same flags, same bytes; to stdout with -.
	out.Reset()
	if code := run([]string{"--write-index", "-", "--days", "2", "--per-day", "50", "--end", "2024-03-01", "--seed", "3"}, &out, &errb); code != 0 || !bytes.Equal(out.Bytes(), b) {
		t.Errorf("exit %d; stdout differs from the file", code)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--tz", "Mars/Olympus"}, {"--end", "yesterday"}, {"extra"}, {"--no-such-flag"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// TestPushURLPasswordWarns: a password in --push-url is in the process list; pbxsim says so, without it.
func TestPushURLPasswordWarns(t *testing.T) {
	var out, errb bytes.Buffer
	run([]string{"--write-index", filepath.Join(t.TempDir(), "i.txt"), "--days", "1", "--per-day", "5",
		"--push-url", "http://pbx:hunter2-secret@127.0.0.1:9/cdr"}, &out, &errb)
	if !strings.Contains(errb.String(), "warning: the password in --push-url") || strings.Contains(errb.String(), "hunter2") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestParseNow(t *testing.T) {
	loc := time.FixedZone("UTC+02:00", 2*3600)
	here := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2014-03-28T12:00", want: time.Date(2014, 3, 28, 12, 0, 0, 0, loc)},
		{in: "2014-03-28T12:00:05", want: time.Date(2014, 3, 28, 12, 0, 5, 0, loc)},
		{in: "2014-03-28 12:00", want: time.Date(2014, 3, 28, 12, 0, 0, 0, loc)},
		{in: "2014-03-28", want: time.Date(2014, 3, 28, 0, 0, 0, 0, loc)},
		{in: "-8h", want: here.Add(-8 * time.Hour)},
		{in: "+5h30m", want: here.Add(5*time.Hour + 30*time.Minute)},
		{in: "yesterday", bad: true},
		{in: "-12y", bad: true},
		{in: "2014-13-01", bad: true},
	} {
		got, err := parseNow(tc.in, loc, here)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "--now") {
				t.Errorf("%q: got %v, %v", tc.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestNowFlag: --now sets the PBX's clock, which the index written with --write-index follows.
func TestNowFlag(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"--write-index", "-", "--days", "2", "--per-day", "300", "--seed", "3", "--tz", "Africa/Johannesburg"}
	if code := run(append(args, "--now", "2014-03-28T12:00", "--frozen"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	last := strings.SplitN(lines[len(lines)-1], ",", 3)[1]
	if len(lines) < 100 || last > "2014/03/28/12:00:00" || last < "2014/03/28/10:00:00" {
		t.Fatalf("%d lines, the last starting %s", len(lines), last)
	}
	for _, bad := range [][]string{{"--frozen"}, {"--now", "soon"}} {
		errb.Reset()
		if code := run(append(args, bad...), &out, &errb); code != 2 || !strings.Contains(errb.String(), "--") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errb.String())
		}
	}
}

// FuzzParseNow: any --now is read or refused with an error naming the flag, never a panic.
func FuzzParseNow(f *testing.F) {
	for _, s := range []string{"2014-03-28T12:00", "-8h", "+5h30m", "2014-03-28", "+", "-", "2014-02-30", "\x00"} {
		f.Add(s)
	}
	loc := time.FixedZone("UTC+02:00", 2*3600)
	here := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return // the flag's default: no clock of its own
		}
		got, err := parseNow(s, loc, here)
		if err != nil {
			if !strings.Contains(err.Error(), "--now") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if got.IsZero() && s[0] != '+' && s[0] != '-' {
			t.Fatalf("%q read as the zero time", s)
		}
	})
}
