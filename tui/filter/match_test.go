package filter

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// referenceMatch is the filter's meaning written the one-step, obvious way over a whole record, as the matcher
// was before it was split into Kind and Row: every chosen extension by cdr.Record.InvolvesExtension, then type,
// disposition, duration and the free-text and phone-number search over their fields (with the matcher's own
// case folding and number reading, which their own tests cover).
func referenceMatch(s State, names map[string]string, d Dialling, r *cdr.Record) bool {
	if len(s.Extensions) > 0 {
		ok := false
		for _, e := range s.Extensions {
			ok = ok || r.InvolvesExtension(e)
		}
		if !ok {
			return false
		}
	}
	if s.Types != 0 && s.Types&typeBit(r.CallType) == 0 || s.Dispositions != 0 && s.Dispositions&dispBit(r.Disposition) == 0 {
		return false
	}
	if s.MinDuration > 0 && r.DurationS < s.MinDuration {
		return false
	}
	q := strings.ToLower(strings.TrimSpace(s.Search))
	if q == "" {
		return true
	}
	has := func(f string) bool { return containsFold(f, q) }
	if !isASCII(q) {
		has = func(f string) bool { return containsFoldUnicode(f, q) }
	}
	if has(r.DialledNumber) || has(r.CallerID) || has(r.UniqueID) || has(r.Extension) || has(r.FriendlyName) ||
		has(r.AccountCode) || has(names[r.Extension]) {
		return true
	}
	number, ok := phoneQuery(q, d)
	return ok && (containsNumber(r.DialledNumber, number, d) || containsNumber(r.CallerID, number, d))
}

// Words the random records and filters are made of: extensions that are another's dialled number, blanks and
// spaced ones, known and unknown types and dispositions, numbers in several forms, letters in both cases and
// beyond ASCII.
var (
	someExtensions = []string{"201", "202", "2019", "", " 201", "201 ", "0821234567"}
	someTypes      = []cdr.CallType{cdr.CallInbound, cdr.CallOutbound, cdr.CallInternal, cdr.CallOther, cdr.CallUnknown, "", "conference"}
	someDisps      = []cdr.Disposition{cdr.DispAnswered, cdr.DispNoAnswer, cdr.DispBusy, cdr.DispFailed, cdr.DispUnknown, "", "congestion"}
	someTexts      = []string{"", "201", "202", "0821234567", "+27 82 123 4567", `"Smith, John" <0821234567>`, "Zoë Müller",
		"ZOË", "1396000115.1", "SALES", "sales", "ÅNGSTRÖM", "0027821234567", "27821234567"}
	someSearches = []string{"", " ", "20", "201", "smith", "SMITH", "zoë", "ZOË", "082 123", "+27821234567", "0821234567",
		"sales", "ångström", "1396", ".1", "ü", "123 4567", "00278"}
)

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// randomRecord draws a call from the words above.
func randomRecord(rng *rand.Rand) cdr.Record {
	return cdr.Record{
		UniqueID: pick(rng, someTexts), CallType: pick(rng, someTypes), Extension: pick(rng, someExtensions),
		DialledNumber: pick(rng, append(someExtensions, someTexts...)), CallerID: pick(rng, someTexts),
		Disposition: pick(rng, someDisps), DurationS: rng.IntN(120) - 1, FriendlyName: pick(rng, someTexts),
		AccountCode: pick(rng, someTexts),
	}
}

// randomState draws a filter from the words above; each part is on about half the time.
func randomState(rng *rand.Rand) State {
	var s State
	if rng.IntN(2) == 0 {
		for range 1 + rng.IntN(2) {
			s.Extensions = append(s.Extensions, pick(rng, someExtensions))
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
		s.Search = pick(rng, someSearches)
	}
	return s
}

var someNames = map[string]string{"201": "Sales desk", "202": "Zoë Adams", "2019": "Smith"}

// TestCompiledMatchesReference: Kind then Row (the compact table's way) and Match agree with the filter's
// one-step meaning on random calls and filters, with and without names and a country code.
func TestCompiledMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for range 3000 {
		s := randomState(rng)
		names := map[bool]map[string]string{true: someNames}[rng.IntN(2) == 0]
		d := Dialling{CountryCode: pick(rng, []string{"", "27"})}
		c := s.Compile(names, d)
		if (c == nil) != s.IsZero() {
			t.Fatalf("%+v: compiled %v, zero %v", s, c, s.IsZero())
		}
		for range 50 {
			r := randomRecord(rng)
			want := referenceMatch(s, names, d, &r)
			got := c == nil || c.Match(&r)
			if got != want {
				t.Fatalf("filter %+v (cc %q, names %v) on %+v: Match %v, want %v", s, d.CountryCode, names != nil, r, got, want)
			}
			if c == nil {
				continue
			}
			k := c.Kind(r.CallType, r.Extension, r.Disposition, r.FriendlyName)
			if k.Rejects() && want || c.Accepts(k) && !want {
				t.Fatalf("filter %+v on %+v: Kind rejects %v, accepts %v; the call passes: %v", s, r, k.Rejects(), c.Accepts(k), want)
			}
			// Without ReadsText, the answer does not depend on the text (only on the dialled number's length).
			blank := strings.Repeat("\x00", len(r.DialledNumber))
			if !c.ReadsText(k, len(r.DialledNumber)) && c.Row(k, r.DurationS, blank, "", "", "") != want {
				t.Fatalf("filter %+v on %+v: ReadsText is false, but the answer depends on the text", s, r)
			}
		}
	}
}

// FuzzCompiledMatchesReference is the same comparison on any text.
func FuzzCompiledMatchesReference(f *testing.F) {
	f.Add("201", uint8(3), uint8(1), 30, "smith", "27", "internal", "202", "201", `"Smith" <0821234567>`, "1.1", "Zoë", 45)
	f.Add(" 201 ", uint8(0), uint8(0), 0, "+27 82", "27", "outbound", "201", "0821234567", "", "", "", 0)
	f.Fuzz(func(t *testing.T, ext string, types, disps uint8, minDur int, search, cc, callType, extension,
		dialled, callerID, uniqueID, name string, dur int) {
		s := State{Types: types, Dispositions: disps, MinDuration: minDur, Search: search}
		if ext != "" {
			s.Extensions = ParseExtensions(ext)
			if s.Extensions == nil {
				s.Extensions = []string{ext}
			}
		}
		d := Dialling{}
		if c, err := ParseCountryCode(cc); err == nil {
			d.CountryCode = c
		}
		r := cdr.Record{CallType: cdr.CallType(callType), Extension: extension, DialledNumber: dialled,
			CallerID: callerID, UniqueID: uniqueID, FriendlyName: name, AccountCode: name, DurationS: dur}
		names := map[string]string{extension: name + "x"}
		c := s.Compile(names, d)
		if got, want := c == nil || c.Match(&r), referenceMatch(s, names, d, &r); got != want {
			t.Fatalf("filter %+v (cc %q) on %+v: Match %v, want %v", s, d.CountryCode, r, got, want)
		}
	})
}
