package overview

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

type sliceRows []cdr.Record

func (s sliceRows) Len() int            { return len(s) }
func (s sliceRows) At(i int) cdr.Record { return s[i] }

var zone = time.FixedZone("PBX", 2*3600)

func call(t time.Time, ext, name string, d cdr.Disposition) cdr.Record {
	return cdr.Record{UniqueID: fmt.Sprint(t.Unix()), Start: t, Extension: ext, FriendlyName: name, Disposition: d}
}

// day builds a deterministic working day of calls: busy mornings, a lunch dip, some missed.
func day(date time.Time, n int) sliceRows {
	var rows sliceRows
	exts := []struct{ ext, name string }{{"201", "Alice Smith"}, {"202", "Bob"}, {"305", "Support desk"}, {"410", ""}}
	for i := range n {
		h := 8 + (i*7)%10
		if h == 12 && i%2 == 0 {
			h = 13
		}
		t := date.Add(time.Duration(h)*time.Hour + time.Duration(i%60)*time.Minute)
		e := exts[(i*7+i/3)%len(exts)]
		d := cdr.DispAnswered
		if i%5 == 0 {
			d = cdr.DispNoAnswer
		} else if i%11 == 0 {
			d = cdr.DispBusy
		}
		rows = append(rows, call(t, e.ext, e.name, d))
	}
	return rows
}

func TestComputeHourlyWithinTwoDays(t *testing.T) {
	d0 := time.Date(2024, 3, 1, 0, 0, 0, 0, zone)
	rows := sliceRows{
		call(d0.Add(9*time.Hour+5*time.Minute), "201", "Alice", cdr.DispAnswered),
		call(d0.Add(9*time.Hour+59*time.Minute), "201", "Alice", cdr.DispNoAnswer),
		call(d0.Add(33*time.Hour), "202", "", cdr.DispBusy),
		call(time.Time{}, "202", "", cdr.DispAnswered),
	}
	s := Compute(rows, Auto, 10)
	if !s.Hourly || len(s.Buckets) != 48 {
		t.Fatalf("hourly=%v buckets=%d, want hourly 48", s.Hourly, len(s.Buckets))
	}
	if b := s.Buckets[9]; b.Answered != 1 || b.Missed != 1 || !b.Start.Equal(d0.Add(9*time.Hour)) {
		t.Fatalf("09:00 bucket = %+v", b)
	}
	if b := s.Buckets[33]; b.Missed != 1 || b.Answered != 0 {
		t.Fatalf("next day 09:00 bucket = %+v", b)
	}
	if s.Calls != 4 || s.Answered != 2 || s.Missed != 2 || s.Undated != 1 {
		t.Fatalf("totals = %+v", s)
	}
	if len(s.TopExt) != 2 || s.TopExt[0].Extension != "201" || s.TopExt[0].Name != "Alice" || s.TopExt[0].Calls != 2 ||
		s.TopExt[0].Answered != 1 || s.TopExt[1].Calls != 2 || s.TopExt[1].Answered != 1 {
		t.Fatalf("top = %+v", s.TopExt)
	}
}

func TestComputeDailyAndGranularity(t *testing.T) {
	d0 := time.Date(2024, 2, 27, 23, 30, 0, 0, zone)
	rows := sliceRows{
		call(d0, "1", "", cdr.DispAnswered),
		call(d0.Add(time.Hour), "1", "", cdr.DispAnswered),      // Feb 28 00:30
		call(d0.Add(3*24*time.Hour), "2", "", cdr.DispNoAnswer), // Mar 1 (2024 is a leap year)
	}
	s := Compute(rows, Auto, 0)
	if s.Hourly || len(s.Buckets) != 4 {
		t.Fatalf("hourly=%v buckets=%d, want 4 days", s.Hourly, len(s.Buckets))
	}
	want := []int{1, 1, 0, 1}
	for i, b := range s.Buckets {
		if b.Total() != want[i] {
			t.Fatalf("day %d (%s) has %d calls, want %d", i, b.Start.Format("Jan 2"), b.Total(), want[i])
		}
	}
	if s.Buckets[3].Start.Format("Jan 2") != "Mar 1" {
		t.Fatalf("last day = %s", s.Buckets[3].Start)
	}
	if !s.HourlyPossible {
		t.Fatal("hours not offered for a four-day span")
	}
	if h := Compute(rows, Hourly, 0); !h.Hourly || len(h.Buckets) != 96 || h.Buckets[23].Total() != 1 || h.Buckets[24].Total() != 1 {
		t.Fatalf("forced hourly: %v %d", h.Hourly, len(h.Buckets))
	}
	long := append(rows, call(d0.AddDate(0, 3, 0), "3", "", cdr.DispAnswered))
	if h := Compute(long, Hourly, 0); h.Hourly || h.HourlyPossible {
		t.Fatal("hourly bars over three months")
	}
	if e := Compute(nil, Auto, 0); e.Calls != 0 || len(e.Buckets) != 0 {
		t.Fatalf("empty = %+v", e)
	}
}

func newModel(t *testing.T, dark, noColor bool, w, h int) *Model {
	t.Helper()
	ctx := common.NewContext(theme.New(dark, noColor), nil, nil)
	m := New(ctx)
	m.SetSize(w, h)
	return m
}

