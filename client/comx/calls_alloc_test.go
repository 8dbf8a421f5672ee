package comx_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// indexServer serves a fixed index as every answer, as a static file behind a web server would.
func indexServer(t testing.TB, index []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(index) }))
	t.Cleanup(srv.Close)
	return srv
}

// simIndex is pbxsim's extended index of days days of calls.
func simIndex(t testing.TB, days, perDay int) []byte {
	gen, err := pbxsim.New(pbxsim.Options{Seed: 3, Days: days, CallsPerDay: perDay, End: simEnd})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := gen.WriteIndex(&b, time.Time{}, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The Calls loop must not allocate per row: the old loop's errors.As(err, &le) moved le to the heap on every
// row, error or not (issue 13). Whatever HTTP and the parser's buffers cost is per read, not per row.
func TestCallsDoNotAllocatePerRow(t *testing.T) {
	index := simIndex(t, 20, 1500)
	c := newClient(t, indexServer(t, index).URL, nil)
	rows := 0
	fn := func(cdr.Record) error { rows++; return nil }
	if _, err := c.Calls(context.Background(), cdr.Query{}, fn); err != nil { // settles the zone
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	rows = 0
	runtime.ReadMemStats(&before)
	if _, err := c.Calls(context.Background(), cdr.Query{}, fn); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocs := after.Mallocs - before.Mallocs
	t.Logf("%d rows, %d allocations", rows, allocs)
	if rows < 10_000 || float64(allocs) > 0.05*float64(rows) {
		t.Errorf("%d allocations for %d rows, want under one for every 20 rows", allocs, rows)
	}
}
