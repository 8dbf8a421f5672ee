package archive

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/callscope/callscope/client/cdr"
)

// Day blocks. Reading a call through SQLite costs about two microseconds however small the call, so a year of
// one extension (two hundred thousand calls) took over a second even from an index. Reads go to blocks instead:
// every call of one day packed into one row (days), and the calls of one extension on one day, as source or
// destination, packed into another (party_days), so a year is a few hundred rows. The calls table stays the
// record of truth, and the blocks are rebuilt from it: triggers note the days whose calls a write changed
// (dirty_days), and Commit rebuilds those days in the same transaction, so readers never see a block that
// disagrees with the calls.
//
// A day is a wall clock's seconds divided by 86,400 the way SQLite divides integers (towards zero), so that Go
// and the triggers always agree on which day a call is in.
//
// A block is a sequence of rows, each: uvarint length and the unique ID, varint start wall clock, varint zone
// offset, uvarint length and the packed record (codec.go). Rows are in start order, ties by ID. Beside each day's
// block (day_text) are the text the free-text search looks in (search.go), one line per call, and the calls' IDs,
// in the same order: a search reads those, and only the calls that match.

const secondsPerDay = 86400

func dayOf(wall int64) int64 { return wall / secondsPerDay }

// dayBounds is the first and last wall clock (inclusive) of a day. Day 0 spans both sides of 1970, as the
// division towards zero makes it.
func dayBounds(day int64) (first, last int64) {
	switch {
	case day > 0:
		return day * secondsPerDay, day*secondsPerDay + secondsPerDay - 1
	case day < 0:
		return day*secondsPerDay - secondsPerDay + 1, day * secondsPerDay
	}
	return -secondsPerDay + 1, secondsPerDay - 1
}

// blockSchema is what format 3 adds: the blocks, and the triggers that note which days to rebuild when a stored
// call changes or goes. (A new call's day is noted by Batch.Put itself, which is cheaper than a trigger on every
// insert. The triggers insert only what is missing rather than INSERT OR IGNORE: a trigger takes the conflict
// policy of the statement that fired it, and the upsert's is to fail.)
const blockSchema = `
CREATE TABLE IF NOT EXISTS days (
	day   INTEGER PRIMARY KEY,
	n     INTEGER NOT NULL, -- calls in the block
	calls BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS day_text ( -- a table of its own: reading it does not walk the calls' pages
	day   INTEGER PRIMARY KEY,
	ids   BLOB NOT NULL,    -- the day's unique IDs in block order, each a uvarint length and the bytes
	text  BLOB NOT NULL     -- the search text, a line per call (search.go)
);
CREATE TABLE IF NOT EXISTS party_days (
	party TEXT NOT NULL,    -- an extension: the call's own, or the one it dialled or reached (peer)
	day   INTEGER NOT NULL,
	n     INTEGER NOT NULL,
	calls BLOB NOT NULL,
	PRIMARY KEY (party, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS party_days_day ON party_days(day);
CREATE TABLE IF NOT EXISTS dirty_days (day INTEGER PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS calls_dirty_update AFTER UPDATE OF id, start_wall, start_off, extension, peer, record ON calls
WHEN OLD.id IS NOT NEW.id OR OLD.start_wall IS NOT NEW.start_wall OR OLD.start_off IS NOT NEW.start_off
	OR OLD.extension IS NOT NEW.extension OR OLD.peer IS NOT NEW.peer OR OLD.record IS NOT NEW.record
BEGIN
	INSERT INTO dirty_days(day) SELECT d FROM (SELECT OLD.start_wall / 86400 AS d UNION SELECT NEW.start_wall / 86400)
	WHERE d NOT IN (SELECT day FROM dirty_days);
END;
CREATE TRIGGER IF NOT EXISTS calls_dirty_delete AFTER DELETE ON calls BEGIN
	INSERT INTO dirty_days(day) SELECT OLD.start_wall / 86400
	WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE day = OLD.start_wall / 86400);
END;
`

// upgradeTo3 adds the blocks to a format-2 index and builds them for every day, recomputing every call's peer
// on the way: archives written before the extension filter meant "source or destination" for every call type
// have an empty peer for calls of other and unknown types.
func upgradeTo3(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, blockSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO dirty_days(day) SELECT DISTINCT start_wall / 86400 FROM calls`); err != nil {
		return err
	}
	return rebuildDirty(ctx, tx, nil)
}

// rebuildDirty rebuilds the blocks of the given days and of every day the triggers noted, until none is left.
func rebuildDirty(ctx context.Context, tx *sql.Tx, noted map[int64]bool) error {
	for {
		var days []int64
		for d := range noted {
			days = append(days, d)
		}
		noted = nil
		rows, err := tx.QueryContext(ctx, `SELECT day FROM dirty_days ORDER BY day`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d int64
			if err := rows.Scan(&d); err != nil {
				_ = rows.Close()
				return err
			}
			days = append(days, d)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(days) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dirty_days`); err != nil {
			return err
		}
		slices.Sort(days)
		days = slices.Compact(days)
		for _, d := range days {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := rebuildDay(ctx, tx, d); err != nil {
				return err
			}
		}
	}
}

// blockRow is one call as a block holds it.
type blockRow struct {
	id     string
	wall   int64
	off    int
	record []byte
}

