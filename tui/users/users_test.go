package users

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// TestFollowsTheme: the terminal's light/dark answer arrives after start-up; the users table drawn after it must
// be in the new theme's colours, as a view made in that theme draws it.
func TestFollowsTheme(t *testing.T) {
	us := []cdr.User{{Extension: "201", Name: "Reception"}, {Extension: "202", Name: "Sales"}}
	view := func(m *Model) string {
		m.SetSize(60, 20)
		m.SetUsers(us, nil)
		m.Focus()
		m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		return m.View()
	}
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	m := New(ctx)
	dark := view(m)
	ctx.SetTheme(theme.New(false, false))
	got := view(m)
	want := view(New(common.NewContext(theme.New(false, false), nil, nil)))
	if got == dark {
		t.Fatal("the test cannot tell the themes apart")
	}
	if got != want {
		t.Fatalf("after the switch to light the table draws\n%q\nwant\n%q", got, want)
	}
}
