package app

import (
	"errors"
	"io"
	"log"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/calltable"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/theme"
)

// loaderRun drives a loader on its own, as the root does: the loader's Cmds run on goroutines in a synctest
// bubble, their messages go back to loader.update, and the status lines it sends are kept. The table is the real
// call table; the source is memSource.
type loaderRun struct {
	t       *testing.T
	l       *loader
	src     *memSource
	msgs    chan tea.Msg
	pending int
	notes   []common.StatusMsg
}

func newLoaderRun(t *testing.T, src *memSource) *loaderRun {
	ctx := common.NewContext(theme.New(true, true), nil, fixedNow)
	table := calltable.New(ctx)
	table.SetSize(120, 30)
	r := &loaderRun{t: t, src: src, msgs: make(chan tea.Msg, 1024),
		l: newLoader(src, table, log.New(io.Discard, "", 0), fixedNow)}
	t.Cleanup(func() {
		r.l.stop()
		for ; r.pending > 0; r.pending-- {
			if b, ok := (<-r.msgs).(tea.BatchMsg); ok {
				for _, c := range b {
					r.exec(c)
				}
			}
		}
	})
	return r
}

func (r *loaderRun) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	r.pending++
	go func() { r.msgs <- cmd() }()
}

// do runs what a call on the loader returned until the bubble settles.
func (r *loaderRun) do(cmd tea.Cmd) {
	r.exec(cmd)
	for {
		synctest.Wait()
		select {
		case msg := <-r.msgs:
			r.pending--
			r.handle(msg)
		default:
			return
		}
	}
}

func (r *loaderRun) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			r.exec(c)
		}
	case common.StatusMsg:
		r.notes = append(r.notes, msg)
	default:
		cmd, ok := r.l.update(msg)
		if !ok {
			r.t.Fatalf("the loader does not take its own message %T", msg)
		}
		r.exec(cmd)
	}
}

// note is the last status line, "✗ …" for an error.
func (r *loaderRun) note() string {
	if len(r.notes) == 0 {
		return ""
	}
	n := r.notes[len(r.notes)-1]
	if n.Err != nil {
		return "✗ " + n.Err.Error()
	}
	return n.Text
}

func (r *loaderRun) ids() []string {
	rows := r.l.table.Rows()
	out := make([]string, rows.Len())
	for i := range out {
		out[i] = rows.At(i).UniqueID
	}
	return out
}

// loaderWorld is today's calls and five from ten days back.
func loaderWorld() (today, old []cdr.Record, src *memSource) {
	today = makeRecords(todayCalls, fixedNow())
	old = makeRecords(5, time.Date(2024, 2, 20, 12, 0, 0, 0, pbxZone))
	return today, old, &memSource{recs: append(slices.Clone(old), today...)}
}

func TestLoaderLoadsRangesAndSaysWhatIsLoaded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, src := loaderWorld()
		r := newLoaderRun(t, src)
		r.do(r.l.start(cdr.Query{}, cdr.Lookup{}))
		if busy, _ := r.l.busy(); busy || r.l.table.Loaded() != todayCalls {
			t.Fatalf("start: busy=%v, %d rows, want today's %d", busy, r.l.table.Loaded(), todayCalls)
		}
		if r.l.rangeText() != "today 2024-03-01" || r.note() != "loaded 300 calls" || !r.l.rowsChanged() {
			t.Fatalf("start: range %q, note %q", r.l.rangeText(), r.note())
		}
		if r.l.rowsChanged() {
			t.Fatal("rowsChanged reported the same change twice")
		}
		for _, tc := range []struct {
			q     cdr.Query
			rows  int
			label string
		}{
			{cdr.Query{From: time.Date(2024, 2, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 2, 21, 0, 0, 0, 0, time.UTC)}, 5, "2024-02-20"},
			{cdr.Query{From: time.Date(2024, 2, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)}, todayCalls + 5, "2024-02-20 → 2024-03-01"},
			{cdr.Query{From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)}, 0, "2023-01-01"},
		} {
			r.do(r.l.load(tc.q, describeQuery(tc.q)))
			if r.l.table.Loaded() != tc.rows || r.l.rangeText() != tc.label || !r.l.query.From.Equal(tc.q.From) {
				t.Errorf("%s: %d rows, range %q", tc.label, r.l.table.Loaded(), r.l.rangeText())
			}
		}
		if got := r.l.emptyText(); got != "no calls on 2023-01-01 — y, w, m or R load other days" {
			t.Errorf("empty text %q", got)
		}
	})
}

