package cdr

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/callscope/callscope/client/safetext"
)

// Columns is the header of every CSV callscope writes, in order. `callscope calls --format csv`, the TUI's
// export and `callscope export` all write through CSVWriter so the files are the same.
var Columns = []string{
	"unique_id", "start", "call_type", "extension", "friendly_name", "dialled_number", "caller_id",
	"disposition", "duration_s", "billable_s", "recording_size", "recording_file", "account_code", "channel",
	"destination_channel",
}

// Fields renders a record as the CSV columns: start as ISO 8601 with its offset, words in lower case, unknown
// values empty.
func (r *Record) Fields() []string {
	return []string{
		r.UniqueID,
		FormatTime(r.Start),
		string(r.CallType),
		r.Extension,
		r.FriendlyName,
		r.DialledNumber,
		r.CallerID,
		string(r.Disposition),
		itoaKnown(int64(r.DurationS)),
		itoaKnown(int64(r.BillableS)),
		itoaKnown(r.RecordingSize),
		r.Recording,
		r.AccountCode,
		r.Channel,
		r.DestChannel,
	}
}

// FormatTime is ISO 8601 with the offset, e.g. 2013-03-01T09:33:00+02:00; empty for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func itoaKnown(v int64) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// numericColumn says which of Columns callscope writes as numbers; every other column is text from the PBX.
var numericColumn = func() []bool {
	n := make([]bool, len(Columns))
	for i, c := range Columns {
		n[i] = c == "duration_s" || c == "billable_s" || c == "recording_size"
	}
	return n
}()

// CSVWriter writes records as RFC 4180 CSV with a header row.
type CSVWriter struct {
	bw     *bufio.Writer
	w      *csv.Writer
	header bool
	cell   func(string) string // safetext.CSVCell, or safetext.CSVRawCell for a raw writer
}

// NewCSVWriter returns a writer that writes the header before the first record (or on Flush if there is none).
// Its text cells are safe to open in a spreadsheet: a caller ID such as =HYPERLINK(…) is written as '=HYPERLINK(…)
// so it shows as text instead of running (see safetext.CSVCell), and NUL bytes are dropped.
func NewCSVWriter(w io.Writer) *CSVWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &CSVWriter{bw: bw, w: csv.NewWriter(bw), cell: safetext.CSVCell}
}

// NewRawCSVWriter is NewCSVWriter for scripts that want every cell exactly as the PBX sent it (--csv-raw): no
// cell is prefixed. NUL bytes are still dropped.
func NewRawCSVWriter(w io.Writer) *CSVWriter {
	cw := NewCSVWriter(w)
	cw.cell = safetext.CSVRawCell
	return cw
}

// ForTerminal makes cw clean every cell for a terminal as well (safetext.Terminal: escape sequences and other
// controls shown as text), for a CSV that is shown to a person rather than saved. Call it before Write.
func (cw *CSVWriter) ForTerminal() {
	cell := cw.cell
	cw.cell = func(s string) string { return safetext.Terminal(cell(s)) }
}

// Write writes one record.
func (cw *CSVWriter) Write(r *Record) error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(Columns); err != nil {
			return err
		}
	}
	fields := r.Fields()
	for i, f := range fields {
		if !numericColumn[i] {
			fields[i] = cw.cell(f)
		}
	}
	return cw.w.Write(fields)
}

// Flush writes out buffered data (and the header, for an empty export).
func (cw *CSVWriter) Flush() error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(Columns); err != nil {
			return err
		}
	}
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return err
	}
	return cw.bw.Flush()
}

// jsonRecord is the JSON line form: the CSV's keys, numbers as numbers, unknown numbers as null.
type jsonRecord struct {
	UniqueID      string `json:"unique_id"`
	Start         string `json:"start"`
	CallType      string `json:"call_type"`
	Extension     string `json:"extension"`
	FriendlyName  string `json:"friendly_name"`
	DialledNumber string `json:"dialled_number"`
	CallerID      string `json:"caller_id"`
	Disposition   string `json:"disposition"`
	DurationS     *int64 `json:"duration_s"`
	BillableS     *int64 `json:"billable_s"`
	RecordingSize *int64 `json:"recording_size"`
	RecordingFile string `json:"recording_file"`
	AccountCode   string `json:"account_code"`
	Channel       string `json:"channel"`
	DestChannel   string `json:"destination_channel"`
}

func known(v int64) *int64 {
	if v < 0 {
		return nil
	}
	return &v
}

// JSONWriter writes one JSON object per line with the CSV's keys.
type JSONWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewJSONWriter returns a JSON-lines writer.
func NewJSONWriter(w io.Writer) *JSONWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONWriter{bw: bw, enc: enc}
}

// Write writes one record as a line.
func (jw *JSONWriter) Write(r *Record) error {
	return jw.enc.Encode(jsonRecord{
		UniqueID: r.UniqueID, Start: FormatTime(r.Start), CallType: string(r.CallType), Extension: r.Extension,
		FriendlyName: r.FriendlyName, DialledNumber: r.DialledNumber, CallerID: r.CallerID,
		Disposition: string(r.Disposition), DurationS: known(int64(r.DurationS)), BillableS: known(int64(r.BillableS)),
		RecordingSize: known(r.RecordingSize), RecordingFile: r.Recording, AccountCode: r.AccountCode,
		Channel: r.Channel, DestChannel: r.DestChannel,
	})
}

// Flush writes out buffered data.
func (jw *JSONWriter) Flush() error { return jw.bw.Flush() }