// run executes cmd and feeds its message (and any that follow) back into m, like the runtime would.
func run(m *Model, cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for cmd != nil {
		msg := cmd()
		out = append(out, msg)
		cmd = m.Update(msg)
	}
	return out
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func TestModelCountsWhenOpenedAndFollowsRows(t *testing.T) {
	m := newModel(t, true, false, 80, 24)
	rows := day(time.Date(2024, 3, 1, 0, 0, 0, 0, zone), 60)
	if cmd := m.Update(common.RowsChanged{Rows: rows, Filters: "ext 201"}); cmd != nil {
		t.Fatal("counted while closed")
	}
	run(m, m.Focus())
	s, ok := m.stats, m.counted
	if !ok || s.Calls != 60 || !s.Hourly {
		t.Fatalf("after open: ok=%v %+v", ok, s)
	}
	// Two changes while a count is in flight: one more count, of the latest rows.
	cmd := m.Update(common.RowsChanged{Rows: rows[:10]})
	if cmd == nil || !m.computing {
		t.Fatal("no recount on new rows")
	}
	if m.Update(common.RowsChanged{Rows: rows[:20]}) != nil {
		t.Fatal("second count started while one is in flight")
	}
	run(m, cmd)
	if s := m.stats; s.Calls != 20 {
		t.Fatalf("counted %d calls, want the latest 20", s.Calls)
	}
	// g switches hours → days → auto.
	run(m, m.Update(press("g")))
	if s := m.stats; m.gran != Daily || s.Hourly {
		t.Fatalf("g: granularity %v hourly %v", m.gran, s.Hourly)
	}
	run(m, m.Update(press("g")))
	if m.gran != Auto {
		t.Fatal("g did not return to auto")
	}
	msgs := run(m, m.Update(press("esc")))
	if len(msgs) != 1 || msgs[0] != (common.CloseDialog{}) || m.Focused() {
		t.Fatalf("esc: %v focused=%v", msgs, m.Focused())
	}
	if m.Update(press("g")) != nil {
		t.Fatal("closed dialog took a key")
	}
}

func TestStaleCountIsDropped(t *testing.T) {
	m := newModel(t, true, false, 80, 24)
	rows := day(time.Date(2024, 3, 1, 0, 0, 0, 0, zone), 30)
	m.SetRows(rows, "")
	old := m.Focus()
	oldMsg := old()
	m.Update(statsMsg{gen: -1, stats: Stats{Calls: 999}})
	if m.counted {
		t.Fatal("a count for another request was taken")
	}
	m.Update(oldMsg)
	if s := m.stats; s.Calls != 30 {
		t.Fatalf("calls = %d", s.Calls)
	}
}

func view(t *testing.T, m *Model, rows common.Rows, filters string) string {
	t.Helper()
	m.SetRows(rows, filters)
	run(m, m.Focus())
	return m.View()
}

func checkSize(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Fatalf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if ansi.StringWidth(l) != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, ansi.StringWidth(l), w, ansi.Strip(l))
		}
	}
}

func TestGoldenDay80(t *testing.T) {
	m := newModel(t, true, false, 80, 24)
	v := view(t, m, day(time.Date(2024, 3, 1, 0, 0, 0, 0, zone), 240), "answered · ext 201,202")
	checkSize(t, v, 80, 24)
	golden.RequireEqual(t, ansi.Strip(v))
}

func TestGoldenMonth120(t *testing.T) {
	m := newModel(t, false, false, 120, 40)
	var rows sliceRows
	for d := range 31 {
		date := time.Date(2024, 3, 1+d, 0, 0, 0, 0, zone)
		n := 30 + (d*7)%11
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			n = 4
		}
		rows = append(rows, day(date, n)...)
	}
	v := view(t, m, rows, "")
	checkSize(t, v, 120, 40)
	golden.RequireEqual(t, ansi.Strip(v))
}

func TestGoldenNoColor80(t *testing.T) {
	m := newModel(t, true, true, 80, 24)
	v := view(t, m, day(time.Date(2024, 3, 1, 0, 0, 0, 0, zone), 240), "")
	checkSize(t, v, 80, 24)
	golden.RequireEqual(t, v)
}

func TestViewEmptyAndTiny(t *testing.T) {
	m := newModel(t, true, false, 80, 24)
	v := view(t, m, sliceRows{}, "ext 999")
	if !strings.Contains(ansi.Strip(v), "No calls to chart") {
		t.Fatalf("empty view:\n%s", ansi.Strip(v))
	}
	checkSize(t, v, 80, 24)
	m.SetSize(10, 3)
	if m.View() != "" {
		t.Fatal("a view in a 10×3 area")
	}
	m.SetSize(40, 8) // small but valid: must not panic and must keep its size
	m.SetRows(day(time.Date(2024, 3, 1, 0, 0, 0, 0, zone), 50), "")
	run(m, m.Focus())
	checkSize(t, m.View(), 40, 8)
}

// BenchmarkCompute counts a million calls over a month, what opening the overview costs on a big load.
func BenchmarkCompute(b *testing.B) {
	rows := make(sliceRows, 0, 1_000_000)
	d0 := time.Date(2024, 3, 1, 0, 0, 0, 0, zone)
	for i := range 1_000_000 {
		d := cdr.DispAnswered
		if i%4 == 0 {
			d = cdr.DispNoAnswer
		}
		rows = append(rows, call(d0.Add(time.Duration(i)*2600*time.Millisecond), fmt.Sprint(200+i%150), "", d))
	}
	b.ResetTimer()
	for b.Loop() {
		Compute(rows, Auto, topKept)
	}
}

// BenchmarkView renders the chart of a month at 120×40.
func BenchmarkView(b *testing.B) {
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	m := New(ctx)
	m.SetSize(120, 40)
	var rows sliceRows
	for d := range 31 {
		rows = append(rows, day(time.Date(2024, 3, 1+d, 0, 0, 0, 0, zone), 40)...)
	}
	m.SetRows(rows, "")
	cmd := m.Focus()
	m.Update(cmd())
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}
