package cdr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Source is a place calls come from: a Com.X PBX, a Difuse PBX, or a local archive. The UI and the command line
// use only this interface.
type Source interface {
	// Describe names the source for people, without credentials: "comx http://10.0.0.5".
	Describe() string
	// Capabilities says what the source can do natively, so the UI offers the right controls.
	Capabilities() Capabilities
	// Calls streams the calls matching q to fn in the order the PBX sends them. A malformed row is reported to
	// the context's Observer (with its line or page) and skipped; fn returning an error stops the stream with
	// that error.
	Calls(ctx context.Context, q Query, fn func(Record) error) (Result, error)
	// Call fetches one call by unique ID or exact start time. A call the PBX does not know gives an error
	// wrapping ErrNotFound.
	Call(ctx context.Context, l Lookup) (Record, error)
	// Recording opens the call's recording as served. A call without one gives an error wrapping ErrNoRecording.
	Recording(ctx context.Context, l Lookup) (*Recording, error)
	// Users lists the PBX's extensions. PINs, where the PBX sends them, are Secrets.
	Users(ctx context.Context) ([]User, error)
	// Zone says which time zone the source's wall-clock times are placed in, and how it was chosen.
	Zone() ZoneInfo
}

// Kinds of source, as Capabilities.Kind names them and profiles and --kind spell them.
const (
	KindComX    = "comx"
	KindDifuse  = "difuse"
	KindArchive = "archive"
)

// Capabilities of a source.
type Capabilities struct {
	Kind            string // KindComX, KindDifuse or KindArchive
	TimeRange       bool   // the PBX filters by start time itself (Com.X), or the client emulates it (Difuse)
	Pages           bool   // the PBX pages its rows (Difuse); Com.X pages are emulated over a range
	ServerExtension bool   // the PBX can filter by one extension itself (Difuse `extension`)
	Extended        bool   // the PBX can send friendly name, account code and channels
	LookupByStart   bool   // one call by exact start time
}

// Query selects calls. A zero From or To is open-ended; From is inclusive and To exclusive, both PBX wall-clock
// times (their Location is ignored: only the wall clock is sent). Page > 0 asks for one page of Limit rows.
//
// A Query is a plain value, comparable with ==, so a caller can keep it as "what is loaded" and compare it with
// the next one. Whoever wants to hear how a fetch goes passes an Observer in the context (WithObserver).
type Query struct {
	From, To  time.Time
	Page      int
	Limit     int
	Extension string // only the calls of this extension (Record.InvolvesExtension); by the PBX where it can, else locally
	Extended  bool
}

// Observer hears what a fetch reports besides its rows. Its zero value, and either of its fields left nil,
// hear nothing. A source calls it from one goroutine at a time.
type Observer struct {
	// OnWarn receives problems that did not stop the fetch: a malformed line, a page that failed and was
	// retried, a zone guess.
	OnWarn func(error)
	// OnProgress receives the running count of bytes read from the PBX.
	OnProgress func(bytes int64)
}

// Warn reports a problem to OnWarn, if it is set.
func (o Observer) Warn(err error) {
	if o.OnWarn != nil {
		o.OnWarn(err)
	}
}

// Progress reports the bytes read so far to OnProgress, if it is set.
func (o Observer) Progress(bytes int64) {
	if o.OnProgress != nil {
		o.OnProgress(bytes)
	}
}

type observerKey struct{}

// WithObserver returns a context whose fetches (Source.Calls and the like) report to o. It replaces any
// Observer ctx already carries.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverFrom is the Observer ctx carries; the zero Observer when it carries none.
func ObserverFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}

// Result describes a finished Calls stream.
type Result struct {
	Rows       int // rows passed to fn
	Skipped    int // malformed rows reported to the Observer
	Page       int // the page served, for paged queries
	TotalPages int // when the PBX says; 0 when unknown
}

// Lookup names one call: by unique ID, or by exact wall-clock start time. A Lookup built from a loaded Record
// may carry it, so sources that need more than the key (a Difuse recording URL) do not refetch.
type Lookup struct {
	ID     string
	Start  time.Time
	Record *Record
}

// ByID and ByStart build Lookups.
func ByID(id string) Lookup      { return Lookup{ID: id} }
func ByStart(t time.Time) Lookup { return Lookup{Start: t} }
func ByRecord(r Record) Lookup   { return Lookup{ID: r.UniqueID, Start: r.Start, Record: &r} }
func (l Lookup) IsZero() bool    { return l.ID == "" && l.Start.IsZero() }
func (l Lookup) String() string {
	if l.ID != "" {
		return "ID " + l.ID
	}
	return "start " + l.Start.Format("2006-01-02 15:04:05")
}

// Recording is an open recording stream. Format is sniffed from the first bytes ("wav", "gsm", or "" when the
// bytes say neither); Name is the PBX's file name reduced to a safe base name; Size is -1 when unknown.
type Recording struct {
	io.ReadCloser
	Name   string
	Format string
	Size   int64
}

// User is one extension of the PBX.
type User struct {
	Extension string
	Name      string
	PIN       Secret // voicemail PIN; never printed unless the user asks by a flag that says so
}

// Errors that callers tell apart with errors.Is.
var (
	ErrNotFound    = errors.New("no such call")
	ErrNoRecording = errors.New("no recording")
	ErrAuth        = errors.New("wrong user or password")
)

// NotFoundError says which call was not found: "no call with ID 1396000115.1". It matches ErrNotFound.
func NotFoundError(l Lookup) error {
	if l.ID != "" {
		return &kindError{msg: "no call with ID " + l.ID, kind: ErrNotFound}
	}
	return &kindError{msg: "no call that started at exactly " + l.Start.Format("2006-01-02 15:04:05"), kind: ErrNotFound}
}

// NoRecordingError says which call has no recording: "call 1396000115.1 has no recording". It matches
// ErrNoRecording.
func NoRecordingError(l Lookup) error {
	name := l.ID
	if name == "" {
		name = "at " + l.Start.Format("2006-01-02 15:04:05")
	}
	return &kindError{msg: "call " + name + " has no recording", kind: ErrNoRecording}
}

// kindError is a sentence for people that errors.Is still matches against one of the sentinel errors.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// LineError is a malformed row, reported and skipped.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }
