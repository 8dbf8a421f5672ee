package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
