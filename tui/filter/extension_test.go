package filter

import (
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// TestExtensionFilterMatchesSourceOrDestination: the app's extension filter keeps a call when the extension is
// its source or its destination, as `callscope calls --ext` and the PBXs do (an internal call from 8260 to
// 8266 is a call of 8266 too).
func TestExtensionFilterMatchesSourceOrDestination(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    cdr.Record
		want bool
	}{
		{"internal call from it", cdr.Record{CallType: cdr.CallInternal, Extension: "8266", DialledNumber: "8260"}, true},
		{"internal call to it", cdr.Record{CallType: cdr.CallInternal, Extension: "8260", DialledNumber: "8266"}, true},
		{"routed to it through the dialplan", cdr.Record{CallType: cdr.CallOther, Extension: "8260", DialledNumber: "8266"}, true},
		{"inbound, answered by it", cdr.Record{CallType: cdr.CallInbound, Extension: "8266", CallerID: "0215551234"}, true},
		{"outbound from it", cdr.Record{CallType: cdr.CallOutbound, Extension: "8266", DialledNumber: "0215551234"}, true},
		{"another extension's internal call", cdr.Record{CallType: cdr.CallInternal, Extension: "8260", DialledNumber: "8270"}, false},
		{"outbound to a number that looks like it", cdr.Record{CallType: cdr.CallOutbound, Extension: "8260", DialledNumber: "8266"}, false},
		{"inbound to another", cdr.Record{CallType: cdr.CallInbound, Extension: "8270", DialledNumber: "8266"}, false},
	} {
		match := State{Extensions: []string{"8266"}}.MatcherWith(nil, Dialling{})
		if got := match(&tc.r); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, got, tc.want)
		}
		// With several extensions chosen, the same rule for each.
		match = State{Extensions: []string{"1000", "8266"}}.MatcherWith(nil, Dialling{})
		if got := match(&tc.r); got != tc.want {
			t.Errorf("%s, two extensions: match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
