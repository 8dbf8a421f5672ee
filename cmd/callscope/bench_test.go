package main

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// BenchmarkCallsVsCurl measures `callscope calls --format csv` and `--format json` of a 995,885-line extended
// index (a year of pbxsim's calls) written to a file, side by side with `curl` downloading the same URL to a
// file, from two servers on loopback:
//
//   - sendfile: a static file sent with sendfile(2) (net/http's ServeContent of an *os.File, as nginx sends a
//     file), so the bytes cost the server almost nothing and the ratio measures callscope;
//   - pbxsim: the simulator serving the same index from a data directory (its own sending is slower).
//
// Each iteration runs curl, csv and json once, in turn, so a busy machine slows all three alike; the figures
// are the medians over the iterations, and csv-x-curl is the median csv time over the median curl time (the
// -cpu-s figures are CPU time, user and system, which a loaded machine inflates less than wall time). Peak
// memory is measured by testdata/bench/calls-vs-curl.sh with /usr/bin/time (a child's rusage here would count
// the memory of this process, which it was forked from).
//
//	go test -run '^$' -bench CallsVsCurl -benchtime 5x ./cmd/callscope
func BenchmarkCallsVsCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl not installed")
	}
	dir := b.TempDir()
	index := filepath.Join(dir, "index.txt")
	if err := writeIndex(index); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "callscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(index)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	defer static.Close()
	sim, err := pbxsim.Start(pbxsim.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()

	out := filepath.Join(b.TempDir(), "out")
	for _, srv := range []struct{ name, url string }{{"sendfile", static.URL}, {"pbxsim", sim.URL()}} {
		b.Run(srv.name, func(b *testing.B) {
			var curlT, csvT, jsonT, curlCPU, csvCPU, jsonCPU []float64
			for b.Loop() {
				t, cpu := timed(b, exec.Command(curl, "-sf", "-u",
					pbxsim.DefaultComxUser+":"+pbxsim.DefaultComxPassword, "-o", out,
					srv.url+"/commagui/cdr?format=txt&extended"))
				curlT, curlCPU = append(curlT, t), append(curlCPU, cpu)
				for _, format := range []string{"csv", "json"} {
					// `> file`, as the issue measured: -o would also sync the file to disk, which curl does not.
					cmd := exec.Command(bin, "calls", "--url", srv.url, "--user", pbxsim.DefaultComxUser, "--extended",
						"--format", format, "--tz", "Africa/Johannesburg")
					cmd.Env = append(os.Environ(), "CALLSCOPE_PASSWORD="+pbxsim.DefaultComxPassword)
					f, err := os.Create(out)
					if err != nil {
						b.Fatal(err)
					}
					cmd.Stdout = f
					t, cpu := timed(b, cmd)
					f.Close()
					if format == "csv" {
						csvT, csvCPU = append(csvT, t), append(csvCPU, cpu)
					} else {
						jsonT, jsonCPU = append(jsonT, t), append(jsonCPU, cpu)
					}
				}
			}
			c, s, j := median(curlT), median(csvT), median(jsonT)
			b.ReportMetric(c, "curl-s")
			b.ReportMetric(s, "csv-s")
			b.ReportMetric(j, "json-s")
			b.ReportMetric(s/c, "csv-x-curl")
			b.ReportMetric(j/c, "json-x-curl")
			b.ReportMetric(j/s, "json-x-csv")
			b.ReportMetric(median(curlCPU), "curl-cpu-s")
			b.ReportMetric(median(csvCPU), "csv-cpu-s")
			b.ReportMetric(median(jsonCPU), "json-cpu-s")
		})
	}
}

// writeIndex writes pbxsim's extended index of a year of calls, about a million lines.
func writeIndex(path string) error {
	gen, err := pbxsim.New(pbxsim.Options{Days: 365, CallsPerDay: 3700, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	return errors.Join(gen.WriteIndex(w, time.Time{}, time.Time{}, true), w.Flush(), f.Close())
}

// timed runs cmd and returns its wall time and CPU time (user and system, all threads) in seconds.
func timed(b *testing.B, cmd *exec.Cmd) (wall, cpu float64) {
	var msg strings.Builder
	cmd.Stderr = &msg
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v %s", filepath.Base(cmd.Path), err, msg.String())
	}
	wall = time.Since(start).Seconds()
	return wall, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
