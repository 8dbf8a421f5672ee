package cdr

import (
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callscope/callscope/client/safetext"
)

// This file holds the appending encoders behind CSVWriter and JSONWriter. A million-row export spends its time
// here, so the common case (a cell of plain text, a time in the same zone period and day as the row before) is
// a scan eight bytes at a time and a copy; anything else goes the general way, through the same safetext rules
// and the same quoting and escaping encoding/csv and encoding/json apply (csv_equiv_test.go holds the writers
// to that, byte for byte).

// timeCache appends times as time.RFC3339 does. It remembers the zone period of the last time (the span in which
// its location's offset does not change) and the date of its last day, so a row in the same period and day costs
// a few integer operations instead of a calendar computation. Not safe for concurrent use.
type timeCache struct {
	loc      *time.Location
	from, to int64 // the period [from, to) in Unix seconds in which loc's offset is off
	off      int64
	suffix   []byte // "Z" or "+02:00", as Format's Z07:00 writes off
	day      int64  // days since 1970-01-01 of date, in loc
	date     []byte // "2006-01-02T" for day; empty when not set
}

// appendRFC3339 appends FormatTime(t).
func (c *timeCache) appendRFC3339(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	sec := t.Unix()
	if loc := t.Location(); loc != c.loc || sec < c.from || sec >= c.to {
		c.setPeriod(t)
	}
	local := sec + c.off
	day := floorDiv(local, 86400)
	if day != c.day || len(c.date) == 0 {
		if !c.setDay(day) {
			return t.AppendFormat(b, time.RFC3339)
		}
	}
	sod := local - day*86400
	b = append(b, c.date...)
	b = append2(b, int(sod/3600))
	b = append(b, ':')
	b = append2(b, int(sod/60%60))
	b = append(b, ':')
	b = append2(b, int(sod%60))
	return append(b, c.suffix...)
}

// setPeriod looks up the zone period of t.
func (c *timeCache) setPeriod(t time.Time) {
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	c.loc, c.off = t.Location(), int64(off)
	c.from, c.to = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		c.from = start.Unix()
	}
	if !end.IsZero() {
		c.to = end.Unix()
	}
	c.suffix = t.AppendFormat(c.suffix[:0], "Z07:00")
}

// setDay sets the date for a day number; false for a year RFC 3339 does not write in four digits.
func (c *timeCache) setDay(day int64) bool {
	y, m, d := civilFromDays(day)
	if y < 1 || y > 9999 {
		return false
	}
	c.day = day
	c.date = append(c.date[:0], byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	c.date = append2(c.date, m)
	c.date = append(c.date, '-')
	c.date = append2(c.date, d)
	c.date = append(c.date, 'T')
	return true
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// civilFromDays is the proleptic Gregorian date of a day number counted from 1970-01-01 (Howard Hinnant's
// algorithm).
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	yy := yoe + era*400
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// Byte classes eight at a time (SWAR): each test sets the high bit of some byte of the result when a byte of x
// is in the class, and leaves the result zero when none is.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func hasZero(x uint64) uint64          { return (x - ones) & ^x & highs }
func hasByte(x uint64, c byte) uint64  { return hasZero(x ^ (ones * uint64(c))) }
func hasBelow(x uint64, n byte) uint64 { return (x - ones*uint64(n)) & ^x & highs } // n <= 128

func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// csvPlainBody reports whether s holds no byte that could change how it is written to a CSV cell: no control
// character (NUL, CR, LF, TAB, ESC …), no quote and no comma; for a terminal also no DEL and nothing but ASCII,
// so that safetext.Terminal has nothing to do.
func csvPlainBody(s string, ascii bool) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load8(s, i)
		bad := hasBelow(x, 0x20) | hasByte(x, '"') | hasByte(x, ',')
		if ascii {
			bad |= x&highs | hasByte(x, 0x7f)
		}
		if bad != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == ',' || (ascii && c >= 0x7f) {
			return false
		}
	}
	return true
}

// csvPlainFirst reports whether a cell's first byte leaves it as it is: not a character that may start a
// formula (safetext.CSVCell decides those), not a space or a non-ASCII character (encoding/csv quotes a cell that
// starts with any Unicode space) and not the backslash of the `\.` that encoding/csv quotes.
func csvPlainFirst(c byte) bool {
	switch c {
	case '=', '+', '-', '@', ' ', '\\':
		return false
	}
	return c < utf8.RuneSelf
}

// cellMode says how a CSV text cell is made safe: neutralised for spreadsheets (safetext.CSVCell) or raw
// (safetext.CSVRawCell), and cleaned for a terminal as well (safetext.Terminal).
type cellMode struct {
	raw      bool
	terminal bool
}

