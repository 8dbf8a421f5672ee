package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// BenchmarkCallsCSV1M measures `callscope calls --format csv` of a ~1,000,000-line index served by pbxsim from a
// data directory on loopback, against curl downloading the same URL in the same run. The aim is at most
// 4× curl's time. (The child's peak RSS is measured with /usr/bin/time -v instead: a child's rusage counts the
// test process's memory it was forked from.) Run: go test -run '^$' -bench CallsCSV1M -benchtime 3x ./cmd/callscope
func BenchmarkCallsCSV1M(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl not installed")
	}
	dir := b.TempDir()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	gen, err := pbxsim.New(pbxsim.Options{Days: 365, CallsPerDay: 3700, End: end})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "index.txt"))
	if err != nil {
		b.Fatal(err)
	}
	if err := gen.WriteIndex(f, time.Time{}, time.Time{}, true); err != nil {
		b.Fatal(err)
	}
	f.Close()
	srv, err := pbxsim.Start(pbxsim.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	bin := filepath.Join(b.TempDir(), "callscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	url := srv.URL() + "/commagui/cdr?format=txt&extended"
	b.Run("curl", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(curl, "-sf", "-u", pbxsim.DefaultComxUser+":"+pbxsim.DefaultComxPassword, "-o", os.DevNull, url)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("curl: %v %s", err, out)
			}
		}
	})
	b.Run("callscope", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(bin, "calls", "--url", srv.URL(), "--user", pbxsim.DefaultComxUser, "--extended",
				"--format", "csv", "--tz", "Africa/Johannesburg")
			cmd.Env = append(os.Environ(), "CALLSCOPE_PASSWORD="+pbxsim.DefaultComxPassword)
			out, err := os.Create(os.DevNull)
			if err != nil {
				b.Fatal(err)
			}
			var msg strings.Builder
			cmd.Stdout, cmd.Stderr = out, &msg
			if err := cmd.Run(); err != nil {
				b.Fatalf("callscope: %v %s", err, msg.String())
			}
			out.Close()
		}
	})
}
