// Package archive is a local copy of a PBX's calls and recordings that is itself a cdr.Source, so the app and
// every command can browse it offline exactly as they browse a PBX.
//
// An archive is a directory:
//
//	index.db                  SQLite index of the calls (WAL mode), the PBX's users (without PINs), its zone
//	recordings/ab/<sha256>.gsm recordings, named by the SHA-256 of their bytes, never by the PBX's file names
//	tmp/                      partial files on their way in; anything left here after a crash is garbage
//
// Calls are keyed by the PBX's unique ID: storing a call again replaces its row (a later fetch or push of the
// same call), so overlapping fetches never duplicate. Recordings are written to a temporary file, synced and
// renamed into place before the row that names them is committed, so a row never points at a missing or
// half-written file. A recording that could not be fetched is marked on its call with the reason and the number
// of attempts, so the call is kept and a later sync tries again.
//
// Writers (sync, listen) open an archive with Init; everything else opens it with Open, read-only: that never
// creates or changes a file in the directory, so an archive on a read-only disk can be browsed, and a missing or
// damaged index is an error rather than a new empty archive. Writers keep the WAL files (index.db-wal and
// -shm) after closing, so a reader can always open the index with SQLite's locking (mode=ro) and browse safely
// while a sync writes; where they are missing (an archive copied without them, or written by an older callscope)
// the reader opens the index as immutable instead.
package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // pure Go SQLite: no cgo, one static binary

	"github.com/callscope/callscope/client/cdr"
)

// File and folder names inside an archive directory.
const (
	IndexName      = "index.db"
	RecordingsName = "recordings"
	TmpName        = "tmp"
)

// schemaVersion is written to meta; an archive from a newer callscope is refused rather than misread, and one
// from an older one is upgraded by the first writer that opens it (migrate).
//
//	1  calls, users, meta
//	2  calls.rec_error and rec_tries: a recording that could not be fetched, why, and how often it was tried;
//	   meta archive_id, which a sync's state names so that it notices an index that was replaced
//	3  days, party_days: the calls packed in blocks per day and per extension and day, which queries read
//	   (blocks.go), dirty_days and the triggers that fill it; every call's peer recomputed
const schemaVersion = 3

