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
