package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/playerbar"
)

// These tests are the "first five minutes" of issue 11: the moments where a support person would conclude that
// callscope is wrong. Each one failed on the code before its fix.

// A wide range arrives oldest first in several batches: the app still opens on the newest call, selected and on
// screen, not in the middle of the list.
func TestOpensOnNewestCallOfAWideRange(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		end := fixedNow()
		recs := makeRecords(6000, end) // 97 s apart: about a week, streamed oldest first
		src := &memSource{recs: recs}
		from := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
		h := newHarness(t, Options{Source: src, Initial: cdr.Query{From: from}}, 120, 40)
		h.idle()
		m := h.m
		if m.table.Loaded() != len(recs) {
			t.Fatalf("loaded %d of %d", m.table.Loaded(), len(recs))
		}
		newest := recs[len(recs)-1]
		if sel := m.table.Selected(); sel == nil || sel.UniqueID != newest.UniqueID {
			t.Fatalf("opened on %v, want the newest call %s", sel, newest.UniqueID)
		}
		if sc := ansi.Strip(h.screen()); !strings.Contains(sc, cdr.WallClock(newest.Start).Format("2006-01-02 15:04:05")) {
			t.Fatalf("the newest call is not on screen:\n%s", sc)
		}
	})
}

// While a wide range streams in, a call the user picked stays selected and on screen.
func TestPickedCallStaysWhileRowsStreamIn(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(6000, fixedNow())
		src := &memSource{recs: recs, pause: make(chan struct{}), pauseAfter: 2500}
		h := newHarness(t, Options{Source: src, Initial: cdr.Query{From: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}}, 120, 40)
		m := h.m
		h.waitFor("the first rows", func() bool { return m.table.Loaded() >= 2500 })
		h.keys("down", "down", "down")
		picked := m.table.Selected().UniqueID
		close(src.pause)
		h.idle()
		if got := m.table.Selected().UniqueID; got != picked {
			t.Fatalf("rows streaming in moved the selection from %s to %s", picked, got)
		}
		if sc := ansi.Strip(h.screen()); !strings.Contains(sc, cdr.WallClock(m.table.Selected().Start).Format("15:04:05")) {
			t.Fatalf("the picked call is off screen:\n%s", sc)
		}
	})
}

// `--id` to a call the PBX does not have: the app opens on today and says so, and the error stays on screen
// (after today's load reports its count, after keys) until esc dismisses it.
func TestStartupGotoUnknownCallStaysUntilDismissed(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		h := newHarness(t, Options{Source: &memSource{recs: recs}, Goto: cdr.ByID("1396000115.1")}, 120, 40)
		h.idle()
		if h.m.table.Loaded() != todayCalls {
			t.Fatalf("did not open on today: %d rows", h.m.table.Loaded())
		}
		h.keys("down", "down", "up")
		if sc := h.screen(); !strings.Contains(sc, "1396000115.1") || !strings.Contains(sc, "no call") {
			t.Fatalf("the --id error is not on screen after the load:\n%s", sc)
		}
		if sc := h.screen(); !strings.Contains(sc, "300/300 calls") {
			t.Fatalf("the error hides the counts:\n%s", sc)
		}
		for _, sz := range [][2]int{{30, 8}, {80, 24}, {200, 50}, {120, 40}} {
			h.send(winSize(sz[0], sz[1]))
			checkSize(t, h.screen(), sz[0], sz[1])
		}
		h.keys("esc")
		if sc := h.screen(); strings.Contains(sc, "1396000115.1") {
			t.Fatalf("esc did not dismiss the --id error:\n%s", sc)
		}
	})
}

// `:` to a call that is already in the list selects it and says so: "fetching …" never stays on screen.
func TestGotoLoadedCallLeavesNoFetchingNote(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		target := src.recs[5+42]
		h.keys(":")
		h.typeText(target.UniqueID)
		h.keys("enter")
		h.waitFor("the call", func() bool { s := h.m.table.Selected(); return s != nil && s.UniqueID == target.UniqueID })
		h.drain()
		if sc := h.screen(); strings.Contains(sc, "fetching") {
			t.Fatalf("a go-to a loaded call left the fetching note:\n%s", sc)
		}
	})
}

