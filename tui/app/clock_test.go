package app

import (
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
)

// TestTodayIsThePBXsDayByItsClock, end to end: a Com.X (the simulator over HTTP, through the real client) whose
// clock is years behind this computer's. The app opens on this computer's today, which the PBX has no calls
// for; its first answer carries the PBX's clock (the Date header), and the app loads the PBX's today instead.
// The presets then follow the PBX's days.
func TestTodayIsThePBXsDayByItsClock(t *testing.T) {
	loc := johannesburg(t)
	pbxNow := time.Date(2019, 6, 15, 14, 0, 0, 0, loc)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, CallsPerDay: 60, Zone: loc, Now: pbxNow, FrozenClock: true,
		End: time.Date(2019, 6, 16, 0, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	src := offBubble(t, comxSource(t, srv.URL(), pbxsim.DefaultComxPassword))
	workstation := func() time.Time { return time.Date(2026, 3, 4, 12, 0, 0, 0, loc) }
	inWorld(t, func(t *testing.T) {
		h := newHarness(t, Options{Source: src, Now: workstation}, 120, 40)
		h.idle()
		day := time.Date(2019, 6, 15, 0, 0, 0, 0, time.UTC)
		want := 0
		srv.Calls(time.Date(2019, 6, 15, 0, 0, 0, 0, loc), time.Date(2019, 6, 16, 0, 0, 0, 0, loc), func(r cdr.Record) bool {
			if !r.Start.After(pbxNow) {
				want++
			}
			return true
		})
		if q := h.m.load.query; !q.From.Equal(day) || !q.To.Equal(day.AddDate(0, 0, 1)) || want == 0 || h.m.table.Loaded() != want {
			t.Fatalf("today loaded %v → %v with %d calls; want the PBX's 2019-06-15 with %d", q.From, q.To, h.m.table.Loaded(), want)
		}
		if sc := h.screen(); !strings.Contains(sc, "today 2019-06-15") {
			t.Errorf("the screen does not say the PBX's today:\n%s", sc)
		}
		h.keys("y")
		h.idle()
		if q := h.m.load.query; !q.From.Equal(day.AddDate(0, 0, -1)) {
			t.Errorf("yesterday loaded %v, want 2019-06-14", q.From)
		}
	})
}
