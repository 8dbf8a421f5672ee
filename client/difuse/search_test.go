package difuse

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

var day0 = time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)

// probeBound is what a range search may cost: page 1, one binary search for the first page, the pages of the
// range (the gallop to its end probes those) and a few past it for calls that end late.
func probeBound(totalPages, rangePages int) int64 {
	return int64(1 + int(math.Ceil(math.Log2(float64(totalPages)))) + rangePages + 4)
}

func TestRangeReturnsEveryCallWithLongCalls(t *testing.T) {
	// 20 days of 200 calls; every 37th lasts 3½ hours, so it is written far past calls that started with it.
	calls := genCalls(1, day0, 20, 200, 37, 3*time.Hour+30*time.Minute)
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.Limit = 10 })
	const pages = 400
	for _, tc := range []struct{ from, to time.Time }{
		{day0.AddDate(0, 0, 7), day0.AddDate(0, 0, 8)},
		{day0.AddDate(0, 0, 7).Add(12 * time.Hour), day0.AddDate(0, 0, 7).Add(13 * time.Hour)},
		{day0, day0.AddDate(0, 0, 1)},                    // the first day
		{day0.AddDate(0, 0, 19), day0.AddDate(0, 0, 30)}, // the last day, To past the data
		{day0.AddDate(0, 0, -5), day0.AddDate(0, 0, -1)}, // before the data: nothing
		{day0.AddDate(0, 0, 3).Add(17 * time.Hour), day0.AddDate(0, 0, 3).Add(17*time.Hour + time.Minute)},
	} {
		f.requests.Store(0)
		got, res := gotIDs(t, c, cdr.Query{From: tc.from, To: tc.to, Limit: 10})
		want := wantIDs(calls, tc.from, tc.to)
		if !slices.Equal(got, want) {
			t.Errorf("[%s, %s): %d calls, want %d (missing %v)", tc.from, tc.to, len(got), len(want), missing(want, got))
		}
		if res.Rows != len(want) || res.TotalPages != pages {
			t.Errorf("result %+v", res)
		}
		days := tc.to.Sub(tc.from).Hours() / 24
		bound := probeBound(pages, int(math.Ceil(min(days, 20)*200/10))+40) // 40 pages: the 4h margin at 200/day
		if n := f.requests.Load(); n > bound {
			t.Errorf("[%s, %s): %d requests for %d pages, want at most %d", tc.from, tc.to, n, pages, bound)
		}
	}
}

func missing(want, got []string) []string {
	var m []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			m = append(m, w)
		}
	}
	return m
}

func TestRangeOneDayOfManyPages(t *testing.T) {
	// 100 days × 300 calls at 2 rows a page: 15,000 pages, about the size of the spec's example PBX.
	calls := genCalls(2, day0, 100, 300, 0, 0)
	f := newFake(t, rowsOf(calls))
	c := f.client(t, nil)
	from, to := day0.AddDate(0, 0, 41), day0.AddDate(0, 0, 42)
	got, res := gotIDs(t, c, cdr.Query{From: from, To: to, Limit: 2})
	if want := wantIDs(calls, from, to); !slices.Equal(got, want) {
		t.Fatalf("%d calls, want %d", len(got), len(want))
	}
	n := f.requests.Load()
	t.Logf("one day of %d pages: %d requests", res.TotalPages, n)
	if res.TotalPages != 15000 || n > probeBound(15000, 150) {
		t.Errorf("%d requests over %d pages, want at most %d", n, res.TotalPages, probeBound(15000, 150))
	}
}

func TestLongestCallRaisedByData(t *testing.T) {
	// With a 10-minute margin, a 2-hour call starting at 11:30 in a range ending at noon is past the first
	// search bound; the 2-hour call of 08:10 seen on the way raises the margin and the search goes on to it.
	calls := genCalls(3, day0, 10, 100, 0, 0)
	for _, at := range []time.Duration{8*time.Hour + 10*time.Minute, 11*time.Hour + 30*time.Minute} {
		start := day0.AddDate(0, 0, 4).Add(at)
		calls = append(calls, fakeCall{id: "long." + at.String(), start: start, answer: start, end: start.Add(2 * time.Hour), disp: "ANSWERED"})
	}
	slices.SortStableFunc(calls, func(a, b fakeCall) int { return a.end.Compare(b.end) })
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.LongestCall = 10 * time.Minute; c.Limit = 10 })
	from, to := day0.AddDate(0, 0, 4), day0.AddDate(0, 0, 4).Add(12*time.Hour)
	got, _ := gotIDs(t, c, cdr.Query{From: from, To: to})
	want := wantIDs(calls, from, to)
	if !slices.Equal(got, want) {
		t.Errorf("%d calls, want %d; missing %v", len(got), len(want), missing(want, got))
	}
}

