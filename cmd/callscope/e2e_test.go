package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/pbxsim"
)

// tmuxSession drives the real binary in a detached tmux session, as a person at a terminal would. Each session
// has a tmux server of its own (-L): sessions of other tests, or of people, never share or stop it.
type tmuxSession struct {
	t    *testing.T
	name string
}

// tmux runs a tmux command on the session's own server.
func (s *tmuxSession) tmux(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", s.name}, args...)...)
}

func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (.ci/run installs it)")
	}
	name := fmt.Sprintf("callscope-e2e-%d", time.Now().UnixNano())
	cmdline := strings.Join(append(env, quoteAll(argv)...), " ")
	args := []string{"-f", "/dev/null", "new-session", "-d", "-s", name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		"env " + cmdline + " 2>" + filepath.Join(t.TempDir(), "stderr") + "; sleep 60"}
	s := &tmuxSession{t: t, name: name}
	if out, err := s.tmux(args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { s.tmux("kill-server").Run() })
	return s
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// keys sends tmux key names (Enter, Space, Escape, Down, C-u, …).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.tmux("send-keys", "-t", s.name, k).CombinedOutput(); err != nil {
			s.t.Fatalf("send-keys %s: %v %s", k, err, out)
		}
		time.Sleep(120 * time.Millisecond)
	}
}

// text types literal text.
func (s *tmuxSession) text(text string) {
	s.t.Helper()
	if out, err := s.tmux("send-keys", "-t", s.name, "-l", text).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
	time.Sleep(150 * time.Millisecond)
}

