package filter

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/callscope/callscope/client/cdr"
)

// calls is one call of each type and disposition the filters know, and one of each the PBX made up.
var calls = []cdr.Record{
	{UniqueID: "1.in", CallType: cdr.CallInbound, Disposition: cdr.DispAnswered, Extension: "201", DurationS: 90},
	{UniqueID: "2.out", CallType: cdr.CallOutbound, Disposition: cdr.DispNoAnswer, Extension: "202", DurationS: 30},
	{UniqueID: "3.int", CallType: cdr.CallInternal, Disposition: cdr.DispBusy, Extension: "203", DialledNumber: "201", DurationS: 0},
	{UniqueID: "4.other", CallType: cdr.CallType("transfer"), Disposition: cdr.DispFailed, Extension: "204", DurationS: 600},
	{UniqueID: "5.odd", CallType: cdr.CallOther, Disposition: cdr.Disposition("congestion"), Extension: "205", DurationS: cdr.Unknown},
}

// matching is the IDs of calls that s lets through, all of them when s filters nothing.
func matching(s State) string {
	m := s.MatcherWith(nil, Dialling{})
	var ids []string
	for i := range calls {
		if m == nil || m(&calls[i]) {
			ids = append(ids, calls[i].UniqueID)
		}
	}
	return strings.Join(ids, " ")
}

func TestTypeDispositionAndDurationFilters(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    State
		want string
	}{
		{"nothing", State{}, "1.in 2.out 3.int 4.other 5.odd"},
		{"inbound", State{Types: TypeInbound}, "1.in"},
		{"in and out", State{Types: TypeInbound | TypeOutbound}, "1.in 2.out"},
		{"internal", State{Types: TypeInternal}, "3.int"},
		{"other: made-up and 'other' types", State{Types: TypeOther}, "4.other 5.odd"},
		{"answered", State{Dispositions: DispAnswered}, "1.in"},
		{"no answer or busy", State{Dispositions: DispNoAnswer | DispBusy}, "2.out 3.int"},
		{"failed", State{Dispositions: DispFailed}, "4.other"},
		{"other disposition", State{Dispositions: DispOther}, "5.odd"},
		{"type and disposition together", State{Types: TypeInbound | TypeInternal, Dispositions: DispBusy}, "3.int"},
		{"at least 30 s; unknown is not long", State{MinDuration: 30}, "1.in 2.out 4.other"},
		{"at least 91 s", State{MinDuration: 91}, "4.other"},
		{"extension: its own and internal calls to it", State{Extensions: []string{"201"}}, "1.in 3.int"},
		{"everything at once", State{Extensions: []string{"201", "202"}, Types: TypeInbound | TypeOutbound,
			Dispositions: DispAnswered | DispNoAnswer, MinDuration: 60}, "1.in"},
		{"nothing passes", State{Types: TypeInbound, Dispositions: DispFailed}, ""},
	} {
		if got := matching(tc.s); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The search ignores case in any script, looks in every field a person would quote, and in the names of the
// extensions' users.
func TestSearch(t *testing.T) {
	r := cdr.Record{UniqueID: "1709290000.77", Extension: "201", FriendlyName: "Désirée Ødegård",
		CallerID: `"ÇAĞLAR Ünal" <0215550123>`, DialledNumber: "0845551234", AccountCode: "SALES-ZA İzmir"}
	names := map[string]string{"201": "Ἀλέξανδρος Παπαδόπουλος", "202": "Sales Desk"}
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"désirée", true},
		{"DÉSIRÉE", true},
		{"ødegård", true},
		{"çağlar ünal", true},
		{"ünal", true},
		{"παπαδόπουλος", true}, // the user's name, in Greek, lower case
		{"ἈΛΈΞΑΝΔΡΟΣ", true},
		{"desiree", false}, // accents are letters, not decoration
		{"sales-za", true},
		{"  sales  ", true},
		{"1709290000.77", true},
		{"0845551234", true},
		{"084 555 1234", true},
		{"sales desk", false}, // another extension's user
		{"ß", false},
		{"İZMIR", true}, // in the account code below; lower-cased, İ would be an ASCII i
		{"izmir", false},
		{"", true},
	} {
		m := State{Search: tc.q}.MatcherWith(names, Dialling{})
		if got := m == nil || m(&r); got != tc.want {
			t.Errorf("search %q: match %v, want %v", tc.q, got, tc.want)
		}
	}
}

