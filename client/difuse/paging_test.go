package difuse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/internal/peakrss"
	"github.com/callscope/callscope/client/transport"
)

// within runs fn and fails the test when it has not returned after d: a search that never ends must fail the
// test, not hang it. (A search stuck in a loop that never looks at its context cannot be stopped; its goroutine
// is left behind.)
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s had not ended after %s", what, d)
	}
}

// warnings collects a query's warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, err.Error())
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, " | ")
}

// query runs a query to the end, bounded in time, and returns the sorted IDs, the result and the error.
func query(t *testing.T, c *Client, q cdr.Query, obs ...cdr.Observer) ([]string, cdr.Result, error) {
	t.Helper()
	var ids []string
	var res cdr.Result
	var err error
	ctx := t.Context()
	if len(obs) > 0 {
		ctx = cdr.WithObserver(ctx, obs[0])
	}
	within(t, 10*time.Second, "the query", func() {
		res, err = c.Calls(ctx, q, func(r cdr.Record) error {
			ids = append(ids, r.UniqueID)
			return nil
		})
	})
	slices.Sort(ids)
	return ids, res, err
}

// TestPagingWithoutTotalPages: a PBX that sends no total_pages, either answering pages past the end with no
// rows or with its last page again (one that clamps page). Both end, with every call, in few requests.
func TestPagingWithoutTotalPages(t *testing.T) {
	calls := genCalls(21, day0, 10, 30, 0, 0) // 300 calls: 30 pages of 10
	from, to := day0.AddDate(0, 0, 4), day0.AddDate(0, 0, 5)
	for _, clamp := range []bool{false, true} {
		f := newFake(t, rowsOf(calls))
		f.omitTotal, f.clamp = true, clamp
		c := f.client(t, func(c *Config) { c.Limit = 10 })
		for _, tc := range []struct {
			name     string
			from, to time.Time
			maxReq   int64
		}{
			{"every call", time.Time{}, time.Time{}, 30 + 12},
			{"one day", from, to, 40},
		} {
			f.requests.Store(0)
			var w warnings
			ids, res, err := query(t, c, cdr.Query{From: tc.from, To: tc.to}, cdr.Observer{OnWarn: w.add})
			name := fmt.Sprintf("clamp=%v %s", clamp, tc.name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want := wantIDs(calls, tc.from, tc.to); !slices.Equal(ids, want) {
				t.Errorf("%s: %d calls, want %d", name, len(ids), len(want))
			}
			if res.TotalPages != 30 {
				t.Errorf("%s: %d pages, want 30", name, res.TotalPages)
			}
			if n := f.requests.Load(); n > tc.maxReq {
				t.Errorf("%s: %d requests, want at most %d", name, n, tc.maxReq)
			}
			if clamp && !strings.Contains(w.String(), "repeats page") {
				t.Errorf("%s: warnings %q, want one saying a page repeats another", name, w.String())
			}
		}
	}
}

// endlessPBX answers every page with new rows, later pages later calls, and never says how many pages it
// has: paging never ends. Each answer takes delay.
func endlessPBX(t *testing.T, delay time.Duration) *fakePBX {
	f := newFake(t, nil)
	f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		if _, pass, _ := r.BasicAuth(); pass != sha(f.secret) {
			return false
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return true
			}
		}
		page, _ := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
		limit, _ := strconv.ParseInt(r.URL.Query().Get("limit"), 10, 64)
		rows := make([]map[string]any, 0, limit)
		for i := range limit {
			n := page*limit + i // wraps for absurd page numbers, as a PBX's integer would
			start := day0.Add(time.Duration(n%(1<<40)) * time.Second)
			c := fakeCall{id: fmt.Sprintf("%d.%d", start.Unix(), n), start: start, answer: start, end: start.Add(time.Second), disp: "ANSWERED"}
			rows = append(rows, c.row(int(n)))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":%s,"page":"%d","limit":"%d"}`, mustJSON(rows), page, limit)
		return true
	}
	return f
}

// TestEndlessPaging: a PBX whose pages never run out (and that sends no total_pages) is reported in one line
// after a bounded number of requests, for a range and for every call.
func TestEndlessPaging(t *testing.T) {
	f := endlessPBX(t, 0)
	c := f.client(t, func(c *Config) { c.Limit = 5 })
	for _, q := range []cdr.Query{{}, {From: day0.AddDate(0, 0, 1), To: day0.AddDate(0, 0, 2)}} {
		f.requests.Store(0)
		_, _, err := query(t, c, q)
		if err == nil || !strings.Contains(err.Error(), "never") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line saying the paging never ends", q, err)
		}
		if n := f.requests.Load(); n > 40 {
			t.Errorf("%+v: %d requests before giving up", q, n)
		}
	}
}

