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

	"github.com/callscope/callscope/client/cdr"
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

// WriteRecording copies r to a temporary file in the archive, hashing it. Nothing is synced yet: a batch of
// recordings is made durable together by Publish, whose fsyncs run in parallel so the filesystem can commit
// them in one journal transaction instead of one each. Bytes the archive already holds are not written twice.
func (a *Archive) WriteRecording(r io.Reader) (*Pending, error) {
	tmp, err := os.CreateTemp(filepath.Join(a.dir, TmpName), "rec-*.part")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.dir, err)
	}
	h := sha256.New()
	sn := &sniffer{}
	n, err := io.Copy(io.MultiWriter(tmp, h, sn), r)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("archive %s: writing a recording: %w", a.dir, cerr)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	p := &Pending{Blob: Blob{Hash: hex.EncodeToString(h.Sum(nil)), Format: cdr.SniffAudio(sn.head), Size: n},
		tmp: tmp.Name()}
	if st, err := os.Stat(a.blobPath(p.Hash, p.Format)); err == nil && st.Size() == n {
		os.Remove(p.tmp)
		p.tmp = ""
	}
	return p, nil
}

// Discard removes a pending recording's temporary file (a chunk that failed).
func (p *Pending) Discard() {
	if p != nil && p.tmp != "" {
		os.Remove(p.tmp)
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
	return parallel(ctx, len(list), func(i int) error { syncDir(list[i]); return nil })
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

// syncDir makes a rename in dir durable. Not every system can sync a directory; the file itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// sniffer keeps the first bytes written, for the format check.
type sniffer struct{ head []byte }

const sniffLen = cdr.SniffLen

func (s *sniffer) Write(p []byte) (int, error) {
	if k := sniffLen - len(s.head); k > 0 {
		s.head = append(s.head, p[:min(k, len(p))]...)
	}
	return len(p), nil
}

var ctxBackground = context.Background()

// Batch is one write transaction: calls put in it appear together at Commit, or not at all.
type Batch struct {
	a    *Archive
	tx   *sql.Tx
	stmt *sql.Stmt
	n    int
	done bool
	buf  []byte
}

// upsert replaces every field of a call stored before, except a stored recording, which a row without one
// (a push from Difuse, a fetch that had to leave it out) does not erase.
const upsert = `INSERT INTO calls(id, start_wall, start_off, extension, peer, record, rec_hash, rec_format, rec_bytes)
VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT(id) DO UPDATE SET
	start_wall = excluded.start_wall, start_off = excluded.start_off, extension = excluded.extension,
	peer = excluded.peer, record = excluded.record,
	rec_hash = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_hash ELSE calls.rec_hash END,
	rec_format = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_format ELSE calls.rec_format END,
	rec_bytes = CASE WHEN excluded.rec_hash != '' THEN excluded.rec_bytes ELSE calls.rec_bytes END`

// Begin starts a write transaction. Writers in this process wait for each other; writers in other processes
// are waited for by SQLite (up to ten seconds). Always Commit or Rollback.
func (a *Archive) Begin(ctx context.Context) (*Batch, error) {
	a.writeMu.Lock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.writeMu.Unlock()
		return nil, a.writeError(err)
	}
	stmt, err := tx.PrepareContext(ctx, upsert)
	if err != nil {
		tx.Rollback()
		a.writeMu.Unlock()
		return nil, a.writeError(err)
	}
	return &Batch{a: a, tx: tx, stmt: stmt}, nil
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
	_, err := b.stmt.ExecContext(ctx, r.UniqueID, cdr.WallClock(r.Start).Unix(), off, r.Extension, peer, b.buf,
		blob.Hash, blob.Format, blob.Size)
	if err != nil {
		return b.a.writeError(err)
	}
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
	b.stmt.Close()
	if _, err := b.tx.Exec(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?`, metaGen); err != nil {
		b.tx.Rollback()
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
	b.stmt.Close()
	return b.tx.Rollback()
}

func (a *Archive) writeError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("writing archive %s: %w", a.dir, err)
}

// StoredRecordings maps the IDs of the calls in [from, to) (wall clocks; zero is open) whose recording the
// archive holds to the recording's size, so a sync does not fetch them again.
func (a *Archive) StoredRecordings(ctx context.Context, q cdr.Query) (map[string]int64, error) {
	w, args := where(cdr.Query{From: q.From, To: q.To})
	if w == "" {
		w = " WHERE rec_hash != ''"
	} else {
		w += " AND rec_hash != ''"
	}
	rows, err := a.db.QueryContext(ctx, `SELECT id, rec_bytes FROM calls`+w, args...)
	if err != nil {
		return nil, a.readError(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rows.Err()
}

// CleanTmp removes partial files a killed writer left behind. Call it only while no writer runs (a sync
// holding the archive's lock); listen writes nothing there that outlives a request.
func (a *Archive) CleanTmp() error {
	ents, err := os.ReadDir(filepath.Join(a.dir, TmpName))
	if err != nil {
		return err
	}
	for _, e := range ents {
		os.Remove(filepath.Join(a.dir, TmpName, e.Name()))
	}
	return nil
}
