// Package overview is the chart dialog: calls per hour or per day, answered stacked under missed, and the
// extensions with the most calls, over the rows the call table shows (so it follows the active filters).
// Counting runs in a Cmd; while rows stream in, at most one count is in flight and the latest rows are counted
// next.
package overview

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/tui/common"
)

// topKept is how many extensions a count keeps; the view shows as many as fit.
const topKept = 40

// KeyMap is the overview's bindings.
type KeyMap struct {
	Close       key.Binding
	Granularity key.Binding
}

// DefaultKeyMap is the overview's default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Close:       key.NewBinding(key.WithKeys("esc", "q", "o"), key.WithHelp("esc", "close")),
		Granularity: key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "hours/days")),
	}
}

// Model is the overview dialog.
type Model struct {
	ctx  *common.Context
	Keys KeyMap

	width, height int
	focused       bool

	rows    common.Rows
	filters string
	gran    Granularity

	gen       int  // tags each count so the answer to an older question is recognised
	computing bool // a count is in flight
	dirty     bool // rows or granularity changed while counting: count again when it lands
	stats     Stats
	counted   bool // stats hold a finished count
}

// statsMsg carries a finished count.
type statsMsg struct {
	gen   int
	stats Stats
}

// New returns the overview; it counts nothing until it is focused (opened).
func New(ctx *common.Context) *Model {
	return &Model{ctx: ctx, Keys: DefaultKeyMap()}
}

// SetRows sets the rows to chart directly (the root may also broadcast common.RowsChanged).
func (m *Model) SetRows(rows common.Rows, filters string) tea.Cmd {
	m.rows, m.filters = rows, filters
	if !m.focused {
		m.counted = false // stale: count again when opened
		return nil
	}
	return m.recount()
}

// Focus opens the dialog and counts the current rows.
func (m *Model) Focus() tea.Cmd {
	m.focused = true
	return m.recount()
}

// Blur closes the dialog; counts in flight are still accepted so reopening is instant.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the dialog is open.
func (m *Model) Focused() bool { return m.focused }

func (m *Model) recount() tea.Cmd {
	if m.computing {
		m.dirty = true
		return nil
	}
	m.computing, m.dirty = true, false
	m.gen++
	gen, rows, g := m.gen, m.rows, m.gran
	return func() tea.Msg { return statsMsg{gen: gen, stats: Compute(rows, g, topKept)} }
}

// Update handles row changes, finished counts and, when focused, keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.RowsChanged:
		return m.SetRows(msg.Rows, msg.Filters)
	case statsMsg:
		if msg.gen != m.gen {
			return nil
		}
		m.computing = false
		m.stats, m.counted = msg.stats, true
		if m.dirty && m.focused {
			return m.recount()
		}
		return nil
	case tea.KeyPressMsg:
		if !m.focused {
			return nil
		}
		switch {
		case key.Matches(msg, m.Keys.Close):
			m.focused = false
			return common.Cmd(common.CloseDialog{})
		case key.Matches(msg, m.Keys.Granularity):
			m.gran = nextGranularity(m.gran, m.stats)
			return m.recount()
		}
	}
	return nil
}

// nextGranularity cycles auto → the other of what auto chose → back to auto, skipping hours when the span is
// too long for them.
func nextGranularity(g Granularity, st Stats) Granularity {
	switch g {
	case Auto:
		if st.Hourly {
			return Daily
		}
		if st.HourlyPossible {
			return Hourly
		}
		return Auto
	default:
		return Auto
	}
}

// SetSize is the area the dialog may fill, border included.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// ShortHelp is the overview's one-line help.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.Keys.Granularity, m.Keys.Close} }

// FullHelp is the overview's help page.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// The root drives it through the one component contract.
var _ common.Focusable = (*Model)(nil)
