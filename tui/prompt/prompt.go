// Package prompt is the small text-entry dialogs: go to a call, a custom time range, go to a page, page size.
// Each validates what was typed and answers with a message for the root; a bad entry keeps the dialog open and
// says what to type instead.
package prompt

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/callscope/callscope/tui/common"
)

// Field is one labelled input.
type Field struct {
	Label       string
	Placeholder string
	Value       string
}

// KeyMap is a prompt's bindings.
type KeyMap struct {
	Submit key.Binding
	Next   key.Binding
	Prev   key.Binding
	Cancel key.Binding
}

// Model is a prompt dialog.
type Model struct {
	ctx    *common.Context
	Keys   KeyMap
	title  string
	hint   string
	labels []string
	inputs []textinput.Model
	cur    int
	submit func(values []string) (tea.Msg, error)
	// preview, when set, is a line under the fields saying what enter would do with the values typed so far
	// ("" when they do not parse yet).
	preview func(values []string) string
	err     string
	w, h    int
}

// New builds a prompt; submit turns the values into the message to send, or an error to show.
func New(ctx *common.Context, title, hint string, fields []Field, submit func([]string) (tea.Msg, error)) *Model {
	m := &Model{ctx: ctx, title: title, hint: hint, submit: submit, Keys: KeyMap{
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok")),
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}}
	for _, f := range fields {
		ti := textinput.New()
		ti.Prompt = ""
		ti.Placeholder = f.Placeholder
		ti.SetValue(f.Value)
		ti.CursorEnd()
		ti.CharLimit = 100
		m.inputs = append(m.inputs, ti)
		m.labels = append(m.labels, f.Label)
	}
	if len(fields) < 2 {
		m.Keys.Next.SetEnabled(false)
		m.Keys.Prev.SetEnabled(false)
	}
	return m
}

// Values are the fields' current text.
func (m *Model) Values() []string {
	out := make([]string, len(m.inputs))
	for i, in := range m.inputs {
		out[i] = in.Value()
	}
	return out
}

// Err is the validation message shown, "" for none.
func (m *Model) Err() string { return m.err }

func (m *Model) Focus() tea.Cmd { return m.inputs[m.cur].Focus() }
func (m *Model) Blur() {
	for i := range m.inputs {
		m.inputs[i].Blur()
	}
}
func (m *Model) Focused() bool { return m.inputs[m.cur].Focused() }

func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	for i := range m.inputs {
		m.inputs[i].SetWidth(max(10, min(40, w-24)))
	}
}

func (m *Model) move(d int) tea.Cmd {
	m.inputs[m.cur].Blur()
	m.cur = (m.cur + d + len(m.inputs)) % len(m.inputs)
	return m.inputs[m.cur].Focus()
}

func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, m.Keys.Cancel):
			m.Blur()
			return common.Cmd(common.CloseDialog{})
		case key.Matches(km, m.Keys.Next):
			return m.move(1)
		case key.Matches(km, m.Keys.Prev):
			return m.move(-1)
		case key.Matches(km, m.Keys.Submit):
			out, err := m.submit(m.Values())
			if err != nil {
				m.err = err.Error()
				return nil
			}
			m.Blur()
			return tea.Batch(common.Cmd(common.CloseDialog{}), common.Cmd(out))
		}
	}
	var cmd tea.Cmd
	m.inputs[m.cur], cmd = m.inputs[m.cur].Update(msg)
	return cmd
}

func (m *Model) View() string {
	st := &m.ctx.Styles
	lw := 0
	for _, l := range m.labels {
		lw = max(lw, lipgloss.Width(l))
	}
	lines := []string{st.Title.Render(m.title), ""}
	for i, in := range m.inputs {
		l := st.Label
		if i == m.cur {
			l = st.Accent.Bold(true)
		}
		lines = append(lines, l.Width(lw+2).Render(m.labels[i])+in.View())
	}
	if m.preview != nil {
		if p := m.preview(m.Values()); p != "" {
			lines = append(lines, "", st.Normal.Render(wrap(p, max(20, min(60, m.w-6)))))
		}
	}
	if m.err != "" {
		lines = append(lines, "", st.Error.Render(wrap(m.err, max(20, min(60, m.w-6)))))
	}
	if m.hint != "" {
		lines = append(lines, "", st.Muted.Render(wrap(m.hint, max(20, min(60, m.w-6)))))
	}
	box := st.Dialog.MaxWidth(m.w).Render(strings.Join(lines, "\n"))
	return box // the root centres it over the calls
}

func wrap(s string, w int) string { return lipgloss.NewStyle().Width(w).Render(s) }

func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.Keys.Submit, m.Keys.Next, m.Keys.Cancel}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.Keys.Submit, m.Keys.Next, m.Keys.Prev, m.Keys.Cancel}}
}