func (s *tmuxSession) screen() string {
	out, err := s.tmux("capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the screen until it contains want, failing with the last screen after the deadline.
func (s *tmuxSession) waitFor(want string, within time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		sc := s.screen()
		if strings.Contains(sc, want) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; last screen:\n%s", want, sc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestE2ETmux runs the real binary in tmux against pbxsim: load a day, filter by an extension, open the detail
// pane, play a recording (null audio output), mark three rows, export them, and check the CSV's rows.
func TestE2ETmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	loc := pbxsim.DefaultLocation()
	day := time.Date(2026, 11, 18, 0, 0, 0, 0, loc)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: day.AddDate(0, 0, 2), CallsPerDay: 120,
		RecordingsDir: pbxsim.DefaultRecordings()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The extension to filter by: the busiest one of the day, with at least three calls.
	counts := map[string]int{}
	srv.Calls(day, day.AddDate(0, 0, 1), func(r cdr.Record) bool { counts[r.Extension]++; return true })
	ext, n := "", 0
	for e, c := range counts {
		if c > n || (c == n && e < ext) {
			ext, n = e, c
		}
	}
	if n < 3 {
		t.Fatalf("simulated day too quiet: %v", counts)
	}
	// The filter shows the extension's calls: its own and those it was dialled in (cdr.Record.InvolvesExtension).
	n = 0
	srv.Calls(day, day.AddDate(0, 0, 1), func(r cdr.Record) bool {
		if r.InvolvesExtension(ext) {
			n++
		}
		return true
	})
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "marked.csv")
	s := startTmux(t, 160, 45, []string{"CALLSCOPE_PASSWORD=" + pbxsim.DefaultComxPassword, "CALLSCOPE_AUDIO=null",
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")},
		bin, "--url", srv.URL(), "--user", pbxsim.DefaultComxUser, "--from", "2026-11-18", "--to", "2026-11-19")
	s.waitFor(fmt.Sprintf("%d/%d", sum(counts), sum(counts)), 10*time.Second)
	// The simulator takes the factory-default password: the app says so while it runs, not only after.
	s.waitFor("factory default password", 10*time.Second)
	s.keys("Escape")

	// Filter by the extension: the status bar shows n of the day's calls.
	s.keys("f")
	s.text(ext)
	s.keys("Enter")
	s.waitFor(fmt.Sprintf("%d/%d", n, sum(counts)), 5*time.Second)

	// The detail pane shows the selected call's fields.
	s.keys("d")
	s.waitFor("Call details", 5*time.Second)

	// Play the first recorded call among the filtered rows (null output: the clock still runs).
	played := false
	for i := 0; i < n && !played; i++ {
		s.keys("Enter")
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && !played {
			played = strings.Contains(s.screen(), "▶")
			time.Sleep(100 * time.Millisecond)
		}
		if !played {
			s.keys("Down")
		}
	}
	if !played {
		t.Fatalf("no recorded call for extension %s played:\n%s", ext, s.screen())
	}
	s.waitFor("no sound", 5*time.Second) // the null output says so; the clock still runs
	if sc := s.screen(); strings.Contains(strings.ToLower(sc), "panic") || strings.Contains(sc, "cannot play") {
		t.Fatalf("playing failed:\n%s", sc)
	}

	// Mark three rows from the top and export them.
	s.keys("g", "Space", "Space", "Space")
	s.waitFor("3 marked", 5*time.Second)
	s.keys("e")
	s.waitFor("Export", 5*time.Second)
	s.keys("C-u")
	s.text(out)
	s.keys("Enter")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(out); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no export written; screen:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.keys("Escape", "q")

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(cdr.Columns, ",") {
		t.Fatalf("export has %d rows (want header + 3): %v", len(rows), rows)
	}
	for _, r := range rows[1:] {
		if r[3] != ext || !strings.HasPrefix(r[1], "2026-11-18T") || !strings.HasSuffix(r[1], "+02:00") {
			t.Errorf("exported row %v: want extension %s on 2026-11-18 (+02:00)", r, ext)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// fakeNow is the clock the first-five-minutes test runs the binary and its demo PBX at (the test hook
// $CALLSCOPE_TEST_NOW): early morning in Johannesburg, evening of the day before in Los Angeles.
const fakeNow = "2026-12-06T05:30:00+02:00"

// TestE2EFirstFiveMinutes is issue 11's first four items, as a new user meets them, in tmux on the real binary
// and its demo PBX, at a faked early-morning clock on a workstation in Los Angeles:
//   - a wide range opens on the newest call, selected and on screen;
//   - an empty result says why and what to do;
//   - "today" is the PBX's day, and the header says whose clock it is;
//   - --id to a call that does not exist says so, and the error stays until dismissed.
func TestE2EFirstFiveMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"CALLSCOPE_TEST_NOW=" + fakeNow, "TZ=America/Los_Angeles", "CALLSCOPE_AUDIO=null",
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}

	// What the demo PBX holds since 1 November at that clock, by the CLI: the newest call is what the app must
	// open on.
	cmd := exec.Command(bin, "calls", "--demo", "--from", "2026-11-01", "--format", "csv")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("calls --demo: %v %s", err, stderr.String())
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("calls --demo: %d rows, %v", len(rows), err)
	}
	var newestID string
	var newest time.Time
	for _, r := range rows[1:] {
		st, err := time.Parse(time.RFC3339, r[1])
		if err != nil {
			t.Fatal(err)
		}
		if st.After(newest) {
			newest, newestID = st, r[0]
		}
	}
	n := len(rows) - 1

	t.Run("wide range opens on the newest call", func(t *testing.T) {
		s := startTmux(t, 200, 50, env, bin, "--demo", "--from", "2026-11-01")
		s.waitFor(fmt.Sprintf("loaded %s calls", human.Count(int64(n))), 30*time.Second)
		lines := strings.Split(s.screen(), "\n")
		if len(lines) < 3 || !strings.Contains(lines[2], cdr.WallClock(newest).Format("2006-01-02 15:04:05")) {
			t.Fatalf("the first row is not the newest call (%s, %s):\n%s", newestID, newest, s.screen())
		}
		s.keys("d")
		s.waitFor("Unique ID     "+newestID, 5*time.Second) // the details pane shows the selected call

		// A search that matches nothing says why, and what to do.
		s.keys("d", "/")
		s.text("no such caller")
		s.keys("Enter")
		s.waitFor(fmt.Sprintf("no calls match — esc clears the search/filters (%s loaded)", human.Count(int64(n))), 5*time.Second)
		s.keys("q")
	})

	t.Run("today is the PBX's day", func(t *testing.T) {
		s := startTmux(t, 80, 24, env, bin, "--demo")
		// The header names the day once the load has begun; waiting for "PBX time" alone raced with it.
		sc := s.waitFor("today 2026-12-06", 30*time.Second) // at 19:30 on 5 December in Los Angeles the PBX is on 6 December
		if !strings.Contains(sc, "PBX time") {
			t.Fatalf("the header does not say the PBX's zone differs:\n%s", sc)
		}
		s.keys("q")
	})

	t.Run("--id to a call that does not exist", func(t *testing.T) {
		s := startTmux(t, 80, 24, env, bin, "--demo", "--id", "1111111111.1")
		s.waitFor("no call with ID 1111111111.1", 15*time.Second)
		s.waitFor("calls", 15*time.Second) // today's load has reported since
		time.Sleep(500 * time.Millisecond)
		s.keys("Down", "Up")
		if sc := s.screen(); !strings.Contains(sc, "no call with ID 1111111111.1") {
			t.Fatalf("the --id error did not stay on screen:\n%s", sc)
		}
		s.keys("Escape")
		if sc := s.screen(); strings.Contains(sc, "1111111111.1") {
			t.Fatalf("esc did not dismiss the --id error:\n%s", sc)
		}
		s.keys("q")
	})
}
