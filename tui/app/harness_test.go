package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"charm.land/bubbles/v2/cursor"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
)

// harness is a small Bubble Tea runtime for tests: it runs each Cmd in a goroutine, as the real program does,
// feeds the messages back to Update and lets a test wait until the model has settled, or for a condition.
//
// Settled is an exact signal, not a quiet spell: a model test runs in a synctest bubble (inWorld), where every
// goroutine it starts (each Cmd, each fetch) belongs to the test, and the model has settled when every one of
// them is durably blocked (on a timer, a gate, the next row of a source that holds it back) and no message waits
// to be handled. Time in the bubble is fake: a timer fires only when nothing else can run, so a 30 s follow
// poll costs nothing, and a wait that can never end fails at once. Periodic messages (spinner frames, cursor
// blinks, follow polls) are dropped so their chains end; a test that wants a poll sends the tick itself. Tests
// against the simulator keep the client's HTTP outside the bubble (offBubble).
type harness struct {
	t       testing.TB
	m       *Model
	msgs    chan tea.Msg
	pending int // Cmds started and not yet answered
	quit    bool
	// seen records every message handed to Update, for tests that look at what was sent.
	seen []tea.Msg
}

// inWorld runs a model test in a synctest bubble (see harness).
func inWorld(t *testing.T, f func(t *testing.T)) { synctest.Test(t, f) }

// newHarness starts the model at w×h; call it inside inWorld.
func newHarness(t testing.TB, o Options, w, h int) *harness {
	t.Helper()
	if o.Dark == nil {
		dark := true
		o.Dark = &dark
	}
	if o.Now == nil {
		o.Now = fixedNow
	}
	hs := &harness{t: t, m: New(o), msgs: make(chan tea.Msg, 1024)}
	// Every goroutine of the bubble must end before the test does: stop what runs, then let the clock run until
	// each Cmd has answered.
	t.Cleanup(hs.stop)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.exec(hs.m.Init())
	return hs
}

// stop quits the model, closes the player and handles messages until every Cmd has answered.
func (h *harness) stop() {
	h.m.quit()
	h.m.player.Close()
	h.quit = true
	for h.pending > 0 {
		h.pending--
		if msg := <-h.msgs; msg != nil {
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, c := range b {
					h.exec(c)
				}
			}
		}
	}
}

func (h *harness) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.pending++
	go func() { h.msgs <- cmd() }()
}

// periodic messages are dropped: answering them would keep the loop alive forever.
func periodic(msg tea.Msg) bool {
	switch msg.(type) {
	case spinner.TickMsg, cursor.BlinkMsg, followTick:
		return true
	}
	return false
}

func (h *harness) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			h.exec(c)
		}
		return
	case tea.QuitMsg:
		h.quit = true
		return
	}
	if periodic(msg) || h.quit {
		return
	}
	h.seen = append(h.seen, msg)
	_, cmd := h.m.Update(msg)
	h.exec(cmd)
}

// send delivers a message (a key, a size) and runs what it starts until the model settles.
func (h *harness) send(msg tea.Msg) {
	h.handle(msg)
	h.drain()
}

// keys sends key presses one by one; see press for the names.
func (h *harness) keys(names ...string) {
	for _, n := range names {
		h.send(press(n))
	}
}

// typeText sends each rune as a key press.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// drain handles messages until the model has settled: every goroutine of the test is durably blocked and no
// message is waiting.
func (h *harness) drain() {
	for {
		synctest.Wait()
		select {
		case msg := <-h.msgs:
			h.pending--
			h.handle(msg)
		default:
			return
		}
	}
}

// waitFor handles messages until cond holds, failing after timeout (fake time in a bubble: a wait that can
// never end fails as soon as nothing else can run).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.pending--
			h.handle(msg)
		case <-deadline.C:
			h.t.Fatalf("timed out waiting for %s; status bar %q", what, h.statusLine())
		}
	}
	h.drain()
}

// idle waits for the running fetch to end and the model to settle.
func (h *harness) idle() {
	h.t.Helper()
	h.waitFor("the fetch to finish", func() bool { return h.m.load.fetch == nil })
}

func (h *harness) screen() string { return h.m.View().Content }

// statusLine is the status bar as the user sees it (the line above the short help), without styling.
func (h *harness) statusLine() string {
	lines := strings.Split(ansi.Strip(h.screen()), "\n")
	if len(lines) < 2 {
		return ""
	}
	return lines[len(lines)-2]
}

// shownErr is the error the status bar shows, "" for none.
func (h *harness) shownErr() string {
	l := h.statusLine()
	i := strings.Index(l, "✗ ")
	if i < 0 {
		return ""
	}
	l = l[i+len("✗ "):]
	if j := strings.Index(l, " │ "); j >= 0 {
		l = l[:j]
	}
	return strings.TrimSpace(l)
}

func winSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

