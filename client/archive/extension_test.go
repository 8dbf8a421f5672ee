package archive

import (
	"slices"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// TestExtensionQueryMatchesSourceOrDestination: Query.Extension finds a call by its source or its destination
// (cdr.Record.InvolvesExtension), whatever the call type: an internal call, one routed through the dialplan to
// the extension, an inbound call it answered.
func TestExtensionQueryMatchesSourceOrDestination(t *testing.T) {
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.SetZone(ctx, time.UTC, false); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	recs := []cdr.Record{
		{UniqueID: "1.1", CallType: cdr.CallInternal, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.2", CallType: cdr.CallOther, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.3", CallType: cdr.CallUnknown, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.4", CallType: cdr.CallInbound, Extension: "8266", CallerID: "0215551234"},
		{UniqueID: "1.5", CallType: cdr.CallOutbound, Extension: "8266", DialledNumber: "0215551234"},
		{UniqueID: "1.6", CallType: cdr.CallOutbound, Extension: "8260", DialledNumber: "8266"},
		{UniqueID: "1.7", CallType: cdr.CallInternal, Extension: "8260", DialledNumber: "8270"},
	}
	for i := range recs {
		recs[i].Start = at.Add(time.Duration(i) * time.Minute)
		recs[i].Disposition = cdr.DispAnswered
	}
	put(t, a, recs, nil)
	var got []string
	for _, r := range all(t, a, cdr.Query{Extension: "8266"}) {
		got = append(got, r.UniqueID)
	}
	if want := []string{"1.1", "1.2", "1.3", "1.4", "1.5"}; !slices.Equal(got, want) {
		t.Errorf("calls of 8266: %v, want %v", got, want)
	}
}
