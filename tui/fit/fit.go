// Package fit sizes styled terminal text to a number of cells: cut with an ellipsis, padded with spaces, or
// both, for one line or a block. Every component draws exactly the size it was given with these.
package fit

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Width is how many cells s takes; escape sequences take none. Printable ASCII (call IDs, numbers, most names)
// is counted without decoding.
func Width(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// Cut shortens s to at most w cells, ending in "…" when it had to; "" when w is not positive.
func Cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// Pad adds spaces after s up to w cells; s as it is when it is as wide or wider.
func Pad(s string, w int) string {
	if n := Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// Line makes s exactly w cells: cut, then padded on the right.
func Line(s string, w int) string { return line(s, w, false) }

// LineRight makes s exactly w cells, padded on the left (numbers in a column).
func LineRight(s string, w int) string { return line(s, w, true) }

func line(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	n := Width(s)
	if n > w {
		// A wide character that does not fit whole leaves a cell over: the padding below fills it.
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	switch {
	case n == w:
		return s
	case right:
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}

// Block makes s exactly h lines of exactly w cells, centred in the area when centre is set.
func Block(s string, w, h int, centre bool) string {
	if centre && (lipgloss.Width(s) < w || lipgloss.Height(s) < h) {
		s = lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s)
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, ln := range lines {
		if ansi.StringWidth(ln) != w {
			lines[i] = Line(ln, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}
