package calltable

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/theme"
)

var base = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

// makeRecords builds n calls a minute apart with a repeating mix of types, dispositions and extensions.
func makeRecords(n int) []cdr.Record {
	types := []cdr.CallType{cdr.CallInbound, cdr.CallOutbound, cdr.CallInternal}
	disps := []cdr.Disposition{cdr.DispAnswered, cdr.DispAnswered, cdr.DispNoAnswer, cdr.DispBusy, cdr.DispFailed}
	out := make([]cdr.Record, n)
	for i := range out {
		out[i] = cdr.Record{
			UniqueID:      fmt.Sprintf("%d.%d", base.Unix()+int64(i*60), i),
			Start:         base.Add(time.Duration(i) * time.Minute),
			CallType:      types[i%3],
			Extension:     fmt.Sprint(200 + i%7),
			DialledNumber: fmt.Sprintf("0821555%04d", i%10000),
			CallerID:      fmt.Sprintf("0119876%04d", (i*7)%10000),
			Disposition:   disps[i%5],
			DurationS:     (i * 37) % 900,
			BillableS:     (i * 31) % 800,
			RecordingSize: int64(i%2) * 48000,
			Recording:     map[bool]string{true: "rec.wav", false: ""}[i%2 == 1],
		}
	}
	return out
}

func newTable(w, h int) *Model {
	m := New(common.NewContext(theme.New(true, false), nil, nil))
	m.SetSize(w, h)
	return m
}

func press(k string) tea.KeyPressMsg {
	switch k {
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "space":
		return tea.KeyPressMsg{Code: ' ', Text: " "}
	}
	return tea.KeyPressMsg{Code: rune(k[0]), Text: k}
}

func TestSortNewestFirstAndStable(t *testing.T) {
	m := newTable(120, 20)
	m.Append(makeRecords(100))
	if got := m.Selected().Start; !got.Equal(base.Add(99 * time.Minute)) {
		t.Fatalf("first row start %v, want the newest", got)
	}
	m.SetSort(ColExtension, false)
	rows := m.Rows()
	for i := 1; i < rows.Len(); i++ {
		a, b := rows.At(i-1), rows.At(i)
		if a.Extension > b.Extension {
			t.Fatalf("row %d: extension %s after %s", i, b.Extension, a.Extension)
		}
		if a.Extension == b.Extension && a.Start.After(b.Start) {
			t.Fatalf("row %d: equal extensions not in arrival order", i)
		}
	}
	m.SetSort(ColDuration, true)
	for i := 1; i < rows.Len(); i++ {
		if rows := m.Rows(); rows.At(i-1).DurationS < rows.At(i).DurationS {
			t.Fatalf("row %d: duration not descending", i)
		}
	}
}

func TestAppendKeepsCursorOnCall(t *testing.T) {
	m := newTable(120, 20)
	recs := makeRecords(200)
	m.Append(recs[:100])
	for range 5 {
		m.Update(press("down"))
	}
	want := m.Selected().UniqueID
	m.Append(recs[100:]) // newer calls land above the cursor
	if got := m.Selected().UniqueID; got != want {
		t.Fatalf("cursor moved from %s to %s when rows were added above it", want, got)
	}
	if m.Cursor() != 105 {
		t.Fatalf("cursor index %d, want 105", m.Cursor())
	}
}

func TestMarksSurviveFilterSortRefresh(t *testing.T) {
	m := newTable(120, 20)
	recs := makeRecords(50)
	m.Append(recs)
	m.Update(press("space"))
	m.Update(press("space"))
	m.Update(press("space"))
	if m.Marked() != 3 {
		t.Fatalf("marked %d, want 3", m.Marked())
	}
	m.SetFilter(filter.State{Extensions: []string{"201"}}.Compile(nil, filter.Dialling{}))
	m.SetSort(ColOther, false)
	m.SetFilter(nil)
	m.Replace(makeRecords(50))
	if m.Marked() != 3 {
		t.Fatalf("after filter, sort and refresh: marked %d, want 3", m.Marked())
	}
	mr := m.MarkedRows()
	if mr.Len() != 3 {
		t.Fatalf("MarkedRows %d", mr.Len())
	}
	m.InvertShown()
	if m.Marked() != 47 {
		t.Fatalf("after invert: %d, want 47", m.Marked())
	}
	m.ClearMarks()
	m.MarkAllShown()
	if m.Marked() != 50 {
		t.Fatalf("mark all: %d", m.Marked())
	}
}

func TestFilterKeepsSelection(t *testing.T) {
	m := newTable(120, 20)
	m.Append(makeRecords(70))
	for m.Selected().Extension != "203" {
		m.Update(press("down"))
	}
	id := m.Selected().UniqueID
	m.SetFilter(filter.State{Extensions: []string{"203"}}.Compile(nil, filter.Dialling{}))
	if m.Shown() != 10 || m.Selected().UniqueID != id {
		t.Fatalf("shown %d, selected %s want %s", m.Shown(), m.Selected().UniqueID, id)
	}
}

func TestLayoutFitsEveryWidth(t *testing.T) {
	m := newTable(80, 10)
	m.Append(makeRecords(20))
	for w := 20; w <= 300; w++ {
		m.SetSize(w, 10)
		for i, line := range strings.Split(m.View(), "\n") {
			if got := ansi.StringWidth(line); got != w && line != "" {
				t.Fatalf("width %d line %d is %d wide: %q", w, i, got, ansi.Strip(line))
			}
		}
	}
}

