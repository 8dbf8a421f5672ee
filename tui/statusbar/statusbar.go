// Package statusbar is the one-line summary under the call table: what is loaded from where, how much of it is
// shown and marked, the active filters, fetch progress and the last error.
package statusbar

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
)

// Fields are what the status line says about the calls; the root knows them, and the bar asks for them each
// time it is drawn, so nothing has to copy them in after every message.
type Fields struct {
	Source  string // "comx http://10.0.0.5"
	Range   string // "2024-03-01 → 2024-03-02" or "page 3/12"
	Shown   int
	Loaded  int
	Marked  int
	Filters string
	Follow  bool
	Busy    string // spinner frame + "loading 12,000" while a fetch runs; empty when idle
}

// Model is the status bar: the fields, the last note or error, and the sticky lines. It has no keys of its own.
type Model struct {
	ctx    *common.Context
	fields func() Fields

	note   string
	err    error
	sticky []common.StatusMsg // kept until Dismiss: start-up errors, warnings
	w      int
}

// maxSticky bounds the sticky lines kept: the oldest gives way.
const maxSticky = 3

// New returns a status bar that shows what fields reports when it is drawn.
func New(ctx *common.Context, fields func() Fields) *Model { return &Model{ctx: ctx, fields: fields} }

func (m *Model) SetSize(w, _ int) { m.w = w }

// Sticky is the lines kept until dismissed, oldest first.
func (m *Model) Sticky() []common.StatusMsg { return m.sticky }

// Dismiss drops the sticky lines; false when there were none.
func (m *Model) Dismiss() bool {
	had := len(m.sticky) > 0
	m.sticky = nil
	return had
}

// Update takes StatusMsg: an error stays until the next message replaces it; a sticky one until Dismiss.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	s, ok := msg.(common.StatusMsg)
	if !ok {
		return nil
	}
	if !s.Sticky {
		m.err = s.Err
		m.note = s.Text
		return nil
	}
	for _, old := range m.sticky {
		if old.Text == s.Text && errText(old.Err) == errText(s.Err) {
			return nil // said already
		}
	}
	if len(m.sticky) == maxSticky {
		m.sticky = m.sticky[1:]
	}
	m.sticky = append(m.sticky, s)
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A note's place in the order segments are dropped in, and the fewest cells it is cut to before it is dropped
// (less says nothing).
const (
	noteDrop = 3
	minNote  = 20
)

func (m *Model) View() string {
	st := &m.ctx.Styles
	if m.w <= 0 {
		return ""
	}
	f := m.fields()
	sep := st.Status.Render(" │ ")
	type seg struct {
		text  string
		style func(...string) string
		drop  int // lower drops first
	}
	counts := human.Count(int64(f.Shown)) + "/" + human.Count(int64(f.Loaded)) + " calls"
	segs := []seg{}

	if f.Busy != "" {
		segs = append(segs, seg{f.Busy, st.StatusKV.Render, 9})
	}
	if f.Range != "" {
		segs = append(segs, seg{f.Range, st.Status.Render, 6})
	}
	segs = append(segs, seg{counts, st.StatusKV.Render, 8})
	if f.Marked > 0 {
		segs = append(segs, seg{"● " + human.Count(int64(f.Marked)) + " marked", st.StatusKV.Render, 7})
	}
	if f.Filters != "" {
		segs = append(segs, seg{"filter: " + f.Filters, st.StatusKV.Render, 5})
	}
	if f.Follow {
		segs = append(segs, seg{"following", st.StatusKV.Render, 4})
	}
	switch {
	case m.err != nil:
		segs = append(segs, seg{"✗ " + m.err.Error(), st.Error.Inherit(st.Status).Render, 10})
	case m.note != "":
		segs = append(segs, seg{m.note, st.Status.Render, noteDrop})
	}
	if f.Source != "" {
		segs = append(segs, seg{f.Source, st.Status.Render, 1})
	}
	// Errors and notes quote the PBX's text (a call ID, a file name): shown, never run by the terminal.
	for i := range segs {
		segs[i].text = safetext.Terminal(segs[i].text)
	}
	width := func() int {
		n := 1
		for i, s := range segs {
			if i > 0 {
				n += 3
			}
			n += ansi.StringWidth(s.text)
		}
		return n
	}
	// Drop the least useful segments until the line fits, cutting a note short instead where it still has room to
	// say something; what remains is cut at the end.
	for width() > m.w && len(segs) > 1 {
		lo := 0
		for i, s := range segs {
			if s.drop < segs[lo].drop {
				lo = i
			}
		}
		if segs[lo].drop >= 8 {
			break
		}
		if room := m.w - (width() - ansi.StringWidth(segs[lo].text)); segs[lo].drop == noteDrop && room >= minNote {
			segs[lo].text = ansi.Truncate(segs[lo].text, room, "…")
			break
		}
		segs = append(segs[:lo], segs[lo+1:]...)
	}
	var b strings.Builder
	b.WriteString(st.Status.Render(" "))
	for i, s := range segs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s.style(s.text))
	}
	line := ansi.Truncate(b.String(), m.w, "…")
	if pad := m.w - ansi.StringWidth(line); pad > 0 {
		line += st.Status.Render(strings.Repeat(" ", pad))
	}
	return line
}

// StickyView is the sticky lines, newest last, at most n of them, each on its own line above the status bar
// (so the counts stay in view), cut to the width: "" when there are none.
func (m *Model) StickyView(n int) string {
	st := &m.ctx.Styles
	lines := m.sticky[max(0, len(m.sticky)-n):]
	out := make([]string, 0, len(lines))
	for _, s := range lines {
		text, style := "⚠ "+s.Text, st.Warning.Inherit(st.Status)
		if s.Err != nil {
			text, style = "✗ "+s.Err.Error(), st.Error.Inherit(st.Status)
		}
		text = safetext.Terminal(text) // a start-up error quotes the --id asked for and the PBX's answer
		line := ansi.Truncate(style.Render(" "+text), m.w, "…")
		if pad := m.w - ansi.StringWidth(line); pad > 0 {
			line += st.Status.Render(strings.Repeat(" ", pad))
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func (m *Model) ShortHelp() []key.Binding  { return nil }
func (m *Model) FullHelp() [][]key.Binding { return nil }
