package app

import (
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/export"
	"github.com/callscope/callscope/tui/playerbar"
)

// These tests run the app against the PBX simulator through the real Com.X client: HTTP on loopback, the real
// parser, zone inference, recordings through the disk cache, the null audio output.

func johannesburg(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Africa/Johannesburg")
	if err != nil {
		return time.FixedZone("UTC+02:00", 2*3600)
	}
	return loc
}

type simWorld struct {
	srv *pbxsim.Server
	src cdr.Source
	now func() time.Time
}

func startSim(t testing.TB, o pbxsim.Options, password string) simWorld {
	t.Helper()
	loc := johannesburg(t)
	o.Days, o.CallsPerDay = 3, 100
	o.End = time.Date(2026, 3, 4, 0, 0, 0, 0, loc)
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, loc)
	// The PBX's clock, which its answers carry and the app's "today" follows, is the workstation's; frozen, as a
	// model test's fake time would misread one that advances.
	o.Now, o.FrozenClock = now, true
	srv, err := pbxsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return simWorld{srv: srv, src: offBubble(t, comxSource(t, srv.URL(), password)), now: func() time.Time { return now }}
}

func comxSource(t testing.TB, url, password string) cdr.Source {
	t.Helper()
	ep, err := transport.ParseEndpoint(url)
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = pbxsim.DefaultComxUser, cdr.Secret(password)
	c, err := comx.New(comx.Config{Endpoint: ep, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// harness starts the app on the simulator in a synctest bubble (call it inside inWorld; startSim outside): the
// client's I/O runs on goroutines outside the bubble (offBubble), so the bubble settles as a model test's does.
func (w simWorld) harness(t *testing.T, o Options, width, height int) *harness {
	o.Source, o.Now = w.src, w.now
	o.Player = playerbar.NullPlayer
	o.CacheDir = t.TempDir()
	return newHarness(t, o, width, height)
}

// relay is the real client with every call that does I/O run on a goroutine outside the synctest bubble. A
// socket read is not durably blocking, and an idle keep-alive connection waits on one for ever, so a bubble
// whose goroutines held connections would never settle. From inside, a call in flight is a wait on a channel
// made outside the bubble: not durable either, so the bubble is not settled until the answer is in, which is
// what a test wants. Rows come back one by one to the bubble's goroutine, which hands them to fn.
type relay struct {
	cdr.Source
	jobs  chan<- func() // to the dispatcher outside the bubble
	lanes <-chan lane   // channels made outside the bubble, one set per call
}

// lane is the channels of one call: a channel made in the bubble must not be touched from outside it.
type lane struct {
	done chan struct{}
	rows chan relayed
	acks chan error
}

// relayed is what a call sends into the bubble: a row, or a warning or progress for the caller's cdr.Observer,
// which the bubble's goroutine then hears as it would from the source itself.
type relayed struct {
	rec      cdr.Record
	warn     error
	progress int64
	kind     int // relayedRow, relayedWarn or relayedProgress
}

const (
	relayedRow = iota
	relayedWarn
	relayedProgress
)

// offBubble starts the dispatcher (outside the bubble: call it before inWorld) and wraps src.
func offBubble(t testing.TB, src cdr.Source) cdr.Source {
	jobs := make(chan func())
	lanes := make(chan lane)
	quit := make(chan struct{})
	go func() {
		for job := range jobs {
			go job() // started by a goroutine outside the bubble: outside too
		}
	}()
	go func() {
		for {
			select {
			case lanes <- lane{done: make(chan struct{}), rows: make(chan relayed), acks: make(chan error)}:
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() { close(jobs); close(quit) })
	return &relay{Source: src, jobs: jobs, lanes: lanes}
}

// outside runs f on a goroutine outside the bubble with a context that ends when ctx does, and returns the
// lane's rows for f to use.
func (r *relay) outside(ctx context.Context, f func(ctx context.Context, ln lane)) lane {
	ln := <-r.lanes
	octx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	r.jobs <- func() {
		defer close(ln.done)
		defer stop()
		defer cancel()
		f(octx, ln)
	}
	return ln
}

func (r *relay) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (res cdr.Result, err error) {
	obs := cdr.ObserverFrom(ctx)
	ln := r.outside(ctx, func(octx context.Context, ln lane) {
		defer close(ln.rows)
		send := func(it relayed) error {
			ln.rows <- it
			return <-ln.acks
		}
		octx = cdr.WithObserver(octx, cdr.Observer{
			OnWarn:     func(e error) { send(relayed{warn: e, kind: relayedWarn}) },
			OnProgress: func(n int64) { send(relayed{progress: n, kind: relayedProgress}) },
		})
		res, err = r.Source.Calls(octx, q, func(rec cdr.Record) error { return send(relayed{rec: rec}) })
	})
	for it := range ln.rows {
		switch it.kind {
		case relayedWarn:
			obs.Warn(it.warn)
			ln.acks <- nil
		case relayedProgress:
			obs.Progress(it.progress)
			ln.acks <- nil
		default:
			ln.acks <- fn(it.rec)
		}
	}
	<-ln.done
	return res, err
}

// PBXClock forwards the source's clock (cdr.Clock), read outside the bubble: the source keeps the PBX's Date
// advanced by the real time since, which the bubble's fake clock would misread.
func (r *relay) PBXClock() (t time.Time, ok bool) {
	<-r.outside(context.Background(), func(context.Context, lane) { t, ok = cdr.PBXClockOf(r.Source) }).done
	return t, ok
}

func (r *relay) Call(ctx context.Context, l cdr.Lookup) (rec cdr.Record, err error) {
	<-r.outside(ctx, func(octx context.Context, _ lane) { rec, err = r.Source.Call(octx, l) }).done
	return rec, err
}

func (r *relay) Recording(ctx context.Context, l cdr.Lookup) (rec *cdr.Recording, err error) {
	<-r.outside(ctx, func(octx context.Context, _ lane) { rec, err = r.Source.Recording(octx, l) }).done
	if err == nil {
		rec.ReadCloser = &outsideReader{r: r, rc: rec.ReadCloser}
	}
	return rec, err
}

func (r *relay) Users(ctx context.Context) (us []cdr.User, err error) {
	<-r.outside(ctx, func(octx context.Context, _ lane) { us, err = r.Source.Users(octx) }).done
	return us, err
}

// outsideReader reads a recording's body outside the bubble too.
type outsideReader struct {
	r  *relay
	rc io.ReadCloser
}

func (o *outsideReader) Read(p []byte) (n int, err error) {
	<-o.r.outside(context.Background(), func(context.Context, lane) { n, err = o.rc.Read(p) }).done
	return n, err
}

func (o *outsideReader) Close() (err error) {
	<-o.r.outside(context.Background(), func(context.Context, lane) { err = o.rc.Close() }).done
	return err
}

// dayCount is how many calls the simulator holds for one wall-clock day.
func (w simWorld) dayCount(day time.Time) int {
	n := 0
	w.srv.Calls(day, day.AddDate(0, 0, 1), func(cdr.Record) bool { n++; return true })
	return n
}

func TestSimulatorSession(t *testing.T) {
	w := startSim(t, pbxsim.Options{}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		m := h.m
		today := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
		if want := w.dayCount(today); want == 0 || m.table.Loaded() != want {
			t.Fatalf("today shows %d calls, the PBX has %d", m.table.Loaded(), want)
		}
		if err := h.shownErr(); err != "" {
			t.Fatalf("status error %q", err)
		}
		h.keys("y")
		h.idle()
		if want := w.dayCount(today.AddDate(0, 0, -1)); m.table.Loaded() != want {
			t.Fatalf("yesterday shows %d calls, the PBX has %d", m.table.Loaded(), want)
		}

		// Filter by the first call's extension, open the details, play a recorded call.
		ext := m.table.Selected().Extension
		h.keys("f")
		h.typeText(ext)
		h.keys("enter")
		h.waitFor("the filter", func() bool { return m.focus.dialog == nil && m.statusFields().Filters == "ext "+ext })
		for _, r := range rowsOf(m) {
			if r.Extension != ext {
				t.Fatalf("filter %s shows extension %s", ext, r.Extension)
			}
		}
		h.keys("d")
		if !strings.Contains(h.screen(), "Call details") || !strings.Contains(h.screen(), m.table.Selected().UniqueID) {
			t.Fatal("the detail pane does not show the selected call")
		}
		h.keys("esc") // clear the filter: more recorded calls to choose from
		for i := 0; !m.table.Selected().HasRecording(); i++ {
			if i > 200 {
				t.Fatal("no recorded call among the first 200")
			}
			h.keys("down")
		}
		rec := *m.table.Selected()
		h.keys("enter")
		h.waitFor("the recording to load", func() bool {
			return m.player.Phase() == playerbar.Loaded || m.player.Phase() == playerbar.Failed
		})
		if m.player.Phase() != playerbar.Loaded {
			t.Fatalf("playing %s failed: %v", rec.UniqueID, m.player.Err())
		}
		if !strings.Contains(h.screen(), rec.UniqueID) {
			t.Fatalf("the player bar does not name the call:\n%s", h.screen())
		}
		h.keys("tab")
		if !m.focus.player() {
			t.Fatal("tab did not focus the player bar")
		}
		h.keys("space")
		if !m.player.State().Paused {
			t.Fatal("space in the player bar did not pause")
		}
		h.keys("down") // not the player's: moves the calls' cursor, playback goes on
		h.keys("esc")
		h.waitFor("the keys to go back to the calls", func() bool { return !m.focus.player() })
		if m.player.Record().UniqueID != rec.UniqueID {
			t.Fatal("moving the cursor changed the call playing")
		}

		// Mark three, export them, read the CSV back.
		h.keys("g", "space", "space", "space", "e")
		h.waitFor("the export dialog", func() bool { return m.focus.dialog == m.export })
		path := filepath.Join(t.TempDir(), "three.csv")
		h.keys("ctrl+u") // clear the default name
		h.typeText(path)
		h.keys("enter")
		h.waitFor("the export", func() bool { return m.export.State() == export.Done })
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 {
			t.Fatalf("the CSV has %d lines, want a header and 3 calls", len(rows))
		}
		marked := m.table.MarkedRows()
		for i := range 3 {
			if !strings.Contains(strings.Join(rows[i+1], ","), marked.At(i).UniqueID) {
				t.Fatalf("CSV row %d is %v, want call %s", i+1, rows[i+1], marked.At(i).UniqueID)
			}
		}
	})
}

func TestSimulatorWrongPassword(t *testing.T) {
	w := startSim(t, pbxsim.Options{}, "not-the-password")
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		h.waitFor("the error", func() bool { return h.shownErr() != "" })
		if err := h.shownErr(); !strings.Contains(err, "wrong user or password") {
			t.Fatalf("status error %q, want wrong user or password", err)
		}
		if strings.Contains(h.screen(), "not-the-password") {
			t.Fatal("the password is on screen")
		}
		if !strings.Contains(h.screen(), "wrong user or password") {
			t.Fatalf("the error is not on screen:\n%s", h.screen())
		}
	})
}

func TestSimulatorDown(t *testing.T) {
	w := startSim(t, pbxsim.Options{}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		loaded := h.m.table.Loaded()
		w.srv.Close()
		h.keys("r")
		h.idle()
		h.waitFor("the error", func() bool { return h.shownErr() != "" })
		if h.m.table.Loaded() != loaded {
			t.Fatalf("PBX down: %d rows (had %d), status %q", h.m.table.Loaded(), loaded, h.statusLine())
		}
		if !strings.Contains(h.screen(), "connection refused") {
			t.Fatalf("the screen does not say why:\n%s", ansi.Strip(h.screen()))
		}
	})
}

func TestSimulatorCutOff(t *testing.T) {
	w := startSim(t, pbxsim.Options{}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		w.srv.SetFaults(pbxsim.Faults{CutAfterBytes: 20000})
		h.keys("w")
		h.idle()
		m := h.m
		h.waitFor("the error", func() bool { return h.shownErr() != "" })
		err := h.shownErr()
		all := 0
		for d := range 3 {
			all += w.dayCount(time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC))
		}
		if m.table.Loaded() == 0 || m.table.Loaded() >= all {
			t.Fatalf("cut off: %d rows of %d kept", m.table.Loaded(), all)
		}
		if !strings.Contains(err, "kept") {
			t.Fatalf("status %q does not say the rows were kept", err)
		}
		t.Logf("cut off after 20000 bytes: %d rows kept; status: %v", m.table.Loaded(), err)
	})
}

