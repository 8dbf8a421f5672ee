package listen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/difuse"
)

// knownFields are the names a pushed entry may use: those of the Difuse pull API (GET /pbx/cdr/data), and the
// Asterisk CDR column names the PBX's "Parameters" list may offer for the same values. Anything else is refused
// with a 400 naming it, so a misconfigured PBX is noticed rather than silently half-stored.
var knownFields = map[string]bool{
	// The pull API's fields.
	"db_id": true, "call_id": true, "caller_id": true, "source": true, "destination_context": true,
	"destination": true, "initial_destination": true, "computed_destination": true, "disposition": true,
	"timestamp": true, "date": true, "start_time": true, "answer_time": true, "end_time": true,
	"recording_url": true,
	// Asterisk CDR columns.
	"uniqueid": true, "linkedid": true, "clid": true, "src": true, "dst": true, "dcontext": true,
	"calldate": true, "start": true, "answer": true, "end": true, "duration": true, "billsec": true,
	"channel": true, "dstchannel": true, "destination_channel": true, "accountcode": true, "account_code": true,
	"lastapp": true, "lastdata": true, "amaflags": true, "userfield": true, "sequence": true,
	"peeraccount": true, "recordingfile": true,
}

// fieldList names the main fields for error messages.
const fieldList = "call_id, caller_id, source, destination, disposition, timestamp, date, start_time, answer_time, end_time, recording_url"

// BadRequest is a push refused for what it holds; its text is sent back with the 400.
type BadRequest struct{ msg string }

func (e *BadRequest) Error() string { return e.msg }

func badf(format string, a ...any) error { return &BadRequest{fmt.Sprintf(format, a...)} }

// Decode reads a whole push body: one CDR object or an array of them, with the field names of the Difuse API.
// Times without an offset are the PBX's wall clock, placed in loc; when loc is nil each entry's offset is taken
// from its Unix timestamp against its wall-clock start (as the Difuse client infers it), else UTC.
func Decode(body []byte, loc *time.Location) ([]cdr.Record, error) {
	d := NewDecoder(bytes.NewReader(body), loc)
	var recs []cdr.Record
	for {
		r, err := d.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
}

// MaxEntry bounds one entry of a push. A CDR entry is about 500 bytes; the bound keeps what decoding holds
// beside the body small, whatever the body holds.
const MaxEntry = 64 << 10

// Decoder reads a push body's entries one at a time, as Decode does, holding no more than one entry beside
// what it reads from.
type Decoder struct {
	br    *bufio.Reader
	win   *windowReader
	dec   *json.Decoder
	loc   *time.Location
	state int // 0: not started; 1: one object; 2: in an array; 3: done
	n     int // entries returned
}

// NewDecoder reads entries from r.
func NewDecoder(r io.Reader, loc *time.Location) *Decoder {
	br := bufio.NewReader(r)
	win := &windowReader{r: br, max: MaxEntry + 4<<10}
	d := &Decoder{br: br, win: win, dec: json.NewDecoder(win), loc: loc}
	win.dec = d.dec
	return d
}

var errEntryTooLarge = fmt.Errorf("an entry is larger than %d KB", MaxEntry>>10)

// windowReader stops the JSON decoder from buffering more than max bytes past the end of the last value it
// returned: no single entry may make decoding hold more than that.
type windowReader struct {
	r    io.Reader
	dec  *json.Decoder
	read int64
	max  int64
}

func (w *windowReader) Read(p []byte) (int, error) {
	room := w.max - (w.read - w.dec.InputOffset())
	if room <= 0 {
		return 0, errEntryTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := w.r.Read(p)
	w.read += int64(n)
	return n, err
}

// Next returns the next entry, or io.EOF after the last. A *BadRequest says what is wrong with the body.
func (d *Decoder) Next() (cdr.Record, error) {
	switch d.state {
	case 0:
		first, err := d.firstByte()
		if err != nil {
			return cdr.Record{}, err
		}
		switch first {
		case '{':
			d.state = 1
			return d.one()
		case '[':
			if _, err := d.dec.Token(); err != nil {
				return cdr.Record{}, d.syntax(err)
			}
			d.state = 2
			return d.element()
		}
		return cdr.Record{}, badf("the body is not a JSON object or array: send a CDR entry as a JSON object, or an array of them")
	case 2:
		return d.element()
	}
	return cdr.Record{}, io.EOF
}

// firstByte is the first byte that is not white space, left unread.
func (d *Decoder) firstByte() (byte, error) {
	for {
		c, err := d.br.ReadByte()
		if err == io.EOF {
			return 0, badf("empty body: send a CDR entry as a JSON object, or an array of them")
		}
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			_ = d.br.UnreadByte() // cannot fail right after ReadByte; the decoder reads it again, through the window
			return c, nil
		}
	}
}

// one reads a body that is a single object.
func (d *Decoder) one() (cdr.Record, error) {
	d.state = 3
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return cdr.Record{}, d.syntax(err)
	}
	if len(raw) > MaxEntry {
		return cdr.Record{}, d.syntax(errEntryTooLarge)
	}
	if err := d.end(); err != nil {
		return cdr.Record{}, err
	}
	r, err := decodeEntry(raw, d.loc)
	if err != nil {
		return cdr.Record{}, &BadRequest{err.Error()}
	}
	d.n++
	return r, nil
}

