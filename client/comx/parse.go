// Package comx talks to a Com.X PBX's HTTP CDR and recording interface (commagui/cdr, spec v1.6): a streaming
// parser for its comma-separated index, a defensive reader for its ziprec archives, and an HTTP client that
// implements cdr.Source.
package comx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// MaxLineBytes bounds one index record (a line, with the lines that continue it). Real lines are about 150
// bytes; a longer record is reported as malformed and skipped rather than grown into without limit.
const MaxLineBytes = 64 << 10

const (
	fieldsBasic    = 11 // id, time, type, extension, dialled, caller ID, disposition, duration, billable, size, file
	fieldsExtended = 15 // + friendly name, account code, channel, destination channel
	extendedTail   = 4
)

// Parser reads a Com.X index record by record from a stream. It reads whole records at a time into chunks (see
// chunker) and slices every field from the chunk, so a record costs no allocation. The PBX does not quote its
// fields, so a caller ID such as `"Smith, John" <2001>` arrives as two comma-separated pieces; the parser takes
// the fixed fields from the left and from the right and gives the caller ID (and the friendly name) what is left.
type Parser struct {
	ck   chunker
	cp   chunkParser
	base int   // physical lines in the chunks before the current one
	err  error // sticky: io.EOF or the reader's error
}

// token is one comma-separated field of a record.
type token struct {
	start, end int32  // the field's raw extent in the line, quotes and spaces included
	val        string // trimmed, unquoted value
}

// NewParser returns a Parser reading r.
func NewParser(r io.Reader) *Parser {
	p := &Parser{ck: newChunker(r)}
	p.cp.init()
	return p
}

// Line is the physical line number of the last line read (1-based).
func (p *Parser) Line() int { return p.base + p.cp.lines }

var errLineTooLong = fmt.Errorf("record longer than %d KiB; not a Com.X index line", MaxLineBytes>>10)

// Next returns the next record. Start holds the PBX wall clock read as UTC (place it with cdr.Zone) and Epoch
// the unique ID's integer part. A malformed record gives a *cdr.LineError; the caller may go on calling Next.
// The end of the index gives io.EOF; a read error (a body cut off mid-stream) is returned as it is, and the
// partial line it interrupted is dropped rather than guessed at. Blank lines are skipped.
func (p *Parser) Next() (cdr.Record, error) {
	var r cdr.Record
	for {
		line, err, ok := p.cp.next(&r)
		if ok {
			if err != nil {
				return cdr.Record{}, &cdr.LineError{Line: p.base + line, Err: err}
			}
			return r, nil
		}
		if p.err != nil {
			return cdr.Record{}, p.err
		}
		ch, err := p.ck.next(nil)
		if err != nil {
			p.err = err
			return cdr.Record{}, err
		}
		p.base += p.cp.lines
		p.cp.reset(ch)
	}
}

// Parse streams every record in r to fn. Malformed lines go to onWarn (which may be nil) as *cdr.LineError and
// are counted in skipped; fn returning an error stops the parse with that error.
func Parse(r io.Reader, fn func(cdr.Record) error, onWarn func(error)) (rows, skipped int, err error) {
	p := NewParser(r)
	for {
		rec, err := p.Next()
		if err != nil {
			if le, ok := err.(*cdr.LineError); ok {
				skipped++
				if onWarn != nil {
					onWarn(le)
				}
				continue
			}
			if err == io.EOF {
				return rows, skipped, nil
			}
			return rows, skipped, err
		}
		if err := fn(rec); err != nil {
			return rows, skipped, err
		}
		rows++
	}
}

