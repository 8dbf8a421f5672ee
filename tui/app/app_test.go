package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/export"
)

// todayCalls is how many calls the fixed world has on its "today"; older ones sit ten days back.
const todayCalls = 300

func newWorld(t *testing.T, w, h int) (*harness, *memSource) {
	t.Helper()
	recs := makeRecords(todayCalls, fixedNow())
	old := makeRecords(5, time.Date(2024, 2, 20, 12, 0, 0, 0, pbxZone))
	src := &memSource{recs: append(old, recs...)}
	hs := newHarness(t, Options{Source: src}, w, h)
	hs.idle()
	return hs, src
}

func shownIDs(m *Model) []string {
	rows := m.table.Rows()
	out := make([]string, rows.Len())
	for i := range out {
		out[i] = rows.At(i).UniqueID
	}
	return out
}

func TestStartLoadsToday(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		if got := m.table.Loaded(); got != todayCalls {
			t.Fatalf("loaded %d calls at start, want today's %d", got, todayCalls)
		}
		if q := m.load.query; !q.From.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(q.From.AddDate(0, 0, 1)) {
			t.Fatalf("start query %v → %v, want 2024-03-01 → 2024-03-02", q.From, q.To)
		}
		if r := m.statusFields().Range; r != "today 2024-03-01" {
			t.Fatalf("status range %q", r)
		}
		if !strings.Contains(h.screen(), "300/300 calls") {
			t.Fatalf("status bar lacks the counts:\n%s", h.screen())
		}
		// Newest first, cursor on it, and the detail pane follows the selection.
		if sel := m.table.Selected(); sel == nil || !sel.Start.Equal(fixedNow().Add(-97*time.Second)) {
			t.Fatalf("selected %+v, want the newest call", sel)
		}
	})
}

func TestFilterByExtension(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		h.keys("f")
		if m.focus.dialog == nil {
			t.Fatal("f did not open the filter panel")
		}
		h.typeText("203")
		h.keys("enter")
		if m.focus.dialog != nil {
			t.Fatal("enter did not close the filter panel")
		}
		rows := m.table.Rows()
		if rows.Len() != todayCalls/6 {
			t.Fatalf("extension 203 shows %d calls, want %d", rows.Len(), todayCalls/6)
		}
		for i := range rows.Len() {
			if rows.At(i).Extension != "203" {
				t.Fatalf("row %d is extension %s", i, rows.At(i).Extension)
			}
		}
		if got := m.statusFields().Filters; got != "ext 203" {
			t.Fatalf("status filters %q, want \"ext 203\"", got)
		}
		if !strings.Contains(h.screen(), "filter: ext 203") {
			t.Fatalf("screen lacks the filter:\n%s", h.screen())
		}
		h.keys("esc")
		if m.table.Shown() != todayCalls || !m.filters.IsZero() {
			t.Fatalf("esc left %d shown, filters %q", m.table.Shown(), m.filters)
		}
	})
}

func TestSearch(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		h.keys("/")
		h.typeText("pieter")
		// Filters as the user types, before enter.
		if m.table.Shown() != todayCalls/6 {
			t.Fatalf("search shows %d calls, want %d", m.table.Shown(), todayCalls/6)
		}
		h.keys("enter")
		for _, r := range rowsOf(m) {
			if r.FriendlyName != "Pieter van Wyk" {
				t.Fatalf("search for pieter shows %s's call", r.FriendlyName)
			}
		}
		if got := m.statusFields().Filters; got != `"pieter"` {
			t.Fatalf("status filters %q", got)
		}
		// A number, and then esc inside the search bar clears it.
		h.keys("/")
		for range len("pieter") {
			h.keys("backspace")
		}
		h.typeText("0825550009")
		if ids := rowsOf(m); len(ids) != 1 || ids[0].CallerID != "0825550009" {
			t.Fatalf("search by caller ID found %d calls", len(ids))
		}
		h.keys("esc")
		if m.table.Shown() != todayCalls || m.filters.Search != "" {
			t.Fatalf("esc in search left %d shown, search %q", m.table.Shown(), m.filters.Search)
		}
	})
}

func rowsOf(m *Model) []*cdr.Record {
	rows := m.table.Rows()
	out := make([]*cdr.Record, rows.Len())
	for i := range out {
		r := rows.At(i)
		out[i] = &r
	}
	return out
}