// element reads the array's next entry, or its end.
func (d *Decoder) element() (cdr.Record, error) {
	if !d.dec.More() {
		d.state = 3
		if _, err := d.dec.Token(); err != nil { // the closing bracket
			return cdr.Record{}, d.syntax(err)
		}
		if err := d.end(); err != nil {
			return cdr.Record{}, err
		}
		return cdr.Record{}, io.EOF
	}
	var raw json.RawMessage
	err := d.dec.Decode(&raw)
	if err == nil && len(raw) > MaxEntry {
		err = errEntryTooLarge
	}
	if err != nil {
		err = d.syntax(err)
		d.state = 3
		return cdr.Record{}, err
	}
	r, err := decodeEntry(raw, d.loc)
	if err != nil {
		d.state = 3
		return cdr.Record{}, badf("entry %d: %v", d.n+1, err)
	}
	d.n++
	return r, nil
}

// end checks that nothing but white space follows the body's value.
func (d *Decoder) end() error {
	_, err := d.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return d.syntax(err)
	}
	return badf("more than one JSON value: send one object, or an array of objects")
}

// syntax turns a decoding error into the 400's text.
func (d *Decoder) syntax(err error) error {
	switch {
	case errors.Is(err, errEntryTooLarge) && d.state == 2:
		return badf("entry %d: larger than %d KB: a CDR entry is about 500 bytes", d.n+1, MaxEntry>>10)
	case errors.Is(err, errEntryTooLarge):
		return badf("the entry is larger than %d KB: a CDR entry is about 500 bytes", MaxEntry>>10)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badf("the body is not valid JSON: it ends in the middle of a value")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badf("the body is not valid JSON: %v", jsonError(err))
	}
	return err // a read error
}

func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// entry is one pushed object's fields as text.
type entry map[string]string

func (e entry) first(keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(e[k]); v != "" {
			return v
		}
	}
	return ""
}

func decodeEntry(m json.RawMessage, loc *time.Location) (cdr.Record, error) {
	trimmed := bytes.TrimSpace(m)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return cdr.Record{}, errors.New("not a JSON object: each CDR entry is an object of fields")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return cdr.Record{}, fmt.Errorf("not valid JSON: %v", jsonError(err))
	}
	if dec.More() {
		return cdr.Record{}, errors.New("more than one JSON value: send one object, or an array of objects")
	}
	e := entry{}
	var unknown []string
	for k, v := range fields {
		if !knownFields[k] {
			unknown = append(unknown, strconv.Quote(k))
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return cdr.Record{}, fmt.Errorf("field %q: %v", k, err)
		}
		e[k] = s
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return cdr.Record{}, fmt.Errorf("unknown field %s: send the fields of the Difuse CDR API (%s)",
			strings.Join(unknown, ", "), fieldList)
	}
	return e.record(loc)
}

