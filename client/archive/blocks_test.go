package archive

import (
	"cmp"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// blockCalls is a few days of simulated calls and the edge cases of the blocks: calls either side of 1970
// (day 0 spans both), either side of midnight, sharing a start, without an extension, with a peer only.
func blockCalls(t *testing.T) []cdr.Record {
	t.Helper()
	_, recs := simCalls(t, 3, 60)
	plus2 := time.FixedZone("UTC+2", 2*3600)
	edge := []struct {
		start time.Time
		typ   cdr.CallType
		ext   string
		dial  string
	}{
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), cdr.CallInternal, "201", "202"},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), cdr.CallOther, "202", "201"},
		{time.Date(1969, 12, 30, 12, 0, 0, 0, time.UTC), cdr.CallInbound, "201", ""},
		{time.Date(2026, 3, 8, 23, 59, 59, 0, plus2), cdr.CallOther, "", "203"},
		{time.Date(2026, 3, 9, 0, 0, 0, 0, plus2), cdr.CallUnknown, "203", "201"},
		{time.Date(2026, 3, 9, 0, 0, 0, 0, plus2), cdr.CallOutbound, "201", "0215551234"},
		{time.Date(2026, 3, 9, 0, 0, 0, 0, plus2), cdr.CallInternal, "203", "203"},
	}
	for i, e := range edge {
		recs = append(recs, cdr.Record{UniqueID: fmt.Sprintf("%d.%d", e.start.Unix(), 900+i), Start: e.start,
			CallType: e.typ, Extension: e.ext, DialledNumber: e.dial, Disposition: cdr.DispAnswered, DurationS: 5})
	}
	return recs
}

// reference answers a query from the records themselves: cdr's extension rule, the wall-clock range, start
// order with ties by ID.
func reference(recs map[string]cdr.Record, q cdr.Query) []cdr.Record {
	var out []cdr.Record
	from, to := cdr.WallClock(q.From), cdr.WallClock(q.To)
	for _, r := range recs {
		w := cdr.WallClock(r.Start)
		if (!q.From.IsZero() && w.Before(from)) || (!q.To.IsZero() && !w.Before(to)) {
			continue
		}
		if q.Extension != "" && !r.InvolvesExtension(q.Extension) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b cdr.Record) int {
		return cmp.Or(cdr.WallClock(a.Start).Compare(cdr.WallClock(b.Start)), cmp.Compare(a.UniqueID, b.UniqueID))
	})
	return out
}

// TestBlocksAnswerAsTheCallsTable: whatever the query (ranges cutting days, open ends, extensions as source or
// destination, pages), the blocks give the calls the records say, as the calls table's indexes do, also after
// calls are stored again with another start (another day), another extension, or unchanged.
func TestBlocksAnswerAsTheCallsTable(t *testing.T) {
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	recs := blockCalls(t)
	truth := map[string]cdr.Record{}
	rng := rand.New(rand.NewPCG(3, 4))
	// Stored in batches of random size and order, as syncs and pushes do.
	order := rng.Perm(len(recs))
	for len(order) > 0 {
		n := min(len(order), 1+rng.IntN(40))
		var batch []cdr.Record
		for _, i := range order[:n] {
			batch = append(batch, recs[i])
			truth[recs[i].UniqueID] = recs[i]
		}
		put(t, a, batch, nil)
		order = order[n:]
	}
	check := func(stage string) {
		t.Helper()
		var exts []string
		for _, r := range recs[:12] {
			exts = append(exts, r.Extension, r.DialledNumber)
		}
		exts = append(exts, "201", "202", "203", "nobody", " 201 ")
		day := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
		ranges := [][2]time.Time{
			{}, {day, day.Add(24 * time.Hour)}, {day.Add(9*time.Hour + 30*time.Minute), day.Add(33*time.Hour + 7*time.Second)},
			{day, time.Time{}}, {time.Time{}, day}, {time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)},
			{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
			{day.Add(24 * time.Hour), day}, // empty: To before From
		}
		var queries []cdr.Query
		for _, rg := range ranges {
			queries = append(queries, cdr.Query{From: rg[0], To: rg[1]})
			for _, e := range exts[:6] {
				queries = append(queries, cdr.Query{From: rg[0], To: rg[1], Extension: e})
			}
			for _, page := range []int{1, 2, 5, 1000} {
				for _, limit := range []int{0, 1, 7} {
					queries = append(queries, cdr.Query{From: rg[0], To: rg[1], Page: page, Limit: limit},
						cdr.Query{From: rg[0], To: rg[1], Page: page, Limit: limit, Extension: exts[rng.IntN(len(exts))]})
				}
			}
		}
		for _, e := range exts {
			queries = append(queries, cdr.Query{Extension: e})
		}
		for _, q := range queries {
			want := reference(truth, cdr.Query{From: q.From, To: q.To, Extension: q.Extension})
			wantPages := 0
			if q.Page > 0 {
				limit := q.Limit
				if limit <= 0 {
					limit = DefaultPageSize
				}
				wantPages = (len(want) + limit - 1) / limit
				lo := min(len(want), (q.Page-1)*limit)
				want = want[lo:min(len(want), lo+limit)]
			}
			for _, path := range []string{"blocks", "index"} {
				var got []cdr.Record
				fn := func(r cdr.Record) error { got = append(got, r); return nil }
				var res cdr.Result
				if path == "blocks" {
					res, err = a.Calls(ctx, q, fn)
				} else {
					res, err = a.callsFromIndex(ctx, cdr.Query{From: q.From, To: q.To, Extension: trimmed(q.Extension), Page: q.Page, Limit: q.Limit}, fn)
				}
				if err != nil {
					t.Fatalf("%s %s %+v: %v", stage, path, q, err)
				}
				if len(got) != len(want) || res.Rows != len(got) || (q.Page > 0 && res.TotalPages != wantPages) {
					t.Fatalf("%s %s, query %+v: %d rows (res %+v), want %d rows of %d pages", stage, path, q, len(got), res, len(want), wantPages)
				}
				for i := range want {
					if !sameRecord(got[i], want[i]) {
						t.Fatalf("%s %s, query %+v, row %d:\n got %+v\nwant %+v", stage, path, q, i, got[i], want[i])
					}
				}
			}
		}
		n, err := a.Count(ctx)
		if err != nil || n != len(truth) {
			t.Fatalf("%s: Count %d, %v; want %d", stage, n, err, len(truth))
		}
	}
	check("stored")

	// Some calls again: moved to another day, to another extension, or unchanged; with calls that are new.
	var again []cdr.Record
	for i, r := range recs {
		switch i % 9 {
		case 0:
			r.Start = r.Start.Add(-26 * time.Hour)
		case 1:
			r.Extension, r.CallType, r.DialledNumber = "204", cdr.CallInternal, "201"
		case 2:
		default:
			continue
		}
		again = append(again, r)
		truth[r.UniqueID] = r
	}
	fresh := cdr.Record{UniqueID: "9.1", Start: time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), CallType: cdr.CallInternal,
		Extension: "204", DialledNumber: "202"}
	again = append(again, fresh)
	truth[fresh.UniqueID] = fresh
	put(t, a, again, nil)
	check("stored again")
}

