package archive

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/callscope/callscope/client/cdr"
)

// searchArchive is an archive of simulated calls with a few made to test the search, shared by the search
// tests and the fuzz target.
var (
	searchOnce  sync.Once
	searchA     *Archive
	searchTruth map[string]cdr.Record
	searchUsers map[string]string
	searchErr   error
	searchDir   string // removed by TestMain
)

func searchFixture(t testing.TB) (*Archive, map[string]cdr.Record, map[string]string) {
	t.Helper()
	searchOnce.Do(func() {
		s, recs := simCalls(t, 2, 80)
		at := time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC)
		recs = append(recs,
			cdr.Record{UniqueID: "1773050400.1", Start: at, CallType: cdr.CallInbound, Extension: "3001",
				CallerID: "\"Müller AG\" <0825551234>", FriendlyName: "MÜLLER, Jürgen", AccountCode: "Ünï-7"},
			cdr.Record{UniqueID: "1773050460.2", Start: at.Add(time.Minute), CallType: cdr.CallOutbound, Extension: "3002",
				DialledNumber: "+27 (82) 555-1234", FriendlyName: "tab\there\x1fand\nnewline"},
			cdr.Record{UniqueID: "1773050520.3", Start: at.Add(2 * time.Minute), CallType: cdr.CallOther, Extension: "3003",
				DialledNumber: "3001"},
		)
		if searchDir, searchErr = os.MkdirTemp("", "callscope-search-test-"); searchErr != nil {
			return
		}
		if searchA, searchErr = Init(searchDir); searchErr != nil {
			return
		}
		users := append(s.Users(), cdr.User{Extension: "3003", Name: "Nobuhle Zulu"})
		if searchErr = searchA.SetUsers(ctx, users); searchErr != nil {
			return
		}
		searchUsers = map[string]string{}
		for _, u := range users {
			searchUsers[u.Extension] = u.Name
		}
		b, err := searchA.Begin(ctx)
		if err != nil {
			searchErr = err
			return
		}
		searchTruth = map[string]cdr.Record{}
		for i := range recs {
			if searchErr = b.Put(ctx, &recs[i], Blob{}); searchErr != nil {
				b.Rollback()
				return
			}
			searchTruth[recs[i].UniqueID] = recs[i]
		}
		searchErr = b.Commit()
	})
	if searchErr != nil {
		t.Fatal(searchErr)
	}
	return searchA, searchTruth, searchUsers
}

// norm is the search's reading of text, written out on its own: lower case, control characters as spaces.
func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// searchReference is Search's promise computed from the records.
func searchReference(truth map[string]cdr.Record, users map[string]string, q cdr.Query, text string) []cdr.Record {
	needle := strings.TrimSpace(norm(text))
	var needles []string
	if needle != "" {
		needles = append(needles, needle)
		if d, ok := phoneDigits(needle); ok {
			needles = append(needles, d)
		}
	}
	var out []cdr.Record
	for _, r := range reference(truth, q) {
		match := len(needles) == 0
		for _, n := range needles {
			for _, f := range []string{r.DialledNumber, r.CallerID, r.UniqueID, r.Extension, r.FriendlyName, r.AccountCode} {
				match = match || strings.Contains(norm(f), n)
			}
		}
		if name, ok := users[r.Extension]; ok && needle != "" && strings.Contains(norm(name), needle) {
			match = true
		}
		if match {
			out = append(out, r)
		}
	}
	return out
}

func checkSearch(t *testing.T, a *Archive, truth map[string]cdr.Record, users map[string]string, q cdr.Query, text string) {
	t.Helper()
	want := searchReference(truth, users, cdr.Query{From: q.From, To: q.To, Extension: q.Extension}, text)
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
	paths := []string{"blocks", "index"}
	if q.Page == 0 {
		paths = append(paths, "filter") // TextFilter over the calls of the range: no pages of its own
	}
	for _, path := range paths {
		var got []cdr.Record
		fn := func(r cdr.Record) error { got = append(got, r); return nil }
		var res cdr.Result
		var err error
		if m, merr := a.newMatcher(ctx, text); merr != nil {
			t.Fatal(merr)
		} else if m == nil {
			res, err = a.Calls(ctx, q, fn)
		} else if path == "blocks" {
			res, err = a.Search(ctx, q, text, fn)
		} else if path == "filter" {
			res, err = filterCalls(a, q, text, fn)
		} else {
			res, err = a.searchIndex(ctx, q, m, fn)
		}
		if err != nil {
			t.Fatalf("%s: search %q %+v: %v", path, text, q, err)
		}
		ids := func(rs []cdr.Record) []string {
			var s []string
			for _, r := range rs {
				s = append(s, r.UniqueID)
			}
			return s
		}
		if !slices.Equal(ids(got), ids(want)) || res.Rows != len(got) || (q.Page > 0 && res.TotalPages != wantPages) {
			t.Fatalf("%s: search %q %+v: got %v (%+v), want %v (%d pages)", path, text, q, ids(got), res, ids(want), wantPages)
		}
		for i := range got {
			if !sameRecord(got[i], want[i]) {
				t.Fatalf("%s: search %q: row %d differs", path, text, i)
			}
		}
	}
}