// An answer to a fetch that was replaced is dropped: its rows, its end and its error.
func TestLoaderDropsLateAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, src := loaderWorld()
		r := newLoaderRun(t, src)
		r.do(r.l.loadPreset(presetToday))
		r.l.loadPreset(presetWeek) // its Cmd is never run: the stream stays open, as a slow PBX's would
		stale := r.l.fetch
		second := r.l.loadPreset(presetToday)
		for _, msg := range []tea.Msg{
			batchMsg{s: stale, rows: makeRecords(7, time.Date(2024, 2, 27, 9, 0, 0, 0, pbxZone))},
			doneMsg{s: stale, err: errors.New("late failure")},
		} {
			if cmd, ok := r.l.update(msg); !ok || cmd != nil {
				t.Fatalf("a late %T was not dropped", msg)
			}
		}
		if r.l.table.Loaded() != todayCalls || r.l.fetch == nil || r.l.fetch == stale {
			t.Fatalf("a late answer changed the loader: %d rows, fetch %p", r.l.table.Loaded(), r.l.fetch)
		}
		r.do(second)
		if r.l.table.Loaded() != todayCalls || r.l.rangeText() != "today 2024-03-01" {
			t.Fatalf("after the current fetch: %d rows, range %q", r.l.table.Loaded(), r.l.rangeText())
		}
	})
}

// A fetch that fails keeps what the user sees and says so: at once, the old rows and their range; part-way, the
// rows that arrived, under the new range; a refresh swaps in only when complete.
func TestLoaderFailuresKeepRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, src := loaderWorld()
		r := newLoaderRun(t, src)
		r.do(r.l.loadPreset(presetToday))

		src.set(errors.New("pbx 10.0.0.5: connection refused"), 0)
		r.do(r.l.refresh())
		if r.l.table.Loaded() != todayCalls || r.note() != "✗ pbx 10.0.0.5: connection refused (300 rows kept; r retries)" {
			t.Fatalf("failed refresh: %d rows, note %q", r.l.table.Loaded(), r.note())
		}
		r.do(r.l.loadPreset(presetWeek))
		if r.l.table.Loaded() != todayCalls || r.l.rangeText() != "today 2024-03-01" {
			t.Fatalf("failed load: %d rows, range %q", r.l.table.Loaded(), r.l.rangeText())
		}
		src.set(errors.New("pbx 10.0.0.5: the answer was cut off"), 120)
		r.do(r.l.loadPreset(presetWeek))
		if r.l.table.Loaded() != 120 || !strings.HasPrefix(r.l.rangeText(), "last 7 days") || !strings.Contains(r.note(), "cut off") {
			t.Fatalf("cut-off load: %d rows, range %q, note %q", r.l.table.Loaded(), r.l.rangeText(), r.note())
		}
		src.set(nil, 0)
		r.do(r.l.refresh())
		if r.l.table.Loaded() != todayCalls || r.note() != "refreshed: 300 calls" {
			t.Fatalf("refresh: %d rows, note %q", r.l.table.Loaded(), r.note())
		}
	})
}

func TestLoaderCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, src := loaderWorld()
		r := newLoaderRun(t, src)
		r.do(r.l.loadPreset(presetToday))
		if _, ok := r.l.cancel(); ok {
			t.Fatal("cancel with nothing running said it cancelled")
		}
		src.mu.Lock()
		src.gate = make(chan struct{})
		src.mu.Unlock()
		r.do(r.l.loadPreset(presetMonth))
		if busy, _ := r.l.busy(); !busy || !strings.HasPrefix(r.l.emptyText(), "no calls match") {
			t.Fatalf("gated load: busy=%v", busy)
		}
		cmd, ok := r.l.cancel()
		r.do(cmd)
		if !ok || r.l.fetch != nil || r.l.table.Loaded() != todayCalls || r.note() != "fetch cancelled; 300 rows kept" {
			t.Fatalf("cancel: ok=%v, %d rows, note %q", ok, r.l.table.Loaded(), r.note())
		}
		close(src.gate)
		synctest.Wait()
		if r.l.table.Loaded() != todayCalls {
			t.Fatal("the cancelled fetch still changed the table")
		}
	})
}

