package difuse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callscope/callscope/client/cdr"
)

// pageMeta is what one answer of /pbx/cdr/data says besides its rows. The spec shows page and limit as strings
// and total_pages as a number; each is read from either, so a firmware that changes its mind does not break us.
type pageMeta struct {
	Page, Limit, TotalPages flexInt
}

// shapeError is an answer that is JSON but not shaped like the CDR data (a list at the top, data an object).
type shapeError struct{ msg string }

func (e *shapeError) Error() string { return e.msg }

// decodePage reads one answer of /pbx/cdr/data, handing each row to onRow as soon as it is read, so a page is
// never held as one document: a row that does not decode (an object where a string belongs) comes with its
// error and the rows after it still come. onRow's error stops the reading and is returned. Other errors are
// the JSON decoder's (*json.SyntaxError, io.ErrUnexpectedEOF, a read error) or a *shapeError.
func decodePage(r io.Reader, onRow func(w *rowJSON, err error) error) (pageMeta, error) {
	var meta pageMeta
	er := &readErr{r: r}
	dec := json.NewDecoder(er)
	// fatal says whether an error of Decode broke the stream (bad JSON, a failed read) rather than one value.
	fatal := func(err error) bool {
		var se *json.SyntaxError
		return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || er.err != nil
	}
	tok, err := dec.Token()
	if err != nil {
		return meta, err
	}
	if tok != json.Delim('{') {
		return meta, &shapeError{fmt.Sprintf("it is %s, not an object", jsonKind(tok))}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return meta, err
		}
		key, _ := tok.(string)
		switch key {
		case "data":
			tok, err := dec.Token()
			if err != nil {
				return meta, err
			}
			if tok == nil {
				continue // "data": null, as an empty page
			}
			if tok != json.Delim('[') {
				return meta, &shapeError{fmt.Sprintf("its data is %s, not a list of rows", jsonKind(tok))}
			}
			for dec.More() {
				var w rowJSON
				if err := dec.Decode(&w); err != nil {
					if fatal(err) {
						return meta, err
					}
					if err := onRow(nil, err); err != nil {
						return meta, err
					}
					continue
				}
				if err := onRow(&w, nil); err != nil {
					return meta, err
				}
			}
			if _, err := dec.Token(); err != nil { // ]
				return meta, err
			}
		case "page", "limit", "total_pages":
			var n flexInt
			if err := dec.Decode(&n); err != nil {
				if fatal(err) {
					return meta, err
				}
				return meta, &shapeError{fmt.Sprintf("its %s is not a number (%v)", key, err)}
			}
			switch key {
			case "page":
				meta.Page = n
			case "limit":
				meta.Limit = n
			default:
				meta.TotalPages = n
			}
		default:
			var skip json.RawMessage // a field we do not read; the page's size limit bounds it
			if err := dec.Decode(&skip); err != nil {
				return meta, err
			}
		}
	}
	_, err = dec.Token() // }
	return meta, err
}

// jsonKind names a JSON token's kind for a message, never its content (which could be anything).
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "a list"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true or false"
	}
	return "null"
}

// readErr remembers its reader's first error other than io.EOF, so a failed read is told apart from a row
// that does not decode.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// rowJSON is one CDR row. Every field is read leniently (string, number or null) for the same reason.
type rowJSON struct {
	DBID                flexString `json:"db_id"`
	CallID              flexString `json:"call_id"`
	CallerID            flexString `json:"caller_id"`
	Source              flexString `json:"source"`
	DestinationContext  flexString `json:"destination_context"`
	Destination         flexString `json:"destination"`
	InitialDestination  flexString `json:"initial_destination"`
	ComputedDestination flexString `json:"computed_destination"`
	Disposition         flexString `json:"disposition"`
	Timestamp           flexString `json:"timestamp"`
	Date                flexString `json:"date"`
	StartTime           flexString `json:"start_time"`
	AnswerTime          flexString `json:"answer_time"`
	EndTime             flexString `json:"end_time"`
	RecordingURL        flexString `json:"recording_url"`
	// Not in the spec's sample, but Asterisk CDRs carry them and a PBX may send them.
	Channel     flexString `json:"channel"`
	DstChannel  flexString `json:"dstchannel"`
	DestChannel flexString `json:"destination_channel"`
	AccountCode flexString `json:"accountcode"`
}

// flexString accepts a JSON string, number, boolean or null.
type flexString string

// clip shortens text from the PBX for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	// Fast path for the usual string with no escapes: the decoder has already checked it is valid JSON, and a
	// full json.Unmarshal per field would cost more than the rest of the row.
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		*f = flexString(b[1 : n-1])
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return errors.New("expected a string or number, got an object or list")
	}
	*f = flexString(b)
	return nil
}

// flexInt accepts a JSON number or a string holding one; null and "" read as 0. A number past what a page
// count can be is kept at maxFlexInt, far past any page number the search uses, so it never overflows.
type flexInt int