func trimmed(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// FuzzBlockReader: a block read from a damaged index never panics and never reads past its end; rows written
// come back as they were.
func FuzzBlockReader(f *testing.F) {
	var b []byte
	for _, r := range []blockRow{{id: "1.1", wall: 1773050400, off: 7200, record: []byte{1, 2, 3}}, {id: "", wall: -1, off: -3600}} {
		b = appendRow(b, &r)
	}
	f.Add(b, "9.9", int64(-86401), 3600, []byte("x"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "", int64(0), 0, []byte{})
	f.Fuzz(func(t *testing.T, block []byte, id string, wall int64, off int, record []byte) {
		br := blockReader{b: block}
		var r blockRow
		for br.next(&r) {
			if len(r.id) > len(block) || len(r.record) > len(block) {
				t.Fatal("a row longer than its block")
			}
		}
		off = int(int32(off))
		row := blockRow{id: id, wall: wall, off: off, record: record}
		packed := appendRow(appendRow(nil, &row), &row)
		br = blockReader{b: packed}
		for range 2 {
			if !br.next(&r) || r.id != id || r.wall != wall || r.off != off || string(r.record) != string(record) {
				t.Fatalf("round trip: %+v, want %+v (%v)", r, row, br.err)
			}
		}
		if br.next(&r) || br.err != nil {
			t.Fatalf("a third row, or %v", br.err)
		}
	})
}

// FuzzDayOf: every wall clock lies in the bounds of its day, the days tile the line without gaps, and the day
// is the one SQLite's integer division (towards zero) gives, which the triggers use.
func FuzzDayOf(f *testing.F) {
	for _, w := range []int64{0, -1, 1, 86399, 86400, -86399, -86400, -86401, 1773050400, -1 << 40, 1 << 40} {
		f.Add(w)
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Fuzz(func(t *testing.T, wall int64) {
		if wall > 1<<50 || wall < -(1<<50) {
			return // far past any clock
		}
		d := dayOf(wall)
		first, last := dayBounds(d)
		if wall < first || wall > last {
			t.Fatalf("wall %d in day %d, whose bounds are [%d, %d]", wall, d, first, last)
		}
		if dayOf(first) != d || dayOf(last) != d || dayOf(first-1) == d || dayOf(last+1) == d {
			t.Fatalf("day %d: bounds [%d, %d] are not its edges", d, first, last)
		}
		var q int64
		if err := db.QueryRow(`SELECT ? / 86400`, wall).Scan(&q); err != nil || q != d {
			t.Fatalf("day %d, SQLite's %d (%v)", d, q, err)
		}
	})
}
