package filter

import (
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// A search that is a phone number finds the number however either side wrote it: spaces, dashes, brackets,
// +CC or 00CC for the trunk prefix 0 (with the country code configured).
func TestSearchFindsPhoneNumbers(t *testing.T) {
	za := Dialling{CountryCode: "27"}
	for _, tc := range []struct {
		search, stored string
		d              Dialling
		want           bool
	}{
		{"084 657 1261", "0846571261", za, true},
		{"084 657 1261", "0846571261", Dialling{}, true},
		{"084-657-1261", "0846571261", za, true},
		{"(084) 657 1261", "0846571261", za, true},
		{"+27846571261", "0846571261", za, true},
		{"+27 84 657 1261", "0846571261", za, true},
		{"+27 (0)84 657 1261", "0846571261", za, true},
		{"0027846571261", "0846571261", za, true},
		{"27846571261", "0846571261", za, true},
		{"0846571261", "+27846571261", za, true},
		{"0846571261", "+27 84 657 1261", za, true},
		{"0846571261", "0027846571261", za, true},
		{"0846571261", "27846571261", za, true},
		{"084 657 1261", `"Vodacom" <+27846571261>`, za, true},
		{"657 1261", "+27846571261", za, true},
		{"+27846571261", "27846571261", Dialling{}, true}, // no country code: the digits as written still match
		{"+27846571261", "0846571261", Dialling{}, false}, // …but +27 is not known to be 0
		{"+44 20 7946 0958", "0846571261", za, false},
		{"+44 20 7946 0958", "+442079460958", za, true},
		{"+27846571261", "0846571262", za, false},
		{"084 657 1261", "0846 5712 61", za, true}, // stored with other spacing
		{"2719", "2719", za, true},                 // an extension: not an international number
		{"2719", "0212719000", za, true},
		{"+1 212 555 0100", "02125550100", Dialling{CountryCode: "1"}, true}, // a one-digit code
		{"02125550100", "+12125550100", Dialling{CountryCode: "1"}, true},
	} {
		m := State{Search: tc.search}.MatcherWith(nil, tc.d)
		r := cdr.Record{CallerID: tc.stored}
		if got := m(&r); got != tc.want {
			t.Errorf("search %q, caller ID %q, country code %q: match %v, want %v", tc.search, tc.stored, tc.d.CountryCode, got, tc.want)
		}
		r = cdr.Record{DialledNumber: tc.stored}
		if got := m(&r); got != tc.want {
			t.Errorf("search %q, dialled %q: match %v, want %v", tc.search, tc.stored, got, tc.want)
		}
	}
}

// Searches that are not numbers keep the plain text search.
func TestTextSearchUnchanged(t *testing.T) {
	r := cdr.Record{UniqueID: "1396000115.1", FriendlyName: "Smith, John", CallerID: "0821234567"}
	for _, q := range []string{"1396000115.1", "smith", "Smith, J", "082123"} {
		if !(State{Search: q}.MatcherWith(nil, Dialling{CountryCode: "27"}))(&r) {
			t.Errorf("search %q no longer finds the call", q)
		}
	}
	if (State{Search: "1396000115.2"}.MatcherWith(nil, Dialling{CountryCode: "27"}))(&r) {
		t.Error("a different ID matches")
	}
}

func TestParseCountryCode(t *testing.T) {
	for in, want := range map[string]string{"27": "27", "+27": "27", " +1 ": "1", "+358": "358"} {
		if got, err := ParseCountryCode(in); err != nil || got != want {
			t.Errorf("ParseCountryCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "+", "0", "027", "1234", "2a", "++27"} {
		if _, err := ParseCountryCode(in); err == nil || !strings.Contains(err.Error(), "calling code") {
			t.Errorf("ParseCountryCode(%q) error %v", in, err)
		}
	}
}

// The matcher allocates nothing per row, phone numbers included.
func TestPhoneMatchDoesNotAllocate(t *testing.T) {
	m := State{Search: "+27 84 657 1261"}.MatcherWith(nil, Dialling{CountryCode: "27"})
	r := cdr.Record{DialledNumber: "27115551234", CallerID: `"Vodacom" <+27 84 657 1260>`} // the fast path and the general one
	if n := testing.AllocsPerRun(100, func() { m(&r) }); n != 0 {
		t.Fatalf("%v allocations per row", n)
	}
}

func FuzzSearchNumber(f *testing.F) {
	for _, s := range [][2]string{{"084 657 1261", "+27846571261"}, {"+27 (0)84", "0027846571261"}, {"00", "0"}, {"+", "+"}} {
		f.Add(s[0], s[1], "27")
	}
	f.Fuzz(func(t *testing.T, q, stored, cc string) {
		d := Dialling{}
		if c, err := ParseCountryCode(cc); err == nil {
			d.CountryCode = c
		}
		m := State{Search: q}.MatcherWith(nil, d)
		r := cdr.Record{CallerID: stored, DialledNumber: stored}
		got := m == nil || m(&r)
		// A number always finds itself, however it is written.
		if want, ok := phoneQuery(strings.ToLower(strings.TrimSpace(q)), d); ok && strings.TrimSpace(q) == strings.TrimSpace(stored) && !got {
			t.Fatalf("search %q does not find itself (digits %q)", q, want)
		}
	})
}

// The fast path for fields of digits only agrees with the general one.
func FuzzPlainNumberFastPath(f *testing.F) {
	for _, s := range [][3]string{{"0846571261", "27846571261", "27"}, {"084", "0027084657", "27"}, {"123", "1123456789", "1"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, q, stored, cc string) {
		if !digitsOnly(stored) || len(stored) > maxNumberDigits {
			return
		}
		d := Dialling{}
		if c, err := ParseCountryCode(cc); err == nil {
			d.CountryCode = c
		}
		want, ok := phoneQuery(q, d)
		if !ok {
			return
		}
		if fast, slow := containsPlainNumber(stored, want, d), containsNumberRuns(stored, want, d); fast != slow {
			t.Fatalf("search %q in %q (cc %q): fast path %v, general %v", q, stored, d.CountryCode, fast, slow)
		}
	})
}
