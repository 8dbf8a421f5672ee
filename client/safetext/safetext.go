// Package safetext makes text that came from outside callscope (a PBX's records and file names, a caller's
// caller ID, a push) safe to hand to the two readers that would otherwise obey it: a terminal, which runs
// escape sequences, and a spreadsheet, which runs formulas. The text is kept and shown; only its power to
// act is taken away.
//
// Both functions return their input unchanged, without allocating, when there is nothing to clean: they sit on
// hot paths (every visible table cell, every cell of a million-row CSV).
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Terminal returns s with everything a terminal would act on rather than print made visible:
//
//   - C0 controls and DEL become escapes: ESC is `\x1b`, NUL `\x00`, DEL `\x7f`; TAB, LF and CR, which would
//     break a table's columns and lines or overwrite what is already on screen, are `\t`, `\n` and `\r`;
//   - C1 controls (U+0080–U+009F, which some terminals take as ESC-sequences) become `\u0080`…`\u009f`;
//   - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which can make text read
//     in another order than it is stored, and the line and paragraph separators U+2028 and U+2029 become
//     `\u202e` and so on;
//   - each byte that is not valid UTF-8 becomes U+FFFD.
//
// The result holds only printable text, so its display width is what a width function measures. A backslash
// is left as it is: the escapes are for people to read, not to be decoded, and Terminal(Terminal(s)) ==
// Terminal(s).
func Terminal(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				writeC0(&b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case hidden(r):
			writeU(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// firstUnsafe is the index of the first byte Terminal must change, -1 for none.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || hidden(r) {
			return i
		}
		i += n
	}
	return -1
}

// hidden reports the non-ASCII runes a terminal acts on or that change how the text around them reads.
func hidden(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c: // bidi
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

func writeC0(b *strings.Builder, c byte) {
	switch c {
	case '\t':
		b.WriteString(`\t`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	default:
		b.WriteString(`\x`)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
}

func writeU(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// CSVPrefix is put before a text cell that a spreadsheet would run as a formula: a single quote, as OWASP
// recommends. Spreadsheets show it, so a reader sees that the cell was changed and what it held.
const CSVPrefix = "'"

// CSVCell returns s as it may be written into a CSV text cell: NUL bytes are dropped (no CSV reader expects
// them, and some stop reading at one), and a cell that a spreadsheet would take as a formula gets CSVPrefix
// in front. A formula is a cell whose first character, after any leading spaces and line feeds, is
//
//   - `=`, `@`, a tab or a carriage return; or
//   - `+` or `-` followed by anything other than digits, spaces, dots, dashes and parentheses.
//
// So `+27 82 123 4567`, `+1 (555) 010-9999`, `-5` and `-` stay as they are (a phone number, a number: nothing in
// them can call a function, name a cell or reach another program), while `-2+3`, `+cmd|' /C calc'!A0`, `=1+1`,
// `@SUM(A1)` and "\t=1" are neutralised. A cell that starts with the prefix already is left alone, so
// CSVCell(CSVCell(s)) == CSVCell(s). Only text cells go through CSVCell; numbers written by callscope itself
// (durations, sizes) never start with these characters.
func CSVCell(s string) string {
	s = CSVRawCell(s)
	if isFormula(s) {
		return CSVPrefix + s
	}
	return s
}

// CSVRawCell returns s as the PBX sent it, for scripts that asked for raw cells, but without NUL bytes, which
// never reach a CSV.
func CSVRawCell(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// isFormula applies CSVCell's rule.
func isFormula(s string) bool {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\n') {
		i++
	}
	if i == len(s) {
		return false
	}
	switch s[i] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !plainNumber(s[i+1:])
	}
	return false
}

// plainNumber reports whether s holds only what a phone number or a number is written with.
func plainNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '.', c == '-', c == '(', c == ')':
		default:
			return false
		}
	}
	return true
}