// parseLine fills r (zero on entry) from one record's text (no line end, trailing white space removed).
func (p *chunkParser) parseLine(s string, r *cdr.Record) error {
	toks := p.tokenize(s)
	n := len(toks)
	if n < fieldsBasic {
		return fmt.Errorf("%d fields where a Com.X index line has %d (%d with extended)", n, fieldsBasic, fieldsExtended)
	}
	k := dispositionField(toks)
	if k < 0 {
		return fmt.Errorf("%d fields and no disposition followed by duration, billable seconds and size; expected %d (%d with extended)", n, fieldsBasic, fieldsExtended)
	}
	r.UniqueID = toks[0].val
	if r.UniqueID == "" {
		return errors.New("no unique ID")
	}
	r.Epoch = idEpoch(r.UniqueID)
	start, err := p.day.parse(toks[1].val)
	if err != nil {
		return err
	}
	r.Start = start
	r.RawCallType, r.CallType = p.callType(toks[2].val)
	r.Extension = toks[3].val
	r.DialledNumber = toks[4].val
	r.CallerID = span(s, toks, 5, k-1)
	r.RawDisposition, r.Disposition = p.disposition(toks[k].val)
	dur, err := parseCount(toks[k+1].val, "duration", math.MaxInt32)
	if err != nil {
		return err
	}
	bill, err := parseCount(toks[k+2].val, "billable seconds", math.MaxInt32)
	if err != nil {
		return err
	}
	size, err := parseCount(toks[k+3].val, "recording size", math.MaxInt64)
	if err != nil {
		return err
	}
	r.DurationS, r.BillableS, r.RecordingSize = int(dur), int(bill), size
	r.Recording = toks[k+4].val
	if n-k-5 >= extendedTail {
		r.Extended = true
		r.FriendlyName = span(s, toks, k+5, n-4)
		r.AccountCode = toks[n-3].val
		r.Channel = toks[n-2].val
		r.DestChannel = toks[n-1].val
	}
	return nil
}

// dispositionField finds which token is the disposition, or -1. With exactly 11 or 15 fields the layout is
// fixed. With more, commas inside the caller ID or friendly name split them: the disposition is the first
// non-numeric field after the caller ID that is followed by three whole numbers (duration, billable seconds,
// size), the file name and then either nothing or the four extended fields.
func dispositionField(toks []token) int {
	const first = 6 // after id, time, type, extension, dialled number, caller ID
	n := len(toks)
	if n == fieldsBasic {
		return first
	}
	if n == fieldsExtended && numbersAt(toks, first) {
		return first
	}
	for k := first; k+5 <= n; k++ {
		if tail := n - k - 5; tail != 0 && tail < extendedTail {
			continue
		}
		if numbersAt(toks, k) && !isDigits(toks[k].val) {
			return k
		}
	}
	if n == fieldsExtended {
		return first // let the number parsing say what is wrong
	}
	return -1
}

func numbersAt(toks []token, k int) bool {
	return isDigits(toks[k+1].val) && isDigits(toks[k+2].val) && isDigits(toks[k+3].val)
}

// span is the value of tokens from..to: the one token's value, or the raw text they cover when a field was split
// by commas it contained.
func span(s string, toks []token, from, to int) string {
	if from >= to {
		return toks[from].val
	}
	return trimSpace(s[toks[from].start:toks[to].end])
}

// tokenize splits s at commas. A field that is entirely an RFC 4180 quoted string ("a, ""b""") is unquoted, for
// a PBX that quotes; an Asterisk caller ID that merely starts with a quote ("Smith, John" <2001>) is not one and
// is split like any other text, to be rejoined by span. The commas are found eight bytes at a time.
func (p *chunkParser) tokenize(s string) []token {
	toks := p.toks[:0]
	start := 0 // where the next field starts; commas before it lie inside a quoted field already taken
	i := 0
	for rest := s; len(rest) >= 8; rest = rest[8:] {
		x := uint64(rest[0]) | uint64(rest[1])<<8 | uint64(rest[2])<<16 | uint64(rest[3])<<24 |
			uint64(rest[4])<<32 | uint64(rest[5])<<40 | uint64(rest[6])<<48 | uint64(rest[7])<<56
		for m := commaBytes(x); m != 0; m &= m - 1 {
			c := i + bits.TrailingZeros64(m)>>3
			if c < start {
				continue
			}
			// The common field, neither quoted nor padded, here; the others in addField.
			if start < c && s[start] != '"' && !isBlank(s[start]) && !isBlank(s[c-1]) {
				toks = append(toks, token{start: int32(start), end: int32(c), val: s[start:c]})
				start = c + 1
			} else {
				toks, start = addField(toks, s, start, c)
			}
		}
		i += 8
	}
	for ; i < len(s); i++ {
		if s[i] == ',' && i >= start {
			toks, start = addField(toks, s, start, i)
		}
	}
	if start <= len(s) {
		toks, _ = addField(toks, s, start, len(s))
	}
	p.toks = toks
	return toks
}