func appendRow(b []byte, r *blockRow) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.id)))
	b = append(b, r.id...)
	b = binary.AppendVarint(b, r.wall)
	b = binary.AppendVarint(b, int64(r.off))
	b = binary.AppendUvarint(b, uint64(len(r.record)))
	return append(b, r.record...)
}

var errBadBlock = errors.New("a stored block of calls cannot be read; the archive's index is damaged")

// blockReader reads a block's rows in order. The row's id and record alias the block.
type blockReader struct {
	b   []byte
	err error
}

func (br *blockReader) next(r *blockRow) bool {
	if br.err != nil || len(br.b) == 0 {
		return false
	}
	b := br.b
	bytesOf := func() []byte {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		return v
	}
	varint := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	id := bytesOf()
	wall, ok1 := varint()
	off, ok2 := varint()
	rec := bytesOf()
	if id == nil || rec == nil || !ok1 || !ok2 || off != int64(int32(off)) {
		br.err = errBadBlock
		return false
	}
	r.id, r.wall, r.off, r.record = string(id), wall, int(off), rec
	br.b = b
	return true
}

// partyBlock gathers one extension's rows of a day.
type partyBlock struct {
	n     int
	calls []byte
}

// rebuildDay packs the calls of one day into its blocks, from the calls table, and writes each call's peer
// again where it disagrees with cdr.Record.PeerExtension.
func rebuildDay(ctx context.Context, tx *sql.Tx, day int64) error {
	first, last := dayBounds(day)
	rows, err := tx.QueryContext(ctx, `SELECT id, start_wall, start_off, extension, peer, record FROM calls
		WHERE start_wall >= ? AND start_wall <= ? ORDER BY start_wall, id`, first, last)
	if err != nil {
		return err
	}
	var (
		all, text, ids []byte
		n              int
		parties        = map[string]*partyBlock{}
		fixes          [][2]string // id, peer
	)
	add := func(party string, row []byte) {
		if party == "" {
			return
		}
		pb := parties[party]
		if pb == nil {
			pb = &partyBlock{}
			parties[party] = pb
		}
		pb.n++
		pb.calls = append(pb.calls, row...)
	}
	var row []byte
	for rows.Next() {
		var br blockRow
		var ext, peer string
		if err := rows.Scan(&br.id, &br.wall, &br.off, &ext, &peer, &br.record); err != nil {
			_ = rows.Close()
			return err
		}
		var r cdr.Record
		if err := decodeRecord(br.record, &r); err != nil {
			_ = rows.Close()
			return fmt.Errorf("call %s: %w", br.id, err)
		}
		r.UniqueID = br.id
		if p := r.PeerExtension(); p != peer {
			fixes = append(fixes, [2]string{br.id, p})
			peer = p
		}
		row = appendRow(row[:0], &br)
		all = append(all, row...)
		text = appendSearchText(text, &r)
		ids = binary.AppendUvarint(ids, uint64(len(br.id)))
		ids = append(ids, br.id...)
		n++
		add(ext, row)
		if peer != ext {
			add(peer, row)
		}
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range fixes {
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET peer = ? WHERE id = ?`, f[1], f[0]); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM party_days WHERE day = ?`, day); err != nil {
		return err
	}
	if n == 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM days WHERE day = ?; DELETE FROM day_text WHERE day = ?`, day, day)
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO days(day, n, calls) VALUES (?, ?, ?)`, day, n, all); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO day_text(day, ids, text) VALUES (?, ?, ?)`, day, ids, text); err != nil {
		return err
	}
	names := make([]string, 0, len(parties))
	for p := range parties {
		names = append(names, p)
	}
	slices.Sort(names) // the same bytes for the same calls
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO party_days(party, day, n, calls) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer func() { _ = stmt.Close() }()
	for _, p := range names {
		if _, err := stmt.ExecContext(ctx, p, day, parties[p].n, parties[p].calls); err != nil {
			return err
		}
	}
	return nil
}

// searchFields are the fields the free-text search looks in, as the app's search does (tui/filter). The
// extension is field extField (0-based): a search that matches a user's name finds the calls with that field.
func searchFields(r *cdr.Record) [6]string {
	f := [6]string{r.DialledNumber, r.CallerID, r.UniqueID, "", r.FriendlyName, r.AccountCode}
	f[extField] = r.Extension
	return f
}

// extField is the extension's place among searchFields.
const extField = 3

// Separators of the search text: a field ends with fieldEnd, a call's line with lineEnd. Both are control
// characters, which a search never holds (searchNeedle removes them), so no match spans two fields.
const (
	fieldEnd = '\x1f'
	lineEnd  = '\n'
)

// appendSearchText appends a call's line of search text: its search fields in lower case, control characters
// made spaces.
func appendSearchText(b []byte, r *cdr.Record) []byte {
	for _, f := range searchFields(r) {
		b = appendLower(b, f)
		b = append(b, fieldEnd)
	}
	return append(b, lineEnd)
}

// appendLower appends lowerText(s), without building a string for ASCII.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return append(b, lowerText(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c == 0x7f:
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// lowerText is s in lower case (strings.ToLower's mapping, which the app's search uses), with control
// characters made spaces.
func lowerText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
}
