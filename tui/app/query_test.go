package app

import (
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestWhatIsLoadedIsAValue: the query the app keeps as "what is loaded" is the plain value it asked for, equal
// (==) to it, while the warnings of that fetch (malformed index lines) still reach the status bar through the
// fetch's own Observer.
func TestWhatIsLoadedIsAValue(t *testing.T) {
	w := startSim(t, pbxsim.Options{Faults: pbxsim.Faults{MalformedEvery: 10}}, pbxsim.DefaultComxPassword)
	h := w.harness(t, Options{}, 120, 40)
	h.idle()
	today := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	if want := (cdr.Query{From: today, To: today.AddDate(0, 0, 1), Extended: true}); h.m.Query() != want {
		t.Errorf("loaded %+v, want %+v", h.m.Query(), want)
	}
	if note := h.m.Status().Note(); !strings.Contains(note, "malformed rows skipped (last: line ") {
		t.Errorf("status %q does not count the malformed rows", note)
	}
	h.keys("r")
	h.idle()
	if want := (cdr.Query{From: today, To: today.AddDate(0, 0, 1), Extended: true}); h.m.Query() != want {
		t.Errorf("after a refresh %+v, want %+v", h.m.Query(), want)
	}
}
