package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/callscope/callscope/client/pbxsim"
)

// simIndexBytes is pbxsim's extended index of days days of calls.
func simIndexBytes(t testing.TB, days, perDay int) []byte {
	gen, err := pbxsim.New(pbxsim.Options{Seed: 5, Days: days, CallsPerDay: perDay,
		End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := gen.WriteIndex(&b, time.Time{}, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// callsAllocs runs `calls --format FORMAT -o FILE` against a server of index and counts the allocations.
func callsAllocs(t *testing.T, index []byte, format string) uint64 {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(index) }))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "calls."+format)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := Main([]string{"calls", "--url", srv.URL, "--user", "u", "--extended", "--format", format, "--tz",
		"Africa/Johannesburg", "-o", out}, nil, io.Discard, io.Discard)
	runtime.ReadMemStats(&after)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	return after.Mallocs - before.Mallocs
}

// `calls --format csv|json` must not allocate per row: the old path moved every 272-byte Record to the heap in
// streamCalls, built a slice of 15 strings per row for the CSV and escaped an error holder per row in the Calls
// loop (issue 13). What a command costs once (flags, the connection, buffers) is the same for one row or 20,000.
func TestCallsCommandDoesNotAllocatePerRow(t *testing.T) {
	t.Setenv("CALLSCOPE_PASSWORD", "pw")
	big := simIndexBytes(t, 14, 1500)
	rows := bytes.Count(big, []byte("\n"))
	one := big[:bytes.IndexByte(big, '\n')+1]
	for _, format := range []string{"csv", "json"} {
		base, all := callsAllocs(t, one, format), callsAllocs(t, big, format)
		perRow := (float64(all) - float64(base)) / float64(rows)
		t.Logf("%s: %d allocations for 1 row, %d for %d rows", format, base, all, rows)
		if perRow > 0.05 {
			t.Errorf("%s: %.2f allocations per row, want under one for every 20 rows", format, perRow)
		}
	}
}