const schema = `
CREATE TABLE IF NOT EXISTS calls (
	id         TEXT PRIMARY KEY,
	start_wall INTEGER NOT NULL, -- the PBX's wall clock, seconds since 1970 read as UTC
	start_off  INTEGER NOT NULL, -- the zone offset of that wall clock, seconds east of UTC
	extension  TEXT NOT NULL,
	peer       TEXT NOT NULL,    -- cdr.Record.PeerExtension: the extension filter's second leg
	record     BLOB NOT NULL,    -- every other field, packed (codec.go)
	rec_hash   TEXT NOT NULL DEFAULT '', -- stored recording: SHA-256 of its bytes, '' when not stored
	rec_format TEXT NOT NULL DEFAULT '',
	rec_bytes  INTEGER NOT NULL DEFAULT 0,
	rec_error  TEXT NOT NULL DEFAULT '', -- why the recording could not be fetched, '' when it was or was not tried
	rec_tries  INTEGER NOT NULL DEFAULT 0 -- failed attempts at fetching it
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calls_start ON calls(start_wall);
CREATE INDEX IF NOT EXISTS calls_ext ON calls(extension, start_wall);
CREATE INDEX IF NOT EXISTS calls_peer ON calls(peer, start_wall);
CREATE INDEX IF NOT EXISTS calls_not_fetched ON calls(start_wall) WHERE rec_error != '';
CREATE TABLE IF NOT EXISTS users (
	extension TEXT PRIMARY KEY,
	name      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// upgrades[v] takes a version-v index to version v+1, inside the migration's transaction.
var upgrades = map[int]func(context.Context, *sql.Tx) error{
	1: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `ALTER TABLE calls ADD COLUMN rec_error TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN rec_tries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS calls_not_fetched ON calls(start_wall) WHERE rec_error != '';`)
		return err
	},
	2: upgradeTo3,
}

// ErrNoArchive is returned by Open for a directory that holds no archive.
var ErrNoArchive = errors.New("no archive")

// ErrDamaged is returned for an archive whose index cannot be read.
var ErrDamaged = errors.New("damaged archive index")

// Archive is an open archive directory. It is safe for concurrent use, also by several processes (a sync and
// a listen writing the same archive): SQLite serialises the writers.
type Archive struct {
	dir      string
	db       *sql.DB
	readOnly bool
	schema   int    // the index's format version (a read-only open of an old archive does not upgrade it)
	id       string // meta archive_id; "" in a version-1 archive opened read-only

	// writeMu keeps this process's writers in line, so they queue here rather than spin on SQLite's lock.
	writeMu sync.Mutex

	zoneMu   sync.Mutex
	zone     *time.Location
	inferred bool
	fixed    map[int]*time.Location // fixed zones by offset, for rows whose offset is not the zone's
}

var _ cdr.Source = (*Archive)(nil)

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// readerIdle is how long a read-only archive keeps a connection (its page cache and its map of the index)
// after its last query.
var readerIdle = 10 * time.Second

// Open opens an existing archive for reading. It creates nothing in dir and changes nothing but SQLite's shared
// memory (index.db-shm, where readers note what they read). A directory without an index gives a
// *NotArchiveError (ErrNoArchive), an index that cannot be read a *DamagedError (ErrDamaged).
func Open(dir string) (*Archive, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	index := filepath.Join(abs, IndexName)
	st, err := os.Stat(index)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && st.IsDir()):
		return nil, &NotArchiveError{Dir: dir}
	case err != nil:
		return nil, fmt.Errorf("opening archive %s: %w", dir, err)
	case st.Size() == 0:
		return nil, damaged(dir, "index.db is empty")
	}
	if err := checkMagic(index); err != nil {
		return nil, damaged(dir, err.Error())
	}
	// With the WAL files there, SQLite reads with its locks and sees a writer's latest commits; opening read-only
	// it would create them otherwise, so without them the file is read as it stands (immutable). The shared-memory
	// file is opened for writing where it can be, as every reader of a WAL database does, to record what it
	// reads: a reader that cannot (readonly_shm, or a read-only disk, where SQLite falls back to it) must assume
	// the database changed before every query, and drops its page cache and memory map each time, which made a
	// year of one extension twice as slow.
	params := "mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	if !exists(index+"-wal") || !exists(index+"-shm") {
		params = "immutable=1&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite", sqliteURI(index, params+"&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)"))
	if err != nil {
		return nil, fmt.Errorf("opening archive index: %w", err)
	}
	// A reader keeps what it read mapped and cached between queries (what makes the next query fast), so after
	// a year of calls the index's pages count in the process's resident memory. An idle reader lets them go.
	db.SetConnMaxIdleTime(readerIdle)
	a := &Archive{dir: abs, db: db, readOnly: true, fixed: map[int]*time.Location{}}
	var v string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); err != nil {
		_ = db.Close()
		return nil, damaged(dir, oneLine(err))
	}
	if err := a.checkVersion(v); err != nil {
		_ = db.Close()
		return nil, err
	}
	if a.id, err = a.Meta(context.Background(), metaID); err != nil {
		_ = db.Close()
		return nil, damaged(dir, oneLine(err))
	}
	if err := a.loadZone(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

// Init opens the archive in dir for writing, making the directory and an empty archive when there is none, and
// upgrading an index written by an older callscope. An empty index.db (a file truncated to nothing) is made a
// new archive; one that is not an SQLite database is refused, never overwritten.
func Init(dir string) (*Archive, error) { return InitContext(context.Background(), dir) }

// InitContext is Init whose upgrade of an older index (a minute for a million calls) ends when ctx does,
// leaving the index as it was.
func InitContext(ctx context.Context, dir string) (*Archive, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("making archive folder: %w", err)
	}
	for _, sub := range []string{RecordingsName, TmpName} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o700); err != nil {
			return nil, fmt.Errorf("preparing archive %s: %w", abs, err)
		}
	}
	index := filepath.Join(abs, IndexName)
	if st, err := os.Stat(index); err == nil && st.Size() > 0 {
		if err := checkMagic(index); err != nil {
			return nil, &DamagedError{Dir: dir, Reason: err.Error()}
		}
	}
	// WAL lets readers (the app) browse while a sync or listen writes; synchronous=FULL makes a commit survive
	// a power cut, not only a killed process; busy_timeout makes a second writer wait instead of failing;
	// journal_size_limit empties the WAL file that is kept when the last writer closes.
	conn, err := sqlite.NewConnector(sqliteURI(index,
		"_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(2)&_pragma=journal_size_limit(67108864)&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("opening archive index: %w", err)
	}
	db := sql.OpenDB(keepWAL{conn})
	a := &Archive{dir: abs, db: db, fixed: map[int]*time.Location{}}
	if err := a.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := a.loadZone(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

// keepWAL opens writers' connections with SQLite's persistent WAL on: index.db-wal and -shm stay after the last
// writer closes, so a reader never has to create them.
type keepWAL struct{ driver.Connector }

func (k keepWAL) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if fc, ok := c.(sqlite.FileControl); ok {
		if _, err := fc.FileControlPersistWAL("main", 1); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// sqliteURI is an SQLite file URI for path with the query params; characters that end a URI's path are escaped.
func sqliteURI(path, params string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + p + "?" + params
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkMagic reads the first bytes of an index file: an SQLite database, or not.
func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, []byte(sqliteMagic)) {
		return errors.New(IndexName + " is not an SQLite database")
	}
	return nil
}

func damaged(dir, why string) error { return &DamagedError{Dir: dir, Reason: why} }

// kindError is a sentence for people that errors.Is still matches against ErrReadOnly.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func (a *Archive) checkVersion(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return damaged(a.dir, fmt.Sprintf("its format %q is unknown", v))
	}
	if n > schemaVersion {
		return fmt.Errorf("archive %s was written by a newer callscope (format %d; this one reads %d): update callscope",
			a.dir, n, schemaVersion)
	}
	a.schema = n
	return nil
}

// migrate makes a new index, or upgrades an older one, in one transaction.
func (a *Archive) migrate(ctx context.Context) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("archive %s: stopped before it was opened; the index is as it was: %w", a.dir, ctx.Err())
		}
		return a.indexError(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	var v string
	err = tx.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	if err != nil && !isNoTable(err) && !errors.Is(err, sql.ErrNoRows) {
		return a.indexError(err)
	}
	if err != nil {
		// No index yet (a new archive, or an index.db emptied to nothing): make one.
		if _, err := tx.Exec(schema + blockSchema); err != nil {
			return fmt.Errorf("archive %s: cannot create its index (%v); is it on a writable disk?", a.dir, err)
		}
		v = strconv.Itoa(schemaVersion)
		if _, err := tx.Exec(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?), ('generation', '0')`, v); err != nil {
			return a.indexError(err)
		}
	}
	if err := a.checkVersion(v); err != nil {
		return err
	}
	if a.schema < schemaVersion {
		for n := a.schema; n < schemaVersion; n++ {
			if err := upgrades[n](ctx, tx); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("archive %s: upgrade stopped; the index is as it was: %w", a.dir, ctx.Err())
				}
				return fmt.Errorf("archive %s: upgrading its index from format %d: %w", a.dir, n, err)
			}
		}
		if _, err := tx.Exec(`UPDATE meta SET value = ? WHERE key = 'schema'`, strconv.Itoa(schemaVersion)); err != nil {
			return a.indexError(err)
		}
		a.schema = schemaVersion
	}
	if err := tx.QueryRow(`SELECT value FROM meta WHERE key = ?`, metaID).Scan(&a.id); errors.Is(err, sql.ErrNoRows) {
		a.id = newID()
		if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES (?, ?)`, metaID, a.id); err != nil {
			return a.indexError(err)
		}
	} else if err != nil {
		return a.indexError(err)
	}
	return a.indexError(tx.Commit())
}

func isNoTable(err error) bool { return err != nil && strings.Contains(err.Error(), "no such table") }

// indexError says an index cannot be used: damaged, or on a disk that refuses writes.
func (a *Archive) indexError(err error) error {
	if err == nil {
		return nil
	}
	msg := oneLine(err)
	if strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") {
		return &DamagedError{Dir: a.dir, Reason: msg}
	}
	return fmt.Errorf("archive %s: %s", a.dir, msg)
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24)
	return hex.EncodeToString(b)
}

// ID names this archive's index: made when the index was, so a copy of the sync state that names another
// (an index deleted, emptied or replaced since) is noticed.
func (a *Archive) ID() string { return a.id }

// ReadOnly says the archive was opened with Open.
func (a *Archive) ReadOnly() bool { return a.readOnly }

// errReadOnly refuses a write to an archive opened for reading.
func (a *Archive) errReadOnly() error {
	return &kindError{fmt.Sprintf("archive %s is open for reading only", a.dir), ErrReadOnly}
}

// Close closes the index.
func (a *Archive) Close() error { return a.db.Close() }

// Dir is the archive's absolute directory.
func (a *Archive) Dir() string { return a.dir }

// Describe names the archive for people: "archive /srv/calls (comx http://10.0.0.5)".
func (a *Archive) Describe() string {
	if from, _ := a.Meta(context.Background(), MetaSource); from != "" {
		return "archive " + a.dir + " (" + from + ")"
	}
	return "archive " + a.dir
}

// Capabilities: everything is answered from the local index.
func (a *Archive) Capabilities() cdr.Capabilities {
	return cdr.Capabilities{Kind: cdr.KindArchive, TimeRange: true, Pages: true, ServerExtension: true, Extended: true,
		LookupByStart: true}
}

// Meta keys the archive's writers keep.
const (
	MetaSource = "source" // the PBX the calls came from, without credentials ("comx http://10.0.0.5")
	metaZone   = "zone"   // IANA name, or a fixed zone as "UTC+02:00=7200"
	metaInfer  = "zone_inferred"
	metaGen    = "generation"
	metaID     = "archive_id"
)

// Meta reads a value written with SetMeta; "" when unset.
func (a *Archive) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := a.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta stores a value.
func (a *Archive) SetMeta(ctx context.Context, key, value string) error {
	if a.readOnly {
		return a.errReadOnly()
	}
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	_, err := a.db.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Generation is a number that grows with every committed write, so a viewer can poll cheaply for new calls
// (listen's pushes, a running sync) and reload only when it changed.
func (a *Archive) Generation(ctx context.Context) (int64, error) {
	v, err := a.Meta(ctx, metaGen)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// Zone says which zone the archive's times are in: the zone the calls were stored with.
func (a *Archive) Zone() cdr.ZoneInfo {
	a.zoneMu.Lock()
	defer a.zoneMu.Unlock()
	if a.zone == nil {
		return cdr.ZoneInfo{}
	}
	return cdr.ZoneInfo{Location: a.zone, Inferred: a.inferred}
}

// Location is the zone stored with the archive, nil when none was stored yet.
func (a *Archive) Location() *time.Location {
	a.zoneMu.Lock()
	defer a.zoneMu.Unlock()
	return a.zone
}

// SetZone records the PBX's zone, so later syncs place times the same way and viewers show them in it.
// inferred says it was guessed from the data rather than configured.
func (a *Archive) SetZone(ctx context.Context, loc *time.Location, inferred bool) error {
	if loc == nil {
		return errors.New("no zone given")
	}
	val := loc.String()
	if _, err := time.LoadLocation(val); err != nil || val == "Local" {
		_, off := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone()
		val = loc.String() + "=" + strconv.Itoa(off)
	}
	if err := a.SetMeta(ctx, metaZone, val); err != nil {
		return err
	}
	if err := a.SetMeta(ctx, metaInfer, strconv.FormatBool(inferred)); err != nil {
		return err
	}
	a.zoneMu.Lock()
	a.zone, a.inferred = loc, inferred
	a.zoneMu.Unlock()
	return nil
}

func (a *Archive) loadZone() error {
	ctx := context.Background()
	v, err := a.Meta(ctx, metaZone)
	if err != nil || v == "" {
		return err
	}
	inf, _ := a.Meta(ctx, metaInfer)
	var loc *time.Location
	if name, off, ok := strings.Cut(v, "="); ok {
		n, _ := strconv.Atoi(off)
		loc = time.FixedZone(name, n)
	} else if loc, err = time.LoadLocation(v); err != nil {
		return fmt.Errorf("archive %s: its time zone %q is unknown on this system (%v): install tzdata", a.dir, v, err)
	}
	a.zone, a.inferred = loc, inf == "true"
	return nil
}

// place rebuilds a stored start time: in the archive's zone when its offset then matches the stored one,
// otherwise in a fixed zone of the stored offset, so the wall clock is always the one the PBX reported.
func (a *Archive) place(wall int64, off int) time.Time {
	a.zoneMu.Lock()
	defer a.zoneMu.Unlock()
	if a.zone != nil {
		t := time.Unix(wall-int64(off), 0).In(a.zone)
		if _, o := t.Zone(); o == off {
			return t
		}
	}
	loc := a.fixed[off]
	if loc == nil {
		loc = cdr.OffsetZone(off)
		a.fixed[off] = loc
	}
	return time.Unix(wall-int64(off), 0).In(loc)
}

// Users lists the extensions stored from the PBX's list. PINs are never stored.
func (a *Archive) Users(ctx context.Context) ([]cdr.User, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT extension, name FROM users ORDER BY extension`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var users []cdr.User
	for rows.Next() {
		var u cdr.User
		if err := rows.Scan(&u.Extension, &u.Name); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// SetUsers replaces the stored list of extensions; PINs are dropped.
func (a *Archive) SetUsers(ctx context.Context, users []cdr.User) error {
	if a.readOnly {
		return a.errReadOnly()
	}
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	if _, err := tx.ExecContext(ctx, `DELETE FROM users`); err != nil {
		return err
	}
	for _, u := range users {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO users(extension, name) VALUES (?, ?)`,
			u.Extension, u.Name); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Count is the number of calls stored.
func (a *Archive) Count(ctx context.Context) (int, error) {
	query := `SELECT COUNT(*) FROM calls`
	if a.schema >= 3 {
		query = `SELECT COALESCE(SUM(n), 0) FROM days` // a row a day instead of a row a call
	}
	var n int
	err := a.db.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}