// scalar reads a field's value as text: a string, a number or a boolean; null is empty.
func scalar(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || bytes.Equal(v, []byte("null")):
		return "", nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case v[0] == '{' || v[0] == '[':
		return "", errors.New("expected a string or a number, got an object or a list")
	}
	return string(v), nil
}

// wall reads a time: a Difuse wall clock (read as UTC), or a time with an offset, turned into loc's wall clock
// (UTC's when loc is nil). Empty and MySQL's zero date mean none.
func wall(s string, loc *time.Location) (time.Time, bool, error) {
	t, ok, err := difuse.ParseWall(s)
	if err == nil {
		return t, ok, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
		if loc == nil {
			loc = time.UTC
		}
		return cdr.WallClock(t.In(loc)), true, nil
	}
	return time.Time{}, false, fmt.Errorf("cannot read time %q: use YYYY-MM-DD hh:mm:ss", strings.TrimSpace(s))
}

// record reads the fields into a difuse.Row, so a pushed call is mapped exactly as the same call pulled later,
// and checks more strictly than a pull does: a push with no call ID, an unreadable timestamp or no start at all is
// refused with the reason, since the PBX's sender can be fixed.
func (e entry) record(loc *time.Location) (cdr.Record, error) {
	id := e.first("call_id", "uniqueid")
	if id == "" {
		return cdr.Record{}, errors.New("no call_id: every CDR entry needs its call_id (the PBX's unique ID)")
	}
	var epoch int64
	if ts := e.first("timestamp"); ts != "" {
		f, err := strconv.ParseFloat(ts, 64)
		if err != nil || f < 0 {
			return cdr.Record{}, fmt.Errorf("timestamp %q is not a Unix time", ts)
		}
		epoch = int64(f)
	}
	start, ok, err := wall(e.first("start_time", "start", "date", "calldate"), loc)
	if err != nil {
		return cdr.Record{}, fmt.Errorf("start time: %v", err)
	}
	if !ok {
		if epoch == 0 {
			return cdr.Record{}, errors.New("no start time: send start_time (or date, or timestamp)")
		}
		l := loc
		if l == nil {
			l = time.UTC
		}
		start = cdr.WallClock(time.Unix(epoch, 0).In(l))
	}
	end, _, err := wall(e.first("end_time", "end"), loc)
	if err != nil {
		return cdr.Record{}, fmt.Errorf("end time: %v", err)
	}
	answer, _, err := wall(e.first("answer_time", "answer"), loc)
	if err != nil {
		return cdr.Record{}, fmt.Errorf("answer time: %v", err)
	}
	r := difuse.Row{
		CallID:              id,
		CallerID:            e.first("caller_id", "clid"),
		Source:              e.first("source", "src"),
		DestinationContext:  e.first("destination_context", "dcontext"),
		Destination:         e.first("destination", "dst"),
		InitialDestination:  e.first("initial_destination"),
		ComputedDestination: e.first("computed_destination"),
		Disposition:         e.first("disposition"),
		Timestamp:           strconv.FormatInt(epoch, 10),
		RecordingURL:        e.first("recording_url", "recordingfile"),
		AccountCode:         e.first("accountcode", "account_code"),
		Channel:             e.first("channel"),
		DestChannel:         e.first("dstchannel", "destination_channel"),
	}.Record(start, answer, end)
	// Without an end time the pushed Asterisk columns may still say how long the call was.
	if r.DurationS == cdr.Unknown {
		if v, err := strconv.Atoi(e.first("duration")); err == nil && v >= 0 {
			r.DurationS = v
		}
		if v, err := strconv.Atoi(e.first("billsec")); err == nil && v >= 0 {
			r.BillableS = v
		}
	}
	r.Start = place(start, epoch, loc)
	return r, nil
}

// place puts a wall clock in loc, or, without one, in the fixed offset its Unix timestamp implies (rounded to
// a quarter hour, as zone inference does), else UTC.
func place(w time.Time, epoch int64, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
		if epoch > 0 {
			if off, ok := cdr.EpochOffset(w, epoch); ok {
				loc = cdr.OffsetZone(off)
			}
		}
	}
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, mo, d, h, mi, s, w.Nanosecond(), loc)
}
