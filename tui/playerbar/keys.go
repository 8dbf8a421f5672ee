package playerbar

import (
	"charm.land/bubbles/v2/key"
)

// KeyMap is the one player keymap: the app's player bar (while it has focus) and `callscope play` use these
// same bindings, and both show them with `?`. Keys come in pairs (back/forward, slower/faster, quieter/louder,
// previous/next speech); the first of each pair carries the help line for both.
type KeyMap struct {
	Toggle     key.Binding
	Back       key.Binding
	Forward    key.Binding
	BackBig    key.Binding
	ForwardBig key.Binding
	PrevSpeech key.Binding
	NextSpeech key.Binding
	Slower     key.Binding
	Faster     key.Binding
	Quieter    key.Binding
	Louder     key.Binding
	Stop       key.Binding
	// Leave gives the keyboard back to the call table (the app only; `play` quits with q/esc instead).
	Leave key.Binding
}

// DefaultKeyMap is the player's default bindings: mpv's and most players' habits where they agree (space
// pauses, arrows seek, - and + change the volume), letters for terminals that send no shifted arrows.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Toggle:     b([]string{"space", "p"}, "space/p", "pause/play"),
		Back:       b([]string{"left", "h"}, "←/→", "seek ±5 s"),
		Forward:    b([]string{"right", "l"}, "→", "seek +5 s"),
		BackBig:    b([]string{"shift+left", "H"}, "⇧←/⇧→", "seek ±30 s (H/L)"),
		ForwardBig: b([]string{"shift+right", "L"}, "⇧→", "seek +30 s"),
		PrevSpeech: b([]string{"[", "N"}, "[/]", "previous/next speech"),
		NextSpeech: b([]string{"]", "n"}, "]", "next speech"),
		Slower:     b([]string{"<", ","}, "</>", "slower/faster"),
		Faster:     b([]string{">", "."}, ">", "faster"),
		Quieter:    b([]string{"-", "_"}, "-/+", "quieter/louder"),
		Louder:     b([]string{"+", "="}, "+", "louder"),
		Stop:       b([]string{"s", "x"}, "s", "stop"),
		Leave:      b([]string{"esc", "tab"}, "esc/tab", "back to the calls"),
	}
}

// Controls are the playback bindings, without Leave: what the player itself does.
func (k KeyMap) Controls() []key.Binding {
	return []key.Binding{k.Toggle, k.Back, k.Forward, k.BackBig, k.ForwardBig, k.PrevSpeech, k.NextSpeech,
		k.Slower, k.Faster, k.Quieter, k.Louder, k.Stop}
}

// HelpGroups are the bindings to list in help, one line per pair (the first of each pair names both).
func (k KeyMap) HelpGroups() [][]key.Binding {
	return [][]key.Binding{
		{k.Toggle, k.Stop},
		{k.Back, k.BackBig},
		{k.PrevSpeech},
		{k.Slower, k.Quieter},
	}
}

// GlobalKeyMap is what works from anywhere while a call is loaded: pause and resume.
type GlobalKeyMap struct {
	Toggle key.Binding
}

// DefaultGlobalKeyMap is `p` for pause.
func DefaultGlobalKeyMap() GlobalKeyMap {
	return GlobalKeyMap{Toggle: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/play"))}
}