func TestSimulatorMalformedRecording(t *testing.T) {
	dir := t.TempDir()
	bad, err := os.ReadFile("../../testdata/audio/broken/header-cut.wav")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.wav"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	w := startSim(t, pbxsim.Options{RecordingsDir: dir}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		m := h.m
		for i := 0; !m.table.Selected().HasRecording(); i++ {
			if i > 200 {
				t.Fatal("no recorded call among the first 200")
			}
			h.keys("down")
		}
		h.keys("enter")
		h.waitFor("the player to give up", func() bool { return m.player.Phase() == playerbar.Failed })
		h.waitFor("the error", func() bool { return h.shownErr() != "" })
		if err := h.shownErr(); !strings.Contains(err, "cannot play call") {
			t.Fatalf("status %q", err)
		}
		t.Logf("malformed recording: %v", h.shownErr())
		if m.table.Loaded() == 0 {
			t.Fatal("the rows went away")
		}
	})
}

// TestPlayClearsStaleStatus: "call … has no recording" (as a note from enter, or as the player's error) must not
// stay in the status bar once a recorded call plays.
func TestPlayClearsStaleStatus(t *testing.T) {
	w := startSim(t, pbxsim.Options{}, pbxsim.DefaultComxPassword)
	inWorld(t, func(t *testing.T) {
		h := w.harness(t, Options{}, 120, 40)
		h.idle()
		m := h.m
		find := func(recorded bool) cdr.Record {
			t.Helper()
			h.keys("g")
			for i := 0; m.table.Selected().HasRecording() != recorded; i++ {
				if i > 300 {
					t.Fatalf("no call with recording=%v among the first 300", recorded)
				}
				h.keys("down")
			}
			return *m.table.Selected()
		}
		playRecorded := func() {
			t.Helper()
			find(true)
			h.keys("enter")
			h.waitFor("the recording to load", func() bool { return m.player.Phase() == playerbar.Loaded })
			h.drain()
			if strings.Contains(h.screen(), "has no recording") || h.shownErr() != "" {
				t.Fatalf("stale status after playing a recorded call:\n%s", h.screen())
			}
		}

		silent := find(false)
		h.keys("enter")
		h.waitFor("the note", func() bool { return strings.Contains(h.statusLine(), "has no recording") })
		playRecorded()

		// The player's own error, for a request that reaches it.
		h.send(common.PlayRequest{Record: silent})
		h.waitFor("the player's error", func() bool { return strings.Contains(h.shownErr(), "has no recording") })
		playRecorded()
	})
}