// Follow polls from the newest call every followEvery (in the bubble's fake time), adds only calls not loaded
// yet, keeps the cursor, and stops when turned off.
func TestLoaderFollow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, src := loaderWorld()
		r := newLoaderRun(t, src)
		r.do(r.l.loadPreset(presetToday))
		r.l.table.Update(press("down"))
		sel := r.l.table.Selected().UniqueID
		r.do(r.l.toggleFollow())
		if !r.l.follow || r.l.table.Loaded() != todayCalls || src.fetches() != 2 {
			t.Fatalf("follow on: %v, %d rows, %d fetches", r.l.follow, r.l.table.Loaded(), src.fetches())
		}
		fresh := makeRecords(2, fixedNow().Add(5*time.Minute))
		src.mu.Lock()
		src.recs = append(src.recs, fresh...)
		src.mu.Unlock()
		time.Sleep(followEvery)
		r.do(nil)
		if r.l.table.Loaded() != todayCalls+2 || r.note() != "2 new calls" || r.l.table.Selected().UniqueID != sel {
			t.Fatalf("poll: %d rows, note %q", r.l.table.Loaded(), r.note())
		}
		if got := r.ids()[0]; got != fresh[1].UniqueID {
			t.Fatalf("top row %s, want the newest new call", got)
		}
		// A tick from an older arming does nothing.
		if cmd, ok := r.l.update(followTick{gen: r.l.followGen - 1}); !ok || cmd != nil {
			t.Fatal("a stale follow tick started a poll")
		}
		r.do(r.l.toggleFollow())
		polls := src.fetches()
		time.Sleep(3 * followEvery)
		r.do(nil)
		if r.l.follow || src.fetches() != polls || r.note() != "follow off" {
			t.Fatalf("follow off: still %v, %d more fetches, note %q", r.l.follow, src.fetches()-polls, r.note())
		}
	})
}

func TestLoaderPages(t *testing.T) {
	t.Run("the PBX's", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			today, _, _ := loaderWorld()
			r := newLoaderRun(t, &memSource{recs: today, pages: true})
			r.do(r.l.loadPreset(presetToday))
			for _, tc := range []struct {
				d          int
				page, rows int
				text, note string
			}{
				{1, 1, 100, "page 1/3", "loaded 100 calls"},
				{1, 2, 100, "page 2/3", "loaded 100 calls"},
				{1, 3, 100, "page 3/3", "loaded 100 calls"},
				{1, 3, 100, "page 3/3", "already on the last page (3)"},
				{-1, 2, 100, "page 2/3", "loaded 100 calls"},
			} {
				r.do(r.l.pageBy(tc.d))
				if r.l.query.Page != tc.page || r.l.table.Loaded() != tc.rows || r.l.rangeText() != tc.text || r.note() != tc.note {
					t.Fatalf("%+d: page %d, %d rows, %q, note %q; want %+v", tc.d, r.l.query.Page, r.l.table.Loaded(),
						r.l.rangeText(), r.note(), tc)
				}
			}
			r.do(r.l.setPageSize(250))
			if r.l.query.Page != 1 || r.l.table.Loaded() != 250 || r.l.rangeText() != "page 1/2" {
				t.Fatalf("page size 250: page %d, %d rows, %q", r.l.query.Page, r.l.table.Loaded(), r.l.rangeText())
			}
		})
	})
	t.Run("local", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, _, src := loaderWorld()
			r := newLoaderRun(t, src)
			r.do(r.l.loadPreset(presetToday))
			r.do(r.l.pageBy(1))
			if cur, n := r.l.table.Page(); cur != 1 || n != 3 || r.l.rangeText() != "today 2024-03-01 · page 1/3" {
				t.Fatalf("] pages the range: %d/%d, %q", cur, n, r.l.rangeText())
			}
			r.do(r.l.pageBy(-1))
			if r.note() != "already on the first page" {
				t.Fatalf("note %q", r.note())
			}
			r.do(r.l.gotoPage(3))
			if cur, n := r.l.pageNow(); cur != 3 || n != 3 {
				t.Fatalf("page %d of %d, want 3 of 3", cur, n)
			}
			r.do(r.l.loadPreset(presetToday))
			if _, n := r.l.table.Page(); n != 0 {
				t.Fatal("a new range stayed paged")
			}
		})
	})
}

