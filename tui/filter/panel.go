package filter

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
)

// Changed carries the edited filters to the root, which applies them to the table at once. Final is set when
// the panel closes, the moment to refetch with a server-side extension filter.
type Changed struct {
	State State
	Final bool
}

// PanelKeyMap is the filter panel's bindings.
type PanelKeyMap struct {
	Up, Down, Left, Right key.Binding
	Toggle                key.Binding
	Complete              key.Binding
	Clear                 key.Binding
	Close                 key.Binding
}

func defaultPanelKeys() PanelKeyMap {
	return PanelKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "shift+tab"), key.WithHelp("↑", "previous field")),
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next field")),
		Left:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "choose")),
		Right:    key.NewBinding(key.WithKeys("right")),
		Toggle:   key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "toggle")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete extension")),
		Clear:    key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reset filters")),
		Close:    key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "close")),
	}
}

const (
	rowExt = iota
	rowDur
	rowType
	rowDisp
	numRows
)

// Panel edits every filter but the free-text search: extensions (with completion from the users list), minimum
// duration, and the call type and disposition toggles. Each change is sent at once.
type Panel struct {
	ctx   *common.Context
	Keys  PanelKeyMap
	state State
	ext   textinput.Model
	dur   textinput.Model
	row   int
	col   int // toggle under the cursor in the type and disposition rows
	exts  []string
	err   string
	focus bool
	w, h  int
}

// NewPanel returns a closed panel.
func NewPanel(ctx *common.Context) *Panel {
	p := &Panel{ctx: ctx, Keys: defaultPanelKeys()}
	p.ext = newInput("201, 202")
	p.ext.ShowSuggestions = true
	km := textinput.DefaultKeyMap()
	km.NextSuggestion.SetKeys("ctrl+n")
	km.PrevSuggestion.SetKeys("ctrl+p")
	p.ext.KeyMap = km
	p.dur = newInput("1:30")
	return p
}

func newInput(placeholder string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = 200
	return ti
}

// SetExtensions sets the completion list (the PBX's extensions), cleaned for the terminal: a suggestion is shown
// as it is, and what can be typed holds no control characters anyway.
func (p *Panel) SetExtensions(exts []string) {
	p.exts = make([]string, len(exts))
	for i, e := range exts {
		p.exts[i] = safetext.Terminal(e)
	}
	slices.Sort(p.exts)
	p.updateSuggestions()
}

// Open shows the panel editing s.
func (p *Panel) Open(s State) tea.Cmd {
	p.state = s
	p.ext.SetValue(strings.Join(s.Extensions, ","))
	p.ext.CursorEnd()
	if s.MinDuration > 0 {
		p.dur.SetValue(common.Duration(s.MinDuration))
	} else {
		p.dur.SetValue("")
	}
	p.row, p.col, p.err = rowExt, 0, ""
	p.focus = true
	p.updateSuggestions()
	return p.focusRow()
}

// Focus, Blur and Focused implement common.Focusable.
func (p *Panel) Focus() tea.Cmd { p.focus = true; return p.focusRow() }
func (p *Panel) Blur()          { p.focus = false; p.ext.Blur(); p.dur.Blur() }
func (p *Panel) Focused() bool  { return p.focus }

// State is the filters as edited so far.
func (p *Panel) State() State { return p.state }

func (p *Panel) SetSize(w, h int) {
	p.w, p.h = w, h
	iw := max(10, min(50, w-24))
	p.ext.SetWidth(iw)
	p.dur.SetWidth(iw)
}

func (p *Panel) focusRow() tea.Cmd {
	p.ext.Blur()
	p.dur.Blur()
	switch p.row {
	case rowExt:
		return p.ext.Focus()
	case rowDur:
		return p.dur.Focus()
	}
	return nil
}

// updateSuggestions offers completions for the last extension typed: "201,2" suggests "201,202", "201,203"….
func (p *Panel) updateSuggestions() {
	v := p.ext.Value()
	head := ""
	if i := strings.LastIndexAny(v, ", "); i >= 0 {
		head = v[:i+1]
	}
	sugg := make([]string, 0, len(p.exts))
	for _, e := range p.exts {
		sugg = append(sugg, head+e)
	}
	p.ext.SetSuggestions(sugg)
}

