package cdr

import (
	"io"
	"strconv"
	"strings"
	"time"
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

// EncodedWriter is a record writer (CSVWriter, JSONWriter) whose encoding can run on other goroutines: each
// goroutine appends records with its own NewEncoder, and the bytes go to WriteEncoded in the order they are to
// be written. A source that parses on several goroutines (comx.Client.WriteCalls) uses it to encode where it
// parses; the bytes are those Write would have written.
type EncodedWriter interface {
	NewEncoder() RecordEncoder
	// WriteEncoded writes bytes made by encoders of this writer holding records records.
	WriteEncoded(p []byte, records int) error
	Flush() error
}

// RecordEncoder appends one record's encoding, line end included. It is not safe for concurrent use: make one
// per goroutine.
type RecordEncoder interface {
	AppendRecord(b []byte, r *Record) []byte
}

// flushAt is how much a writer buffers before it writes: large writes keep the system calls per row few.
const flushAt = 256 << 10

// sink buffers encoded rows for an io.Writer; a write error is kept and returned from then on.
type sink struct {
	w      io.Writer
	buf    []byte
	header []byte // written before anything else (or on flush), then nil
	err    error
}

func (s *sink) start() {
	if s.header != nil {
		s.buf = append(s.buf, s.header...)
		s.header = nil
	}
}

func (s *sink) maybeFlush() error {
	if len(s.buf) >= flushAt {
		return s.flush()
	}
	return s.err
}

func (s *sink) flush() error {
	if s.err == nil && len(s.buf) > 0 {
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
	return s.err
}

// write takes already encoded bytes: small pieces are buffered, large ones written as they are (after what is
// buffered), which saves copying them.
func (s *sink) write(p []byte) error {
	if s.err != nil {
		return s.err
	}
	s.start()
	if len(p) < flushAt/4 {
		s.buf = append(s.buf, p...)
		return s.maybeFlush()
	}
	if err := s.flush(); err != nil {
		return err
	}
	_, s.err = s.w.Write(p)
	return s.err
}

// CSVWriter writes records as RFC 4180 CSV with a header row, as encoding/csv writes them (LF line ends).
type CSVWriter struct {
	out  sink
	enc  csvEncoder // Write's own encoder
	mode cellMode
}

// csvHeader is Columns as a CSV line.
var csvHeader = []byte(strings.Join(Columns, ",") + "\n")

// NewCSVWriter returns a writer that writes the header before the first record (or on Flush if there is none).
// Its text cells are safe to open in a spreadsheet: a caller ID such as =HYPERLINK(…) is written as '=HYPERLINK(…)
// so it shows as text instead of running (see safetext.CSVCell), and NUL bytes are dropped.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{out: sink{w: w, header: csvHeader}}
}

// NewRawCSVWriter is NewCSVWriter for scripts that want every cell exactly as the PBX sent it (--csv-raw): no
// cell is prefixed. NUL bytes are still dropped.
func NewRawCSVWriter(w io.Writer) *CSVWriter {
	cw := NewCSVWriter(w)
	cw.mode.raw = true
	return cw
}

// ForTerminal makes cw clean every cell for a terminal as well (safetext.Terminal: escape sequences and other
// controls shown as text), for a CSV that is shown to a person rather than saved. Call it before Write and
// NewEncoder.
func (cw *CSVWriter) ForTerminal() { cw.mode.terminal = true }

// Write writes one record.
func (cw *CSVWriter) Write(r *Record) error {
	if cw.out.err != nil {
		return cw.out.err
	}
	cw.out.start()
	cw.enc.mode = cw.mode
	cw.out.buf = cw.enc.AppendRecord(cw.out.buf, r)
	return cw.out.maybeFlush()
}

// NewEncoder returns an encoder of cw's rows for another goroutine.
func (cw *CSVWriter) NewEncoder() RecordEncoder { return &csvEncoder{mode: cw.mode} }

// WriteEncoded writes rows made by cw's encoders (after the header, if that is not written yet).
func (cw *CSVWriter) WriteEncoded(p []byte, _ int) error { return cw.out.write(p) }

// Flush writes out buffered data (and the header, for an empty export).
func (cw *CSVWriter) Flush() error {
	cw.out.start()
	return cw.out.flush()
}

type csvEncoder struct {
	mode  cellMode
	times timeCache
}

func (e *csvEncoder) AppendRecord(b []byte, r *Record) []byte {
	return appendCSVRecord(b, r, e.mode, &e.times)
}

// JSONWriter writes one JSON object per line with the CSV's keys, in the CSV's order: numbers as numbers, unknown
// numbers as null, strings as encoding/json writes them without HTML escaping.
type JSONWriter struct {
	out sink
	enc jsonEncoder
}

// NewJSONWriter returns a JSON-lines writer.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{out: sink{w: w}} }

// Write writes one record as a line.
func (jw *JSONWriter) Write(r *Record) error {
	if jw.out.err != nil {
		return jw.out.err
	}
	jw.out.buf = jw.enc.AppendRecord(jw.out.buf, r)
	return jw.out.maybeFlush()
}

// NewEncoder returns an encoder of jw's lines for another goroutine.
func (jw *JSONWriter) NewEncoder() RecordEncoder { return &jsonEncoder{} }

// WriteEncoded writes lines made by jw's encoders.
func (jw *JSONWriter) WriteEncoded(p []byte, _ int) error { return jw.out.write(p) }

// Flush writes out buffered data.
func (jw *JSONWriter) Flush() error { return jw.out.flush() }

type jsonEncoder struct{ times timeCache }

func (e *jsonEncoder) AppendRecord(b []byte, r *Record) []byte {
	return appendJSONRecord(b, r, &e.times)
}