// Empty results say why, and what to do.
func TestEmptyResultsSayWhy(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		h.keys("/")
		h.typeText("no such thing")
		h.keys("enter")
		sc := h.screen()
		if !strings.Contains(sc, "no calls match") || !strings.Contains(sc, "esc clears") || !strings.Contains(sc, "(300 loaded)") {
			t.Fatalf("a search that matches nothing does not say why:\n%s", sc)
		}
		h.keys("esc", "R")
		for range 20 {
			h.keys("backspace")
		}
		h.typeText("2023-01-01")
		h.keys("tab")
		for range 20 {
			h.keys("backspace")
		}
		h.typeText("2023-01-02")
		h.keys("enter")
		h.idle()
		if sc := h.screen(); !strings.Contains(sc, "no calls on 2023-01-01") {
			t.Fatalf("an empty range does not say so:\n%s", sc)
		}
	})
}

// inferringSource is a PBX whose zone is only known once rows arrive (no --tz: inferred from the unique IDs),
// as a Com.X's is.
type inferringSource struct {
	*memSource
	mu    sync.Mutex
	known bool
}

func (s *inferringSource) Zone() cdr.ZoneInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		return cdr.ZoneInfo{}
	}
	return cdr.ZoneInfo{Location: pbxZone, Inferred: true}
}

func (s *inferringSource) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	return s.memSource.Calls(ctx, q, func(r cdr.Record) error {
		s.mu.Lock()
		s.known = true
		s.mu.Unlock()
		return fn(r)
	})
}

// "Today" is the PBX's day: a workstation in Los Angeles at 17:00 on 5 December looks at a PBX two hours east of
// UTC, where it is already 03:00 on 6 December. The presets follow the PBX, and the header says whose clock.
func TestTodayIsThePBXsDay(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		la := time.FixedZone("UTC-08:00", -8*3600)
		pbxNow := time.Date(2026, 12, 6, 3, 0, 0, 0, pbxZone)
		now := func() time.Time { return pbxNow.In(la) }
		recs := append(makeRecords(50, time.Date(2026, 12, 5, 18, 0, 0, 0, pbxZone)), makeRecords(20, pbxNow)...)
		src := &inferringSource{memSource: &memSource{recs: recs}}
		h := newHarness(t, Options{Source: src, Now: now}, 120, 40)
		h.idle()
		m := h.m
		day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		if q := m.load.query; !q.From.Equal(day) || !q.To.Equal(day.AddDate(0, 0, 1)) {
			t.Fatalf("today loaded %v → %v, want the PBX's 2026-12-06", q.From, q.To)
		}
		sc := h.screen()
		if !strings.Contains(sc, "today 2026-12-06") || !strings.Contains(sc, "PBX time UTC+02:00") {
			t.Fatalf("the header does not say the PBX's today and zone:\n%s", sc)
		}
		h.keys("y")
		h.idle()
		if q := m.load.query; !q.From.Equal(day.AddDate(0, 0, -1)) {
			t.Fatalf("yesterday loaded %v, want 2026-12-05", q.From)
		}
		h.keys("m")
		h.idle()
		if q := m.load.query; !q.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(day.AddDate(0, 0, 1)) {
			t.Fatalf("this month loaded %v → %v", q.From, q.To)
		}
	})
}

// clockSource is a PBX that says what time it is (its HTTP Date header), here years behind the workstation.
type clockSource struct {
	*memSource
	now time.Time
}

func (s *clockSource) PBXClock() (time.Time, bool) { return s.now, true }