const maxFlexInt = 1 << 53

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(n) {
		return fmt.Errorf("expected a number, got %q", clip(s, 20))
	}
	*f = flexInt(max(-maxFlexInt, min(n, maxFlexInt)))
	return nil
}

// row is a parsed CDR row: the record with Start still a wall clock read as UTC (not yet placed in a zone), and
// the wall-clock times the range search orders by.
type row struct {
	rec   cdr.Record
	start time.Time // wall clock, read as UTC
	end   time.Time // wall clock, read as UTC; equals start when the PBX sent no end time
	key   string    // what duplicates are recognised by
}

// dur is the call's length as the search sees it (end − start).
func (r *row) dur() time.Duration { return r.end.Sub(r.start) }

// dateLayouts are the forms a Difuse date may take; the spec shows the first.
var dateLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
}

// ParseWall reads a Difuse wall-clock time (2006-01-02 15:04:05, and the near forms a firmware may send) as a
// time in UTC; ok is false for empty and for MySQL's zero date, which mean "no time" (a call never answered).
func ParseWall(s string) (t time.Time, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, false, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("cannot read time %q", s)
}

// Row is one CDR row's fields as text, named as in the Difuse API (GET /pbx/cdr/data). The client reads pulled
// rows into it and the push listener (client/listen) reads pushed entries into it, so that a call pushed and the
// same call pulled later are stored alike. Times are not here: each reader parses them its own way and hands
// them to Record.
type Row struct {
	CallID              string
	CallerID            string
	Source              string
	DestinationContext  string
	Destination         string
	InitialDestination  string
	ComputedDestination string
	Disposition         string
	Timestamp           string // Unix seconds
	RecordingURL        string
	AccountCode         string
	Channel             string
	DestChannel         string
}

// Record maps the row into the CDR model, given its wall-clock times: start, and answer and end where the PBX
// sent them (a zero time means it did not). Start is kept as given, not placed in a zone.
//
// Mapping: call_id → UniqueID; timestamp → Epoch; destination → DialledNumber (computed_destination, then
// initial_destination, when it is empty or "s"); caller_id → CallerID; disposition → Disposition (unknown words
// kept as-is); Duration = end − start; Billable = end − answer, 0 when the call was never answered; both
// cdr.Unknown without an end (or with one before the start); RecordingSize is not reported by Difuse
// (cdr.Unknown); recording_url → Recording. Extension and CallType: see classify.
func (w Row) Record(start, answer, end time.Time) cdr.Record {
	rec := cdr.Record{
		UniqueID:       strings.TrimSpace(w.CallID),
		Start:          start,
		DialledNumber:  strings.TrimSpace(w.Destination),
		CallerID:       strings.TrimSpace(w.CallerID),
		RawDisposition: strings.TrimSpace(w.Disposition),
		DurationS:      cdr.Unknown,
		BillableS:      cdr.Unknown,
		RecordingSize:  cdr.Unknown,
		Recording:      strings.TrimSpace(w.RecordingURL),
		AccountCode:    strings.TrimSpace(w.AccountCode),
		Channel:        strings.TrimSpace(w.Channel),
		DestChannel:    strings.TrimSpace(w.DestChannel),
		RawCallType:    strings.TrimSpace(w.DestinationContext),
	}
	rec.Disposition = cdr.ParseDisposition(rec.RawDisposition)
	if rec.Disposition == "" {
		rec.Disposition = cdr.DispUnknown
	}
	if ts, err := strconv.ParseFloat(strings.TrimSpace(w.Timestamp), 64); err == nil && ts > 0 {
		rec.Epoch = int64(ts)
	}
	// Asterisk's "s" (start) extension means the call went through dialplan logic (a ring group, a feature
	// code) rather than straight to a number; the PBX then says where it went in computed_destination.
	viaDialplan := rec.DialledNumber == "s"
	if rec.DialledNumber == "" || viaDialplan {
		rec.DialledNumber = strings.TrimSpace(firstSet(w.ComputedDestination, w.InitialDestination))
	}
	rec.CallType, rec.Extension = classify(rec.RawCallType, strings.TrimSpace(w.Source), rec.DialledNumber, viaDialplan)
	if !end.IsZero() && !end.Before(start) {
		rec.DurationS = int(end.Sub(start) / time.Second)
		switch {
		case answer.IsZero() || !answerable(rec.Disposition):
			rec.BillableS = 0
		case end.After(answer):
			rec.BillableS = int(end.Sub(answer) / time.Second)
		default:
			rec.BillableS = 0
		}
	}
	return rec
}

