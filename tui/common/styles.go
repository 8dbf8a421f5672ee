package common

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/theme"
)

// Styles are built from a Theme once and shared; components never construct colours themselves.
type Styles struct {
	Normal   lipgloss.Style
	Muted    lipgloss.Style
	Subtle   lipgloss.Style
	Accent   lipgloss.Style
	Bold     lipgloss.Style
	Error    lipgloss.Style
	Warning  lipgloss.Style
	OK       lipgloss.Style
	Title    lipgloss.Style // a pane or dialog title
	Label    lipgloss.Style // "Extension:" in the detail pane
	Value    lipgloss.Style
	Header   lipgloss.Style // the table's fixed header row
	Selected lipgloss.Style // the cursor row
	Mark     lipgloss.Style // the marked-row bullet
	Status   lipgloss.Style // the status bar background
	StatusKV lipgloss.Style // a highlighted status segment (filters, counts)
	Dialog   lipgloss.Style // bordered box for prompts and dialogs
	Pane     lipgloss.Style // bordered box for side panes (detail)
	Help     help.Styles

	inbound, outbound, internal, other lipgloss.Style
	answered, noAnswer, busy, failed   lipgloss.Style
}

// NewStyles derives every style from th.
func NewStyles(th theme.Theme) Styles {
	s := lipgloss.NewStyle
	st := Styles{
		Normal:   s().Foreground(th.Fg),
		Muted:    s().Foreground(th.Muted),
		Subtle:   s().Foreground(th.Subtle),
		Accent:   s().Foreground(th.Accent),
		Bold:     s().Bold(true),
		Error:    s().Foreground(th.Error).Bold(true),
		Warning:  s().Foreground(th.Warning),
		OK:       s().Foreground(th.OK),
		Title:    s().Foreground(th.Accent).Bold(true),
		Label:    s().Foreground(th.Muted),
		Value:    s().Foreground(th.Fg),
		Header:   s().Foreground(th.HeaderFg).Background(th.HeaderBg).Bold(true),
		Selected: s().Foreground(th.SelectedFg).Background(th.SelectedBg).Bold(true),
		Mark:     s().Foreground(th.Mark).Bold(true),
		Status:   s().Foreground(th.StatusFg).Background(th.StatusBg),
		StatusKV: s().Foreground(th.Accent).Background(th.StatusBg).Bold(true),
		Dialog:   s().Border(lipgloss.RoundedBorder()).BorderForeground(th.Accent).Padding(0, 1),
		Pane:     s().Border(lipgloss.NormalBorder()).BorderForeground(th.Subtle).Padding(0, 1),
		inbound:  s().Foreground(th.Inbound),
		outbound: s().Foreground(th.Outbound),
		internal: s().Foreground(th.Internal),
		other:    s().Foreground(th.Other),
		answered: s().Foreground(th.Answered),
		noAnswer: s().Foreground(th.NoAnswer),
		busy:     s().Foreground(th.Busy),
		failed:   s().Foreground(th.Failed),
	}
	if th.NoColor {
		// Without colour the cursor row must still stand out.
		st.Selected = s().Reverse(true)
		st.Header = s().Bold(true).Underline(true)
	}
	hs := help.DefaultStyles(th.Dark)
	if th.NoColor {
		hs = help.Styles{}
	} else {
		hs.ShortKey = hs.ShortKey.Foreground(th.Accent)
		hs.FullKey = hs.FullKey.Foreground(th.Accent)
	}
	st.Help = hs
	return st
}

// CallType is the style for a call type's glyph and word.
func (st *Styles) CallType(t cdr.CallType) lipgloss.Style {
	switch t {
	case cdr.CallInbound:
		return st.inbound
	case cdr.CallOutbound:
		return st.outbound
	case cdr.CallInternal:
		return st.internal
	}
	return st.other
}

// Disposition is the style for a disposition word.
func (st *Styles) Disposition(d cdr.Disposition) lipgloss.Style {
	switch d {
	case cdr.DispAnswered:
		return st.answered
	case cdr.DispNoAnswer:
		return st.noAnswer
	case cdr.DispBusy:
		return st.busy
	case cdr.DispFailed:
		return st.failed
	}
	return st.Muted
}