func TestTodayFollowsThePBXsClock(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		pbxNow := time.Date(2014, 3, 28, 12, 0, 0, 0, pbxZone)
		src := &clockSource{memSource: &memSource{recs: makeRecords(40, pbxNow)}, now: pbxNow}
		h := newHarness(t, Options{Source: src}, 120, 40) // the workstation says 2024-03-01
		h.idle()
		if q := h.m.load.query; !q.From.Equal(time.Date(2014, 3, 28, 0, 0, 0, 0, time.UTC)) || h.m.table.Loaded() != 40 {
			t.Fatalf("today by the PBX's clock loaded %v (%d rows), want 2014-03-28", q.From, h.m.table.Loaded())
		}
	})
}

// With a PBX in the workstation's own zone, the header does not repeat it.
func TestHeaderOmitsZoneWhenTheSame(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, _ := newWorld(t, 120, 40)
		if sc := h.screen(); strings.Contains(sc, "PBX time") {
			t.Fatalf("the header names the zone although it is the workstation's:\n%s", sc)
		}
	})
}

// The factory-default password warning reaches the status bar while the app runs.
func TestWarningsReachTheStatusBar(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		warn := make(chan string, 1)
		defer close(warn) // the app waits on it to the end
		recs := makeRecords(todayCalls, fixedNow())
		h := newHarness(t, Options{Source: &memSource{recs: recs}, Warnings: warn}, 120, 40)
		h.idle()
		warn <- "memory archive accepts the factory default password for user admin: change it on the PBX"
		h.waitFor("the warning", func() bool { return strings.Contains(h.screen(), "factory default password") })
		h.keys("down", "r")
		h.idle()
		if !strings.Contains(h.screen(), "factory default password") {
			t.Fatalf("the warning did not stay on screen:\n%s", h.screen())
		}
	})
}

// The details pane at 80×24: every field can be reached (it scrolls), "Length" is the recording's own length,
// not the billable time, and sizes are written as everywhere else.
func TestDetailPaneReachesEveryFieldAt80x24(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		rec := makeRecords(1, fixedNow())[0]
		rec.Disposition, rec.DurationS, rec.BillableS = cdr.DispAnswered, 130, 117
		rec.Recording, rec.RecordingSize = "20240301-1.gsm", 9*1650+33 // 9 s of GSM 06.10 and a frame
		rec.AccountCode, rec.DestChannel = "SALES", "SIP/trunk-0001"
		h := newHarness(t, Options{Source: &memSource{recs: []cdr.Record{rec}}}, 80, 24)
		h.idle()
		h.keys("d")
		seen := map[string]string{}
		for range 30 {
			for _, ln := range strings.Split(ansi.Strip(h.screen()), "\n") {
				for _, f := range []string{"Disposition", "Duration", "Recording", "Length", "Size", "Dest channel"} {
					if i := strings.Index(ln, "│ "+f); i >= 0 {
						seen[f] = strings.TrimSpace(strings.Trim(ln[i+len("│ "+f):], "│ "))
					}
				}
			}
			h.keys("J")
		}
		for _, f := range []string{"Disposition", "Duration", "Recording", "Length", "Size", "Dest channel"} {
			if _, ok := seen[f]; !ok {
				t.Errorf("%s cannot be reached in the details pane at 80×24", f)
			}
		}
		if got := seen["Length"]; !strings.HasPrefix(got, "0:09") {
			t.Errorf("Length %q, want the recording's 0:09 (not the billable 1:57)", got)
		}
		if got := seen["Size"]; got != "14.9 kB" {
			t.Errorf("Size %q, want 14.9 kB", got)
		}
	})
}

