package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// asCallscope set to 1 makes the test binary run Main, so the examples run a real callscope process.
const asCallscope = "CALLSCOPE_TEST_AS_CALLSCOPE"

// example is one command line from a --help Example or a README code block.
type example struct {
	from string // "callscope rec --help" or "README.md line 47"
	line string // as written
}

// TestExamplesRun runs every example of every command's --help and of README's sh code blocks, as written,
// against --demo where the example names a real PBX (--url … --user …, --profile …), in a shell with this test
// binary as callscope. Examples that need a terminal, a keyring, an editor or a server that runs until stopped
// are skipped with the reason.
func TestExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec '%s' \"$@\"\n", asCallscope, self)
	if err := os.WriteFile(filepath.Join(bin, "callscope"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	groups := helpExamples(t)
	groups = append(groups, readmeExamples(t)...)
	if len(groups) < 10 {
		t.Fatalf("found only %d groups of examples", len(groups))
	}
	for _, g := range groups {
		t.Run(g[0].from, func(t *testing.T) {
			// Each group runs in order in its own folder and home, as one person would type them.
			work := t.TempDir()
			env := exampleEnv(work, bin)
			for _, ex := range g {
				cmdline := onDemo(stripComment(ex.line))
				t.Run(cmdline, func(t *testing.T) {
					if why := skipReason(cmdline); why != "" {
						t.Skip(why)
					}
					for _, tool := range []string{"sox"} {
						if strings.Contains(cmdline, tool+" ") {
							if _, err := exec.LookPath(tool); err != nil {
								t.Skip(tool + " not installed (.ci/run installs it)")
							}
						}
					}
					setupFor(t, cmdline, work, env, bash)
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, bash, "-c", "set -eo pipefail\n"+cmdline)
					cmd.Dir, cmd.Env = work, env
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Errorf("%s: %q (run as %q) failed: %v\n%s", ex.from, ex.line, cmdline, err, tail(out))
					}
				})
			}
		})
	}
}

// exampleEnv is a clean environment: this test binary first on PATH as callscope, a fresh home and config,
// silent audio, no keyring and none of the developer's CALLSCOPE_ settings.
func exampleEnv(work, bin string) []string {
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + filepath.Join(work, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(work, "cache"),
		"CALLSCOPE_AUDIO=null",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(work, "no-bus"),
		"TZ=UTC",
		"LANG=C.UTF-8",
	}
	for _, k := range []string{"GOCOVERDIR", "TMPDIR"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	os.MkdirAll(filepath.Join(work, "home"), 0o755)
	return env
}

// helpExamples collects the Example text of every command, one group per command.
func helpExamples(t *testing.T) [][]example {
	var groups [][]example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var g []example
		for _, line := range joinContinuations(strings.Split(c.Example, "\n")) {
			if line = strings.TrimSpace(line); line != "" {
				g = append(g, example{from: c.CommandPath() + " --help", line: line})
			}
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&app{}).rootCommand())
	return groups
}

// readmeExamples collects README.md's sh code blocks, one group per block.
func readmeExamples(t *testing.T) [][]example {
	f, err := os.Open(filepath.Join("..", "..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var groups [][]example
	var g []example
	var lines []string
	in, n, start := false, 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```sh"):
			in, start, lines = true, n, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			g = nil
			for _, l := range joinContinuations(lines) {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
					g = append(g, example{from: fmt.Sprintf("README.md line %d", start), line: l})
				}
			}
			if len(g) > 0 {
				groups = append(groups, g)
			}
		case in:
			lines = append(lines, line)
		}
	}
	if len(groups) == 0 {
		t.Fatal("no sh code blocks in README.md")
	}
	return groups
}

// joinContinuations joins lines that end with a backslash to the next.
func joinContinuations(lines []string) []string {
	var out []string
	cur := ""
	for _, l := range lines {
		if strings.HasSuffix(strings.TrimRight(l, " "), `\`) {
			cur += strings.TrimSuffix(strings.TrimRight(l, " "), `\`) + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

var comment = regexp.MustCompile(`\s{2,}#\s.*$`)

func stripComment(line string) string { return strings.TrimSpace(comment.ReplaceAllString(line, "")) }

// realPBX is how an example names a real PBX: --url with its user, or a profile. The demo stands in for it.
var realPBX = regexp.MustCompile(`--url\s+\S+(\s+--user\s+\S+)?|--profile\s+\S+`)

// onDemo points an example at the demo PBX where it names a real one (config commands only write the
// settings down, so they keep them).
func onDemo(line string) string {
	if strings.Contains(line, "callscope config") || !realPBX.MatchString(line) {
		return line
	}
	line = realPBX.ReplaceAllString(line, "--demo")
	return strings.ReplaceAll(line, "--demo --demo", "--demo")
}

// skipReason says why an example cannot run here, or "".
func skipReason(line string) string {
	for _, s := range []struct{ re, why string }{
		{`config set-password`, "stores a password in the OS keyring, asked for on a terminal"},
		{`\$EDITOR`, "opens an editor"},
		{`callscope( \S+)* play\b`, "plays audio with keys read from a terminal"},
		{`callscope listen\b`, "a server that runs until stopped (TestListenCommand runs it)"},
		{`--every\b`, "keeps syncing until stopped"},
		{`callscope sync\b.*--since`, "copies every call and recording since that date: hundreds of MB from the demo (the sync tests cover it)"},
		{`^bash \.ci/run`, "the whole CI run"},
		{`go run \./cmd/pbxsim`, "a server on a fixed port that runs until stopped (the pbxsim tests run it)"},
	} {
		if regexp.MustCompile(s.re).MatchString(line) {
			return s.why
		}
	}
	if opensApp(line) {
		return "opens the terminal app (the tmux end-to-end test drives it)"
	}
	return ""
}

// opensApp reports whether an example runs callscope with no subcommand: the app.
func opensApp(line string) bool {
	words := strings.Fields(line)
	for i, w := range words {
		if w != "callscope" && w != "./cmd/callscope" {
			continue
		}
		c, _, err := (&app{}).rootCommand().Find(words[i+1:])
		return err == nil && !c.HasParent()
	}
	return false
}

// setupFor makes what an example takes for granted: a recording to decode or play, an archive to read.
func setupFor(t *testing.T, line, work string, env []string, bash string) {
	t.Helper()
	var steps []string
	if regexp.MustCompile(`callscope (decode|play) call\.(gsm|wav)`).MatchString(line) {
		steps = append(steps, "test -e call.gsm || callscope rec --demo --id 1396000115.1 -o call.gsm",
			"test -e call.wav || callscope rec --demo --id 1392723066.6 -o call.wav")
	}
	if strings.Contains(line, "--archive ~/calls") {
		// An hour of the demo is archive enough to read.
		since := time.Now().In(time.FixedZone("", 2*3600)).Add(-time.Hour).Format("2006-01-02 15:04")
		steps = append(steps, fmt.Sprintf("test -d ~/calls || callscope sync --demo --dir ~/calls --since %q", since))
	}
	for _, s := range steps {
		cmd := exec.Command(bash, "-c", s)
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("setting up for %q: %s: %v\n%s", line, s, err, tail(out))
		}
	}
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
