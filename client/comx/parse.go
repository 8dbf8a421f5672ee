// Package comx talks to a Com.X PBX's HTTP CDR and recording interface (commagui/cdr, spec v1.6): a streaming
// parser for its comma-separated index, a defensive reader for its ziprec archives, and an HTTP client that
// implements cdr.Source.
package comx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// MaxLineBytes bounds one index line. Real lines are about 150 bytes; a longer one is reported as malformed and
// skipped rather than grown into without limit.
const MaxLineBytes = 64 << 10

const (
	fieldsBasic    = 11 // id, time, type, extension, dialled, caller ID, disposition, duration, billable, size, file
	fieldsExtended = 15 // + friendly name, account code, channel, destination channel
	extendedTail   = 4
)

// Parser reads a Com.X index line by line from a stream through one 64 KiB buffer. The PBX does not quote its
// fields, so a caller ID such as `"Smith, John" <2001>` arrives as two comma-separated pieces; the parser takes
// the fixed fields from the left and from the right and gives the caller ID (and the friendly name) what is left.
type Parser struct {
	lr    lineReader
	line  int // physical line number of the last line read
	first bool
	err   error // sticky: io.EOF or the reader's error
	toks  []token

	// Call types and dispositions repeat on every line; mapping each raw word once keeps the per-line cost to a
	// map lookup instead of lower-casing and allocating.
	types map[string]cdr.CallType
	disps map[string]cdr.Disposition
}

// wordCacheMax bounds the word caches, so a hostile index cannot grow them without limit.
const wordCacheMax = 64

type token struct {
	start, end int    // the field's raw extent in the line, quotes and spaces included
	val        string // trimmed, unquoted value
}

// NewParser returns a Parser reading r.
func NewParser(r io.Reader) *Parser {
	return &Parser{
		lr:    lineReader{r: r, buf: make([]byte, MaxLineBytes)},
		first: true,
		toks:  make([]token, 0, 32),
		types: make(map[string]cdr.CallType, 8),
		disps: make(map[string]cdr.Disposition, 8),
	}
}

// Line is the physical line number of the last line read (1-based).
func (p *Parser) Line() int { return p.line }

// Offset is the number of bytes consumed from the reader so far.
func (p *Parser) Offset() int64 { return p.lr.bufOff + int64(p.lr.start) }

var errLineTooLong = fmt.Errorf("line longer than %d KiB; not a Com.X index line", MaxLineBytes>>10)