// After playing a call the details pane shows the recording's length as decoded.
func TestDetailLengthFromThePlayer(t *testing.T) {
	w := startSim(t, pbxsim.Options{RecordingsDir: pbxsim.DefaultRecordings()}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 200, 50)
		h.idle()
		m := h.m
		for range 100 {
			if s := m.table.Selected(); s != nil && s.HasRecording() && !strings.HasSuffix(strings.ToLower(s.Recording), ".gsm") {
				break
			}
			h.keys("down")
		}
		sel := m.table.Selected()
		if sel == nil || !sel.HasRecording() {
			t.Skip("no recorded WAV call in the simulated day")
		}
		h.keys("d")
		if sc := h.screen(); !strings.Contains(sc, "known once played") {
			t.Fatalf("a WAV's length is shown before it was decoded:\n%s", sc)
		}
		h.keys("enter")
		h.waitFor("the player", func() bool { return m.player.Phase() == playerbar.Loaded })
		want := m.player.State().Length
		h.send(winSize(200, 50))
		if sc := h.screen(); !strings.Contains(sc, "Length") || !strings.Contains(sc, common.Duration(int(want.Round(time.Second)/time.Second))) {
			t.Fatalf("Length does not show the decoded %v:\n%s", want, sc)
		}
	})
}

// The search understands phone numbers: spaces, dashes and brackets do not matter, and with the PBX's country
// code +27 stands for the trunk prefix 0.
func TestSearchFindsPhoneNumbers(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		h := newHarness(t, Options{Source: &memSource{recs: recs}, CountryCode: "27"}, 120, 40)
		h.idle()
		for _, q := range []string{"082 555 0009", "(082) 555-0009", "+27825550009", "+27 82 555 0009"} {
			h.keys("/")
			h.typeText(q)
			h.keys("enter")
			if rows := rowsOf(h.m); len(rows) != 1 || rows[0].CallerID != "0825550009" {
				t.Errorf("search %q found %d calls, want the one from 0825550009", q, len(rows))
			}
			h.keys("esc")
		}
	})
}

// unlistedSource finds one call by its ID that no list of calls includes (a PBX whose lookup and list disagree,
// or a call that moved to another day).
type unlistedSource struct {
	*memSource
	extra cdr.Record
}

func (s *unlistedSource) Call(ctx context.Context, l cdr.Lookup) (cdr.Record, error) {
	if l.ID == s.extra.UniqueID {
		return s.extra, nil
	}
	return s.memSource.Call(ctx, l)
}

// A call asked for while a load runs (at start-up with --id, or with `:`) that the loaded day does not list is
// added and selected once the load ends, and the status bar says so: the note is not dropped.
func TestGotoCallTheLoadDoesNotListSaysSo(t *testing.T) {
	extra := makeRecords(1, fixedNow().Add(-time.Hour))[0]
	extra.UniqueID = "1709290000.77"
	check := func(t *testing.T, h *harness) {
		t.Helper()
		if s := h.m.table.Selected(); s == nil || s.UniqueID != extra.UniqueID {
			t.Fatalf("selected %v, want the call asked for", s)
		}
		if n := h.m.table.Loaded(); n != todayCalls+1 {
			t.Fatalf("%d rows loaded, want today's %d and the call", n, todayCalls+1)
		}
		if line := h.statusLine(); !strings.Contains(line, "call "+extra.UniqueID+" is outside the loaded range") {
			t.Fatalf("the status bar %q does not say the call was added", line)
		}
	}
	t.Run("startup", func(t *testing.T) {
		inWorld(t, func(t *testing.T) {
			src := &unlistedSource{memSource: &memSource{recs: makeRecords(todayCalls, fixedNow())}, extra: extra}
			h := newHarness(t, Options{Source: src, Goto: cdr.ByID(extra.UniqueID)}, 120, 40)
			h.idle()
			h.waitFor("the call", func() bool { s := h.m.table.Selected(); return s != nil && s.UniqueID == extra.UniqueID })
			check(t, h)
		})
	})
	t.Run("during a load", func(t *testing.T) {
		inWorld(t, func(t *testing.T) {
			src := &unlistedSource{memSource: &memSource{recs: makeRecords(todayCalls, fixedNow())}, extra: extra}
			h := newHarness(t, Options{Source: src}, 120, 40)
			h.idle()
			src.mu.Lock()
			src.gate = make(chan struct{})
			src.mu.Unlock()
			h.keys("t")
			h.keys(":")
			h.typeText(extra.UniqueID)
			h.keys("enter")
			h.waitFor("the lookup", func() bool {
				for _, msg := range h.seen {
					if g, ok := msg.(gotoMsg); ok && g.err == nil {
						return true
					}
				}
				return false
			})
			close(src.gate)
			h.idle()
			check(t, h)
		})
	})
}

