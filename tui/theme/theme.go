// Package theme holds callscope's colours, in a light and a dark variant, and nothing else: the styles built
// from them live in tui/common, so changing the palette never touches layout code.
package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme is a palette. Every field is a colour; with NoColor set they are all lipgloss.NoColor and the UI relies
// on glyphs, bold and reverse video alone.
type Theme struct {
	Dark    bool
	NoColor bool

	Fg     color.Color // ordinary text
	Muted  color.Color // secondary text: labels, units, unknown values
	Subtle color.Color // rules and separators
	Accent color.Color // titles, the active key hint, the spinner

	HeaderFg   color.Color
	HeaderBg   color.Color
	SelectedFg color.Color
	SelectedBg color.Color
	Mark       color.Color // the marked-row bullet
	StatusFg   color.Color
	StatusBg   color.Color

	// Call types.
	Inbound  color.Color
	Outbound color.Color
	Internal color.Color
	Other    color.Color

	// Dispositions.
	Answered color.Color
	NoAnswer color.Color
	Busy     color.Color
	Failed   color.Color

	Error   color.Color
	Warning color.Color
	OK      color.Color
}

// New returns the dark or light palette, or the colourless one when noColor is set (NO_COLOR).
func New(dark, noColor bool) Theme {
	if noColor {
		n := lipgloss.NoColor{}
		return Theme{Dark: dark, NoColor: true,
			Fg: n, Muted: n, Subtle: n, Accent: n, HeaderFg: n, HeaderBg: n, SelectedFg: n, SelectedBg: n,
			Mark: n, StatusFg: n, StatusBg: n, Inbound: n, Outbound: n, Internal: n, Other: n,
			Answered: n, NoAnswer: n, Busy: n, Failed: n, Error: n, Warning: n, OK: n}
	}
	ld := lipgloss.LightDark(dark)
	c := lipgloss.Color
	return Theme{
		Dark:       dark,
		Fg:         ld(c("#1F2328"), c("#D8DEE4")),
		Muted:      ld(c("#6E7781"), c("#8B949E")),
		Subtle:     ld(c("#D0D7DE"), c("#30363D")),
		Accent:     ld(c("#8250DF"), c("#B392F0")),
		HeaderFg:   ld(c("#24292F"), c("#E6EDF3")),
		HeaderBg:   ld(c("#EAEEF2"), c("#21262D")),
		SelectedFg: ld(c("#0A0A0A"), c("#FFFFFF")),
		SelectedBg: ld(c("#B6E3FF"), c("#1F4E79")),
		Mark:       ld(c("#BF3989"), c("#F778BA")),
		StatusFg:   ld(c("#24292F"), c("#C9D1D9")),
		StatusBg:   ld(c("#F6F8FA"), c("#161B22")),
		Inbound:    ld(c("#0969DA"), c("#58A6FF")),
		Outbound:   ld(c("#1A7F37"), c("#3FB950")),
		Internal:   ld(c("#9A6700"), c("#D29922")),
		Other:      ld(c("#6E7781"), c("#8B949E")),
		Answered:   ld(c("#1A7F37"), c("#3FB950")),
		NoAnswer:   ld(c("#BC4C00"), c("#F0883E")),
		Busy:       ld(c("#9A6700"), c("#D29922")),
		Failed:     ld(c("#CF222E"), c("#F85149")),
		Error:      ld(c("#CF222E"), c("#FF7B72")),
		Warning:    ld(c("#9A6700"), c("#D29922")),
		OK:         ld(c("#1A7F37"), c("#3FB950")),
	}
}
