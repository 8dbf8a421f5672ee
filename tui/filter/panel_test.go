package filter

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// editor drives the panel or the search bar in a synctest bubble as the root would: keys to Update, each Cmd on
// a goroutine, and what comes back collected once the bubble settles. The text inputs' cursor blinks wait on
// their timers and are never answered; the test's end lets their timers run out.
type editor struct {
	t       *testing.T
	c       interface{ Update(tea.Msg) tea.Cmd }
	msgs    chan tea.Msg
	changes []Changed
	closed  int
}

func newEditor(t *testing.T, c interface{ Update(tea.Msg) tea.Cmd }) *editor {
	e := &editor{t: t, c: c, msgs: make(chan tea.Msg, 1024)}
	t.Cleanup(func() { time.Sleep(time.Second); synctest.Wait() }) // the blinks' timers
	return e
}

func (e *editor) exec(cmd tea.Cmd) {
	if cmd != nil {
		go func() { e.msgs <- cmd() }()
	}
}

// send hands msg to the component and collects what it sends back.
func (e *editor) send(msg tea.Msg) {
	e.exec(e.c.Update(msg))
	for {
		synctest.Wait()
		select {
		case msg := <-e.msgs:
			switch msg := msg.(type) {
			case tea.BatchMsg:
				for _, c := range msg {
					e.exec(c)
				}
			case Changed:
				e.changes = append(e.changes, msg)
			case common.CloseDialog:
				e.closed++
			}
		default:
			return
		}
	}
}

func (e *editor) keys(names ...string) {
	for _, k := range names {
		e.send(press(k))
	}
}

func (e *editor) typeText(s string) {
	for _, r := range s {
		e.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// last is the last change sent.
func (e *editor) last() Changed {
	e.t.Helper()
	if len(e.changes) == 0 {
		e.t.Fatal("no change was sent")
	}
	return e.changes[len(e.changes)-1]
}

func testContext() *common.Context { return common.NewContext(theme.New(true, true), nil, nil) }

// The panel sends each change at once, the final one when it closes; bad durations say what to type and change
// nothing; the toggles set and clear their bits; ctrl+r resets everything but the search.
func TestPanelEditsTheFilters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPanel(testContext())
		p.SetSize(100, 30)
		p.SetExtensions([]string{"203", "201", "202\x1b[31m"})
		e := newEditor(t, p)
		e.exec(p.Open(State{Search: "smith", MinDuration: 90}))
		if !p.Focused() || p.dur.Value() != "1:30" {
			t.Fatalf("open: focused %v, duration %q", p.Focused(), p.dur.Value())
		}
		if v := ansi.Strip(p.View()); strings.Contains(v, "\x1b[31m") || !strings.Contains(v, "Filters") {
			t.Fatalf("view %q", v)
		}

		e.typeText("201, 2")
		if got := e.last().State; strings.Join(got.Extensions, "|") != "201|2" || e.last().Final {
			t.Fatalf("typing extensions sent %+v", e.last())
		}
		e.keys("backspace", "backspace", "backspace")
		e.keys("down", "ctrl+u")
		e.typeText("2")
		n := len(e.changes)
		e.typeText("x")
		if p.err == "" || !strings.Contains(ansi.Strip(p.View()), "cannot read duration") {
			t.Fatalf("a bad duration is not explained:\n%s", ansi.Strip(p.View()))
		}
		if len(e.changes) != n {
			t.Fatalf("a bad duration sent a change: %+v", e.last())
		}
		e.keys("backspace")
		e.typeText("m")
		if got := e.last().State; got.MinDuration != 120 || p.err != "" {
			t.Fatalf("2m: %+v, err %q", got, p.err)
		}

		e.keys("tab") // to the type toggles
		e.keys("space", "right", "right", "space")
		if got := e.last().State.Types; got != TypeInbound|TypeInternal {
			t.Fatalf("types %b", got)
		}
		e.keys("space")
		if got := e.last().State.Types; got != TypeInbound {
			t.Fatalf("toggling internal off left %b", got)
		}
		e.keys("down", "left", "space")
		if got := e.last().State.Dispositions; got != DispOther {
			t.Fatalf("left from the first disposition is the last: %b", got)
		}
		e.keys("down") // wraps to the extensions
		if p.row != rowExt {
			t.Fatalf("down from the last row is row %d", p.row)
		}

		before := len(e.changes)
		e.keys("enter")
		final := e.last()
		if len(e.changes) != before+1 || !final.Final || e.closed != 1 || p.Focused() {
			t.Fatalf("enter: %d changes, final %v, closed %d, focused %v", len(e.changes)-before, final.Final, e.closed, p.Focused())
		}
		if want := `ext 201 · in · other · ≥2:00 · "smith"`; final.State.String() != want {
			t.Fatalf("final filters %q, want %q", final.State.String(), want)
		}

		e.exec(p.Open(final.State))
		e.keys("ctrl+r")
		if got := e.last().State; got.String() != `"smith"` || p.ext.Value() != "" || p.dur.Value() != "" {
			t.Fatalf("ctrl+r left %q", got.String())
		}
		e.keys("esc")
		if e.closed != 2 || !e.last().Final {
			t.Fatal("esc did not close the panel with a final change")
		}
		// Closed, it takes nothing.
		n = len(e.changes)
		e.typeText("203")
		if len(e.changes) != n {
			t.Fatal("a closed panel still edits")
		}
	})
}

// Completion offers the PBX's extensions for the last one typed.
func TestPanelSuggestsExtensions(t *testing.T) {
	p := NewPanel(testContext())
	p.SetExtensions([]string{"2003", "2001", "2002"})
	p.Open(State{})
	p.ext.SetValue("2001, 20")
	p.updateSuggestions()
	got := p.ext.AvailableSuggestions()
	if strings.Join(got, "|") != "2001, 2001|2001, 2002|2001, 2003" {
		t.Fatalf("suggestions %q", got)
	}
}

// The search bar filters as the user types; enter keeps it, esc clears it; either closes the bar.
func TestSearchBar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSearch(testContext())
		s.SetSize(80, 1)
		e := newEditor(t, s)
		e.exec(s.Open(State{Extensions: []string{"201"}}))
		e.typeText("Ødeg")
		if got := e.last(); got.State.Search != "Ødeg" || got.Final || len(got.State.Extensions) != 1 {
			t.Fatalf("typing sent %+v", got)
		}
		if n := len(e.changes); n != 4 {
			t.Fatalf("%d changes for 4 runes", n)
		}
		e.keys("enter")
		if got := e.last(); !got.Final || got.State.Search != "Ødeg" || e.closed != 1 || s.Focused() {
			t.Fatalf("enter sent %+v, closed %d", got, e.closed)
		}
		e.exec(s.Open(e.last().State))
		if s.input.Value() != "Ødeg" {
			t.Fatalf("reopened with %q", s.input.Value())
		}
		e.keys("esc")
		if got := e.last(); !got.Final || got.State.Search != "" || len(got.State.Extensions) != 1 || e.closed != 2 {
			t.Fatalf("esc sent %+v", got)
		}
		n := len(e.changes)
		e.typeText("x")
		if len(e.changes) != n {
			t.Fatal("a closed search bar still edits")
		}
	})
}
