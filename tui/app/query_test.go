package app

import (
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/tui/common"
)

// TestWhatIsLoadedIsAValue: the query the app keeps as "what is loaded" is the plain value it asked for, equal
// (==) to it, while the warnings of that fetch (malformed index lines) still reach the status bar through the
// fetch's own Observer.
func TestWhatIsLoadedIsAValue(t *testing.T) {
	w := startSim(t, pbxsim.Options{Faults: pbxsim.Faults{MalformedEvery: 10}}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		today := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
		if want := (cdr.Query{From: today, To: today.AddDate(0, 0, 1), Extended: true}); h.m.load.query != want {
			t.Errorf("loaded %+v, want %+v", h.m.load.query, want)
		}
		// The note is read from what was sent to the status bar: in the test's fake time its display timer has
		// already run out by the time the model settles.
		counted := false
		for _, msg := range h.seen {
			if st, ok := msg.(common.StatusMsg); ok && strings.Contains(st.Text, "malformed rows skipped (last: line ") {
				counted = true
			}
		}
		if !counted {
			t.Errorf("no status note counts the malformed rows")
		}
		h.keys("r")
		h.idle()
		if want := (cdr.Query{From: today, To: today.AddDate(0, 0, 1), Extended: true}); h.m.load.query != want {
			t.Errorf("after a refresh %+v, want %+v", h.m.load.query, want)
		}
	})
}
