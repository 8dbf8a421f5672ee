package cdr

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/callscope/callscope/client/safetext"
)

// The writers before issue 13, kept as the reference the appending writers must match byte for byte:
// Record.Fields through each cell rule into encoding/csv, and a struct of pointers into encoding/json.

type referenceCSV struct {
	bw     *bufio.Writer
	w      *csv.Writer
	header bool
	cell   func(string) string
}

func newReferenceCSV(w io.Writer, raw, terminal bool) *referenceCSV {
	bw := bufio.NewWriter(w)
	cell := safetext.CSVCell
	if raw {
		cell = safetext.CSVRawCell
	}
	if terminal {
		inner := cell
		cell = func(s string) string { return safetext.Terminal(inner(s)) }
	}
	return &referenceCSV{bw: bw, w: csv.NewWriter(bw), cell: cell}
}

func (cw *referenceCSV) Write(r *Record) {
	if !cw.header {
		cw.header = true
		cw.w.Write(Columns)
	}
	fields := r.Fields()
	for i, f := range fields {
		if Columns[i] != "duration_s" && Columns[i] != "billable_s" && Columns[i] != "recording_size" {
			fields[i] = cw.cell(f)
		}
	}
	cw.w.Write(fields)
}

func (cw *referenceCSV) Flush() {
	if !cw.header {
		cw.header = true
		cw.w.Write(Columns)
	}
	cw.w.Flush()
	cw.bw.Flush()
}

type referenceJSONRecord struct {
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

func referenceKnown(v int64) *int64 {
	if v < 0 {
		return nil
	}
	return &v
}

func referenceJSON(w io.Writer, recs []Record) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		enc.Encode(referenceJSONRecord{
			UniqueID: r.UniqueID, Start: FormatTime(r.Start), CallType: string(r.CallType), Extension: r.Extension,
			FriendlyName: r.FriendlyName, DialledNumber: r.DialledNumber, CallerID: r.CallerID,
			Disposition: string(r.Disposition), DurationS: referenceKnown(int64(r.DurationS)),
			BillableS: referenceKnown(int64(r.BillableS)), RecordingSize: referenceKnown(r.RecordingSize),
			RecordingFile: r.Recording, AccountCode: r.AccountCode, Channel: r.Channel, DestChannel: r.DestChannel,
		})
	}
}

// writerKinds are every output the appending writers make.
var writerKinds = []struct {
	name          string
	json          bool
	raw, terminal bool
}{
	{"csv", false, false, false}, {"csv raw", false, true, false}, {"csv terminal", false, false, true},
	{"csv raw terminal", false, true, true}, {"json", true, false, false},
}

func newWriter(w io.Writer, json, raw, terminal bool) interface {
	EncodedWriter
	Write(*Record) error
} {
	if json {
		return NewJSONWriter(w)
	}
	cw := NewCSVWriter(w)
	if raw {
		cw = NewRawCSVWriter(w)
	}
	if terminal {
		cw.ForTerminal()
	}
	return cw
}

// checkWriters writes recs with every writer, through Write and through encoders, and compares the bytes with
// the reference writers'.
func checkWriters(t *testing.T, recs []Record) {
	t.Helper()
	for _, k := range writerKinds {
		var want bytes.Buffer
		if k.json {
			referenceJSON(&want, recs)
		} else {
			ref := newReferenceCSV(&want, k.raw, k.terminal)
			for i := range recs {
				ref.Write(&recs[i])
			}
			ref.Flush()
		}
		var got bytes.Buffer
		w := newWriter(&got, k.json, k.raw, k.terminal)
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s: Write differs from the reference:\n got %q\nwant %q", k.name, got.Bytes(), want.Bytes())
		}
		// Encoders on other goroutines, the bytes handed over in pieces.
		got.Reset()
		w = newWriter(&got, k.json, k.raw, k.terminal)
		for i := range recs {
			enc := w.NewEncoder()
			if err := w.WriteEncoded(enc.AppendRecord(nil, &recs[i]), 1); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s: encoders differ from the reference:\n got %q\nwant %q", k.name, got.Bytes(), want.Bytes())
		}
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	return loc
}