// Next returns the next record. Start holds the PBX wall clock read as UTC (place it with cdr.Zone) and Epoch
// the unique ID's integer part. A malformed line gives a *cdr.LineError; the caller may go on calling Next. The
// end of the index gives io.EOF; a read error (a body cut off mid-stream) is returned as it is, and the partial
// line it interrupted is dropped rather than guessed at. Blank lines are skipped.
func (p *Parser) Next() (cdr.Record, error) {
	for {
		if p.err != nil {
			return cdr.Record{}, p.err
		}
		raw, ok, tooLong := p.lr.next()
		if !ok {
			p.err = p.lr.err
			if p.err == nil {
				p.err = io.EOF
			}
			return cdr.Record{}, p.err
		}
		p.line++
		num := p.line
		if tooLong {
			return cdr.Record{}, &cdr.LineError{Line: num, Err: errLineTooLong}
		}
		if p.first {
			p.first = false
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		raw = trimRightBytes(raw)
		if len(raw) == 0 {
			continue
		}
		// Every field is a substring of the line, and the line of a string shared by the lines around it.
		s := p.lr.text(raw)
		// The spec prints its example with each record split over indented lines "for readability"; a real
		// line never starts with white space (it starts with the unique ID), so such a line continues the last.
		for p.lr.continues() {
			more, ok, tooLong := p.lr.next()
			if !ok {
				break
			}
			p.line++
			if tooLong || len(s)+len(more) > MaxLineBytes {
				return cdr.Record{}, &cdr.LineError{Line: num, Err: errLineTooLong}
			}
			s += string(trimRightBytes(more))
		}
		rec, err := p.parseLine(s)
		if err != nil {
			return cdr.Record{}, &cdr.LineError{Line: num, Err: err}
		}
		return rec, nil
	}
}

// Parse streams every record in r to fn. Malformed lines go to onWarn (which may be nil) as *cdr.LineError and
// are counted in skipped; fn returning an error stops the parse with that error.
func Parse(r io.Reader, fn func(cdr.Record) error, onWarn func(error)) (rows, skipped int, err error) {
	p := NewParser(r)
	for {
		rec, err := p.Next()
		if err != nil {
			var le *cdr.LineError
			if errors.As(err, &le) {
				skipped++
				if onWarn != nil {
					onWarn(err)
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

// parseLine maps one index line (no line end, trailing white space removed) to a record.
func (p *Parser) parseLine(s string) (cdr.Record, error) {
	toks := p.tokenize(s)
	n := len(toks)
	if n < fieldsBasic {
		return cdr.Record{}, fmt.Errorf("%d fields where a Com.X index line has %d (%d with extended)", n, fieldsBasic, fieldsExtended)
	}
	k := p.dispositionField(toks)
	if k < 0 {
		return cdr.Record{}, fmt.Errorf("%d fields and no disposition followed by duration, billable seconds and size; expected %d (%d with extended)", n, fieldsBasic, fieldsExtended)
	}

	var r cdr.Record
	r.UniqueID = toks[0].val
	if r.UniqueID == "" {
		return cdr.Record{}, errors.New("no unique ID")
	}
	r.Epoch = idEpoch(r.UniqueID)
	start, err := parseWall(toks[1].val)
	if err != nil {
		return cdr.Record{}, err
	}
	r.Start = start
	r.RawCallType, r.CallType = p.callType(toks[2].val)
	r.Extension = toks[3].val
	r.DialledNumber = toks[4].val
	r.CallerID = span(s, toks, 5, k-1)
	r.RawDisposition, r.Disposition = p.disposition(toks[k].val)
	dur, err := parseCount(toks[k+1].val, "duration", math.MaxInt32)
	if err != nil {
		return cdr.Record{}, err
	}
	bill, err := parseCount(toks[k+2].val, "billable seconds", math.MaxInt32)
	if err != nil {
		return cdr.Record{}, err
	}
	size, err := parseCount(toks[k+3].val, "recording size", math.MaxInt64)
	if err != nil {
		return cdr.Record{}, err
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
	return r, nil
}

// dispositionField finds which token is the disposition, or -1. With exactly 11 or 15 fields the layout is
// fixed. With more, commas inside the caller ID or friendly name split them: the disposition is the first
// non-numeric field after the caller ID that is followed by three whole numbers (duration, billable seconds,
// size), the file name and then either nothing or the four extended fields.
func (p *Parser) dispositionField(toks []token) int {
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
// is split like any other text, to be rejoined by span.
func (p *Parser) tokenize(s string) []token {
	toks := p.toks[:0]
	i := 0
	for {
		if i < len(s) && (s[i] == '"' || isBlank(s[i])) {
			if j := skipBlanks(s, i); j < len(s) && s[j] == '"' {
				if val, end, ok := unquote(s, j); ok {
					toks = append(toks, token{start: i, end: end, val: val})
					if end >= len(s) {
						break
					}
					i = end + 1
					continue
				}
			}
		}
		end := len(s)
		if c := strings.IndexByte(s[i:], ','); c >= 0 {
			end = i + c
		}
		v := s[i:end]
		if len(v) > 0 && (isBlank(v[0]) || isBlank(v[len(v)-1])) {
			v = trimSpace(v)
		}
		toks = append(toks, token{start: i, end: end, val: v})
		if end == len(s) {
			break
		}
		i = end + 1
	}
	p.toks = toks
	return toks
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

func (p *Parser) callType(raw string) (string, cdr.CallType) {
	if raw == "" {
		return "", ""
	}
	return raw, cachedWord(p.types, raw, cdr.ParseCallType)
}

func (p *Parser) disposition(raw string) (string, cdr.Disposition) {
	if raw == "" {
		return "", ""
	}
	return raw, cachedWord(p.disps, raw, cdr.ParseDisposition)
}

// cachedWord maps a raw word through cache, parsing it only the first time it is seen. The key is cloned: raw
// shares the memory of a large chunk of the index, which the cache must not keep alive.
func cachedWord[T any](cache map[string]T, raw string, parse func(string) T) T {
	if v, ok := cache[raw]; ok {
		return v
	}
	v := parse(raw)
	if len(cache) < wordCacheMax {
		cache[strings.Clone(raw)] = v
	}
	return v
}

// parseWall reads the index's YYYY/MM/DD/hh:mm:ss as a wall clock in UTC. The separators are not checked (a PBX
// writing 2013-03-01 09:33:00 is read too) but every number is, so 2013/02/30 is an error, not 2 March. It runs
// once per line, so it does its own arithmetic rather than time.Parse's general work.
func parseWall(v string) (time.Time, error) {
	if len(v) != len(TimeLayout) || isDigit(v[4]) || isDigit(v[7]) || isDigit(v[10]) || isDigit(v[13]) || isDigit(v[16]) {
		return time.Time{}, fmt.Errorf("start time %q is not YYYY/MM/DD/hh:mm:ss", v)
	}
	y, ok1 := digits(v[0:4])
	mo, ok2 := digits(v[5:7])
	d, ok3 := digits(v[8:10])
	h, ok4 := digits(v[11:13])
	mi, ok5 := digits(v[14:16])
	sec, ok6 := digits(v[17:19])
	// Before 1970 is no PBX's clock (Asterisk's IDs count from it), and year 1 would be Go's zero time.
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) ||
		h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("start time %q is not a valid date and time", v)
	}
	unix := (daysFromCivil(y, mo, d)*24+int64(h))*3600 + int64(mi)*60 + int64(sec)
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
	if !isDigits(v) || len(v) > 19 {
		return 0, fmt.Errorf("%s %q is not a whole number", what, v)
	}
	var x int64
	for _, c := range []byte(v) {
		d := int64(c - '0')
		if x > (maxVal-d)/10 {
			return 0, fmt.Errorf("%s %q is too large", what, v)
		}
		x = x*10 + d
	}
	return x, nil
}

// idEpoch is an Asterisk unique ID's integer part, the channel's creation time in Unix seconds, or 0.
func idEpoch(id string) int64 {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		id = id[:i]
	}
	if !isDigits(id) || len(id) > 12 {
		return 0
	}
	var x int64
	for _, c := range []byte(id) {
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

// trimRightBytes drops a line's CR and trailing white space.
func trimRightBytes(b []byte) []byte {
	for len(b) > 0 && (isBlank(b[len(b)-1]) || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// lineReader splits a stream into lines in a fixed buffer. Unlike bufio.Reader it keeps a read error sticky,
// so a body that was cut off is never mistaken for a clean end after a later read returns io.EOF.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error
	bufOff     int64 // stream offset of buf[0]

	// chunk is a string copy of buffered bytes starting at stream offset chunkOff. Lines are sliced from it,
	// so a whole buffer of lines costs one allocation instead of one each.
	chunk    string
	chunkOff int64
}

// text returns line (a slice of buf) as a string, from the current chunk when it lies inside it, otherwise
// from a new chunk holding everything buffered from line on.
func (lr *lineReader) text(line []byte) string {
	if len(line) == 0 {
		return ""
	}
	i := cap(lr.buf) - cap(line) // line's index in buf
	abs := lr.bufOff + int64(i)
	if o := abs - lr.chunkOff; o >= 0 && o+int64(len(line)) <= int64(len(lr.chunk)) {
		return lr.chunk[o : o+int64(len(line))]
	}
	lr.chunk, lr.chunkOff = string(lr.buf[i:lr.end]), abs
	return lr.chunk[:len(line)]
}

// next returns the next line without its '\n', valid until the next call. ok is false at the end of the stream
// (err says why). A last line without '\n' is returned when the stream ended cleanly; on any other error the
// partial line is dropped. A line longer than the buffer is skipped and reported with tooLong.
func (lr *lineReader) next() (line []byte, ok, tooLong bool) {
	scanned := 0
	for {
		if i := bytes.IndexByte(lr.buf[lr.start+scanned:lr.end], '\n'); i >= 0 {
			i += lr.start + scanned
			line = lr.buf[lr.start:i]
			lr.start = i + 1
			return line, true, tooLong
		}
		scanned = lr.end - lr.start
		if lr.err != nil {
			if lr.start == lr.end || lr.err != io.EOF {
				lr.start = lr.end
				return nil, false, false
			}
			line = lr.buf[lr.start:lr.end]
			lr.start = lr.end
			return line, true, tooLong
		}
		if lr.end-lr.start == len(lr.buf) {
			// Too long: drop what we have and keep looking for the line's end.
			tooLong = true
			lr.bufOff += int64(lr.end)
			lr.start, lr.end, scanned = 0, 0, 0
		}
		lr.fill()
	}
}

// continues reports whether the next line starts with white space, reading ahead one byte if needed.
func (lr *lineReader) continues() bool {
	for lr.start == lr.end {
		if lr.err != nil {
			return false
		}
		lr.fill()
	}
	return isBlank(lr.buf[lr.start])
}

func (lr *lineReader) fill() {
	if lr.start > 0 {
		copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.bufOff += int64(lr.start)
		lr.end -= lr.start
		lr.start = 0
	}
	for range 100 {
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	lr.err = io.ErrNoProgress
}