// The matcher allocates nothing per row, in any script, so it can run over a million rows on every core.
func TestMatcherDoesNotAllocate(t *testing.T) {
	names := map[string]string{"201": "Sales Desk"}
	r := calls[0]
	r.FriendlyName = "Désirée Ødegård"
	for _, q := range []string{"desk", "ødegård", "nobody"} {
		m := State{Search: q, Extensions: []string{"201", "202"}, Types: TypeInbound}.MatcherWith(names, Dialling{})
		if n := testing.AllocsPerRun(100, func() { m(&r) }); n != 0 {
			t.Errorf("search %q: %v allocations per row", q, n)
		}
	}
}

func TestIsZeroAndString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		zero bool
		text string
	}{
		{State{}, true, ""},
		{State{Search: "   "}, true, ""},
		{State{MinDuration: -1}, true, ""},
		{State{Extensions: []string{"201", "202"}}, false, "ext 201,202"},
		{State{Types: TypeInbound | TypeInternal}, false, "in,internal"},
		{State{Dispositions: DispNoAnswer | DispOther}, false, "no answer,other"},
		{State{MinDuration: 75}, false, "≥1:15"},
		{State{Search: ` smith "jr" `}, false, `"smith \"jr\""`},
		{State{Extensions: []string{"201"}, Types: TypeOutbound, Dispositions: DispAnswered, MinDuration: 60, Search: "x"},
			false, `ext 201 · out · answered · ≥1:00 · "x"`},
	} {
		if tc.s.IsZero() != tc.zero || tc.s.String() != tc.text {
			t.Errorf("%+v: IsZero %v, String %q; want %v, %q", tc.s, tc.s.IsZero(), tc.s.String(), tc.zero, tc.text)
		}
		if tc.zero && tc.s.MatcherWith(nil, Dialling{}) != nil {
			t.Errorf("%+v filters nothing but has a matcher", tc.s)
		}
	}
}

func TestParseExtensions(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"201":              "201",
		"201, 202 203;204": "201|202|203|204",
		" ,, ; ":           "",
		"2001,":            "2001",
	} {
		if got := strings.Join(ParseExtensions(in), "|"); got != want {
			t.Errorf("ParseExtensions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"  ", 0},
		{"0", 0},
		{"90", 90},
		{" 90 ", 90},
		{"1:30", 90},
		{"0:05", 5},
		{"1:5", 65},
		{"12:00", 720},
		{"45s", 45},
		{"2m", 120},
		{"1m30s", 90},
		{"1M30S", 90},
		{"1h", 3600},
		{"1h2m3s", 3723},
		{"2m2m", 240},
	} {
		if got, err := ParseDuration(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"1:60", ":30", "1:", "1:3:0", "-5", "1.5", "1m 30s", "m", "1h30", "1x", "½", "99999999",
		"1:99999999", "1m" + strings.Repeat("9", 9) + "s"} {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), "use seconds (90), m:ss (1:30) or 1m30s") {
			t.Errorf("ParseDuration(%q): error %v", in, err)
		}
	}
}

// Reading a duration costs no allocation: the panel parses it on every key.
func TestParseDurationDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"1h2m3s", "1:30", "90"} {
		if n := testing.AllocsPerRun(100, func() { ParseDuration(in) }); n != 0 {
			t.Errorf("ParseDuration(%q): %v allocations", in, n)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90", "1:30", "1m30s", "1h", "2m2m", ":", "1h30", "9999999h9999999h", "1:99", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseDuration(s)
		if err != nil {
			if n != 0 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseDuration(%q) = %d, %q", s, n, err)
			}
			return
		}
		if n < 0 || n > maxDurationS {
			t.Fatalf("ParseDuration(%q) = %d, out of range", s, n)
		}
		// What the filter panel shows for it reads back the same.
		if back, err := ParseDuration(strconv.Itoa(n)); n <= 9_999_999 && (err != nil || back != n) {
			t.Fatalf("ParseDuration(%q) = %d, but %d reads back as %d, %v", s, n, n, back, err)
		}
	})
}

// The search's case folding agrees with strings.EqualFold on every stretch of the field.
func FuzzContainsFold(f *testing.F) {
	for _, s := range [][2]string{{"Ἀλέξανδρος", "ΑΛΈΞΑΝΔΡΟΣ"}, {"Désirée", "sirÉ"}, {"ǅ", "ǆ"}, {"K", "k"}, {"\xff", "\xff"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, q string) {
		if q == "" || len(s) > 64 {
			return
		}
		want := false
		for i := 0; i <= len(s) && !want; i++ {
			for j := i; j <= len(s); j++ {
				if strings.EqualFold(s[i:j], q) {
					want = true
					break
				}
			}
		}
		if got := containsFoldUnicode(s, q); got != want && utf8.ValidString(s) && utf8.ValidString(q) {
			t.Fatalf("containsFoldUnicode(%q, %q) = %v, EqualFold says %v", s, q, got, want)
		}
	})
}