// filterCalls is Search done by a TextFilter over the calls of q, as for calls from a PBX.
func filterCalls(a *Archive, q cdr.Query, text string, fn func(cdr.Record) error) (cdr.Result, error) {
	users, err := a.Users(ctx)
	if err != nil {
		return cdr.Result{}, err
	}
	f := NewTextFilter(text, users)
	n := 0
	res, err := a.Calls(ctx, q, func(r cdr.Record) error {
		if !f.Match(&r) {
			return nil
		}
		n++
		return fn(r)
	})
	res.Rows = n
	return res, err
}

// TestSearch: the archive's free-text search finds what the records say, from the blocks and from the calls
// table alike, over ranges, extensions and pages.
func TestSearch(t *testing.T) {
	a, truth, users := searchFixture(t)
	day := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	for _, text := range []string{
		"", "   ", "0", "082", "0825551234", "082 555 1234", "(082) 555-1234", "+27 (82) 555-1234", "555-1234",
		"smith", "SMITH, JOHN", "müller", "MÜLLER", "jürgen", "ünï", "ADMIN", "prj-", ".1", "1773050400.1",
		"nobuhle", "zulu", "Mthembu", "tab here", "and newline", "\t", "2019", "20", "nothing matches this",
		"o'brien", `"chalky"`, "3001",
	} {
		for _, q := range []cdr.Query{
			{}, {From: day, To: day.Add(24 * time.Hour)}, {From: day.Add(11 * time.Hour), To: day.Add(11*time.Hour + 90*time.Second)},
			{Extension: "3001"}, {Extension: "2019"}, {Page: 1, Limit: 3}, {Page: 2, Limit: 5}, {Page: 9, Limit: 100},
			{From: day, Extension: "2002", Page: 1, Limit: 2},
		} {
			checkSearch(t, a, truth, users, q, text)
		}
	}
}

// FuzzSearch: any text finds, from the blocks, exactly what the records say.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"082", "Smith", "MÜLLER", "082 555-1234", "+27", "\x1f", "\n", "\xff\xfe", "ǅ", "İ", ")", " . "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, truth, users := searchFixture(t)
		checkSearch(t, a, truth, users, cdr.Query{}, text)
	})
}

// A TextFilter is used from several goroutines at once (comx.Client.WriteCalls filters on its workers): each
// answer is the one it gives alone, and matching an ASCII call costs no allocation.
func TestTextFilterConcurrent(t *testing.T) {
	a, truth, _ := searchFixture(t)
	users, err := a.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []cdr.Record
	for _, r := range truth {
		recs = append(recs, r)
	}
	for _, text := range []string{"082", "smith", "1773050400.1", "082 555 1234"} {
		f := NewTextFilter(text, users)
		want := make([]bool, len(recs))
		for i := range recs {
			want[i] = f.Match(&recs[i])
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					for i := range recs {
						if f.Match(&recs[i]) != want[i] {
							t.Errorf("%q: call %s matched differently on another goroutine", text, recs[i].UniqueID)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		ascii := truth["1773050520.3"] // text outside ASCII is lowered through a string
		if n := testing.AllocsPerRun(100, func() { f.Match(&ascii) }); n != 0 {
			t.Errorf("%q: %v allocations a match", text, n)
		}
	}
}

// linesByLine is textMatcher.lines done the plain way: every line matched on its own.
func linesByLine(m *textMatcher, text []byte) []int {
	var hits []int
	for i := 0; len(text) > 0; i++ {
		end := strings.IndexByte(string(text), lineEnd)
		if end < 0 {
			end = len(text) - 1
		}
		if m.line(text[:end+1]) {
			hits = append(hits, i)
		}
		text = text[end+1:]
	}
	return hits
}

// FuzzLines: a day's matching lines, found by scanning the whole text, are those a line-by-line match finds,
// whatever the needles, the extensions of users whose names match, and where in a line those appear (an
// extension's number in another field, before or after the extension's own, is not the extension).
func FuzzLines(f *testing.F) {
	f.Add("3003|3003|1.1|3003|x|\n3003|3001|2.2|2002|y|\n||3.3|3003|3003|\n", "zulu", "3003")
	f.Add("0825551234|a|1.1|2002|b|c|\n|0825551234|2.2|3001|d|e|\n", "082", "2002")
	f.Add("a|b|c|2002|\n\n|\n|||2002|\n", "82 555", "")
	f.Fuzz(func(t *testing.T, text, needle, ext string) {
		b := []byte(strings.NewReplacer("|", string(fieldEnd)).Replace(text))
		users := []cdr.User{{Extension: ext, Name: "Nobuhle Zulu"}}
		m := matcherFor(needle, users)
		if m == nil || strings.ContainsAny(ext, "\x1f\n") {
			return
		}
		if got, want := m.lines(b), linesByLine(m, b); !slices.Equal(got, want) {
			t.Fatalf("lines %v, line by line %v (needles %q, extensions %v, text %q)", got, want, m.needles, m.exts, b)
		}
	})
}