func TestMarginFindsLoneLongCall(t *testing.T) {
	// One 3-hour call, the only long one, starts at 11:30 in a range ending at noon: nothing in the data hints
	// at it, so only the LongestCall margin (4 h by default) brings its page into the search.
	calls := genCalls(8, day0, 10, 100, 0, 0)
	start := day0.AddDate(0, 0, 6).Add(11*time.Hour + 30*time.Minute)
	long := fakeCall{id: "lone.1", start: start, answer: start.Add(time.Second), end: start.Add(3 * time.Hour), disp: "ANSWERED"}
	calls = append(calls, long)
	slices.SortStableFunc(calls, func(a, b fakeCall) int { return a.end.Compare(b.end) })
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.Limit = 10 })
	from, to := day0.AddDate(0, 0, 6), day0.AddDate(0, 0, 6).Add(12*time.Hour)
	got, _ := gotIDs(t, c, cdr.Query{From: from, To: to})
	if want := wantIDs(calls, from, to); !slices.Equal(got, want) {
		t.Errorf("%d calls, want %d; missing %v", len(got), len(want), missing(want, got))
	}
}

func TestOutOfOrderFallsBackToFullScan(t *testing.T) {
	calls := genCalls(4, day0, 10, 100, 0, 0)
	// Rows in neither order: the days come newest first (a history imported back to front), so start and end
	// times both jump back a day from one day's pages to the next.
	slices.SortStableFunc(calls, func(a, b fakeCall) int {
		if c := b.start.Truncate(24 * time.Hour).Compare(a.start.Truncate(24 * time.Hour)); c != 0 {
			return c
		}
		return a.end.Compare(b.end)
	})
	f := newFake(t, rowsOf(calls))
	var warns []string
	c := f.client(t, func(c *Config) { c.Limit = 10 })
	from, to := day0.AddDate(0, 0, 3), day0.AddDate(0, 0, 4)
	var ids []string
	ctx := cdr.WithObserver(t.Context(), cdr.Observer{OnWarn: func(err error) { warns = append(warns, err.Error()) }})
	_, err := c.Calls(ctx, cdr.Query{From: from, To: to},
		func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if want := wantIDs(calls, from, to); !slices.Equal(ids, want) {
		t.Errorf("%d calls, want %d", len(ids), len(want))
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "reading all 100 pages") {
		t.Errorf("warnings %q, want one saying all pages are read", warns)
	}
}

func TestOverlappingPagesDeduplicated(t *testing.T) {
	// Every even page starts two rows early, so rows repeat across page boundaries (rows that moved between
	// two requests); each call must still come once, and all of them must come.
	calls := genCalls(5, day0, 3, 100, 0, 0)
	f := newFake(t, rowsOf(calls))
	f.shift = func(p int) int {
		if p%2 == 0 {
			return -2
		}
		return 0
	}
	c := f.client(t, nil)
	var ids []string
	if _, err := c.Calls(t.Context(), cdr.Query{From: day0, To: day0.AddDate(0, 0, 3), Limit: 10},
		func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if u := slices.Compact(slices.Clone(ids)); len(u) != len(ids) {
		t.Errorf("duplicates in %d rows", len(ids))
	}
	if want := wantIDs(calls, day0, day0.AddDate(0, 0, 3)); !slices.Equal(ids, want) {
		t.Errorf("%d calls, want %d", len(ids), len(want))
	}
}

func TestRowsInPageOrder(t *testing.T) {
	calls := genCalls(6, day0, 5, 100, 0, 0)
	f := newFake(t, rowsOf(calls))
	c := f.client(t, func(c *Config) { c.Parallel = 8; c.Limit = 7 })
	var ids []string
	if _, err := c.Calls(t.Context(), cdr.Query{}, func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(calls) {
		t.Fatalf("%d rows, want %d", len(ids), len(calls))
	}
	for i := range calls {
		if ids[i] != calls[i].id {
			t.Fatalf("row %d is %s, want %s: not in page order", i, ids[i], calls[i].id)
		}
	}
}

func TestStopByCallback(t *testing.T) {
	calls := genCalls(7, day0, 5, 100, 0, 0)
	f := newFake(t, rowsOf(calls))
	c := f.client(t, nil)
	stop := errors.New("enough")
	n := 0
	_, err := c.Calls(t.Context(), cdr.Query{Limit: 10}, func(cdr.Record) error {
		if n++; n == 15 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 15 {
		t.Errorf("err %v after %d rows", err, n)
	}
}

func TestEmptyPBX(t *testing.T) {
	f := newFake(t, nil)
	c := f.client(t, nil)
	ids, res := gotIDs(t, c, cdr.Query{From: day0, To: day0.AddDate(0, 0, 1)})
	if len(ids) != 0 || res.TotalPages != 0 || f.requests.Load() != 1 {
		t.Errorf("rows %v, result %+v, %d requests", ids, res, f.requests.Load())
	}
}
