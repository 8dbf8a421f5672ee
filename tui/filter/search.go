package filter

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/tui/common"
)

// SearchKeyMap is the search bar's bindings.
type SearchKeyMap struct {
	Accept key.Binding
	Cancel key.Binding
}

// Search is the one-line free-text search (`/`) over numbers, names and IDs; it filters as the user types.
type Search struct {
	ctx   *common.Context
	Keys  SearchKeyMap
	input textinput.Model
	state State
	w     int
}

// NewSearch returns a closed search bar.
func NewSearch(ctx *common.Context) *Search {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "number, name or call ID"
	ti.CharLimit = 100
	return &Search{ctx: ctx, input: ti, Keys: SearchKeyMap{
		Accept: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep search")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
	}}
}

// Open starts editing the search of s.
func (s *Search) Open(st State) tea.Cmd {
	s.state = st
	s.input.SetValue(st.Search)
	s.input.CursorEnd()
	return s.input.Focus()
}

func (s *Search) Focus() tea.Cmd { return s.input.Focus() }
func (s *Search) Blur()          { s.input.Blur() }
func (s *Search) Focused() bool  { return s.input.Focused() }

func (s *Search) SetSize(w, _ int) {
	s.w = w
	s.input.SetWidth(max(1, w-2))
}

func (s *Search) Update(msg tea.Msg) tea.Cmd {
	if !s.input.Focused() {
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, s.Keys.Accept):
			s.Blur()
			return tea.Batch(common.Cmd(Changed{State: s.state, Final: true}), common.Cmd(common.CloseDialog{}))
		case key.Matches(km, s.Keys.Cancel):
			s.Blur()
			s.state.Search = ""
			return tea.Batch(common.Cmd(Changed{State: s.state, Final: true}), common.Cmd(common.CloseDialog{}))
		}
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	if s.input.Value() != s.state.Search {
		s.state.Search = s.input.Value()
		return tea.Batch(cmd, common.Cmd(Changed{State: s.state}))
	}
	return cmd
}

func (s *Search) View() string { return s.input.View() }

func (s *Search) ShortHelp() []key.Binding { return []key.Binding{s.Keys.Accept, s.Keys.Cancel} }
func (s *Search) FullHelp() [][]key.Binding {
	return [][]key.Binding{{s.Keys.Accept, s.Keys.Cancel}}
}
