package statusbar

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// Sticky lines outlive later notes, are said once, are bounded, and go on Dismiss; the status line keeps its
// counts beside them.
func TestStickyLines(t *testing.T) {
	m := New(common.NewContext(theme.New(true, true), nil, nil), func() Fields { return Fields{Shown: 9, Loaded: 9} })
	m.SetSize(80, 1)
	m.Update(common.StatusMsg{Err: errors.New("cannot go to ID 1: no call with ID 1"), Sticky: true})
	m.Update(common.StatusMsg{Text: "loaded 9 calls"})
	m.Update(common.StatusMsg{Err: errors.New("cannot go to ID 1: no call with ID 1"), Sticky: true})
	if len(m.Sticky()) != 1 || m.note != "loaded 9 calls" {
		t.Fatalf("sticky %v, note %q", m.Sticky(), m.note)
	}
	if v := ansi.Strip(m.StickyView(2)); !strings.HasPrefix(v, " ✗ cannot go to ID 1") || ansi.StringWidth(v) != 80 {
		t.Fatalf("sticky view %q", v)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "9/9 calls") || !strings.Contains(v, "loaded 9 calls") {
		t.Fatalf("status line %q", v)
	}
	for i := range 5 {
		m.Update(common.StatusMsg{Text: strings.Repeat("w", i+1), Sticky: true})
	}
	if len(m.Sticky()) != maxSticky || m.Sticky()[maxSticky-1].Text != "wwwww" {
		t.Fatalf("sticky lines not bounded to the newest %d: %v", maxSticky, m.Sticky())
	}
	if lines := strings.Split(m.StickyView(2), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "wwwww") {
		t.Fatalf("StickyView(2) = %q", lines)
	}
	if !m.Dismiss() || m.Dismiss() || m.StickyView(2) != "" {
		t.Fatal("Dismiss did not clear the sticky lines once")
	}
}

// The status line keeps what matters most as the terminal narrows: counts and an error last, the source first to
// go; what remains is cut, and the line is always exactly the width.
func TestStatusLineKeepsWhatMattersMost(t *testing.T) {
	f := Fields{Source: "comx http://10.0.0.5", Range: "today 2024-03-01", Shown: 12345, Loaded: 1234567, Marked: 3,
		Filters: "ext 201", Follow: true, Busy: "⠋ loading 1,000"}
	m := New(common.NewContext(theme.New(true, false), nil, nil), func() Fields { return f })
	m.Update(common.StatusMsg{Text: "loaded 1,234,567 calls"})
	for _, tc := range []struct {
		w          int
		has, lacks []string
	}{
		{200, []string{"⠋ loading 1,000", "today 2024-03-01", "12,345/1,234,567 calls", "● 3 marked", "filter: ext 201", "following", "loaded 1,234,567 calls", "comx http://10.0.0.5"}, nil},
		{140, []string{"12,345/1,234,567 calls", "filter: ext 201", "loaded 1,234,567"}, []string{"comx http"}},
		{120, []string{"12,345/1,234,567 calls", "filter: ext 201", "following"}, []string{"comx http", "loaded 1,234,567"}},
		{80, []string{"12,345/1,234,567 calls", "today", "● 3 marked"}, []string{"comx http", "loaded 1,234,567", "following"}},
		{30, []string{"loading 1,000", "12,345/"}, []string{"today"}}, // the progress, then the counts, cut
	} {
		m.SetSize(tc.w, 1)
		v := m.View()
		if ansi.StringWidth(v) != tc.w {
			t.Errorf("width %d: the line is %d wide", tc.w, ansi.StringWidth(v))
		}
		plain := ansi.Strip(v)
		for _, s := range tc.has {
			if !strings.Contains(plain, s) {
				t.Errorf("width %d: %q lacks %q", tc.w, plain, s)
			}
		}
		for _, s := range tc.lacks {
			if strings.Contains(plain, s) {
				t.Errorf("width %d: %q still has %q", tc.w, plain, s)
			}
		}
	}
	// An error replaces the note and stays through narrowing; the next note replaces it.
	m.Update(common.StatusMsg{Err: errors.New("pbx 10.0.0.5: connection refused")})
	m.SetSize(80, 1)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "✗ pbx 10.0.0.5: connection refused") || strings.Contains(v, "loaded 1,234,567") {
		t.Fatalf("error: %q", v)
	}
	m.Update(common.StatusMsg{Text: "refreshed: 1 calls"})
	m.SetSize(200, 1)
	if v := ansi.Strip(m.View()); strings.Contains(v, "✗") || !strings.Contains(v, "refreshed") {
		t.Fatalf("note after an error: %q", v)
	}
	m.Update(common.StatusMsg{})
	if m.note != "" || m.err != nil {
		t.Fatal("an empty message does not clear the line")
	}
	m.SetSize(0, 1)
	if m.View() != "" {
		t.Fatal("a bar of no width draws something")
	}
}

// Notes, errors and warnings quote the PBX (a call ID, a file name): shown as text, never run by the terminal.
func TestStatusShowsTextAsText(t *testing.T) {
	m := New(common.NewContext(theme.New(true, true), nil, nil), func() Fields { return Fields{Source: "comx \x1b]0;x\x07"} })
	m.SetSize(200, 1)
	m.Update(common.StatusMsg{Text: "call 1.2\x1b[2J has no recording"})
	m.Update(common.StatusMsg{Text: "\x1b[31mwarning\u202e", Sticky: true})
	for _, v := range []string{m.View(), m.StickyView(2)} {
		if strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b[31mwarning") || strings.Contains(v, "\u202e") {
			t.Fatalf("escape sequences reach the terminal: %q", v)
		}
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, `call 1.2\x1b[2J has no recording`) {
		t.Fatalf("the note is not shown as text: %q", v)
	}
	if v := ansi.Strip(m.StickyView(2)); !strings.Contains(v, `⚠ \x1b[31mwarning`) {
		t.Fatalf("the warning is not shown as text: %q", v)
	}
}

// A note longer than the room the counts leave is shortened, not dropped: the app's longest notes (why it opened
// on another day than today) are the ones a user most needs to read, and a 100-column terminal is common.
func TestLongNoteIsShortenedNotDropped(t *testing.T) {
	f := Fields{Source: "archive /srv/calls", Range: "newest day 2026-03-10", Shown: 3811, Loaded: 3811}
	m := New(common.NewContext(theme.New(true, false), nil, nil), func() Fields { return f })
	m.Update(common.StatusMsg{Text: "nothing today: opened on the archive's newest day; loaded 3,811 calls"})
	for _, tc := range []struct {
		w    int
		want string // the note's text on the line
	}{
		{200, "nothing today: opened on the archive's newest day; loaded 3,811 calls"},
		{100, "nothing today: opened on the archive's newest day; loa…"},
		{70, "nothing today: opened on…"},
		{60, ""}, // under minNote cells of room: dropped
	} {
		m.SetSize(tc.w, 1)
		plain := ansi.Strip(m.View())
		if ansi.StringWidth(plain) != tc.w || !strings.Contains(plain, "3,811/3,811 calls") {
			t.Errorf("width %d: %q", tc.w, plain)
		}
		if tc.want == "" {
			if strings.Contains(plain, "nothing") {
				t.Errorf("width %d: %q keeps a stub of the note", tc.w, plain)
			}
		} else if !strings.Contains(plain, tc.want) {
			t.Errorf("width %d: %q lacks %q", tc.w, plain, tc.want)
		}
	}
}