func TestLocalPaging(t *testing.T) {
	m := newTable(120, 30)
	m.Append(makeRecords(95))
	m.SetPageSize(20)
	if p, n := m.Page(); p != 1 || n != 5 {
		t.Fatalf("page %d/%d", p, n)
	}
	m.SetPage(5)
	m.Update(press("G"))
	if m.Cursor() != 94 {
		t.Fatalf("cursor %d on last page", m.Cursor())
	}
	m.Update(press("g"))
	if m.Cursor() != 80 {
		t.Fatalf("g on page 5 went to %d, want 80", m.Cursor())
	}
}

func TestInsertSortedMatchesFullSort(t *testing.T) {
	recs := makeRecords(5000)
	for _, col := range []Column{ColStart, ColExtension, ColDuration, ColDisposition} {
		for _, desc := range []bool{false, true} {
			inc := newTable(100, 10)
			inc.SetSort(col, desc)
			for i := 0; i < len(recs); i += 777 {
				inc.Append(recs[i:min(i+777, len(recs))])
			}
			full := newTable(100, 10)
			full.SetSort(col, desc)
			full.Append(recs)
			a, b := inc.Rows(), full.Rows()
			for i := range a.Len() {
				if a.At(i).UniqueID != b.At(i).UniqueID {
					t.Fatalf("col %v desc %v: row %d differs: %s vs %s", col, desc, i, a.At(i).UniqueID, b.At(i).UniqueID)
				}
			}
		}
	}
}

// A PBX sends a range oldest first: rows arriving in later batches are newer and sort above the first ones.
// Until the user moves, the cursor stays on the top row (the newest call), and the screen shows it.
func TestLoadOpensOnNewestWhileOlderRowsArriveFirst(t *testing.T) {
	m := newTable(120, 20)
	recs := makeRecords(3000)
	m.Reset()
	for lo := 0; lo < len(recs); lo += 1000 {
		m.Append(recs[lo : lo+1000])
	}
	newest := recs[len(recs)-1]
	if got := m.Selected(); got == nil || got.UniqueID != newest.UniqueID || m.Cursor() != 0 {
		t.Fatalf("selected %v at row %d, want the newest call %s at row 0", got, m.Cursor(), newest.UniqueID)
	}
	if view := ansi.Strip(m.View()); !strings.Contains(view, newest.Start.Format("2006-01-02 15:04:05")) {
		t.Fatalf("the newest call is not on screen:\n%s", view)
	}

	// Once the user has chosen a call, rows that stream in keep it selected and on screen.
	m.Reset()
	m.Append(recs[:1000])
	for range 3 {
		m.Update(press("down"))
	}
	chosen := *m.Selected()
	m.Append(recs[1000:])
	if got := m.Selected(); got.UniqueID != chosen.UniqueID {
		t.Fatalf("streaming rows moved the cursor from %s to %s", chosen.UniqueID, got.UniqueID)
	}
	if view := ansi.Strip(m.View()); !strings.Contains(view, chosen.Start.Format("2006-01-02 15:04:05")) {
		t.Fatalf("the chosen call scrolled off screen:\n%s", view)
	}

	// After the load (Unpin), new calls on top (follow mode) leave the cursor where it is.
	m.Reset()
	m.Append(recs[:2000])
	m.Unpin()
	top := m.Selected().UniqueID
	m.Append(recs[2000:])
	if got := m.Selected().UniqueID; got != top {
		t.Fatalf("after the load, new rows moved the cursor from %s to %s", top, got)
	}
}

// TestReplaceStaged: a refresh gathered in a Staged and swapped in keeps the filter, the sort, the marks and the
// cursor's call, and shows what a table loaded with the same rows shows.
func TestReplaceStaged(t *testing.T) {
	recs := makeRecordsFrom(0, 20_000)
	f := filter.State{Types: filter.TypeInbound, MinDuration: 60}.Compile(nil, filter.Dialling{})
	m := newTable(120, 20)
	m.Append(recs[:5000])
	m.SetSort(ColOther, false)
	m.SetFilter(f)
	for range 4 {
		m.Update(press("down"))
	}
	m.Update(press("space"))
	want := m.Selected().UniqueID
	var s Staged
	for lo := 0; lo < len(recs); lo += 3000 {
		s.Append(recs[lo:min(lo+3000, len(recs))])
	}
	if s.Len() != len(recs) {
		t.Fatalf("staged %d, want %d", s.Len(), len(recs))
	}
	m.ReplaceStaged(&s)
	if s.Len() != 0 || m.Loaded() != len(recs) || m.Marked() != 1 || m.Selected().UniqueID != want {
		t.Fatalf("after the swap: staged %d, loaded %d, marked %d, selected %s; want 0, %d, 1, %s",
			s.Len(), m.Loaded(), m.Marked(), m.Selected().UniqueID, len(recs), want)
	}
	fresh := newTable(120, 20)
	fresh.SetSort(ColOther, false)
	fresh.SetFilter(f)
	fresh.Append(recs)
	if !slices.Equal(m.view, fresh.view) {
		t.Fatalf("the swapped-in table shows %d rows, a fresh one %d (or in another order)", len(m.view), len(fresh.view))
	}
}
