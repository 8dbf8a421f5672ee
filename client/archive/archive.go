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
// half-written file.
package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure Go SQLite: no cgo, one static binary

	"github.com/callscope/callscope/client/cdr"
)

// File and folder names inside an archive directory.
const (
	IndexName      = "index.db"
	RecordingsName = "recordings"
	TmpName        = "tmp"
)

// schemaVersion is written to meta; an archive from a newer callscope is refused rather than misread.
const schemaVersion = 1

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
	rec_bytes  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calls_start ON calls(start_wall);
CREATE INDEX IF NOT EXISTS calls_ext ON calls(extension, start_wall);
CREATE INDEX IF NOT EXISTS calls_peer ON calls(peer, start_wall);
CREATE TABLE IF NOT EXISTS users (
	extension TEXT PRIMARY KEY,
	name      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// ErrNoArchive is returned by Open for a directory that holds no archive.
var ErrNoArchive = errors.New("no archive")

// Archive is an open archive directory. It is safe for concurrent use, also by several processes (a sync and
// a listen writing the same archive): SQLite serialises the writers.
type Archive struct {
	dir string
	db  *sql.DB

	// writeMu keeps this process's writers in line, so they queue here rather than spin on SQLite's lock.
	writeMu sync.Mutex

	zoneMu   sync.Mutex
	zone     *time.Location
	inferred bool
	fixed    map[int]*time.Location // fixed zones by offset, for rows whose offset is not the zone's
}

var _ cdr.Source = (*Archive)(nil)

// Open opens an existing archive. A directory without one gives an error wrapping ErrNoArchive that says how
// to make one.
func Open(dir string) (*Archive, error) {
	if _, err := os.Stat(filepath.Join(dir, IndexName)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no callscope archive: make one with callscope sync --dir %s (or listen --dir): %w",
				dir, dir, ErrNoArchive)
		}
		return nil, fmt.Errorf("opening archive: %w", err)
	}
	return open(dir)
}

// Init opens the archive in dir, making the directory and an empty archive when there is none.
func Init(dir string) (*Archive, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making archive folder: %w", err)
	}
	return open(dir)
}

func open(dir string) (*Archive, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{RecordingsName, TmpName} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o700); err != nil {
			return nil, fmt.Errorf("preparing archive %s: %w", abs, err)
		}
	}
	// WAL lets readers (the app) browse while a sync or listen writes; synchronous=FULL makes a commit survive
	// a power cut, not only a killed process; busy_timeout makes a second writer wait instead of failing.
	dsn := "file:" + filepath.ToSlash(filepath.Join(abs, IndexName)) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening archive index: %w", err)
	}
	a := &Archive{dir: abs, db: db, fixed: map[int]*time.Location{}}
	if err := a.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.loadZone(); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *Archive) migrate() error {
	var v string
	err := a.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	if err == nil {
		n, _ := strconv.Atoi(v)
		if n > schemaVersion {
			return fmt.Errorf("archive %s was written by a newer callscope (format %d; this one reads %d): update callscope",
				a.dir, n, schemaVersion)
		}
		return nil
	}
	if _, err := a.db.Exec(schema); err != nil {
		return fmt.Errorf("archive %s: cannot create its index (%v); is it on a writable disk?", a.dir, err)
	}
	_, err = a.db.Exec(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?), ('generation', '0')`,
		strconv.Itoa(schemaVersion))
	return err
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
	return cdr.Capabilities{Kind: "archive", TimeRange: true, Pages: true, ServerExtension: true, Extended: true,
		LookupByStart: true}
}

// Meta keys the archive's writers keep.
const (
	MetaSource = "source" // the PBX the calls came from, without credentials ("comx http://10.0.0.5")
	metaZone   = "zone"   // IANA name, or a fixed zone as "UTC+02:00=7200"
	metaInfer  = "zone_inferred"
	metaGen    = "generation"
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
	defer rows.Close()
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
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
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
	var n int
	err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls`).Scan(&n)
	return n, err
}
