package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
)

// What a hostile caller types as a caller ID, and what a broken PBX puts in its other fields.
const escCallerID = "\x1b]0;PWNED\x07\x1b[31m"

// poison gives the newest calls hostile text in every field the PBX fills (f makes the text from a field's
// value) and the users hostile names.
func poison(recs []cdr.Record, f func(string) string) {
	n := len(recs)
	for i := n - 6; i < n; i++ {
		r := &recs[i]
		r.CallType = cdr.CallInbound
		r.CallerID = f(escCallerID)
		r.FriendlyName = f(r.FriendlyName + "\u202egnp.exe")
		r.UniqueID = f(r.UniqueID + "\x1b[2J")
		r.RawCallType = f("CALLTYPE_\x1b[5mINBOUND")
		r.RawDisposition = f("CALL_\x9b31mANSWERED")
		r.AccountCode = f("acct\r\nforged line")
		r.Channel = f("SIP/\x00201\x7f")
		r.DestChannel = f("SIP/\u2066202\u2069")
		r.Recording = f("rec\x1b[8m.gsm")
		r.RecordingSize = 16500
	}
	// A disposition word the PBX made up is kept as it is, like an unknown call type.
	recs[n-2].Disposition = cdr.Disposition(f("\x1b[5mlost"))
	recs[n-3].CallType = cdr.CallType(f("\x1b[5mtransfer"))
	recs[n-4].Extension = f("2\x1b[8m09")
}

// hostileSource is memSource with hostile user names.
type hostileSource struct {
	*memSource
	names func(string) string
}

func (s *hostileSource) Users(ctx context.Context) ([]cdr.User, error) {
	us, err := s.memSource.Users(ctx)
	for i := range us {
		us[i].Name = s.names("\x1b[31m" + us[i].Name + "\u202e")
	}
	us = append(us, cdr.User{Extension: s.names("2\x1b[8m99"), Name: "Hidden"})
	return us, err
}

// TestHostileTextShowsAsText renders every screen that shows a PBX's text twice: once with hostile text
// (escape sequences, C1, bidi controls, line breaks) and once with that text as the cleaned form a person
// would type it (`\x1b]0;PWNED…` as characters). The frames must be the same, byte for byte, styling included:
// the hostile text reached the terminal only as visible characters, and everything was laid out with the
// cleaned width.
func TestHostileTextShowsAsText(t *testing.T) {
	screens := []struct {
		name  string
		setup func(h *harness)
	}{
		{"calls", func(h *harness) {}},
		{"detail", func(h *harness) { h.keys("d") }},
		{"detail-2", func(h *harness) { h.keys("down", "down", "d") }},
		{"users", func(h *harness) { h.keys("u") }},
		{"overview", func(h *harness) {
			h.keys("o")
			h.waitFor("the count", func() bool { return !strings.Contains(h.screen(), "Counting calls") })
		}},
		{"player", func(h *harness) { h.keys("enter") }},
		{"search", func(h *harness) { h.keys("/"); h.typeText("PWNED"); h.keys("enter") }},
		{"export", func(h *harness) { h.keys("space", "e") }},
		{"filter-panel", func(h *harness) { h.keys("f"); h.typeText("2") }},
	}
	frame := func(t *testing.T, f func(string) string, w, ht int, setup func(*harness)) string {
		recs := makeRecords(80, fixedNow())
		poison(recs, f)
		src := &hostileSource{memSource: &memSource{recs: recs}, names: f}
		h := newHarness(t, Options{Source: src}, w, ht)
		h.idle()
		setup(h)
		return h.screen()
	}
	hostile := func(s string) string { return s }
	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				var got, want string
				inWorld(t, func(t *testing.T) { got = frame(t, hostile, size[0], size[1], sc.setup) })
				inWorld(t, func(t *testing.T) { want = frame(t, safetext.Terminal, size[0], size[1], sc.setup) })
				if got != want {
					gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("line %d differs from the cleaned text's frame:\n got %q\nwant %q", i, gl[i], wl[i])
						}
					}
					t.Fatalf("the frames differ in length: %d and %d lines", len(gl), len(wl))
				}
				if sc.name != "search" { // a short list leaves empty lines below it
					checkSize(t, got, size[0], size[1])
				}
			})
		}
	}
	// And the hostile caller ID is there to see, as text.
	var screen string
	inWorld(t, func(t *testing.T) { screen = ansi.Strip(frame(t, hostile, 200, 50, func(*harness) {})) })
	if !strings.Contains(screen, `\x1b]0;PWNED`) {
		t.Errorf("the caller ID does not show as text:\n%s", screen)
	}
}

// A link from a ticket opens the app on a call (--id): an ID that carries escape sequences is shown, in the
// error that stays on screen, as text.
func TestHostileStartupIDShowsAsText(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		h := newHarness(t, Options{Source: &memSource{recs: makeRecords(20, fixedNow())}, Goto: cdr.ByID(escCallerID + "1.2")}, 200, 50)
		h.idle()
		screen := h.screen()
		if strings.Contains(screen, "\x1b]0;") || strings.Contains(screen, "\x07") {
			t.Fatalf("the ID's escape sequences reach the terminal: %q", screen)
		}
		if !strings.Contains(ansi.Strip(screen), `cannot go to ID \x1b]0;PWNED`) {
			t.Fatalf("the error does not show the ID as text:\n%s", ansi.Strip(screen))
		}
	})
}
