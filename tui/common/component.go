// Package common is the contract every callscope TUI component follows and the context they share: theme,
// styles, terminal size, clock and debug logger, plus the messages components send each other through the root.
//
// A component is a pointer-receiver model:
//
//	Update(tea.Msg) tea.Cmd   // mutate in place; return I/O as Cmds, never block
//	View() string             // render exactly the size given to SetSize
//	SetSize(width, height int)
//	ShortHelp()/FullHelp()    // bubbles help.KeyMap, built from the component's own KeyMap of key.Bindings
//
// The root model (tui/app) routes tea.WindowSizeMsg to every component through SetSize, key and mouse messages
// only to the focused one, and every other message to all of them, so a component ignores what is not its own.
// Dialogs (prompts, export, overview) close themselves by returning CloseDialog as a Cmd.
package common

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// Component is the one contract every TUI part implements.
type Component interface {
	help.KeyMap
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
}

// Focusable is a component that takes the keyboard when the root gives it focus (the player bar, dialogs).
type Focusable interface {
	Component
	Focus() tea.Cmd
	Blur()
	Focused() bool
}

// Cmd wraps a message as a Cmd, for components that answer with a message of their own.
func Cmd(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