// TestCancelEndsPaging: cancelling a query against a PBX that never ends returns within a second, with
// context.Canceled, whether it is looking for the last page or reading pages.
func TestCancelEndsPaging(t *testing.T) {
	f := endlessPBX(t, 50*time.Millisecond)
	c := f.client(t, func(c *Config) { c.Limit = 5 })
	big := newFake(t, rowsOf(genCalls(22, day0, 20, 50, 0, 0)))
	cb := big.client(t, func(c *Config) { c.Limit = 5 })
	for _, tc := range []struct {
		name string
		c    *Client
		q    cdr.Query
	}{
		{"endless, a range", c, cdr.Query{From: day0.AddDate(0, 0, 3), To: day0.AddDate(0, 0, 4)}},
		{"endless, every call", c, cdr.Query{}},
		{"every call, slowly", cb, cdr.Query{}},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(300*time.Millisecond, cancel)
		var err error
		var took time.Duration
		within(t, 5*time.Second, tc.name, func() {
			began := time.Now()
			_, err = tc.c.Calls(ctx, tc.q, func(cdr.Record) error { time.Sleep(time.Millisecond); return nil })
			took = time.Since(began)
		})
		cancel()
		if !errors.Is(err, context.Canceled) || took > 300*time.Millisecond+time.Second {
			t.Errorf("%s: error %v after %s, want context.Canceled within a second of the cancel", tc.name, err, took)
		}
	}
}

// TestPagingClampedSpin is the PBX of the issue: no total_pages and every page number answered with rows (it
// clamps page to its last page). The search must end, not double the page number until it overflows.
func TestPagingClampedSpin(t *testing.T) {
	f := newFake(t, rowsOf(genCalls(23, day0, 3, 20, 0, 0)))
	f.omitTotal, f.clamp = true, true
	c := f.client(t, func(c *Config) { c.Limit = 7 })
	ids, _, err := query(t, c, cdr.Query{From: day0, To: day0.AddDate(0, 0, 1)})
	if err != nil || len(ids) != 20 {
		t.Errorf("%d calls, error %v", len(ids), err)
	}
}

// TestRepeatingPages: a PBX that ignores page and answers every request with its first page, while saying it
// has 50 pages. The repetition is reported, and the search does not read all 50.
func TestRepeatingPages(t *testing.T) {
	calls := genCalls(24, day0, 1, 10, 0, 0)
	f := newFake(t, rowsOf(calls))
	f.total = 50
	f.clamp = true // every page past the first is the first
	c := f.client(t, func(c *Config) { c.Limit = 10 })
	var w warnings
	ids, _, err := query(t, c, cdr.Query{}, cdr.Observer{OnWarn: w.add})
	if err != nil || len(ids) != 10 {
		t.Fatalf("%d calls, error %v", len(ids), err)
	}
	if !strings.Contains(w.String(), "page 2 repeats page 1") {
		t.Errorf("warnings %q, want one saying page 2 repeats page 1", w.String())
	}
	if n := f.requests.Load(); n > 6 {
		t.Errorf("%d requests for a PBX with one page of calls", n)
	}
}

// TestAbsurdTotalPages: total_pages of 200 million on a PBX with 30 pages. Every call arrives, in few requests,
// and memory does not depend on the number the PBX made up.
func TestAbsurdTotalPages(t *testing.T) {
	calls := genCalls(25, day0, 10, 30, 0, 0)
	body := func(t *testing.T) {
		f := newFake(t, rowsOf(calls))
		f.total = 200_000_000
		c := f.client(t, func(c *Config) { c.Limit = 10 })
		for _, q := range []cdr.Query{{}, {From: day0.AddDate(0, 0, 2), To: day0.AddDate(0, 0, 3)}} {
			f.requests.Store(0)
			var w warnings
			ids, _, err := query(t, c, q, cdr.Observer{OnWarn: w.add})
			if err != nil {
				t.Fatal(err)
			}
			if want := wantIDs(calls, q.From, q.To); !slices.Equal(ids, want) {
				t.Errorf("%+v: %d calls, want %d", q, len(ids), len(want))
			}
			if n := f.requests.Load(); n > 30+60 {
				t.Errorf("%+v: %d requests", q, n)
			}
			if !strings.Contains(w.String(), "200000000") {
				t.Errorf("%+v: warnings %q, want one about the 200000000 pages", q, w.String())
			}
		}
	}
	if peakrss.Child(t) {
		body(t)
		return
	}
	rss := peakrss.Run(t, 1<<30)
	t.Logf("peak RSS %d MB", rss>>20)
	if rss > 300<<20 {
		t.Errorf("peak RSS %d MB, want under 300 MB", rss>>20)
	}
}

