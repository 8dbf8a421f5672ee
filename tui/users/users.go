// Package users is the view of the PBX's extension list. PINs are never shown: only extension and name.
package users

import (
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// KeyMap is the users view's bindings: bubbles' table navigation, filter by the chosen extension, close.
type KeyMap struct {
	table.KeyMap
	Filter key.Binding
	Close  key.Binding
}

// FilterExtension asks the root to filter the calls by this extension (enter on a user).
type FilterExtension struct{ Extension string }

// Model is the users view. The list is small (hundreds), so bubbles' table renders it as it comes.
type Model struct {
	ctx     *common.Context
	Keys    KeyMap
	tbl     table.Model
	users   []cdr.User
	err     error
	loading bool
	focus   bool
	w, h    int
	styled  theme.Theme // the theme the table's styles were built from: the terminal's light/dark answer may come later
}

// New returns an empty users view.
func New(ctx *common.Context) *Model {
	km := table.DefaultKeyMap()
	km.PageDown.SetKeys("pgdown", "f")
	km.HalfPageUp.SetKeys("ctrl+u") // u closes the view, as it opened it
	m := &Model{ctx: ctx, loading: true, Keys: KeyMap{
		KeyMap: km,
		Filter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "calls of this extension")),
		Close:  key.NewBinding(key.WithKeys("esc", "u", "q"), key.WithHelp("esc", "close")),
	}}
	m.tbl = table.New(table.WithColumns(columns(40)), table.WithKeyMap(km))
	m.applyStyles()
	return m
}

func (m *Model) applyStyles() {
	m.styled = m.ctx.Theme
	st := &m.ctx.Styles
	m.tbl.SetStyles(table.Styles{
		Header:   st.Header.Padding(0, 1),
		Cell:     lipgloss.NewStyle().Padding(0, 1),
		Selected: st.Selected,
	})
}

func columns(w int) []table.Column {
	return []table.Column{{Title: "Extension", Width: 12}, {Title: "Name", Width: max(8, w-12-4-4)}}
}

// SetUsers fills the list (sorted by extension), or records why it could not be fetched.
func (m *Model) SetUsers(us []cdr.User, err error) {
	m.loading = false
	m.err = err
	if err != nil {
		return
	}
	m.users = slices.Clone(us)
	slices.SortFunc(m.users, func(a, b cdr.User) int {
		if len(a.Extension) != len(b.Extension) {
			return len(a.Extension) - len(b.Extension)
		}
		return strings.Compare(a.Extension, b.Extension)
	})
	rows := make([]table.Row, len(m.users))
	for i, u := range m.users {
		rows[i] = table.Row{safetext.Terminal(u.Extension), safetext.Terminal(u.Name)}
	}
	m.tbl.SetRows(rows)
}

// Users is the list as shown.
func (m *Model) Users() []cdr.User { return m.users }

// Names maps extension → name, for the call table and the detail pane.
func Names(us []cdr.User) map[string]string {
	out := make(map[string]string, len(us))
	for _, u := range us {
		if u.Name != "" {
			out[u.Extension] = u.Name
		}
	}
	return out
}

func (m *Model) Focus() tea.Cmd { m.focus = true; m.tbl.Focus(); return nil }
func (m *Model) Blur()          { m.focus = false; m.tbl.Blur() }
func (m *Model) Focused() bool  { return m.focus }

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	bw := min(w, 60)
	m.tbl.SetColumns(columns(bw - 4))
	m.tbl.SetWidth(bw - 4)
	m.tbl.SetHeight(max(3, h-6))
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if !m.focus {
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, m.Keys.Close):
			m.Blur()
			return common.Cmd(common.CloseDialog{})
		case key.Matches(km, m.Keys.Filter):
			// The extension as the PBX sent it, not the row's text, which is cleaned for the terminal.
			if i := m.tbl.Cursor(); i >= 0 && i < len(m.users) {
				m.Blur()
				return tea.Batch(common.Cmd(FilterExtension{Extension: m.users[i].Extension}), common.Cmd(common.CloseDialog{}))
			}
			return nil
		}
	}
	var cmd tea.Cmd
	m.tbl, cmd = m.tbl.Update(msg)
	return cmd
}

func (m *Model) View() string {
	st := &m.ctx.Styles
	var body string
	switch {
	case m.err != nil:
		body = st.Error.Render("cannot list users: " + safetext.Terminal(m.err.Error()))
	case m.loading:
		body = st.Muted.Render("fetching the extension list…")
	case len(m.users) == 0:
		body = st.Muted.Render("the PBX lists no extensions")
	default:
		if m.styled != m.ctx.Theme {
			m.applyStyles()
		}
		body = m.tbl.View()
	}
	title := st.Title.Render("Users") + st.Muted.Render("  "+strconv.Itoa(len(m.users))+" extensions · PINs are never shown")
	box := st.Dialog.MaxWidth(m.w).Render(title + "\n\n" + body)
	return box // the root centres it over the calls
}

func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.Keys.LineUp, m.Keys.LineDown, m.Keys.Filter, m.Keys.Close}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{{k.LineUp, k.LineDown, k.PageUp, k.PageDown, k.GotoTop, k.GotoBottom}, {k.Filter, k.Close}}
}