func press(s string) tea.KeyPressMsg {
	switch s {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "shift+right":
		return tea.KeyPressMsg{Code: tea.KeyRight, Mod: tea.ModShift}
	case "shift+left":
		return tea.KeyPressMsg{Code: tea.KeyLeft, Mod: tea.ModShift}
	}
	r := []rune(s)
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// The fixed world of the model and golden tests: a PBX two hours east of UTC, "now" in the afternoon of
// 1 March 2024, and calls generated from their index alone.
var (
	pbxZone  = time.FixedZone("UTC+02:00", 2*3600)
	fixedNow = func() time.Time { return time.Date(2024, 3, 1, 15, 0, 0, 0, pbxZone) }
	names    = []string{"Thandi Mokoena", "Pieter van Wyk", "Sales Desk", "Reception", "Ayesha Khan", "Despatch"}
	dispos   = []cdr.Disposition{cdr.DispAnswered, cdr.DispAnswered, cdr.DispNoAnswer, cdr.DispAnswered, cdr.DispBusy, cdr.DispFailed}
	types    = []cdr.CallType{cdr.CallInbound, cdr.CallOutbound, cdr.CallInternal}
)

// makeRecords makes n calls ending at end, 97 seconds apart, newest last.
func makeRecords(n int, end time.Time) []cdr.Record {
	out := make([]cdr.Record, n)
	for i := range out {
		start := end.Add(-time.Duration(n-i) * 97 * time.Second)
		ct := types[i%len(types)]
		r := cdr.Record{
			UniqueID:      fmt.Sprintf("%d.%d", start.Unix(), i),
			Start:         start,
			Epoch:         start.Unix(),
			CallType:      ct,
			Extension:     fmt.Sprint(201 + i%6),
			Disposition:   dispos[i%len(dispos)],
			DurationS:     (i * 37) % 600,
			BillableS:     max(0, (i*37)%600-12),
			Extended:      true,
			FriendlyName:  names[i%6],
			Channel:       fmt.Sprintf("SIP/%d-%08x", 201+i%6, i),
			RecordingSize: 0,
		}
		switch ct {
		case cdr.CallInbound:
			r.CallerID = fmt.Sprintf("082555%04d", i%10000)
			r.DialledNumber = r.Extension
		case cdr.CallOutbound:
			r.DialledNumber = fmt.Sprintf("011%07d", (i*7919)%10000000)
		default:
			r.DialledNumber = fmt.Sprint(201 + (i+1)%6)
		}
		if r.Disposition == cdr.DispAnswered && i%2 == 0 {
			r.Recording = r.UniqueID + ".gsm"
			r.RecordingSize = int64(r.BillableS) * 1650
		}
		out[i] = r
	}
	return out
}

// memSource is an in-memory PBX archive: the calls of a fixed list, by range or page, one by ID or start time.
// It lets the model tests be exact about which rows exist; the end-to-end tests use pbxsim and the real clients.
type memSource struct {
	mu    sync.Mutex
	recs  []cdr.Record
	kind  string // Capabilities().Kind; "" is an archive
	pages bool
	ext   bool          // filters by extension itself, as Difuse does
	last  cdr.Query     // the last query asked
	fail  error         // every Calls answers this after sending failAfter rows
	after int           // rows sent before fail
	gate  chan struct{} // when set, Calls waits for it before the first row
	// pageGate, when set, holds queries for a page (not a range) until it is closed.
	pageGate chan struct{}
	calls    int
	// pause, when set, holds the stream after pauseAfter rows until it is closed.
	pause      chan struct{}
	pauseAfter int
}

func (s *memSource) Describe() string { return "memory archive" }
func (s *memSource) Capabilities() cdr.Capabilities {
	kind := s.kind
	if kind == "" {
		kind = cdr.KindArchive
	}
	return cdr.Capabilities{Kind: kind, TimeRange: true, Pages: s.pages, ServerExtension: s.ext, Extended: true,
		LookupByStart: true}
}
func (s *memSource) Zone() cdr.ZoneInfo { return cdr.ZoneInfo{Location: pbxZone} }
func (s *memSource) Users(context.Context) ([]cdr.User, error) {
	us := make([]cdr.User, len(names))
	for i, n := range names {
		us[i] = cdr.User{Extension: fmt.Sprint(201 + i), Name: n}
	}
	return us, nil
}

// fetches is how many times Calls was asked.
func (s *memSource) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *memSource) set(fail error, after int) {
	s.mu.Lock()
	s.fail, s.after = fail, after
	s.mu.Unlock()
}

func (s *memSource) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	s.mu.Lock()
	fail, after, gate, pause, pauseAfter := s.fail, s.after, s.gate, s.pause, s.pauseAfter
	if q.Page > 0 && s.pageGate != nil {
		gate = s.pageGate
	}
	s.calls++
	s.last = q
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return cdr.Result{}, ctx.Err()
		}
	}
	var res cdr.Result
	var match []cdr.Record
	from, to := cdr.WallClock(q.From), cdr.WallClock(q.To)
	for _, r := range s.recs {
		w := cdr.WallClock(r.Start)
		if (!from.IsZero() && w.Before(from)) || (!to.IsZero() && !w.Before(to)) {
			continue
		}
		if q.Extension != "" && r.Extension != q.Extension {
			continue
		}
		match = append(match, r)
	}
	if q.Page > 0 {
		lim := max(1, q.Limit)
		res.Page, res.TotalPages = q.Page, (len(match)+lim-1)/lim
		lo := min(len(match), (q.Page-1)*lim)
		match = match[lo:min(len(match), lo+lim)]
	}
	for i, r := range match {
		if pause != nil && i == pauseAfter {
			select {
			case <-pause:
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		if fail != nil && i == after {
			return res, fail
		}
		if err := fn(r); err != nil {
			return res, err
		}
		res.Rows++
	}
	if fail != nil {
		return res, fail
	}
	return res, nil
}

func (s *memSource) Call(_ context.Context, l cdr.Lookup) (cdr.Record, error) {
	for _, r := range s.recs {
		if (l.ID != "" && r.UniqueID == l.ID) || (l.ID == "" && cdr.SameWallClock(r.Start, l.Start)) {
			return r, nil
		}
	}
	return cdr.Record{}, cdr.NotFoundError(l)
}

func (s *memSource) Recording(_ context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	return nil, cdr.NoRecordingError(l)
}