// toRow maps one JSON row into the CDR model (see Row.Record), with start_time, or date when start_time is
// missing, as the start.
func (w *rowJSON) toRow() (row, error) {
	var r row
	startText := string(w.StartTime)
	if strings.TrimSpace(startText) == "" || strings.HasPrefix(strings.TrimSpace(startText), "0000-00-00") {
		startText = string(w.Date)
	}
	start, ok, err := ParseWall(startText)
	if err != nil {
		return r, fmt.Errorf("start time: %v", err)
	}
	if !ok {
		return r, errors.New("no start time")
	}
	end, _, err := ParseWall(string(w.EndTime))
	if err != nil {
		return r, fmt.Errorf("end time: %v", err)
	}
	answer, _, err := ParseWall(string(w.AnswerTime))
	if err != nil {
		return r, fmt.Errorf("answer time: %v", err)
	}
	r.rec = Row{
		CallID:              string(w.CallID),
		CallerID:            string(w.CallerID),
		Source:              string(w.Source),
		DestinationContext:  string(w.DestinationContext),
		Destination:         string(w.Destination),
		InitialDestination:  string(w.InitialDestination),
		ComputedDestination: string(w.ComputedDestination),
		Disposition:         string(w.Disposition),
		Timestamp:           string(w.Timestamp),
		RecordingURL:        string(w.RecordingURL),
		AccountCode:         string(w.AccountCode),
		Channel:             string(w.Channel),
		DestChannel:         firstSet(string(w.DstChannel), string(w.DestChannel)),
	}.Record(start, answer, end)
	if end.IsZero() || end.Before(start) {
		end = start
	}
	r.start, r.end = start, end
	// db_id is the row's identity; a call ID alone is not (Asterisk writes several rows for one call when it
	// is transferred or forked), so it is only the fallback.
	if db := strings.TrimSpace(string(w.DBID)); db != "" {
		r.key = "db:" + db
	} else {
		r.key = "id:" + r.rec.UniqueID + "@" + start.Format(time.DateTime)
	}
	return r, nil
}

// answerable is false for the dispositions of calls that were never picked up: some PBXs copy the start time
// into answer_time for them, which must not count as billable time.
func answerable(d cdr.Disposition) bool {
	return d != cdr.DispNoAnswer && d != cdr.DispBusy && d != cdr.DispFailed
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// classify derives the call type and the local extension, since Difuse sends no call type. The rule:
//
//   - destination_context is the dialplan context the call entered, which in Asterisk is the context of the
//     calling channel: a context naming a trunk or the outside world (trunk, pstn, did, inbound, incoming,
//     external, from-provider) means the call came in → inbound, and the local extension is the destination.
//   - a context naming outbound dialling (outbound, outgoing) → outbound, extension = source.
//   - otherwise, when the source is an extension (2 to 6 digits, no leading 0): a call routed through the
//     dialplan (destination "s") or to a feature code (*97) → other; to another extension → internal; to an
//     outside number (7 or more digits, or a leading + or 0 with 3 or more digits) → outbound; extension = source.
//   - a source that is an outside number ringing an extension → inbound.
//   - anything else (feature codes like *97, voicemail, an unknown context with unclear numbers) → unknown,
//     with the extension taken from whichever side looks like one.
func classify(context, src, dst string, viaDialplan bool) (cdr.CallType, string) {
	c := strings.ToLower(context)
	srcExt, dstExt := isExtension(src), isExtension(dst)
	ext := ""
	switch {
	case srcExt:
		ext = src
	case dstExt:
		ext = dst
	}
	for _, w := range []string{"trunk", "pstn", "did", "inbound", "incoming", "external", "provider"} {
		if strings.Contains(c, w) && !strings.Contains(c, "outbound") {
			if dstExt {
				ext = dst
			} else if !srcExt {
				ext = ""
			}
			return cdr.CallInbound, ext
		}
	}
	if strings.Contains(c, "outbound") || strings.Contains(c, "outgoing") {
		return cdr.CallOutbound, ext
	}
	switch {
	case srcExt && (viaDialplan || strings.HasPrefix(dst, "*")):
		return cdr.CallOther, src
	case srcExt && dstExt:
		return cdr.CallInternal, src
	case srcExt && isOutsideNumber(dst):
		return cdr.CallOutbound, src
	case isOutsideNumber(src) && dstExt:
		return cdr.CallInbound, dst
	}
	return cdr.CallUnknown, ext
}

// isExtension: 2 to 6 digits, no leading zero (a leading 0 is a trunk prefix in most dial plans).
func isExtension(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] == '0' {
		return false
	}
	return allDigits(s)
}

// isOutsideNumber: a phone number that is not an extension: 7 or more digits, or a leading + or 0.
func isOutsideNumber(s string) bool {
	d := strings.TrimPrefix(s, "+")
	if !allDigits(d) || d == "" {
		return false
	}
	return len(d) >= 7 || ((s[0] == '+' || s[0] == '0') && len(d) >= 3)
}

func allDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) || r > '9' {
			return false
		}
	}
	return s != ""
}
