package archive

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/outfile"
)

// Blob is a recording stored in the archive, named by the SHA-256 of its bytes.
type Blob struct {
	Hash   string // hex SHA-256
	Format string // "wav", "gsm" or "" (sniffed from the bytes)
	Size   int64
}

// StoreRecording copies r into the archive and returns where it is. See WriteRecording and Publish, which it
// does one after the other.
func (a *Archive) StoreRecording(r io.Reader) (Blob, error) {
	p, err := a.WriteRecording(r)
	if err != nil {
		return Blob{}, err
	}
	if err := a.Publish(ctxBackground, []*Pending{p}); err != nil {
		return Blob{}, err
	}
	return p.Blob, nil
}

// Pending is a recording written but not yet durable under its final name.
type Pending struct {
	Blob
	tmp string // "" when the archive already held these bytes
}

// memRecording is how much of a recording WriteRecording reads into memory before it makes a temporary file: a
// recording that fits (minutes of GSM or A-law) is hashed first, so bytes the archive already holds never touch
// the disk. Buffers start small and grow to what the recordings need. A few are kept for the next recordings
// (a sync runs a few writers at once), in a free list rather than a sync.Pool, which every garbage collection
// empties: buffers made again are cleared and faulted in again, page by page.
const (
	memRecording = 4 << 20
	firstBuffer  = 256 << 10
	keptBuffers  = 8
)

var recBufs = make(chan *[]byte, keptBuffers)

func getRecBuf() *[]byte {
	select {
	case b := <-recBufs:
		return b
	default:
		b := make([]byte, 0, firstBuffer)
		return &b
	}
}

func putRecBuf(b *[]byte) {
	select {
	case recBufs <- b:
	default:
	}
}

// WriteRecording copies r to a temporary file in the archive, hashing it. Nothing is synced yet: a batch of
// recordings is made durable together by Publish, whose fsyncs run in parallel so the filesystem can commit
// them in one journal transaction instead of one each. Bytes the archive already holds are not written twice.
// It is safe to call from several goroutines at once.
func (a *Archive) WriteRecording(r io.Reader) (*Pending, error) {
	if a.readOnly {
		return nil, a.errReadOnly()
	}
	bp := getRecBuf()
	defer putRecBuf(bp)
	head, err := readUpTo(r, bp, memRecording)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(head)
	p := &Pending{Blob: Blob{Format: cdr.SniffAudio(head[:min(len(head), sniffLen)]), Size: int64(len(head))}}
	whole := len(head) < memRecording
	if whole {
		// The whole recording is in memory: when the archive holds these bytes, nothing is written.
		p.Hash = hex.EncodeToString(h.Sum(nil))
		if a.holds(p.Blob) {
			return p, nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(a.dir, TmpName), "rec-*.part")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.dir, err)
	}
	_, err = tmp.Write(head)
	if err == nil && !whole {
		var n int64
		n, err = io.CopyBuffer(io.MultiWriter(tmp, h), struct{ io.Reader }{r}, head)
		p.Size += n
		p.Hash = hex.EncodeToString(h.Sum(nil))
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("archive %s: writing a recording: %w", a.dir, cerr)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	p.tmp = tmp.Name()
	if a.holds(p.Blob) {
		_ = os.Remove(p.tmp)
		p.tmp = ""
	}
	return p, nil
}