func TestSort(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		if got := sortedBy(h); got != "Start▼" {
			t.Fatalf("default sort %q", got)
		}
		h.keys("s", "s") // start → type → extension
		if got := sortedBy(h); got != "Extension▲" {
			t.Fatalf("after s s the header says %q, want extension ascending", got)
		}
		rows := rowsOf(m)
		if rows[0].Extension != "201" || rows[len(rows)-1].Extension != "206" {
			t.Fatalf("extension sort runs %s … %s", rows[0].Extension, rows[len(rows)-1].Extension)
		}
		// Stable: within one extension the calls keep their load order (oldest first).
		if !rows[0].Start.Before(rows[1].Start) {
			t.Fatal("sort is not stable within an extension")
		}
		h.keys("S")
		rows = rowsOf(m)
		if got := sortedBy(h); got != "Extension▼" || rows[0].Extension != "206" {
			t.Fatalf("S gives %q, first %s", got, rows[0].Extension)
		}
	})
}

// sortedBy is the column the table's header marks as sorted, with its arrow: "Start▼".
func sortedBy(h *harness) string {
	header := strings.Split(ansi.Strip(h.screen()), "\n")[1]
	for _, w := range strings.Fields(header) {
		if strings.HasSuffix(w, "▲") || strings.HasSuffix(w, "▼") {
			return w
		}
	}
	return ""
}

func TestMarkThreeAndExport(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		want := shownIDs(m)[:3]
		h.keys("space", "space", "space")
		if m.table.Marked() != 3 {
			t.Fatalf("marked %d, want 3", m.table.Marked())
		}
		if !strings.Contains(h.screen(), "3 marked") {
			t.Fatalf("status bar lacks the marks:\n%s", h.screen())
		}
		h.seen = nil
		h.keys("e")
		req := findExport(t, h)
		if !req.Marked || req.Rows.Len() != 3 {
			t.Fatalf("export request marked=%v rows=%d, want the 3 marked", req.Marked, req.Rows.Len())
		}
		for i, id := range want {
			if got := req.Rows.At(i).UniqueID; got != id {
				t.Fatalf("export row %d is %s, want %s", i, got, id)
			}
		}
		if m.focus.dialog != m.export || m.export.State() != export.Prompting {
			t.Fatal("e did not open the export dialog")
		}
		if !strings.Contains(h.screen(), "Export 3 marked calls to CSV") {
			t.Fatalf("export dialog not on screen:\n%s", h.screen())
		}
		// Write it for real and read it back.
		path := t.TempDir() + "/three.csv"
		h.keys("ctrl+u") // clear the default name
		h.typeText(path)
		h.keys("enter")
		h.waitFor("the export", func() bool { return m.export.State() == export.Done })
		if !strings.Contains(h.statusLine(), "exported 3 calls") {
			t.Fatalf("status after export: %q", h.statusLine())
		}
		h.keys("enter")
		if m.focus.dialog != nil {
			t.Fatal("enter did not close the finished export")
		}
		// Marks survive a refresh.
		h.keys("r")
		h.idle()
		if m.table.Marked() != 3 {
			t.Fatalf("refresh kept %d marks, want 3", m.table.Marked())
		}
	})
}

func findExport(t *testing.T, h *harness) common.ExportRequest {
	t.Helper()
	for _, msg := range h.seen {
		if r, ok := msg.(common.ExportRequest); ok {
			return r
		}
	}
	t.Fatal("e sent no ExportRequest")
	return common.ExportRequest{}
}

func TestExportAllShownWhenNoneMarked(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		h.keys("f")
		h.typeText("204")
		h.keys("enter")
		h.seen = nil
		h.keys("e")
		req := findExport(t, h)
		// Extension 204's calls: its own and the internal calls others made to it (cdr.Record.InvolvesExtension).
		want := 0
		for _, r := range makeRecords(todayCalls, fixedNow()) {
			if r.InvolvesExtension("204") {
				want++
			}
		}
		if req.Marked || req.Rows.Len() != want || want <= todayCalls/6 {
			t.Fatalf("export request marked=%v rows=%d, want all %d shown", req.Marked, req.Rows.Len(), want)
		}
		h.keys("esc")
		if h.m.focus.dialog != nil {
			t.Fatal("esc did not close the export dialog")
		}
	})
}