// clean applies the mode's safetext rules to a cell.
func (m cellMode) clean(s string) string {
	if m.raw {
		s = safetext.CSVRawCell(s)
	} else {
		s = safetext.CSVCell(s)
	}
	if m.terminal {
		s = safetext.Terminal(s)
	}
	return s
}

// appendCell appends one text cell: cleaned by the mode's rules and quoted as encoding/csv quotes.
func (m cellMode) appendCell(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	if csvPlainFirst(s[0]) && csvPlainBody(s, m.terminal) {
		return append(b, s...)
	}
	return appendCSVField(b, m.clean(s))
}

// appendCSVField appends s as encoding/csv's Writer writes a field (comma separator, LF line ends): quoted when
// it is `\.`, holds a quote, comma, CR or LF, or starts with a Unicode space; quotes doubled inside.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendKnown appends a count, or nothing for Unknown.
func appendKnown(b []byte, v int64) []byte {
	if v < 0 {
		return b
	}
	return strconv.AppendInt(b, v, 10)
}

// appendCSVRecord appends r as one CSV row of Columns, with its line end.
func appendCSVRecord(b []byte, r *Record, m cellMode, tc *timeCache) []byte {
	b = m.appendCell(b, r.UniqueID)
	b = append(b, ',')
	n := len(b)
	b = tc.appendRFC3339(b, r.Start)
	if n < len(b) && !csvPlainFirst(b[n]) { // a year before 1 starts with '-': a cell like any other then
		b = m.appendCell(b[:n], string(b[n:]))
	}
	b = append(b, ',')
	b = m.appendCell(b, string(r.CallType))
	b = append(b, ',')
	b = m.appendCell(b, r.Extension)
	b = append(b, ',')
	b = m.appendCell(b, r.FriendlyName)
	b = append(b, ',')
	b = m.appendCell(b, r.DialledNumber)
	b = append(b, ',')
	b = m.appendCell(b, r.CallerID)
	b = append(b, ',')
	b = m.appendCell(b, string(r.Disposition))
	b = append(b, ',')
	b = appendKnown(b, int64(r.DurationS))
	b = append(b, ',')
	b = appendKnown(b, int64(r.BillableS))
	b = append(b, ',')
	b = appendKnown(b, r.RecordingSize)
	b = append(b, ',')
	b = m.appendCell(b, r.Recording)
	b = append(b, ',')
	b = m.appendCell(b, r.AccountCode)
	b = append(b, ',')
	b = m.appendCell(b, r.Channel)
	b = append(b, ',')
	b = m.appendCell(b, r.DestChannel)
	return append(b, '\n')
}

// jsonPlain reports whether s goes into a JSON string as it is: printable ASCII without a quote or backslash.
func jsonPlain(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load8(s, i)
		if hasBelow(x, 0x20)|hasByte(x, '"')|hasByte(x, '\\')|x&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json writes it with SetEscapeHTML(false):
// quote and backslash escaped, controls as \n, \r, \t, \b, \f or \u00XX, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	if jsonPlain(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONKnown(b []byte, v int64) []byte {
	if v < 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, v, 10)
}

// appendJSONRecord appends r as one JSON line with Columns as keys, in order, and its line end.
func appendJSONRecord(b []byte, r *Record, tc *timeCache) []byte {
	b = append(b, `{"unique_id":`...)
	b = appendJSONString(b, r.UniqueID)
	b = append(b, `,"start":"`...)
	b = tc.appendRFC3339(b, r.Start)
	b = append(b, `","call_type":`...)
	b = appendJSONString(b, string(r.CallType))
	b = append(b, `,"extension":`...)
	b = appendJSONString(b, r.Extension)
	b = append(b, `,"friendly_name":`...)
	b = appendJSONString(b, r.FriendlyName)
	b = append(b, `,"dialled_number":`...)
	b = appendJSONString(b, r.DialledNumber)
	b = append(b, `,"caller_id":`...)
	b = appendJSONString(b, r.CallerID)
	b = append(b, `,"disposition":`...)
	b = appendJSONString(b, string(r.Disposition))
	b = append(b, `,"duration_s":`...)
	b = appendJSONKnown(b, int64(r.DurationS))
	b = append(b, `,"billable_s":`...)
	b = appendJSONKnown(b, int64(r.BillableS))
	b = append(b, `,"recording_size":`...)
	b = appendJSONKnown(b, r.RecordingSize)
	b = append(b, `,"recording_file":`...)
	b = appendJSONString(b, r.Recording)
	b = append(b, `,"account_code":`...)
	b = appendJSONString(b, r.AccountCode)
	b = append(b, `,"channel":`...)
	b = appendJSONString(b, r.Channel)
	b = append(b, `,"destination_channel":`...)
	b = appendJSONString(b, r.DestChannel)
	return append(b, "}\n"...)
}