// addField appends the field that starts at start and, unless it is a quoted string that runs further, ends at
// the comma at end (or the end of s). It returns where the next field starts.
func addField(toks []token, s string, start, end int) ([]token, int) {
	if start < len(s) && (s[start] == '"' || isBlank(s[start])) {
		if j := skipBlanks(s, start); j < len(s) && s[j] == '"' {
			if val, qend, ok := unquote(s, j); ok {
				return append(toks, token{start: int32(start), end: int32(qend), val: val}), qend + 1
			}
		}
	}
	return append(toks, token{start: int32(start), end: int32(end), val: trimSpace(s[start:end])}), end + 1
}

// commaBytes has the high bit of each byte of x that is a comma set, and no other bit.
func commaBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	x ^= 0x2c2c2c2c2c2c2c2c // commas become zero bytes
	return ^((x&low7 + low7) | x | low7)
}

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

// unquote reads a quoted field starting at s[q] == '"'. It succeeds only when the closing quote is followed by
// optional white space and then a comma or the end of the line; end is the index of that comma (or len(s)).
func unquote(s string, q int) (val string, end int, ok bool) {
	escaped := false
	i := q + 1
	for {
		c := strings.IndexByte(s[i:], '"')
		if c < 0 {
			return "", 0, false
		}
		i += c
		if i+1 < len(s) && s[i+1] == '"' {
			escaped = true
			i += 2
			continue
		}
		break
	}
	closing := i
	end = closing + 1
	for end < len(s) && (s[end] == ' ' || s[end] == '\t') {
		end++
	}
	if end < len(s) && s[end] != ',' {
		return "", 0, false
	}
	val = s[q+1 : closing]
	if escaped {
		val = strings.ReplaceAll(val, `""`, `"`)
	}
	return trimSpace(val), end, true
}

func (p *chunkParser) callType(raw string) (string, cdr.CallType) {
	if raw == "" {
		return "", ""
	}
	return raw, p.types.get(raw, cdr.ParseCallType)
}

func (p *chunkParser) disposition(raw string) (string, cdr.Disposition) {
	if raw == "" {
		return "", ""
	}
	return raw, p.disps.get(raw, cdr.ParseDisposition)
}

// wordCache maps the raw words of one column (call types, dispositions), which repeat on every line, parsing
// each only the first time it is seen. The first few are compared in place, which costs less than hashing.
// The cache is bounded, so a hostile index cannot grow it; a word past the bound is parsed every time.
type wordCache[T any] struct {
	keys [8]string
	vals [8]T
	n    int
	more map[string]T
}

// wordCacheMax bounds the words a cache keeps beyond its first eight.
const wordCacheMax = 64

func (c *wordCache[T]) get(raw string, parse func(string) T) T {
	for i := range c.n {
		if c.keys[i] == raw {
			return c.vals[i]
		}
	}
	if v, ok := c.more[raw]; ok {
		return v
	}
	if c.n == len(c.keys) && len(c.more) >= wordCacheMax {
		return parse(raw)
	}
	// A word kept is a copy, and so is what is parsed from it (a word already in lower case comes back as it
	// is): raw lies in a chunk of the index, which the cache must not keep alive, and which may be lent.
	raw = strings.Clone(raw)
	v := parse(raw)
	if c.n < len(c.keys) {
		c.keys[c.n], c.vals[c.n] = raw, v
		c.n++
	} else {
		if c.more == nil {
			c.more = make(map[string]T)
		}
		c.more[raw] = v
	}
	return v
}

