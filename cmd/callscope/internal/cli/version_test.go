package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: --version and the version command say which build this is; a build without the release's
// stamp says "devel".
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errs, code := run(t, nil, args...)
		if code != 0 || !strings.HasPrefix(out, "callscope devel") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line starting callscope devel", args, code, out, errs)
		}
	}
	if _, errs, code := run(t, nil, "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d %s", code, errs)
	}
}

// TestVersionStamp builds the binary as .goreleaser.yaml does and checks that the stamp arrives: the ldflags
// there name the variables this package reads.
func TestVersionStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	y, err := os.ReadFile(filepath.Join("..", "..", "..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)- id: callscope\n.*?ldflags:\s*\[?"([^"]*)"`).FindSubmatch(y)
	if m == nil {
		t.Fatal("no ldflags for the callscope build in .goreleaser.yaml")
	}
	ldflags := string(m[1])
	for _, v := range []string{"version={{.Version}}", "commit={{.Commit}}", "date={{.Date}}"} {
		if !strings.Contains(ldflags, "-X "+versionPackage+"."+v) {
			t.Errorf(".goreleaser.yaml ldflags %q do not set %s.%s", ldflags, versionPackage, v)
		}
	}
	ldflags = strings.NewReplacer("{{.Version}}", "1.2.3", "{{.Commit}}", "0123456789abcdef", "{{.Date}}", "2026-11-20T10:00:00Z").Replace(ldflags)
	bin := filepath.Join(t.TempDir(), "callscope")
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "callscope 1.2.3 (commit 0123456789ab, built 2026-11-20T10:00:00Z,"; !strings.HasPrefix(string(out), want) {
		t.Errorf("stamped --version = %q, want it to start %q", out, want)
	}
}

func TestDescribeBuild(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "cc24d1b0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-20T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		v, c, d string
		bi      *debug.BuildInfo
		want    string
	}{
		{"1.2.3", "0123456789abcdef", "2026-11-20T10:00:00Z", vcs, "1.2.3 (commit 0123456789ab, built 2026-11-20T10:00:00Z, go"},
		{"", "", "", vcs, "devel (commit cc24d1b01234 with local changes, built 2026-11-20T10:00:00Z, go"},
		{"", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0 (go"},
		{"", "", "", nil, "devel (go"},
	} {
		if got := describeBuild(tc.v, tc.c, tc.d, tc.bi); !strings.HasPrefix(got, tc.want) {
			t.Errorf("describeBuild(%q, %q, %q) = %q, want it to start %q", tc.v, tc.c, tc.d, got, tc.want)
		}
	}
}