func TestStaleFetchDropped(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		m := h.m
		// Two loads in a row; the answer to the first arrives after the second was asked.
		first := m.load.loadPreset(presetWeek)
		stale := m.load.fetch
		_ = first
		second := m.load.loadPreset(presetToday)
		if m.load.fetch == stale {
			t.Fatal("a new load did not replace the running one")
		}
		late := makeRecords(7, time.Date(2024, 2, 27, 9, 0, 0, 0, pbxZone))
		h.send(batchMsg{s: stale, rows: late})
		h.send(doneMsg{s: stale, err: errors.New("late failure")})
		if m.table.Loaded() != todayCalls || h.shownErr() != "" {
			t.Fatalf("a late answer changed the table: %d rows, status error %q", m.table.Loaded(), h.shownErr())
		}
		if m.load.fetch == nil {
			t.Fatal("the late answer ended the current fetch")
		}
		h.exec(second)
		h.idle()
		if m.table.Loaded() != todayCalls || m.statusFields().Range != "today 2024-03-01" {
			t.Fatalf("after the current fetch: %d rows, range %q", m.table.Loaded(), m.statusFields().Range)
		}
		_ = src
	})
}

func TestFailedFetchKeepsRows(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		m := h.m
		src.set(errors.New("pbx 10.0.0.5: connection refused"), 0)
		h.keys("r")
		h.idle()
		if m.table.Loaded() != todayCalls {
			t.Fatalf("a failed refresh left %d rows, want %d", m.table.Loaded(), todayCalls)
		}
		err := h.shownErr()
		if !strings.Contains(err, "connection refused") || !strings.Contains(err, "kept") {
			t.Fatalf("status error %q", err)
		}
		if !strings.Contains(h.screen(), "connection refused") {
			t.Fatalf("the error is not on screen:\n%s", h.screen())
		}
		// A new range that fails at once leaves today's rows and label in place.
		h.keys("w")
		h.idle()
		if m.table.Loaded() != todayCalls || m.statusFields().Range != "today 2024-03-01" {
			t.Fatalf("failed load: %d rows, range %q", m.table.Loaded(), m.statusFields().Range)
		}
		// One cut off part-way keeps what arrived.
		src.set(errors.New("pbx 10.0.0.5: the answer was cut off after 40 KB"), 120)
		h.keys("w")
		h.idle()
		if m.table.Loaded() != 120 || !strings.HasPrefix(m.statusFields().Range, "last 7 days") {
			t.Fatalf("cut-off load: %d rows, range %q", m.table.Loaded(), m.statusFields().Range)
		}
		if err := h.shownErr(); !strings.Contains(err, "cut off") {
			t.Fatalf("cut-off load: status %q", err)
		}
	})
}

func TestCancelFetch(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		m := h.m
		src.mu.Lock()
		src.gate = make(chan struct{})
		src.mu.Unlock()
		h.keys("m")
		if m.load.fetch == nil || !strings.Contains(m.statusFields().Busy, "loading") {
			t.Fatalf("no fetch running after m (busy %q)", m.statusFields().Busy)
		}
		h.keys("esc")
		if m.load.fetch != nil {
			t.Fatal("esc did not cancel the fetch")
		}
		if m.table.Loaded() != todayCalls || !strings.Contains(h.statusLine(), "cancelled") {
			t.Fatalf("after cancel: %d rows, status %q", m.table.Loaded(), h.statusLine())
		}
		close(src.gate)
		h.drain()
		if m.table.Loaded() != todayCalls {
			t.Fatal("the cancelled fetch still changed the table")
		}
	})
}

func TestGotoCall(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		m := h.m
		target := src.recs[5+100] // today's 101st call
		h.keys(":")
		h.typeText(target.UniqueID)
		h.keys("enter")
		h.waitFor("the call", func() bool { s := m.table.Selected(); return s != nil && s.UniqueID == target.UniqueID })

		// By exact start time, outside the loaded range: fetched and added.
		old := src.recs[2]
		h.keys(":")
		h.typeText(cdr.WallClock(old.Start).Format("2006-01-02 15:04:05"))
		h.keys("enter")
		h.waitFor("the old call", func() bool { s := m.table.Selected(); return s != nil && s.UniqueID == old.UniqueID })
		if m.table.Loaded() != todayCalls+1 || !strings.Contains(h.statusLine(), "added") {
			t.Fatalf("old call: %d loaded, status %q", m.table.Loaded(), h.statusLine())
		}

		// Unknown: said in the status bar, selection unchanged.
		h.keys(":")
		h.typeText("1709000000.999")
		h.keys("enter")
		h.waitFor("the error", func() bool { return h.shownErr() != "" })
		if !strings.Contains(h.shownErr(), "no call with ID 1709000000.999") {
			t.Fatalf("status %q", h.statusLine())
		}
		if s := m.table.Selected(); s.UniqueID != old.UniqueID {
			t.Fatal("a failed go-to moved the cursor")
		}
		// A bad entry keeps the prompt open and says why.
		h.keys(":")
		h.typeText("2024 03 01")
		h.keys("enter")
		if m.focus.dialog == nil {
			t.Fatal("a bad entry closed the go-to prompt")
		}
		if !strings.Contains(h.screen(), "neither a unique ID") {
			t.Fatalf("the prompt does not say what is wrong:\n%s", h.screen())
		}
	})
}

