package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// TestGoldenScreens keeps a text capture of each main screen at three terminal sizes; `go test ./tui/app
// -update` rewrites them. The world is fixed: the clock, the calls, no colour.
func TestGoldenScreens(t *testing.T) {
	screens := []struct {
		name  string
		setup func(h *harness)
	}{
		{"calls", func(h *harness) { h.keys("down", "down", "space", "space") }},
		{"detail", func(h *harness) { h.keys("down", "d") }},
		{"filtered", func(h *harness) {
			h.keys("f")
			h.typeText("201,203")
			h.keys("enter", "/")
			h.typeText("082555")
			h.keys("enter")
		}},
		{"filter-panel", func(h *harness) { h.keys("f"); h.typeText("202") }},
		{"help", func(h *harness) { h.keys("?") }},
		{"export", func(h *harness) { h.keys("space", "space", "e") }},
		{"overview", func(h *harness) {
			h.keys("o")
			h.waitFor("the count", func() bool { return !strings.Contains(h.screen(), "Counting calls") })
		}},
		{"users", func(h *harness) { h.keys("u") }},
		{"goto", func(h *harness) { h.keys(":"); h.typeText("1709294503.297") }},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 50}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				inWorld(t, func(t *testing.T) {
					recs := makeRecords(todayCalls, fixedNow())
					h := newHarness(t, Options{Source: &memSource{recs: recs}, NoColor: true}, size[0], size[1])
					h.idle()
					sc.setup(h)
					screen := h.screen()
					checkSize(t, screen, size[0], size[1])
					golden.RequireEqual(t, ansi.Strip(screen))
				})
			})
		}
	}
}

// TestGoldenColour keeps one screen per theme with its colours and styles, so a change to the palette or to a
// style shows in a diff: the calls with two marked and the cursor on a third, the details pane, a filter and a
// sticky warning. The frames hold the escape sequences as the app writes them.
func TestGoldenColour(t *testing.T) {
	for _, dark := range []bool{true, false} {
		name := map[bool]string{true: "dark", false: "light"}[dark]
		t.Run(name+"-120x40", func(t *testing.T) {
			inWorld(t, func(t *testing.T) {
				warn := make(chan string, 1)
				warn <- "memory archive accepts the factory default password for user admin: change it on the PBX"
				close(warn)
				recs := makeRecords(todayCalls, fixedNow())
				h := newHarness(t, Options{Source: &memSource{recs: recs}, Dark: &dark, Warnings: warn}, 120, 40)
				h.idle()
				h.keys("space", "down", "space", "down", "d", "f")
				h.typeText("201,202,203")
				h.keys("enter")
				screen := h.screen()
				checkSize(t, screen, 120, 40)
				if !strings.Contains(screen, "\x1b[") {
					t.Fatal("the frame has no colour")
				}
				golden.RequireEqual(t, screen)
			})
		})
	}
}

// checkSize makes sure a frame fills the terminal exactly: no line too long, none missing.
func checkSize(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

// TestResizeReflows checks that every frame fits the terminal as it is resized, from tiny to huge, with the
// detail pane, the player-less layout and a dialog.
func TestResizeReflows(t *testing.T) {
	inWorld(t, func(t *testing.T) {
		recs := makeRecords(todayCalls, fixedNow())
		h := newHarness(t, Options{Source: &memSource{recs: recs}}, 80, 24)
		h.idle()
		for _, keys := range [][]string{nil, {"d"}, {"f"}, {"esc", "?"}} {
			h.keys(keys...)
			for _, sz := range [][2]int{{30, 8}, {45, 12}, {80, 24}, {100, 30}, {110, 30}, {300, 80}} {
				h.send(winSize(sz[0], sz[1]))
				checkSize(t, h.screen(), sz[0], sz[1])
			}
		}
		h.send(winSize(20, 5))
		if !strings.Contains(h.screen(), "too small") {
			t.Fatalf("a too-small terminal does not say so:\n%s", h.screen())
		}
	})
}