func TestWritersMatchReference(t *testing.T) {
	london := mustZone(t, "Europe/London")
	hostile := hostileRecord()
	ordinary := ordinaryRecord()
	texts := []string{
		"", " ", " lead", "trail ", `\.`, `\`, `a\.`, "=1+1", "+27 82 123 4567", "-", "-5", "+", "@", "\t=1",
		"\r\n", "a\nb", "a\r\nb", `"quoted"`, `"Smith, John" <2001>`, "a,b", "\x00", "a\x00b", "=\x00", "\x00=1",
		"\x1b[31mred", "\x7f", "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xff\xfe", "\u00a0nbsp", "\u0085nel", "\u2028",
		"\u2029x", "\u202eevil", "\u3000ideo", "<html>&amp;", "quote\"inside", "back\\slash", "tab\tinside",
		"\b\f", "\x01\x1f", "12345678901234567", "abcdefgh\"ijklmnop", "abcdefghijklmno,", "Zoë Adams",
	}
	var recs []Record
	for i, s := range texts {
		r := ordinary
		r.UniqueID, r.FriendlyName, r.CallerID, r.AccountCode = s, s, texts[(i+7)%len(texts)], texts[(i+3)%len(texts)]
		r.CallType, r.Disposition = CallType(texts[(i+11)%len(texts)]), Disposition(s)
		r.Extension, r.DialledNumber, r.Recording, r.Channel, r.DestChannel = s, s, s, s, s
		recs = append(recs, r)
	}
	times := []time.Time{
		{},
		time.Date(2026, 3, 29, 0, 59, 59, 0, london), time.Date(2026, 3, 29, 2, 0, 0, 0, london),
		time.Date(2026, 10, 25, 1, 30, 0, 0, london), time.Date(2026, 10, 25, 1, 30, 0, 0, london).Add(time.Hour),
		time.Date(2026, 12, 31, 23, 59, 59, 999, london), time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(1850, 1, 1, 0, 0, 0, 0, london), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-3, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2013, 3, 1, 9, 33, 0, 0, time.FixedZone("odd", 5*3600+30*60+17)),
		time.Date(2013, 3, 1, 9, 33, 0, 0, time.FixedZone("west", -(3*3600+30*60))),
		time.Date(2013, 3, 1, 9, 33, 0, 0, time.Local), time.Unix(1<<40, 0),
	}
	for _, tm := range times {
		r := ordinary
		r.Start = tm
		recs = append(recs, r)
	}
	for _, n := range []int64{Unknown, 0, 1, 1<<31 - 1, 1<<63 - 1, -7} {
		r := hostile
		r.DurationS, r.BillableS, r.RecordingSize = int(n), int(n), n
		recs = append(recs, r)
	}
	for i := range recs {
		checkWriters(t, recs[i:i+1])
	}
	checkWriters(t, recs)
	checkWriters(t, nil)
}

// FuzzWritersMatchReference: any text in any field and any time give the reference writers' bytes.
func FuzzWritersMatchReference(f *testing.F) {
	f.Add("1362123180.67", `"Smith, John" <0821234567>`, "Zoë", "CALL ANSWERED", int64(1700000000), int64(7200), int64(221))
	f.Add("=1+1", "\x1b[31m\x00", "\u2028\xff", "\t", int64(-62135596800), int64(0), int64(-1))
	f.Add(`\.`, "\r\n\"", " a", "+1 (555)", int64(1<<40), int64(-34200), int64(1<<40))
	f.Fuzz(func(t *testing.T, id, caller, name, word string, unix, offset, n int64) {
		r := ordinaryRecord()
		r.UniqueID, r.CallerID, r.FriendlyName, r.Extension, r.DialledNumber = id, caller, name, word, caller
		r.Recording, r.AccountCode, r.Channel, r.DestChannel = name, word, id, caller
		r.CallType, r.Disposition = CallType(word), Disposition(name)
		r.DurationS, r.BillableS, r.RecordingSize = int(n), int(n%100000), n
		offset %= 26 * 3600
		r.Start = time.Unix(unix%(1<<45), 0).In(time.FixedZone(strconv.FormatInt(offset, 10), int(offset)))
		next := r
		next.Start = r.Start.Add(time.Duration(n%100000) * time.Second)
		checkWriters(t, []Record{r, next, r})
	})
}