// parseWall reads the index's YYYY/MM/DD/hh:mm:ss as a wall clock in UTC. The separators are not checked (a PBX
// writing 2013-03-01 09:33:00 is read too) but every number is, so 2013/02/30 is an error, not 2 March. It runs
// once per line, so it does its own arithmetic rather than time.Parse's general work.
func parseWall(v string) (time.Time, error) {
	var d wallDay
	return d.parse(v)
}

// wallDay is parseWall that remembers the date of the last time it read: an index is in start order, so a
// row's date is nearly always the last row's, and then only its clock is read.
type wallDay struct {
	date string // YYYY/MM/DD as the index wrote it; "" before the first
	days int64  // days from 1970-01-01 to date
}

func (wd *wallDay) parse(v string) (time.Time, error) {
	if len(v) != len(TimeLayout) || isDigit(v[10]) || isDigit(v[13]) || isDigit(v[16]) {
		return time.Time{}, fmt.Errorf("start time %q is not YYYY/MM/DD/hh:mm:ss", v)
	}
	days := wd.days
	if v[:10] != wd.date {
		if isDigit(v[4]) || isDigit(v[7]) {
			return time.Time{}, fmt.Errorf("start time %q is not YYYY/MM/DD/hh:mm:ss", v)
		}
		y, ok1 := digits(v[0:4])
		mo, ok2 := digits(v[5:7])
		d, ok3 := digits(v[8:10])
		// Before 1970 is no PBX's clock (Asterisk's IDs count from it), and year 1 would be Go's zero time.
		if !(ok1 && ok2 && ok3) || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) {
			return time.Time{}, fmt.Errorf("start time %q is not a valid date and time", v)
		}
		days = daysFromCivil(y, mo, d)
		// A copy: v lies in a chunk of the index, which must not be kept alive, and may be lent.
		wd.date, wd.days = strings.Clone(v[:10]), days
	}
	h, ok4 := digits(v[11:13])
	mi, ok5 := digits(v[14:16])
	sec, ok6 := digits(v[17:19])
	if !(ok4 && ok5 && ok6) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("start time %q is not a valid date and time", v)
	}
	unix := (days*24+int64(h))*3600 + int64(mi)*60 + int64(sec)
	return time.Unix(unix, 0).UTC(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s string) (int, bool) {
	x := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		x = x*10 + int(s[i]-'0')
	}
	return x, true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard
// Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseCount reads a whole non-negative number; an empty field is cdr.Unknown.
func parseCount(v, what string, maxVal int64) (int64, error) {
	if v == "" {
		return cdr.Unknown, nil
	}
	if len(v) > 19 {
		return 0, fmt.Errorf("%s %q is not a whole number", what, v)
	}
	var x int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isDigit(c) {
			return 0, fmt.Errorf("%s %q is not a whole number", what, v)
		}
		// 18 digits cannot overflow; the 19th may.
		if d := int64(c - '0'); i < 18 {
			x = x*10 + d
		} else if x > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("%s %q is too large", what, v)
		} else {
			x = x*10 + d
		}
	}
	if x > maxVal {
		return 0, fmt.Errorf("%s %q is too large", what, v)
	}
	return x, nil
}

// idEpoch is an Asterisk unique ID's integer part, the channel's creation time in Unix seconds, or 0.
func idEpoch(id string) int64 {
	var x int64
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c == '.' {
			if i == 0 {
				return 0
			}
			break
		}
		if !isDigit(c) || i == 12 {
			return 0
		}
		x = x*10 + int64(c-'0')
	}
	return x
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func trimSpace(s string) string {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