func (p *Panel) changed(final bool) tea.Cmd {
	return common.Cmd(Changed{State: p.state, Final: final})
}

func (p *Panel) Update(msg tea.Msg) tea.Cmd {
	if !p.focus {
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		switch p.row {
		case rowExt:
			p.ext, cmd = p.ext.Update(msg)
		case rowDur:
			p.dur, cmd = p.dur.Update(msg)
		}
		return cmd
	}
	switch {
	case key.Matches(km, p.Keys.Close):
		p.Blur()
		return tea.Batch(p.changed(true), common.Cmd(common.CloseDialog{}))
	case key.Matches(km, p.Keys.Clear):
		search := p.state.Search
		p.state = State{Search: search}
		p.ext.SetValue("")
		p.dur.SetValue("")
		p.err = ""
		return p.changed(false)
	case key.Matches(km, p.Keys.Up):
		p.row = (p.row + numRows - 1) % numRows
		p.col = 0
		return p.focusRow()
	case key.Matches(km, p.Keys.Down):
		p.row = (p.row + 1) % numRows
		p.col = 0
		return p.focusRow()
	}
	switch p.row {
	case rowExt, rowDur:
		if p.row == rowDur && key.Matches(km, p.Keys.Complete) {
			p.row = rowType
			return p.focusRow()
		}
		var cmd tea.Cmd
		if p.row == rowExt {
			p.ext, cmd = p.ext.Update(km)
			p.updateSuggestions()
			p.state.Extensions = ParseExtensions(p.ext.Value())
		} else {
			p.dur, cmd = p.dur.Update(km)
			d, err := ParseDuration(p.dur.Value())
			if err != nil {
				p.err = err.Error()
				return cmd
			}
			p.err = ""
			p.state.MinDuration = d
		}
		return tea.Batch(cmd, p.changed(false))
	default:
		toggles := typeToggles
		bits := &p.state.Types
		if p.row == rowDisp {
			toggles, bits = dispToggles, &p.state.Dispositions
		}
		switch {
		case key.Matches(km, p.Keys.Left):
			p.col = (p.col + len(toggles) - 1) % len(toggles)
		case key.Matches(km, p.Keys.Right), key.Matches(km, p.Keys.Complete):
			p.col = (p.col + 1) % len(toggles)
		case key.Matches(km, p.Keys.Toggle):
			*bits ^= toggles[p.col].bit
			return p.changed(false)
		}
	}
	return nil
}

func (p *Panel) View() string {
	st := &p.ctx.Styles
	label := func(row int, s string) string {
		l := st.Label
		if row == p.row {
			l = st.Accent.Bold(true)
		}
		return l.Width(14).Render(s)
	}
	toggleRow := func(row int, toggles []toggle, bits uint8) string {
		var parts []string
		for i, t := range toggles {
			box := "[ ]"
			if bits&t.bit != 0 {
				box = "[x]"
			}
			s := box + " " + t.label
			if row == p.row && i == p.col {
				s = st.Selected.Render(s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "  ")
	}
	lines := []string{
		st.Title.Render("Filters"),
		"",
		label(rowExt, "Extensions") + p.ext.View(),
		label(rowDur, "Min duration") + p.dur.View(),
		label(rowType, "Type") + toggleRow(rowType, typeToggles, p.state.Types),
		label(rowDisp, "Disposition") + toggleRow(rowDisp, dispToggles, p.state.Dispositions),
	}
	if p.err != "" {
		lines = append(lines, "", st.Error.Render(p.err))
	}
	hint := "Empty means all. Changes apply as you type; / searches numbers, names and IDs."
	lines = append(lines, "", st.Muted.Width(max(20, min(60, p.w-6))).Render(hint))
	box := st.Dialog.MaxWidth(p.w).Render(strings.Join(lines, "\n"))
	return box // the root centres it over the calls
}

func (p *Panel) ShortHelp() []key.Binding {
	k := p.Keys
	return []key.Binding{k.Down, k.Left, k.Toggle, k.Complete, k.Close}
}

func (p *Panel) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Left, k.Toggle}, {k.Complete, k.Clear, k.Close}}
}
