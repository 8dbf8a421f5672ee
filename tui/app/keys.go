package app

import (
	"charm.land/bubbles/v2/key"
)

// KeyMap is the app's own bindings; the call table, the player bar and the dialogs have theirs.
type KeyMap struct {
	Quit      key.Binding
	Help      key.Binding
	Play      key.Binding
	Player    key.Binding
	Detail    key.Binding
	Users     key.Binding
	Overview  key.Binding
	Export    key.Binding
	Search    key.Binding
	Filters   key.Binding
	Escape    key.Binding // cancels a fetch, else dismisses a sticky message, else clears the filters
	Refresh   key.Binding
	Follow    key.Binding
	Today     key.Binding
	Yesterday key.Binding
	Week      key.Binding
	Month     key.Binding
	Range     key.Binding
	Goto      key.Binding
	NextPage  key.Binding
	PrevPage  key.Binding
	GotoPage  key.Binding
	PageSize  key.Binding
}

// DefaultKeyMap is the app's default bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:      b([]string{"?"}, "?", "help"),
		Play:      b([]string{"enter"}, "enter", "play"),
		Player:    b([]string{"tab"}, "tab", "player keys"),
		Detail:    b([]string{"d"}, "d", "details"),
		Users:     b([]string{"u"}, "u", "users"),
		Overview:  b([]string{"o"}, "o", "overview"),
		Export:    b([]string{"e"}, "e", "export"),
		Search:    b([]string{"/"}, "/", "search"),
		Filters:   b([]string{"f"}, "f", "filters"),
		Escape:    b([]string{"esc"}, "esc", "stop/dismiss/clear filter"),
		Refresh:   b([]string{"r"}, "r", "refresh"),
		Follow:    b([]string{"F"}, "F", "follow new calls"),
		Today:     b([]string{"t"}, "t", "today"),
		Yesterday: b([]string{"y"}, "y", "yesterday"),
		Week:      b([]string{"w"}, "w", "last 7 days"),
		Month:     b([]string{"m"}, "m", "this month"),
		Range:     b([]string{"R"}, "R", "range (to excl.)"),
		Goto:      b([]string{":"}, ":", "go to call"),
		NextPage:  b([]string{"]"}, "]", "next page"),
		PrevPage:  b([]string{"["}, "[", "previous page"),
		GotoPage:  b([]string{"P"}, "P", "go to page"),
		PageSize:  b([]string{"Z"}, "Z", "page size"),
	}
}