// TestHugePage: a PBX that answers one page with 500 MB, of rows or of one row, is stopped early with a
// one-line error, and the client's memory stays small.
func TestHugePage(t *testing.T) {
	row := oneRow()
	body := func(t *testing.T) {
		for _, tc := range []struct {
			name         string
			start, chunk string
		}{
			{"500 MB of rows", `{"page":"1","limit":"100","total_pages":1,"data":[` + row, strings.Repeat(","+row, 1000)},
			{"one row of 500 MB", `{"page":"1","limit":"100","total_pages":1,"data":[{"db_id":1,"caller_id":"`, strings.Repeat("x", 64<<10)},
		} {
			var sent atomic.Int64
			f := newFake(t, nil)
			f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				n, _ := w.Write([]byte(tc.start))
				total := int64(n)
				chunk := []byte(tc.chunk)
				for total < 500<<20 {
					n, err := w.Write(chunk)
					total += int64(n)
					if err != nil {
						break
					}
				}
				sent.Store(total)
				return true
			}
			c := f.client(t, nil)
			_, _, err := query(t, c, cdr.Query{Page: 1})
			if !errors.Is(err, transport.ErrTooLarge) || !strings.Contains(err.Error(), "stopped reading it") ||
				strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %v, want one line saying the page is too large", tc.name, err)
			}
			if n := f.requests.Load(); n != 1 {
				t.Errorf("%s: %d requests: a page too large must not be asked for again", tc.name, n)
			}
			f.srv.Close() // waits for the handler, which stops when the client hangs up
			if n := sent.Load(); n > 100<<20 {
				t.Errorf("%s: the PBX sent %d MB before the client hung up", tc.name, n>>20)
			}
		}
	}
	if peakrss.Child(t) {
		body(t)
		return
	}
	rss := peakrss.Run(t, 1<<30)
	t.Logf("peak RSS %d MB", rss>>20)
	if rss > 300<<20 {
		t.Errorf("peak RSS %d MB, want under 300 MB", rss>>20)
	}
}

// oneRow is one spec-shaped row as JSON.
func oneRow() string {
	c := genCalls(26, day0, 1, 1, 0, 0)[0]
	return mustJSON(c.row(1))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestRangeInStartOrder: a PBX that pages its rows by start time (an imported history), with calls hours long
// so end times go back and forth, is searched by start time: the right calls in few requests, no full scan.
func TestRangeInStartOrder(t *testing.T) {
	calls := genCalls(27, day0, 20, 200, 13, 3*time.Hour)
	slices.SortStableFunc(calls, func(a, b fakeCall) int { return a.start.Compare(b.start) })
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.Limit = 10 })
	for _, tc := range []struct{ from, to time.Time }{
		{day0.AddDate(0, 0, 7), day0.AddDate(0, 0, 8)},
		{day0.AddDate(0, 0, 7).Add(12 * time.Hour), day0.AddDate(0, 0, 7).Add(14 * time.Hour)},
		{day0, day0.AddDate(0, 0, 1)},
		{day0.AddDate(0, 0, 19), day0.AddDate(0, 0, 30)},
	} {
		f.requests.Store(0)
		var w warnings
		ids, _, err := query(t, c, cdr.Query{From: tc.from, To: tc.to}, cdr.Observer{OnWarn: w.add})
		if err != nil {
			t.Fatal(err)
		}
		if want := wantIDs(calls, tc.from, tc.to); !slices.Equal(ids, want) {
			t.Errorf("[%s, %s): %d calls, want %d", tc.from, tc.to, len(ids), len(want))
		}
		days := tc.to.Sub(tc.from).Hours() / 24
		bound := 2*probeBound(400, 0) + int64(min(days, 20)*200/10) + 4
		if n := f.requests.Load(); n > bound || w.String() != "" {
			t.Errorf("[%s, %s): %d requests (want at most %d), warnings %q", tc.from, tc.to, n, bound, w.String())
		}
	}
}