func TestOpenOnGoto(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		old := makeRecords(5, time.Date(2024, 2, 20, 12, 0, 0, 0, pbxZone))
		src := &memSource{recs: append(old, recs...)}
		h := newHarness(t, Options{Source: src, Goto: cdr.ByID(old[3].UniqueID)}, 120, 40)
		h.idle()
		h.waitFor("the call", func() bool { s := h.m.table.Selected(); return s != nil && s.UniqueID == old[3].UniqueID })
		if h.m.table.Loaded() != 5 || h.m.statusFields().Range != "2024-02-20" {
			t.Fatalf("opened on %d rows of %q, want the call's day", h.m.table.Loaded(), h.m.statusFields().Range)
		}
	})
}

func TestFollowAddsOnTopWithoutMovingCursor(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		m := h.m
		h.keys("down", "down")
		sel := m.table.Selected().UniqueID
		h.keys("F")
		h.idle()
		if !m.load.follow || !strings.Contains(h.screen(), "following") {
			t.Fatal("F did not turn follow on")
		}
		fresh := makeRecords(2, fixedNow().Add(5*time.Minute))
		src.mu.Lock()
		src.recs = append(src.recs, fresh...)
		src.mu.Unlock()
		_, cmd := m.Update(followTick{gen: m.load.followGen}) // the harness drops ticks; this one is the test's
		h.exec(cmd)
		h.waitFor("the poll", func() bool { return m.table.Loaded() > todayCalls })
		if m.table.Loaded() != todayCalls+2 {
			t.Fatalf("follow loaded %d, want %d (no duplicates)", m.table.Loaded(), todayCalls+2)
		}
		if m.table.Selected().UniqueID != sel {
			t.Fatal("new calls moved the cursor off its call")
		}
		if top := m.table.Rows().At(0).UniqueID; top != fresh[1].UniqueID {
			t.Fatalf("top row %s, want the newest new call", top)
		}
		h.keys("F")
		if m.load.follow {
			t.Fatal("F did not turn follow off")
		}
	})
}

func TestLocalPages(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		h.keys("]")
		if p, n := m.table.Page(); p != 1 || n != 3 {
			t.Fatalf("] gives page %d of %d, want 1 of 3", p, n)
		}
		h.keys("]")
		if p, _ := m.table.Page(); p != 2 || !strings.Contains(m.statusFields().Range, "page 2/3") {
			t.Fatalf("page %d, range %q", p, m.statusFields().Range)
		}
		// A refresh keeps the cursor's call, on its page.
		h.keys("down", "down")
		sel := m.table.Selected().UniqueID
		h.keys("r")
		h.idle()
		if p, _ := m.table.Page(); p != 2 || m.table.Selected().UniqueID != sel {
			t.Fatalf("after refresh: page %d, selected %s, want page 2 and %s", p, m.table.Selected().UniqueID, sel)
		}
		h.keys("P")
		h.keys("backspace")
		h.typeText("3")
		h.keys("enter")
		if p, _ := m.table.Page(); p != 3 {
			t.Fatalf("P 3 gives page %d", p)
		}
		h.keys("Z")
		h.keys("backspace", "backspace", "backspace")
		h.typeText("50")
		h.keys("enter")
		if _, n := m.table.Page(); n != 6 {
			t.Fatalf("page size 50 gives %d pages, want 6", n)
		}
		h.keys("t")
		h.idle()
		if _, n := m.table.Page(); n != 0 {
			t.Fatal("a new range stayed paged")
		}
	})
}

func TestPBXPages(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		src := &memSource{recs: recs, pages: true}
		h := newHarness(t, Options{Source: src}, 120, 40)
		h.idle()
		m := h.m
		h.keys("]")
		h.idle()
		if m.load.query.Page != 1 || m.table.Loaded() != 100 || m.statusFields().Range != "page 1/3" {
			t.Fatalf("] gives page %d, %d rows, %q", m.load.query.Page, m.table.Loaded(), m.statusFields().Range)
		}
		h.keys("]")
		h.idle()
		if got := m.table.Record(0).UniqueID; got != recs[100].UniqueID {
			t.Fatalf("page 2 starts with %s, want %s", got, recs[100].UniqueID)
		}
		h.keys("]", "]")
		h.idle()
		if m.load.query.Page != 3 || !strings.Contains(h.statusLine(), "last page") {
			t.Fatalf("past the end: page %d, status %q", m.load.query.Page, h.statusLine())
		}
		h.keys("[")
		h.idle()
		if m.load.query.Page != 2 {
			t.Fatalf("[ gives page %d", m.load.query.Page)
		}
	})
}

