package calltable

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/filter"
)

// Words the filter cases are made of: extensions that are also other calls' dialled numbers, blank and spaced
// ones, known and unknown types and dispositions, numbers written several ways, letters in both cases and
// beyond ASCII.
var (
	filterExts   = []string{"201", "202", "2019", "", " 201", "0821234567"}
	filterTypes  = []cdr.CallType{cdr.CallInbound, cdr.CallOutbound, cdr.CallInternal, cdr.CallOther, cdr.CallUnknown, "", "conference"}
	filterDisps  = []cdr.Disposition{cdr.DispAnswered, cdr.DispNoAnswer, cdr.DispBusy, cdr.DispFailed, cdr.DispUnknown, "", "congestion"}
	filterTexts  = []string{"", "201", "202", "0821234567", "+27 82 123 4567", `"Smith, John" <0821234567>`, "Zoë Müller", "ZOË", "1396000115.1", "SALES", "0027821234567"}
	filterSearch = []string{"", " ", "20", "201", "smith", "SMITH", "zoë", "082 123", "+27821234567", "0821234567", "sales", "1396", "ü", "00278", "abcdefg"}
	filterNames  = map[string]string{"201": "Sales desk", "202": "Zoë Adams"}
)

func pickOne[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// filterRecords are random calls over the words above; some are kept whole by the store (too much text, a start
// the compact form cannot hold).
func filterRecords(rng *rand.Rand, n int) []cdr.Record {
	recs := make([]cdr.Record, n)
	for i := range recs {
		recs[i] = cdr.Record{
			UniqueID: pickOne(rng, filterTexts), CallType: pickOne(rng, filterTypes), Extension: pickOne(rng, filterExts),
			DialledNumber: pickOne(rng, append(filterExts, filterTexts...)), CallerID: pickOne(rng, filterTexts),
			Disposition: pickOne(rng, filterDisps), DurationS: rng.IntN(120) - 1, FriendlyName: pickOne(rng, filterTexts),
			AccountCode: pickOne(rng, filterTexts), Recording: pickOne(rng, filterTexts), Channel: pickOne(rng, filterTexts),
			Start: base.Add(time.Duration(rng.IntN(100_000)) * time.Second),
		}
		switch rng.IntN(50) {
		case 0:
			recs[i].AccountCode = strings.Repeat("smith ", textMax/5) // kept whole
		case 1:
			recs[i].Start = time.Date(2600, 1, 1, 0, 0, 0, 0, time.UTC) // kept whole
		}
	}
	return recs
}

// filterState is a random filter; each part is on about half the time.
func filterState(rng *rand.Rand) filter.State {
	var s filter.State
	if rng.IntN(2) == 0 {
		for range 1 + rng.IntN(2) {
			s.Extensions = append(s.Extensions, pickOne(rng, filterExts))
		}
	}
	if rng.IntN(2) == 0 {
		s.Types = uint8(rng.IntN(16))
	}
	if rng.IntN(2) == 0 {
		s.Dispositions = uint8(rng.IntN(32))
	}
	if rng.IntN(3) == 0 {
		s.MinDuration = rng.IntN(90)
	}
	if rng.IntN(2) == 0 {
		s.Search = pickOne(rng, filterSearch)
	}
	return s
}

// checkShown compares the table's view with the Matcher run over the loaded records, in the table's order.
func checkShown(t *testing.T, m *Model, recs []cdr.Record, s filter.State, names map[string]string, d filter.Dialling) {
	t.Helper()
	match := s.MatcherWith(names, d)
	var want []int32
	for _, i := range m.order {
		if match == nil || match(&recs[i]) {
			want = append(want, i)
		}
	}
	if !slices.Equal(m.view, want) {
		for p := range min(len(want), len(m.view)) + 1 {
			if p == len(want) || p == len(m.view) || m.view[p] != want[p] {
				var got, exp int32 = -1, -1
				if p < len(m.view) {
					got = m.view[p]
				}
				if p < len(want) {
					exp = want[p]
				}
				t.Fatalf("filter %+v (cc %q): %d rows shown, the Matcher passes %d; first difference at %d: row %d, want row %d (%+v)",
					s, d.CountryCode, len(m.view), len(want), p, got, exp, recs[max(exp, 0)])
			}
		}
	}
}

// TestCompactFilterMatchesMatcher: the table's filter, run on its compact rows, shows exactly the rows the
// filter's Matcher passes on the records, for random calls and filters: set on loaded rows, kept while rows
// stream in, after a sort, with and without user names and a country code.
func TestCompactFilterMatchesMatcher(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	for _, n := range []int{300, 40_000} { // 40,000: enough rows that every core decides a part
		recs := filterRecords(rng, n)
		m := newTable(100, 10)
		m.Append(recs[:n/3])
		m.Append(recs[n/3 : n/2])
		for round := range 200 * 300 / n {
			s := filterState(rng)
			names := map[bool]map[string]string{true: filterNames}[rng.IntN(2) == 0]
			d := filter.Dialling{CountryCode: pickOne(rng, []string{"", "27"})}
			m.SetFilter(s.Compile(names, d))
			checkShown(t, m, recs[:m.Loaded()], s, names, d)
			if round%7 == 0 && m.Loaded() < n {
				// Rows streaming in while the filter is on: batches that start and end inside a bitset word.
				for lo := m.Loaded(); lo < n; lo += 997 {
					m.Append(recs[lo:min(lo+997, n)])
				}
				checkShown(t, m, recs, s, names, d)
			}
			if round%5 == 0 {
				m.SetSort(Column(rng.IntN(int(numColumns))), rng.IntN(2) == 0)
				checkShown(t, m, recs[:m.Loaded()], s, names, d)
			}
		}
	}
}

// FuzzCompactFilter compares the table's filter with the Matcher on calls and filters made of any text.
func FuzzCompactFilter(f *testing.F) {
	f.Add(uint64(1), "201", "smith", "internal", "202", "201", `"Smith" <0821234567>`, "Zoë", 30)
	f.Add(uint64(2), " 201 ", "+27 82", "outbound", "201", "0821234567", "", "", 0)
	f.Fuzz(func(t *testing.T, seed uint64, ext, search, callType, extension, dialled, callerID, name string, minDur int) {
		rng := rand.New(rand.NewPCG(seed, 0))
		recs := filterRecords(rng, 200)
		// The fuzzed call, several times over (each copy its own row), among the random ones.
		for i := 0; i < len(recs); i += 17 {
			recs[i] = cdr.Record{CallType: cdr.CallType(callType), Extension: extension, DialledNumber: dialled,
				CallerID: callerID, FriendlyName: name, AccountCode: name, UniqueID: dialled + callerID,
				DurationS: i % 60, Start: base}
		}
		s := filter.State{Extensions: filter.ParseExtensions(ext), Search: search, MinDuration: minDur % 100,
			Types: uint8(seed), Dispositions: uint8(seed >> 8)}
		if s.Extensions == nil && ext != "" {
			s.Extensions = []string{ext}
		}
		names := map[string]string{extension: name}
		d := filter.Dialling{CountryCode: "27"}
		m := newTable(100, 10)
		m.Append(recs[:100])
		m.SetFilter(s.Compile(names, d))
		m.Append(recs[100:])
		checkShown(t, m, recs, s, names, d)
	})
}
