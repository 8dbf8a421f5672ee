package cli

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

var (
	benchIndexOnce sync.Once
	benchIndexPath string
	benchIndexErr  error
)

// benchIndex writes pbxsim's ~1,000,000-line extended index for a year (995,885 calls) to a file once per test
// binary run.
func benchIndex(b *testing.B) string {
	benchIndexOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callscope-bench-")
		if err != nil {
			benchIndexErr = err
			return
		}
		gen, err := pbxsim.New(pbxsim.Options{Days: 365, CallsPerDay: 3700, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			benchIndexErr = err
			return
		}
		benchIndexPath = filepath.Join(dir, "index.txt")
		f, err := os.Create(benchIndexPath)
		if err != nil {
			benchIndexErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		benchIndexErr = errors.Join(gen.WriteIndex(w, time.Time{}, time.Time{}, true), w.Flush(), f.Close())
	})
	if benchIndexErr != nil {
		b.Fatal(benchIndexErr)
	}
	return benchIndexPath
}

// sendfileServer serves one file as every answer, the way nginx serves a static file: net/http hands an
// *os.File on a TCP connection to sendfile(2), so the bytes go from the page cache to the socket without passing
// through the server's memory, and the time measured is the client's.
func sendfileServer(tb testing.TB, path string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkCallsFormat runs `callscope calls --format csv|json` in-process against a sendfile server holding a
// 1,000,000-line extended index, writing to a file; for profiles (-cpuprofile) and before/after comparisons.
// The side-by-side figure against curl is cmd/callscope's BenchmarkCallsVsCurl and testdata/bench/calls-vs-curl.sh.
func BenchmarkCallsFormat(b *testing.B) {
	srv := sendfileServer(b, benchIndex(b))
	b.Setenv("CALLSCOPE_PASSWORD", "pw")
	for _, format := range []string{"csv", "json"} {
		b.Run(format, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out")
			for b.Loop() {
				f, err := os.Create(out)
				if err != nil {
					b.Fatal(err)
				}
				var errb bytes.Buffer
				code := Main([]string{"calls", "--url", srv.URL, "--user", "u", "--extended", "--format", format,
					"--tz", "Africa/Johannesburg"}, nil, f, &errb)
				f.Close()
				if code != 0 {
					b.Fatalf("exit %d: %s", code, errb.String())
				}
			}
			if st, err := os.Stat(out); err == nil {
				b.SetBytes(st.Size())
			}
		})
	}
}