// readUpTo reads r until it ends or limit bytes are read, into *buf, which it grows (doubling, up to limit) as
// needed, and returns what it read.
func readUpTo(r io.Reader, buf *[]byte, limit int) ([]byte, error) {
	b := (*buf)[:0]
	for len(b) < limit {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(max(2*cap(b), firstBuffer), limit))
			copy(grown, b)
			b = grown
			*buf = b
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// holds reports whether the archive already stores these bytes under their final name.
func (a *Archive) holds(b Blob) bool {
	st, err := os.Stat(a.blobPath(b.Hash, b.Format))
	return err == nil && st.Mode().IsRegular() && st.Size() == b.Size
}

// Discard removes a pending recording's temporary file (a chunk that failed).
func (p *Pending) Discard() {
	if p != nil && p.tmp != "" {
		_ = os.Remove(p.tmp)
		p.tmp = ""
	}
}

// publishWorkers is how many fsyncs run at once.
const publishWorkers = 16

// Publish makes pending recordings durable under their final names: every temporary file is synced (in
// parallel), then renamed into place, then the folders are synced. A crash at any point leaves each recording
// whole under its final name or absent from it, never partial. Call it before committing the calls that name
// them.
func (a *Archive) Publish(ctx context.Context, ps []*Pending) error {
	if a.readOnly {
		return a.errReadOnly()
	}
	var todo []*Pending
	for _, p := range ps {
		if p != nil && p.tmp != "" {
			todo = append(todo, p)
		}
	}
	err := parallel(ctx, len(todo), func(i int) error {
		f, err := os.OpenFile(todo[i].tmp, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("archive %s: saving recordings: %w", a.dir, err)
	}
	dirs := map[string]bool{}
	for _, p := range todo {
		final := a.blobPath(p.Hash, p.Format)
		if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
			return fmt.Errorf("archive %s: %w", a.dir, err)
		}
		if err := os.Rename(p.tmp, final); err != nil {
			return fmt.Errorf("archive %s: storing a recording: %w", a.dir, err)
		}
		p.tmp = ""
		dirs[filepath.Dir(final)] = true
	}
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	return parallel(ctx, len(list), func(i int) error { outfile.SyncDir(list[i]); return nil })
}

// parallel runs fn(0..n-1) on up to publishWorkers goroutines and returns the first error.
func parallel(ctx context.Context, n int, fn func(int) error) error {
	if n == 0 {
		return nil
	}
	next := make(chan int)
	errs := make(chan error, publishWorkers)
	workers := min(publishWorkers, n)
	for range workers {
		go func() {
			var first error
			for i := range next {
				if err := fn(i); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	for range workers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

const sniffLen = cdr.SniffLen

var ctxBackground = context.Background()

// Batch is one write transaction: calls put in it appear together at Commit, or not at all.
type Batch struct {
	a    *Archive
	ctx  context.Context // Begin's: a stop ends the rebuild of the blocks at Commit too
	days map[int64]bool  // the days of the calls put, whose blocks Commit rebuilds
	tx   *sql.Tx
	stmt *sql.Stmt
	n    int
	done bool
	buf  []byte
}

// upsert replaces every field of a call stored before, except a stored recording, which a row without one
// (a push from Difuse, a fetch that had to leave it out) does not erase, and the mark of a recording that
// could not be fetched, which only storing the recording clears.
const upsert = `INSERT INTO calls(id, start_wall, start_off, extension, peer, record, rec_hash, rec_format, rec_bytes)
VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT(id) DO UPDATE SET
	start_wall = excluded.start_wall, start_off = excluded.start_off, extension = excluded.extension,
	peer = excluded.peer, record = excluded.record,
	rec_hash = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_hash ELSE calls.rec_hash END,
	rec_format = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_format ELSE calls.rec_format END,
	rec_bytes = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_bytes ELSE calls.rec_bytes END,
	rec_error = CASE WHEN excluded.rec_hash != '' THEN '' ELSE calls.rec_error END,
	rec_tries = CASE WHEN excluded.rec_hash != '' THEN 0 ELSE calls.rec_tries END`

// Begin starts a write transaction. Writers in this process wait for each other; writers in other processes
// are waited for by SQLite (up to ten seconds). Always Commit or Rollback.
func (a *Archive) Begin(ctx context.Context) (*Batch, error) {
	if a.readOnly {
		return nil, a.errReadOnly()
	}
	a.writeMu.Lock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.writeMu.Unlock()
		return nil, a.writeError(err)
	}
	stmt, err := tx.PrepareContext(ctx, upsert)
	if err != nil {
		_ = tx.Rollback()
		a.writeMu.Unlock()
		return nil, a.writeError(err)
	}
	return &Batch{a: a, ctx: ctx, days: map[int64]bool{}, tx: tx, stmt: stmt}, nil
}

// Put stores a call, replacing the one with the same unique ID. blob is its stored recording; the zero Blob
// keeps whatever recording the archive already holds for the call.
func (b *Batch) Put(ctx context.Context, r *cdr.Record, blob Blob) error {
	if r.UniqueID == "" {
		return errors.New("a call without a unique ID cannot be archived")
	}
	if r.Start.IsZero() {
		return fmt.Errorf("call %s has no start time and cannot be archived", r.UniqueID)
	}
	_, off := r.Start.Zone()
	peer := r.PeerExtension() // the filter's second leg (cdr.Record.InvolvesExtension)
	b.buf = encodeRecord(b.buf[:0], r)
	wall := cdr.WallClock(r.Start).Unix()
	_, err := b.stmt.ExecContext(ctx, r.UniqueID, wall, off, r.Extension, peer, b.buf, blob.Hash, blob.Format, blob.Size)
	if err != nil {
		return b.a.writeError(err)
	}
	b.days[dayOf(wall)] = true // a call stored before on another day: the update trigger notes that day
	b.n++
	return nil
}

// Len is the number of calls put so far.
func (b *Batch) Len() int { return b.n }

// Commit makes the batch's calls durable and visible together.
func (b *Batch) Commit() error {
	if b.done {
		return errors.New("archive batch already finished")
	}
	b.done = true
	defer b.a.writeMu.Unlock()
	_ = b.stmt.Close()
	// The blocks of the days this batch changed, in the same transaction: readers never see them disagree.
	if err := rebuildDirty(b.ctx, b.tx, b.days); err != nil {
		_ = b.tx.Rollback()
		return b.a.writeError(err)
	}
	if _, err := b.tx.Exec(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?`, metaGen); err != nil {
		_ = b.tx.Rollback()
		return b.a.writeError(err)
	}
	return b.a.writeError(b.tx.Commit())
}

// Rollback drops the batch. It is safe after Commit (it does nothing then).
func (b *Batch) Rollback() error {
	if b.done {
		return nil
	}
	b.done = true
	defer b.a.writeMu.Unlock()
	_ = b.stmt.Close()
	return b.tx.Rollback()
}

func (a *Archive) writeError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("writing archive %s: %w", a.dir, err)
}

// RecordingFailed marks the recording of a call put before (in this batch or earlier) as not fetched, with
// the reason, and counts the attempt unless attempt is false (it was not tried: its host was already known to
// be down). It returns how many attempts have failed so far. A call whose recording is stored is left alone.
func (b *Batch) RecordingFailed(ctx context.Context, id, reason string, attempt bool) (tries int, err error) {
	inc := 0
	if attempt {
		inc = 1
	}
	err = b.tx.QueryRowContext(ctx, `UPDATE calls SET rec_error = ?, rec_tries = rec_tries + ?
		WHERE id = ? AND rec_hash = '' RETURNING rec_tries`, reason, inc, id).Scan(&tries)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return tries, b.a.writeError(err)
}

// SetRecording records that a call's recording is now stored (a later attempt succeeded), clearing any mark.
func (b *Batch) SetRecording(ctx context.Context, id string, blob Blob) error {
	_, err := b.tx.ExecContext(ctx, `UPDATE calls SET rec_hash = ?, rec_format = ?, rec_bytes = ?, rec_error = '',
		rec_tries = 0 WHERE id = ?`, blob.Hash, blob.Format, blob.Size, id)
	return b.a.writeError(err)
}

// RecordingState is what the archive holds of one call's recording.
type RecordingState struct {
	Stored bool
	Size   int64  // bytes stored
	Tries  int    // failed attempts at fetching it
	Reason string // why the last attempt failed; "" when none failed
}

// RecordingStates maps the IDs of the calls in [q.From, q.To) (wall clocks; zero is open) whose recording the
// archive holds, or failed to fetch, to what it knows of it; a sync asks for the others.
func (a *Archive) RecordingStates(ctx context.Context, q cdr.Query) (map[string]RecordingState, error) {
	w, args := where(cdr.Query{From: q.From, To: q.To})
	if w == "" {
		w = " WHERE"
	} else {
		w += " AND"
	}
	rows, err := a.db.QueryContext(ctx, `SELECT id, rec_hash, rec_bytes, `+a.recErrorColumns()+` FROM calls`+w+
		` (rec_hash != ''`+a.orNotFetched()+`)`, args...)
	if err != nil {
		return nil, a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	m := map[string]RecordingState{}
	for rows.Next() {
		var id, hash string
		var st RecordingState
		if err := rows.Scan(&id, &hash, &st.Size, &st.Reason, &st.Tries); err != nil {
			return nil, a.readError(err)
		}
		st.Stored = hash != ""
		m[id] = st
	}
	return m, a.readError(rows.Err())
}

// NotFetched passes fn, in start order, each call in [q.From, q.To) whose recording the PBX has but the archive
// could not fetch, with what is known of it. An archive of format 1 knows of none.
func (a *Archive) NotFetched(ctx context.Context, q cdr.Query, fn func(cdr.Record, RecordingState) error) error {
	if a.schema < 2 {
		return nil
	}
	w, args := where(cdr.Query{From: q.From, To: q.To})
	if w == "" {
		w = " WHERE"
	} else {
		w += " AND"
	}
	rows, err := a.db.QueryContext(ctx, `SELECT `+callColumns+`, rec_error, rec_tries FROM calls`+w+
		` rec_error != '' AND rec_hash = '' ORDER BY start_wall, id`, args...)
	if err != nil {
		return a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r cdr.Record
		var st RecordingState
		if err := a.scanRecord(rows, &r, &st.Reason, &st.Tries); err != nil {
			return a.readError(err)
		}
		if err := fn(r, st); err != nil {
			return err
		}
	}
	return a.readError(rows.Err())
}

// LastStart is the start (PBX wall clock) of the newest call stored; zero when there is none.
func (a *Archive) LastStart(ctx context.Context) (time.Time, error) {
	var wall sql.NullInt64
	if err := a.db.QueryRowContext(ctx, `SELECT MAX(start_wall) FROM calls`).Scan(&wall); err != nil {
		return time.Time{}, a.readError(err)
	}
	if !wall.Valid {
		return time.Time{}, nil
	}
	return time.Unix(wall.Int64, 0).UTC(), nil
}

// recErrorColumns reads rec_error and rec_tries, or stands in for them in an index of format 1.
func (a *Archive) recErrorColumns() string {
	if a.schema < 2 {
		return "'', 0"
	}
	return "rec_error, rec_tries"
}

func (a *Archive) orNotFetched() string {
	if a.schema < 2 {
		return ""
	}
	return " OR rec_error != ''"
}

// CleanTmp removes partial files a killed writer left behind. Call it only while no writer runs (a sync
// holding the archive's lock); listen writes nothing there that outlives a request.
func (a *Archive) CleanTmp() error {
	if a.readOnly {
		return a.errReadOnly()
	}
	ents, err := os.ReadDir(filepath.Join(a.dir, TmpName))
	if err != nil {
		return err
	}
	for _, e := range ents {
		_ = os.Remove(filepath.Join(a.dir, TmpName, e.Name()))
	}
	return nil
}