// `:` to a loaded call a filter hides clears the filters and puts the cursor on the call.
func TestGotoCallHiddenByAFilter(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h, src := newWorld(t, 120, 40)
		target := src.recs[5+10] // extension 205
		h.keys("f")
		h.typeText("201")
		h.keys("enter")
		h.keys(":")
		h.typeText(target.UniqueID)
		h.keys("enter")
		h.waitFor("the filters to clear", func() bool { return h.m.filters.IsZero() })
		if s := h.m.table.Selected(); s == nil || s.UniqueID != target.UniqueID {
			t.Fatalf("selected %v, want %s", s, target.UniqueID)
		}
	})
}

// An archive synced months ago holds no call today: the app opens on the day of its newest call instead, with
// the cursor on that call, and says why. A PBX (its today is the truth) and an empty archive stay on today, and
// a range the user loads before the archive answers is not taken away.
func TestArchiveOpensOnItsNewestDay(t *testing.T) {
	recs := makeRecords(300, fixedNow().AddDate(0, -3, 0).Add(-5*time.Hour))
	newest := recs[len(recs)-1]
	day := cdr.WallClock(newest.Start).Format("2006-01-02")
	onDay := 0
	for _, r := range recs {
		if cdr.WallClock(r.Start).Format("2006-01-02") == day {
			onDay++
		}
	}
	today := cdr.WallClock(fixedNow()).Format("2006-01-02")
	for _, tc := range []struct {
		name     string
		src      *memSource
		keys     []string // pressed before the archive's answer is taken
		gated    bool     // the archive's answer waits until the keys have loaded their range
		wantRows int
		wantText string // on screen
	}{
		{"archive", &memSource{recs: recs, pages: true}, nil, false, onDay, "nothing today: opened on the archive's newest day"},
		{"pbx", &memSource{recs: recs, pages: true, kind: cdr.KindDifuse}, nil, false, 0, "no calls on " + today},
		{"empty archive", &memSource{pages: true}, nil, false, 0, "no calls on " + today},
		{"user loads yesterday first", &memSource{recs: recs, pages: true}, []string{"y"}, false, 0, "no calls on"},
		{"user loads yesterday while the archive looks", &memSource{recs: recs, pages: true}, []string{"y"}, true, 0,
			"no calls on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inWorld(t, func(t *testing.T) {
				if tc.gated {
					tc.src.pageGate = make(chan struct{}) // made in the bubble, so waiting on it counts as blocked
				}
				h := newHarness(t, Options{Source: tc.src}, 120, 40)
				if tc.src.pageGate != nil {
					h.idle() // today is loaded; the search for the newest call waits at the gate
				}
				h.keys(tc.keys...)
				h.idle()
				if tc.src.pageGate != nil {
					close(tc.src.pageGate)
					h.drain()
					h.idle()
				}
				if got := h.m.table.Loaded(); got != tc.wantRows {
					t.Fatalf("%d calls loaded, want %d:\n%s", got, tc.wantRows, ansi.Strip(h.screen()))
				}
				if sc := ansi.Strip(h.screen()); !strings.Contains(sc, tc.wantText) {
					t.Fatalf("%q is not on screen:\n%s", tc.wantText, sc)
				}
				if tc.wantRows > 0 {
					if sel := h.m.table.Selected(); sel == nil || sel.UniqueID != newest.UniqueID {
						t.Fatalf("opened on %v, want the newest call %s", sel, newest.UniqueID)
					}
				}
			})
		})
	}
}
