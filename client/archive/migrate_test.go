package archive

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// v2Schema is the index of an archive written by callscope before format 3, with its ID.
const v2Schema = v1Schema + `
ALTER TABLE calls ADD COLUMN rec_error TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN rec_tries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX calls_not_fetched ON calls(start_wall) WHERE rec_error != '';
UPDATE meta SET value = '2' WHERE key = 'schema';
INSERT INTO meta(key, value) VALUES ('archive_id', '0123456789abcdef01234567');
`

// oldPeer is the peer column as callscope wrote it before an extension meant "source or destination" for
// every call type: only an internal call had one.
func oldPeer(r *cdr.Record) string {
	if r.CallType == cdr.CallInternal && r.DialledNumber != r.Extension {
		return r.DialledNumber
	}
	return ""
}

// writeV2 makes dir an archive of format 2 holding recs, their peer written by the old rule.
func writeV2(t *testing.T, dir string, recs []cdr.Record) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, RecordingsName), 0o700)
	db, err := sql.Open("sqlite", filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(v2Schema); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := range recs {
		r := &recs[i]
		_, off := r.Start.Zone()
		buf = encodeRecord(buf[:0], r)
		if _, err := tx.Exec(`INSERT INTO calls(id, start_wall, start_off, extension, peer, record) VALUES (?,?,?,?,?,?)`,
			r.UniqueID, cdr.WallClock(r.Start).Unix(), off, r.Extension, oldPeer(r), buf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES ('zone', 'UTC')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateV2RecomputesPeer: an archive written before the extension filter meant "source or destination"
// has an empty peer for calls of other and unknown types, so --ext missed them. The first writer that opens it
// upgrades it, recomputing every call's peer, and the calls are found by either extension, in the same order and
// with the same fields as they were stored.
func TestMigrateV2RecomputesPeer(t *testing.T) {
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	recs := []cdr.Record{
		{UniqueID: "1.1", CallType: cdr.CallInternal, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.2", CallType: cdr.CallOther, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.3", CallType: cdr.CallUnknown, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.4", CallType: cdr.CallInbound, Extension: "8266", CallerID: "0215551234"},
		{UniqueID: "1.5", CallType: cdr.CallOutbound, Extension: "8266", DialledNumber: "0215551234"},
		{UniqueID: "1.6", CallType: cdr.CallOutbound, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.7", CallType: cdr.CallOther, Extension: "8270", DialledNumber: "8260"},
	}
	for i := range recs {
		recs[i].Start = at.Add(time.Duration(i) * 7 * time.Hour) // over two days
		recs[i].Disposition = cdr.DispAnswered
	}
	dir := t.TempDir()
	writeV2(t, dir, recs)

	ids := func(a *Archive, q cdr.Query) []string {
		var got []string
		for _, r := range all(t, a, q) {
			got = append(got, r.UniqueID)
		}
		return got
	}
	// Read as it is, without changing it.
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r, cdr.Query{}); len(got) != len(recs) {
		t.Fatalf("format 2 read: %v", got)
	}
	r.Close()
	if v := schemaOf(t, dir); v != "2" {
		t.Fatalf("a read-only open changed the format to %s", v)
	}

	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := schemaOf(t, dir); v != "3" || w.ID() != "0123456789abcdef01234567" {
		t.Errorf("after Init: format %s, id %q", v, w.ID())
	}
	for _, tc := range []struct {
		ext  string
		want []string
	}{
		{"8266", []string{"1.1", "1.2", "1.3", "1.4", "1.5"}},
		{"8260", []string{"1.1", "1.2", "1.3", "1.6", "1.7"}},
		{"8270", []string{"1.7"}},
	} {
		for _, a := range []*Archive{w, nil} {
			if a == nil {
				if a, err = Open(dir); err != nil {
					t.Fatal(err)
				}
				defer a.Close()
			}
			if got := ids(a, cdr.Query{Extension: tc.ext}); !slices.Equal(got, tc.want) {
				t.Errorf("calls of %s after the upgrade: %v, want %v", tc.ext, got, tc.want)
			}
		}
	}
	got := all(t, w, cdr.Query{})
	if len(got) != len(recs) {
		t.Fatalf("after the upgrade: %d calls", len(got))
	}
	for i := range recs {
		if !sameRecord(got[i], recs[i]) {
			t.Fatalf("call %d after the upgrade:\n got %+v\nwant %+v", i, got[i], recs[i])
		}
	}
	w.Close()
}

// TestUpgradeStops: an upgrade stopped part way (Ctrl-C) ends at once and leaves the index as it was, readable;
// the next writer upgrades it.
func TestUpgradeStops(t *testing.T) {
	_, recs := simCalls(t, 60, 150) // an upgrade of some 8,000 calls: a few hundred ms
	dir := t.TempDir()
	writeV2(t, dir, recs)
	// The stop comes 20 ms into the upgrade itself, however long opening the index took on a loaded machine.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stoppedAt atomic.Int64
	upgrade := upgrades[2]
	upgrades[2] = func(ctx context.Context, tx *sql.Tx) error {
		time.AfterFunc(20*time.Millisecond, func() { stoppedAt.Store(time.Now().UnixNano()); cancel() })
		return upgrade(ctx, tx)
	}
	defer func() { upgrades[2] = upgrade }()
	_, err := InitContext(ctx, dir)
	late := time.Since(time.Unix(0, stoppedAt.Load()))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "the index is as it was") {
		t.Fatalf("stopped upgrade: %v", err)
	}
	if late > time.Second {
		t.Errorf("the upgrade went on %v after it was stopped", late)
	}
	if v := schemaOf(t, dir); v != "2" {
		t.Fatalf("a stopped upgrade left format %s", v)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Count(context.Background()); n != len(recs) {
		t.Fatalf("%d calls readable after the stopped upgrade, want %d", n, len(recs))
	}
	r.Close()
	w, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n, _ := w.Count(context.Background()); n != len(recs) || schemaOf(t, dir) != "3" {
		t.Fatalf("after the upgrade: %d calls, format %s", n, schemaOf(t, dir))
	}
}

// An upgrade stopped before its transaction began (Ctrl-C while the index was opened) says the index is as it was.
func TestUpgradeStoppedBeforeOpen(t *testing.T) {
	_, recs := simCalls(t, 2, 20)
	dir := t.TempDir()
	writeV2(t, dir, recs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := InitContext(ctx, dir)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "the index is as it was") {
		t.Fatalf("stopped before the upgrade: %v", err)
	}
	if v := schemaOf(t, dir); v != "2" {
		t.Fatalf("a stopped upgrade left format %s", v)
	}
}