func TestDialogsOpenAndClose(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		for _, k := range []string{"u", "o", "f", "R", ":", "P", "Z"} {
			h.keys(k)
			if m.focus.dialog == nil {
				t.Fatalf("%s opened no dialog", k)
			}
			h.keys("esc")
			if m.focus.dialog != nil {
				t.Fatalf("esc did not close the dialog %s opened", k)
			}
		}
		h.keys("?")
		if !strings.Contains(h.screen(), "previous page") {
			t.Fatal("? shows no full help")
		}
		h.keys("esc")
		if strings.Contains(h.screen(), "previous page") {
			t.Fatal("esc did not close the help")
		}
		h.keys("d")
		if !m.showDetail || !strings.Contains(h.screen(), "Call details") {
			t.Fatal("d did not show the detail pane")
		}
		h.keys("q")
		if !h.quit {
			t.Fatal("q did not quit")
		}
	})
}

func TestUsersPickExtension(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		h.keys("u")
		if !strings.Contains(h.screen(), "Pieter van Wyk") {
			t.Fatalf("users view lacks names:\n%s", h.screen())
		}
		h.keys("down", "enter")
		if m.focus.dialog != nil || m.statusFields().Filters != "ext 202" {
			t.Fatalf("enter on a user: dialog %v, filters %q", m.focus.dialog != nil, m.statusFields().Filters)
		}
	})
}

func TestRangePrompt(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		h.keys("R")
		for range 20 {
			h.keys("backspace")
		}
		h.typeText("2024-02-20")
		h.keys("tab")
		for range 20 {
			h.keys("backspace")
		}
		h.keys("enter")
		h.idle()
		if m.table.Loaded() != 5 || m.statusFields().Range != "2024-02-20" {
			t.Fatalf("custom range: %d rows, %q", m.table.Loaded(), m.statusFields().Range)
		}
	})
}

func TestMouse(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		m := h.m
		// Line 0 is the app header, line 1 the table's header, line 2 the first call.
		h.send(tea.MouseClickMsg{X: 10, Y: 5, Button: tea.MouseLeft})
		if m.table.Cursor() != 3 {
			t.Fatalf("a click on screen line 5 selected row %d, want 3", m.table.Cursor())
		}
		h.send(tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
		if m.table.Cursor() != 6 {
			t.Fatalf("the wheel moved the cursor to %d, want 6", m.table.Cursor())
		}
		// A click on the header sorts by the column under it.
		h.send(tea.MouseClickMsg{X: 30, Y: 1, Button: tea.MouseLeft})
		if got := sortedBy(h); got != "Extension▲" {
			t.Fatalf("a click on the Extension header sorts by %q", got)
		}
		// With a dialog open the mouse does not reach the table.
		before := m.table.Cursor()
		h.keys("u")
		h.send(tea.MouseClickMsg{X: 10, Y: 30, Button: tea.MouseLeft})
		if m.table.Cursor() != before {
			t.Fatal("a click went through the dialog")
		}
	})
}

func TestServerSideExtensionFilter(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		src := &memSource{recs: recs, ext: true}
		h := newHarness(t, Options{Source: src}, 120, 40)
		h.idle()
		h.keys("f")
		h.typeText("205")
		h.keys("enter")
		h.idle()
		src.mu.Lock()
		asked := src.last.Extension
		src.mu.Unlock()
		if asked != "205" || h.m.table.Loaded() != todayCalls/6 || h.m.table.Shown() != todayCalls/6 {
			t.Fatalf("asked the PBX for extension %q; %d loaded, %d shown", asked, h.m.table.Loaded(), h.m.table.Shown())
		}
		// Clearing the filter asks for every extension again.
		h.keys("esc")
		h.idle()
		src.mu.Lock()
		asked = src.last.Extension
		src.mu.Unlock()
		if asked != "" || h.m.table.Loaded() != todayCalls {
			t.Fatalf("after esc asked for %q, %d loaded", asked, h.m.table.Loaded())
		}
	})
}
