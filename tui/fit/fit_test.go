package fit

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/safetext"
)

const red = "\x1b[31m"

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s          string
		w          int
		cut, pad   string
		line, righ string
	}{
		{"abc", 5, "abc", "abc  ", "abc  ", "  abc"},
		{"abc", 3, "abc", "abc", "abc", "abc"},
		{"abcdef", 4, "abc…", "abcdef", "abc…", "abc…"},
		{"abc", 0, "", "abc", "", ""},
		{"abc", -2, "", "abc", "", ""},
		{"", 2, "", "  ", "  ", "  "},
		{"日本語", 4, "日…", "日本語", "日… ", " 日…"},
		{"日本", 5, "日本", "日本 ", "日本 ", " 日本"},
		{"Désirée", 8, "Désirée", "Désirée ", "Désirée ", " Désirée"},
		{red + "abc" + ansi.ResetStyle, 4, red + "abc" + ansi.ResetStyle, red + "abc" + ansi.ResetStyle + " ",
			red + "abc" + ansi.ResetStyle + " ", " " + red + "abc" + ansi.ResetStyle},
	} {
		if got := Cut(tc.s, tc.w); got != tc.cut {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.cut)
		}
		if got := Pad(tc.s, tc.w); got != tc.pad {
			t.Errorf("Pad(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.pad)
		}
		if got := Line(tc.s, tc.w); got != tc.line {
			t.Errorf("Line(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.line)
		}
		if got := LineRight(tc.s, tc.w); got != tc.righ {
			t.Errorf("LineRight(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.righ)
		}
	}
}

func TestWidthCountsCellsNotBytes(t *testing.T) {
	for s, want := range map[string]int{"": 0, "2024-03-01 09:00": 16, "Ødegård": 7, "日本": 4, red + "x" + ansi.ResetStyle: 1,
		"a\tb": ansi.StringWidth("a\tb")} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestBlock(t *testing.T) {
	got := Block("one\nthree\nfour too long for it", 6, 4, false)
	if want := "one   \nthree \nfour …\n      "; got != want {
		t.Fatalf("Block = %q, want %q", got, want)
	}
	centred := Block("x", 5, 3, true)
	lines := strings.Split(centred, "\n")
	if len(lines) != 3 || lines[1] != "  x  " {
		t.Fatalf("centred block %q", centred)
	}
	if got := Block("a\nb\nc", 1, 2, false); got != "a\nb" {
		t.Fatalf("a block taller than its area keeps its top: %q", got)
	}
}

// Line is exactly w cells for any text that takes its own cells: a mark that joins the character after or before
// it (U+0605, a leading combining accent) joins the padding too, and no count of spaces can say it.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"abc", "日本語", red + "x", "a\u0301", "\x1b]0;t\x07x"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		s = safetext.Terminal(s) // what components are given: a C1 control would swallow the text after it
		if sw := ansi.StringWidth(s); ansi.StringWidth(s+" ") != sw+1 || ansi.StringWidth(" "+s) != sw+1 {
			return
		}
		w = w % 200
		got := Line(s, w)
		if want := max(0, w); ansi.StringWidth(got) != want {
			t.Fatalf("Line(%q, %d) is %d cells wide", s, w, ansi.StringWidth(got))
		}
	})
}
