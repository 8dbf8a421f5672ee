package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
)

// DefaultPageSize is the page length of a paged query without a Limit.
const DefaultPageSize = 100

const callColumns = `id, start_wall, start_off, record`

type scanner interface{ Scan(...any) error }

// stored is a row as read: the record and what the archive holds of its recording.
type stored struct {
	rec      cdr.Record
	recHash  string
	recFmt   string
	recBytes int64
	recError string
	recTries int
}

// scanRecord reads the callColumns of a row, then any extra destinations.
func (a *Archive) scanRecord(s scanner, r *cdr.Record, extra ...any) error {
	var wall int64
	var off int
	var packed []byte
	dest := append([]any{&r.UniqueID, &wall, &off, &packed}, extra...)
	if err := s.Scan(dest...); err != nil {
		return err
	}
	if err := decodeRecord(packed, r); err != nil {
		return fmt.Errorf("call %s: %w", r.UniqueID, err)
	}
	r.Start = a.place(wall, off)
	return nil
}

// where builds the WHERE clause shared by a query's rows and its count.
func where(q cdr.Query) (string, []any) {
	var conds []string
	var args []any
	if !q.From.IsZero() {
		conds = append(conds, "start_wall >= ?")
		args = append(args, cdr.WallClock(q.From).Unix())
	}
	if !q.To.IsZero() {
		conds = append(conds, "start_wall < ?")
		args = append(args, cdr.WallClock(q.To).Unix())
	}
	if q.Extension != "" {
		// cdr.Record.InvolvesExtension: the call's own extension, or the one it dialled or reached (peer).
		conds = append(conds, "(extension = ? OR peer = ?)")
		args = append(args, q.Extension, q.Extension)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Calls streams the stored calls matching q in start order (ties by ID). A page is Limit rows of the matching
// calls, with TotalPages counted by the index.
func (a *Archive) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	if a.schema >= 3 {
		return a.callsFromBlocks(ctx, q, fn)
	}
	return a.callsFromIndex(ctx, q, fn)
}

// callsFromIndex answers Calls from the calls table and its indexes, for an index of an older format opened
// for reading only, which has no blocks.
func (a *Archive) callsFromIndex(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	res := cdr.Result{Page: q.Page}
	w, args := where(q)
	query := `SELECT ` + callColumns + ` FROM calls` + w + ` ORDER BY start_wall, id`
	if q.Page > 0 {
		limit := q.Limit
		if limit <= 0 {
			limit = DefaultPageSize
		}
		var total int
		if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls`+w, args...).Scan(&total); err != nil {
			return res, a.readError(err)
		}
		res.TotalPages = (total + limit - 1) / limit
		// The rows skipped are counted in the index alone; only the page's rows are read whole.
		query = `SELECT ` + callColumns + ` FROM calls WHERE id IN (SELECT id FROM calls` + w +
			` ORDER BY start_wall, id LIMIT ? OFFSET ?) ORDER BY start_wall, id`
		args = append(args, limit, (q.Page-1)*limit)
	}
	rows, err := a.db.QueryContext(ctx, query, args...)
	if err != nil {
		return res, a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r cdr.Record
		if err := a.scanRecord(rows, &r); err != nil {
			return res, a.readError(err)
		}
		if err := fn(r); err != nil {
			return res, err
		}
		res.Rows++
	}
	return res, a.readError(rows.Err())
}

func (a *Archive) readError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("reading archive %s: %w", a.dir, err)
}

// lookup finds one stored call by ID, or the first (by ID) that started at exactly the lookup's wall clock.
func (a *Archive) lookup(ctx context.Context, l cdr.Lookup) (stored, error) {
	var row *sql.Row
	cols := `SELECT ` + callColumns + `, rec_hash, rec_format, rec_bytes, ` + a.recErrorColumns() + ` FROM calls`
	switch {
	case l.ID != "":
		row = a.db.QueryRowContext(ctx, cols+` WHERE id = ?`, l.ID)
	case !l.Start.IsZero():
		row = a.db.QueryRowContext(ctx, cols+` WHERE start_wall = ? ORDER BY id LIMIT 1`, cdr.WallClock(l.Start).Unix())
	default:
		return stored{}, errors.New("no call given: name it by unique ID or exact start time")
	}
	var st stored
	err := a.scanRecord(row, &st.rec, &st.recHash, &st.recFmt, &st.recBytes, &st.recError, &st.recTries)
	if errors.Is(err, sql.ErrNoRows) {
		return st, cdr.NotFoundError(l)
	}
	return st, a.readError(err)
}

// Call fetches one stored call by unique ID or exact start time.
func (a *Archive) Call(ctx context.Context, l cdr.Lookup) (cdr.Record, error) {
	st, err := a.lookup(ctx, l)
	return st.rec, err
}

// Recording opens a call's stored recording. A call the PBX recorded whose recording is not (yet) in the
// archive gives an error wrapping cdr.ErrNoRecording that says so.
func (a *Archive) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	st, err := a.lookup(ctx, l)
	if err != nil {
		return nil, err
	}
	if l.ID == "" {
		l.ID = st.rec.UniqueID
	}
	if st.recHash == "" {
		if st.recError != "" {
			return nil, &RecordingNotStoredError{ID: l.ID, Reason: st.recError}
		}
		if st.rec.Recording != "" && st.rec.RecordingSize != 0 {
			return nil, &RecordingNotStoredError{ID: l.ID}
		}
		return nil, cdr.NoRecordingError(l)
	}
	if !isHash(st.recHash) {
		return nil, fmt.Errorf("archive %s: call %s names a recording %q that is not a SHA-256; the index is damaged",
			a.dir, l.ID, st.recHash)
	}
	f, err := os.Open(a.blobPath(st.recHash, st.recFmt))
	if err != nil {
		return nil, &RecordingNotStoredError{ID: l.ID, Lost: err}
	}
	name := reccache.SafeName(st.rec.Recording)
	if name == "" {
		name = reccache.SafeID(st.rec.UniqueID) + cdr.AudioExt(st.recFmt)
	}
	return &cdr.Recording{ReadCloser: f, Name: name, Format: st.recFmt, Size: st.recBytes}, nil
}

// blobPath is where a recording with this hash lives: recordings/ab/abcdef….gsm.
func (a *Archive) blobPath(hash, format string) string {
	return filepath.Join(a.dir, RecordingsName, hash[:2], hash+cdr.AudioExt(format))
}

// isHash accepts only a lower-case hex SHA-256, so a damaged index cannot make a path out of it.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
