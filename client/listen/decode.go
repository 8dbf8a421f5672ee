package listen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// Decode reads a push body: one CDR object or an array of them, with the field names of the Difuse API. Times
// without an offset are the PBX's wall clock, placed in loc; when loc is nil each entry's offset is taken from
// its Unix timestamp against its wall-clock start (as the Difuse client infers it), else UTC.
func Decode(body []byte, loc *time.Location) ([]cdr.Record, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, badf("empty body: send a CDR entry as a JSON object, or an array of them")
	}
	var raw []json.RawMessage
	switch body[0] {
	case '{':
		raw = []json.RawMessage{body}
	case '[':
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, badf("the body is not valid JSON: %v", jsonError(err))
		}
	default:
		return nil, badf("the body is not a JSON object or array: send a CDR entry as a JSON object, or an array of them")
	}
	recs := make([]cdr.Record, 0, len(raw))
	for i, m := range raw {
		r, err := decodeEntry(m, loc)
		if err != nil {
			if len(raw) > 1 || body[0] == '[' {
				return nil, badf("entry %d: %v", i+1, err)
			}
			return nil, &BadRequest{err.Error()}
		}
		recs = append(recs, r)
	}
	return recs, nil
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
			diff := w.Unix() - epoch
			q := (diff + sign(diff)*450) / 900 * 900
			if q >= -12*3600 && q <= 14*3600 {
				loc = cdr.OffsetZone(int(q))
			}
		}
	}
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, mo, d, h, mi, s, w.Nanosecond(), loc)
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}