// searchKey runs a range search directly and says which key it ended on.
func searchKey(t *testing.T, c *Client, from, to time.Time) (orderKey, []string) {
	t.Helper()
	s := c.newSearch(cdr.Query{}, cdr.Observer{})
	var ids []string
	err := s.run(t.Context(), filter{from: from, to: to}, func(r row) error {
		ids = append(ids, r.rec.UniqueID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	t.Logf("disorder: end %v; start %v", s.disorder[byEnd], s.disorder[byStart])
	return s.key, ids
}

// TestSearchKeyFollowsTheData: the search runs on the key the PBX's rows are ordered by, told from the
// probes, and moves to the other key when a page read later shows the first one out of order (a rare long
// call that no probe met), without reading every page.
func TestSearchKeyFollowsTheData(t *testing.T) {
	from, to := day0.AddDate(0, 0, 5).Add(11*time.Hour), day0.AddDate(0, 0, 5).Add(13*time.Hour)
	for _, tc := range []struct {
		name  string
		calls []fakeCall
		want  orderKey
	}{
		{"end order", genCalls(31, day0, 10, 200, 13, 3*time.Hour), byEnd},
		{"start order", byStartTime(genCalls(31, day0, 10, 200, 13, 3*time.Hour)), byStart},
		// One long call, at 11:50 on the day searched: only the range's own pages show it.
		{"start order, one long call", byStartTime(append(genCalls(32, day0, 10, 200, 0, 0),
			fakeCall{id: "long.1", start: from.Add(50 * time.Minute), answer: from.Add(50 * time.Minute), end: from.Add(4 * time.Hour), disp: "ANSWERED"})), byStart},
	} {
		f := newFake(t, rowsOf(tc.calls))
		var w warnings
		c := f.client(t, func(c *Config) { c.Limit = 10; c.Warn = func(s string) { w.add(errors.New(s)) } })
		key, ids := searchKey(t, c, from, to)
		if want := wantIDs(tc.calls, from, to); !slices.Equal(ids, want) {
			t.Errorf("%s: %d calls, want %d", tc.name, len(ids), len(want))
		}
		if key != tc.want || w.String() != "" {
			t.Errorf("%s: searched by %s time (want %s), warnings %q", tc.name, key, tc.want, w.String())
		}
		if n := f.requests.Load(); n > 2*probeBound(200, 10) {
			t.Errorf("%s: %d requests", tc.name, n)
		}
	}
}

func byStartTime(calls []fakeCall) []fakeCall {
	slices.SortStableFunc(calls, func(a, b fakeCall) int { return a.start.Compare(b.start) })
	return calls
}

// TestRecordingBounded: Difuse gives no recording sizes, so a recording past the client's cap is stopped with a
// one-line error, whether the PBX says its length up front or not.
func TestRecordingBounded(t *testing.T) {
	const limit = 1 << 20
	for _, header := range []bool{false, true} {
		f := newFake(t, nil)
		f.hook = func(_ int64, w http.ResponseWriter, r *http.Request) bool {
			const n = 64 << 20
			if header {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			chunk := []byte(strings.Repeat("\xd8\x20\xa2\xe1", 16<<10))
			for sent := 0; sent < n; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					break
				}
			}
			return true
		}
		c := f.client(t, func(c *Config) { c.MaxRecordingBytes = limit })
		rec, err := c.Recording(t.Context(), cdr.ByRecord(cdr.Record{UniqueID: "1.1", Recording: "/rec/a.gsm"}))
		var n int64
		if err == nil {
			n, err = io.Copy(io.Discard, rec)
			rec.Close()
		}
		if !errors.Is(err, transport.ErrTooLarge) || !strings.Contains(err.Error(), "call 1.1") || n > limit {
			t.Errorf("Content-Length %v: %d bytes, error %v", header, n, err)
		}
	}
}

// TestPageSizeBounded: a page size past MaxLimit is refused before anything is sent, in a query and in the
// configuration, so no page the client holds can be made large by asking for it.
func TestPageSizeBounded(t *testing.T) {
	f := newFake(t, rowsOf(genCalls(33, day0, 1, 10, 0, 0)))
	c := f.client(t, nil)
	if _, err := c.Calls(t.Context(), cdr.Query{Page: 1, Limit: MaxLimit + 1}, func(cdr.Record) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "at most 10000") || f.requests.Load() != 0 {
		t.Errorf("limit %d: error %v after %d requests", MaxLimit+1, err, f.requests.Load())
	}
	if ids, _, err := query(t, c, cdr.Query{Page: 1, Limit: MaxLimit}); err != nil || len(ids) != 10 {
		t.Errorf("limit %d: %d calls, %v", MaxLimit, len(ids), err)
	}
	ep, _ := transport.ParseEndpoint(f.srv.URL)
	ep.User, ep.Password = fakeExt, fakeSecret
	if _, err := New(Config{Endpoint: ep, Limit: MaxLimit + 1}); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("Config.Limit %d: %v", MaxLimit+1, err)
	}
}