// A call asked for by ID while its rows load is selected when they arrive; when they do not list it, it is added
// and the note says so; when the filters hide it, the loader asks the root to clear them.
func TestLoaderGoto(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		today, old, src := loaderWorld()
		extra := makeRecords(1, fixedNow().Add(-time.Hour))[0]
		extra.UniqueID = "1709290000.77"
		r := newLoaderRun(t, src)
		unfiltered := 0
		r.l.unfilter = func() { unfiltered++; r.l.table.SetFilter(nil) }

		// At start-up, on a call of another day: that day is loaded around it.
		r.do(r.l.start(cdr.Query{}, cdr.ByID(old[3].UniqueID)))
		if s := r.l.table.Selected(); s == nil || s.UniqueID != old[3].UniqueID || r.l.rangeText() != "2024-02-20" {
			t.Fatalf("open on a call: selected %v, range %q", s, r.l.rangeText())
		}
		// Loaded and shown.
		r.do(r.l.gotoCall(cdr.ByID(old[1].UniqueID), false))
		if r.l.table.Selected().UniqueID != old[1].UniqueID || r.note() != "on call "+old[1].UniqueID+": enter plays it" {
			t.Fatalf("go to a loaded call: note %q", r.note())
		}
		// Loaded but filtered out.
		r.l.table.SetFilter(filter.State{Search: "no call holds this text"}.Compile(nil, filter.Dialling{}))
		r.do(r.l.gotoCall(cdr.ByID(old[2].UniqueID), false))
		if unfiltered != 1 || r.l.table.Selected().UniqueID != old[2].UniqueID {
			t.Fatalf("go to a hidden call: unfiltered %d times, selected %s", unfiltered, r.l.table.Selected().UniqueID)
		}
		// Outside the range: added.
		r.do(r.l.gotoCall(cdr.ByID(today[7].UniqueID), false))
		if r.l.table.Selected().UniqueID != today[7].UniqueID || r.l.table.Loaded() != 6 || !strings.Contains(r.note(), "added to the list") {
			t.Fatalf("go to a call of another day: %d rows, note %q", r.l.table.Loaded(), r.note())
		}
		// Unknown: said, nothing moves.
		r.do(r.l.gotoCall(cdr.ByID("1709000000.999"), false))
		if r.l.table.Selected().UniqueID != today[7].UniqueID || !strings.Contains(r.note(), "✗ cannot go to ID 1709000000.999") {
			t.Fatalf("go to an unknown call: note %q", r.note())
		}
		// Asked while a load runs: selected when its rows are in; a call they lack is added after them, and the
		// note says so before the count.
		usrc := &unlistedSource{memSource: src, extra: extra}
		r.l.src = usrc
		src.mu.Lock()
		src.gate = make(chan struct{})
		src.mu.Unlock()
		r.do(r.l.loadPreset(presetToday))
		r.do(r.l.gotoCall(cdr.ByID(extra.UniqueID), false))
		close(src.gate)
		r.do(nil)
		if s := r.l.table.Selected(); s == nil || s.UniqueID != extra.UniqueID || r.l.table.Loaded() != todayCalls+1 {
			t.Fatalf("go to during a load: selected %v, %d rows", s, r.l.table.Loaded())
		}
		if want := "call " + extra.UniqueID + " is outside the loaded range: added to the list; loaded 300 calls"; r.note() != want {
			t.Fatalf("note %q, want %q", r.note(), want)
		}
	})
}

// A PBX that filters by extension itself (Difuse) is asked again when the one extension filtered by changes,
// and only then.
func TestLoaderServerExtension(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		today, _, _ := loaderWorld()
		src := &memSource{recs: today, ext: true}
		r := newLoaderRun(t, src)
		r.do(r.l.loadPreset(presetToday))
		asked := func() (int, string) {
			src.mu.Lock()
			defer src.mu.Unlock()
			return src.calls, src.last.Extension
		}
		for _, tc := range []struct {
			exts    []string
			refetch bool
			calls   int
			ext     string
			rows    int
		}{
			{[]string{"205"}, false, 1, "", todayCalls},       // typing: not yet
			{[]string{"205"}, true, 2, "205", todayCalls / 6}, // the panel closed
			{[]string{"205"}, true, 2, "205", todayCalls / 6}, // the same again: no fetch
			{[]string{"201", "205"}, true, 3, "", todayCalls}, // two: the PBX cannot, the table does
			{nil, true, 3, "", todayCalls},                    // cleared: already all
		} {
			r.do(r.l.filterBy(tc.exts, tc.refetch))
			if n, ext := asked(); n != tc.calls || ext != tc.ext || r.l.table.Loaded() != tc.rows {
				t.Fatalf("filter %v (refetch %v): %d fetches, last for %q, %d rows; want %+v", tc.exts, tc.refetch, n,
					ext, r.l.table.Loaded(), tc)
			}
		}
	})
}

// Without a PBX every fetch says what to do, and nothing runs.
func TestLoaderWithoutSource(t *testing.T) {
	ctx := common.NewContext(theme.New(true, true), nil, fixedNow)
	l := newLoader(nil, calltable.New(ctx), log.New(io.Discard, "", 0), fixedNow)
	for name, cmd := range map[string]tea.Cmd{"start": l.start(cdr.Query{}, cdr.Lookup{}), "refresh": l.refresh(),
		"goto": l.gotoCall(cdr.ByID("1.2"), false)} {
		msg, ok := cmd().(common.StatusMsg)
		if !ok || !errors.Is(msg.Err, errNoSource) {
			t.Errorf("%s: %v", name, msg)
		}
	}
	if l.fetch != nil || l.emptyText() != errNoSource.Error() {
		t.Fatalf("fetch %v, empty text %q", l.fetch, l.emptyText())
	}
}
