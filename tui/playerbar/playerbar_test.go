package playerbar

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// httpSource is a small real cdr.Source serving recordings over loopback HTTP through the product's transport.
type httpSource struct {
	base *url.URL
	tc   *transport.Client
}

func (s *httpSource) Describe() string                          { return "test " + s.base.String() }
func (s *httpSource) Capabilities() cdr.Capabilities            { return cdr.Capabilities{Kind: "test"} }
func (s *httpSource) Zone() cdr.ZoneInfo                        { return cdr.ZoneInfo{} }
func (s *httpSource) Users(context.Context) ([]cdr.User, error) { return nil, nil }
func (s *httpSource) Calls(context.Context, cdr.Query, func(cdr.Record) error) (cdr.Result, error) {
	return cdr.Result{}, nil
}
func (s *httpSource) Call(_ context.Context, l cdr.Lookup) (cdr.Record, error) {
	return cdr.Record{}, cdr.NotFoundError(l)
}
func (s *httpSource) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	if l.Record == nil || !l.Record.HasRecording() {
		return nil, cdr.NoRecordingError(l)
	}
	u := *s.base
	u.Path = "/rec/" + url.PathEscape(l.Record.Recording)
	resp, err := s.tc.Get(ctx, transport.Request{URL: &u})
	if err != nil {
		return nil, err
	}
	format := ""
	switch filepath.Ext(l.Record.Recording) {
	case ".wav":
		format = "wav"
	case ".gsm":
		format = "gsm"
	}
	return &cdr.Recording{ReadCloser: resp.Body, Name: filepath.Base(l.Record.Recording), Format: format, Size: resp.ContentLength}, nil
}

// pbx serves files from testdata; "secret/…" answers 401; a name in gates sends half, then waits.
type pbx struct {
	files map[string][]byte
	gates map[string]chan struct{}
}

func (p *pbx) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/rec/"))
	if strings.HasPrefix(name, "secret/") {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	data, ok := p.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	gate := p.gates[name]
	if gate == nil {
		w.Write(data)
		return
	}
	half := len(data) / 2
	w.Write(data[:half])
	w.(http.Flusher).Flush()
	select {
	case <-gate:
	case <-r.Context().Done():
		return
	}
	w.Write(data[half:])
}

func testdata(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", rel))
	if err != nil {
		t.Skipf("test recording missing: %v", err)
	}
	return b
}

func setup(t *testing.T, p *pbx) (*Model, *httpSource) {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tc, err := transport.New(transport.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := &httpSource{base: u, tc: tc}
	cache, err := reccache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	m := New(ctx, Options{Player: NullPlayer, Source: src, Cache: cache})
	m.SetSize(80, 3)
	t.Cleanup(func() { m.Close() })
	return m, src
}

// harness runs Cmds on goroutines, as the runtime does, and feeds their messages to Update on the test's
// goroutine.
type harness struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	seen []tea.Msg
}

func newHarness(t *testing.T, m *Model) *harness {
	return &harness{t: t, m: m, msgs: make(chan tea.Msg, 1024)}
}

func (h *harness) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				h.exec(c)
			}
			return
		}
		if msg != nil {
			h.msgs <- msg
		}
	}()
}

func (h *harness) send(msg tea.Msg) { h.exec(h.m.Update(msg)) }

// until processes messages until cond holds.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.seen = append(h.seen, msg)
			h.exec(h.m.Update(msg))
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s (phase %v, err %v)", what, h.m.Phase(), h.m.Err())
		}
	}
}

func (h *harness) status() []string {
	var out []string
	for _, msg := range h.seen {
		if s, ok := msg.(common.StatusMsg); ok {
			if s.Err != nil {
				out = append(out, s.Err.Error())
			} else {
				out = append(out, s.Text)
			}
		}
	}
	return out
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "shift+right":
		return tea.KeyPressMsg{Code: tea.KeyRight, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func call(id, file string) cdr.Record {
	return cdr.Record{UniqueID: id, Start: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), CallType: cdr.CallInbound,
		Extension: "201", CallerID: "0215550123", Disposition: cdr.DispAnswered, DurationS: 20,
		Recording: file, RecordingSize: cdr.Unknown}
}

func TestPlaysSeeksAndControls(t *testing.T) {
	m, _ := setup(t, &pbx{files: map[string][]byte{"sales.wav": testdata(t, "recordings/sales-call-alaw.wav")}})
	h := newHarness(t, m)
	h.send(common.PlayRequest{Record: call("1709287200.1", "sales.wav")})
	if m.Phase() != Fetching {
		t.Fatalf("phase %v right after the request", m.Phase())
	}
	h.until("playing", func() bool { return m.Phase() == Loaded && m.State().Playing })
	h.until("the clock to run", func() bool { return m.State().Position > 200*time.Millisecond })
	if v := ansi.Strip(m.View()); !strings.Contains(v, "1709287200.1") || !strings.Contains(v, "alaw 8 kHz") ||
		!strings.Contains(v, "no sound") {
		t.Fatalf("view:\n%s", v)
	}

	// Keys do nothing until the bar has focus.
	pos := m.State().Position
	h.send(press("right"))
	if m.State().Position > pos+2*time.Second {
		t.Fatal("an unfocused bar took a key")
	}
	m.Focus()
	h.send(press("right"))
	if got := m.State().Position; got < pos+4*time.Second {
		t.Fatalf("→ moved from %v to %v", pos, got)
	}
	h.send(press("left"))
	h.send(press("left"))
	if got := m.State().Position; got > pos+2*time.Second {
		t.Fatalf("← ← left the position at %v (from %v)", got, pos)
	}
	h.send(press("<"))
	if m.State().Speed != 0.75 {
		t.Fatalf("speed %v after <", m.State().Speed)
	}
	h.send(press(">"))
	h.send(press(">"))
	if m.State().Speed != 1.25 {
		t.Fatalf("speed %v after > >", m.State().Speed)
	}
	h.send(press("-"))
	if math.Abs(m.State().Volume-0.9) > 1e-9 {
		t.Fatalf("volume %v after -", m.State().Volume)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "1.25×") || !strings.Contains(v, "vol 90%") {
		t.Fatalf("view after speed/volume:\n%s", v)
	}
	h.send(press("space"))
	if !m.State().Paused {
		t.Fatal("space did not pause")
	}
	// p works from anywhere through the root.
	m.Blur()
	if _, ok := m.HandleGlobal(press("p")); !ok || m.State().Paused {
		t.Fatal("global p did not resume")
	}
	if _, ok := m.HandleGlobal(press("q")); ok {
		t.Fatal("global handler took q")
	}
	m.Focus()
	h.send(press("s"))
	if st := m.State(); st.Playing || st.Position != 0 {
		t.Fatalf("after s: %+v", st)
	}
	// esc hands the keyboard back without stopping anything.
	h.send(press("esc"))
	if m.Focused() {
		t.Fatal("esc kept focus")
	}
	h.until("FocusTable", func() bool {
		for _, msg := range h.seen {
			if _, ok := msg.(common.FocusTable); ok {
				return true
			}
		}
		return false
	})
}

func TestWaveformAndSpeechJumps(t *testing.T) {
	m, _ := setup(t, &pbx{files: map[string][]byte{"cb.wav": testdata(t, "recordings/callback-ulaw.wav")}})
	h := newHarness(t, m)
	m.Focus()
	h.send(common.PlayRequest{Record: call("1.1", "cb.wav")})
	h.until("the waveform", func() bool { return m.wave != nil })
	w := m.wave
	if d := w.Duration(); d < 15*time.Second || d > 25*time.Second {
		t.Fatalf("analysed %v of a 19 s call", d)
	}
	var speech []waveform.Segment
	for _, s := range w.Segments {
		if s.Kind == waveform.Speech {
			speech = append(speech, s)
		}
	}
	if len(speech) < 2 {
		t.Fatalf("found %d stretches of speech in a conversation", len(speech))
	}
	h.send(press("space")) // pause so the position holds still
	h.send(press("right"))
	pos := m.State().Position
	want, ok := w.NextSpeech(pos)
	if !ok || want <= pos {
		t.Fatalf("no speech after %v", pos)
	}
	h.send(press("]"))
	if got := m.State().Position; absDur(got-want) > 20*time.Millisecond {
		t.Fatalf("] from %v went to %v, want %v", pos, got, want)
	}
	prev, ok := w.PrevSpeech(want)
	if !ok || prev >= want {
		t.Fatalf("no speech before %v", want)
	}
	h.send(press("["))
	if got := m.State().Position; absDur(got-prev) > 20*time.Millisecond {
		t.Fatalf("[ from %v went to %v, want %v", want, got, prev)
	}
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	if len(lines) != 3 || !strings.ContainsAny(lines[2], "▁▂▃▄▅▆▇█") || strings.Count(lines[1], "━")+strings.Count(lines[1], "─")+strings.Count(lines[1], "┄") != 80 {
		t.Fatalf("view:\n%s", strings.Join(lines, "\n"))
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestPlaysWhileDownloadingAndAnotherCallReplaces(t *testing.T) {
	gate := make(chan struct{})
	data := testdata(t, "recordings/support-call.gsm")
	m, _ := setup(t, &pbx{
		files: map[string][]byte{"slow.gsm": data, "b.wav": testdata(t, "recordings/billing-call-wav49.wav")},
		gates: map[string]chan struct{}{"slow.gsm": gate},
	})
	h := newHarness(t, m)
	h.send(common.PlayRequest{Record: call("2.1", "slow.gsm")})
	h.until("playing the first half", func() bool { return m.Phase() == Loaded && m.State().Playing })
	if !m.downloading || m.wave != nil {
		t.Fatalf("downloading=%v wave=%v before the rest arrived", m.downloading, m.wave != nil)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "downloading") || !strings.Contains(v, "+") {
		t.Fatalf("view while downloading:\n%s", v)
	}
	close(gate)
	h.until("the download to finish", func() bool { return !m.downloading && m.wave != nil })
	if m.info.Format != "gsm" {
		t.Fatalf("format %q", m.info.Format)
	}
	full := m.State().Length
	if full < 10*time.Second {
		t.Fatalf("length %v after the whole file arrived", full)
	}
	// Another call replaces it.
	h.send(common.PlayRequest{Record: call("3.1", "b.wav")})
	h.until("the second call", func() bool { return m.Phase() == Loaded && m.State().Title == "3.1" })
	if m.Record().UniqueID != "3.1" {
		t.Fatal("record not replaced")
	}
}

func TestErrorsAreReadable(t *testing.T) {
	m, _ := setup(t, &pbx{files: map[string][]byte{"bad.wav": testdata(t, "audio/broken/random.wav")}})
	h := newHarness(t, m)
	for _, tc := range []struct {
		rec  cdr.Record
		want string
	}{
		{call("4.1", ""), "has no recording"},
		// The test source sends no credentials, so the 401 is not called a wrong password.
		{call("4.2", "secret/x.wav"), "asks for a user and password (HTTP 401)"},
		{call("4.3", "gone.wav"), "not found (HTTP 404)"},
		{call("4.4", "bad.wav"), "bad.wav: "},
	} {
		h.seen = nil
		h.send(common.PlayRequest{Record: tc.rec})
		h.until("the failure of "+tc.rec.UniqueID, func() bool { return m.Phase() == Failed && len(h.status()) > 0 })
		v := ansi.Strip(m.View())
		if !strings.Contains(v, "✗ "+tc.rec.UniqueID) || !strings.Contains(v, tc.want) {
			t.Fatalf("%s: view %q", tc.rec.UniqueID, v)
		}
		if st := h.status(); len(st) == 0 || !strings.Contains(st[len(st)-1], tc.want) {
			t.Fatalf("%s: status %v", tc.rec.UniqueID, st)
		}
		if errors.Is(m.Err(), context.Canceled) {
			t.Fatal("cancelled")
		}
	}
}

func TestNoSoundNoticeOnce(t *testing.T) {
	m, _ := setup(t, &pbx{})
	st := player.State{Notice: "no audio device: pulse: connection refused", Output: "null", Speed: 1, Volume: 1}
	said := 0
	for range 3 {
		cmd := m.Update(stateMsg{state: st}) // no events channel: only the notice can come back
		if cmd == nil {
			continue
		}
		if msg, ok := cmd().(common.StatusMsg); ok && strings.Contains(msg.Text, "no audio device") {
			said++
		}
	}
	if said != 1 {
		t.Fatalf("notice said %d times", said)
	}
	m.phase = Loaded
	if v := ansi.Strip(m.View()); !strings.Contains(v, "no sound") {
		t.Fatalf("bar does not keep the no-sound mark: %q", v)
	}
}

// goldenModel is a bar playing a call, brought there through Update with the messages its Cmds answer with
// (none is run, so no player opens and the screen does not depend on timing): loaded, a position report from the
// player, download progress and the waveform.
func goldenModel(t *testing.T, w int) *Model {
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	m := New(ctx, Options{})
	m.SetSize(w, 3)
	m.Play(call("1709287200.12", "x.wav"))
	m.Update(loadedMsg{gen: m.gen, info: decode.Info{Format: "gsm", SampleRate: 8000}, name: "x.wav"})
	m.Update(stateMsg{state: player.State{Title: "1709287200.12", Loaded: true, Playing: true, Position: 47 * time.Second,
		Length: 3*time.Minute + 5*time.Second, Speed: 1.5, Volume: 1, Output: "pulse"}})
	m.Update(dlMsg{gen: m.gen, n: 600, total: 1000})
	// A synthetic call: two speakers taking turns with silences, 185 s at 8 kHz.
	rate := 8000
	x := make([]float64, 185*rate)
	for i := range x {
		s := i / rate
		if s%20 < 12 {
			x[i] = 0.3 * math.Sin(float64(i)*0.05) * (0.5 + 0.5*math.Sin(float64(i)/900))
		}
	}
	m.Update(waveMsg{gen: m.gen, analysis: waveform.AnalyzeSamples(x, 8000)})
	return m
}

func TestGolden(t *testing.T) {
	for _, w := range []int{80, 120} {
		t.Run(strconv.Itoa(w), func(t *testing.T) {
			m := goldenModel(t, w)
			var b strings.Builder
			b.WriteString(m.View() + "\n")
			st := m.state
			st.Paused = true
			m.Update(stateMsg{state: st})
			m.Update(dlMsg{gen: m.gen, done: true})
			b.WriteString(m.View() + "\n")
			m.Play(call("1709287200.12", "x.wav"))
			m.Update(loadedMsg{gen: m.gen, err: errors.New("pbx 10.0.0.5: wrong user or password (HTTP 401)")})
			m.SetSize(w, 1)
			b.WriteString(m.View())
			for _, l := range strings.Split(b.String(), "\n") {
				if ansi.StringWidth(l) != w {
					t.Fatalf("line %d wide, want %d: %q", ansi.StringWidth(l), w, ansi.Strip(l))
				}
			}
			golden.RequireEqual(t, ansi.Strip(b.String()))
		})
	}
}

func TestLateAnswerForAnOldCallIsDropped(t *testing.T) {
	m, _ := setup(t, &pbx{files: map[string][]byte{"a.wav": testdata(t, "recordings/sales-call-alaw.wav")}})
	m.Play(call("5.1", "a.wav"))
	old := m.gen
	m.Play(call("5.2", "a.wav"))
	m.Update(loadedMsg{gen: old, err: errors.New("pbx: the answer was cut off")})
	m.Update(waveMsg{gen: old, analysis: &waveform.Analysis{}})
	if m.Phase() != Fetching || m.Err() != nil || m.wave != nil || m.Record().UniqueID != "5.2" {
		t.Fatalf("an answer for the old call changed the bar: phase %v err %v", m.Phase(), m.Err())
	}
}

// openIn lists the files under dir this process holds open (Linux: /proc/self/fd).
func openIn(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open files here: %v", err)
	}
	var out []string
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil &&
			strings.HasPrefix(target, dir+string(filepath.Separator)) {
			out = append(out, target)
		}
	}
	return out
}

// A player that refuses the stream (here: closed already, as on quit while a load is under way) must not leave
// the recording's file and decoder open.
func TestRefusedLoadClosesTheRecording(t *testing.T) {
	srv := httptest.NewServer(&pbx{files: map[string][]byte{"a.wav": testdata(t, "recordings/sales-call-alaw.wav")}})
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tc, err := transport.New(transport.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cache, err := reccache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	closedPlayer := func() (*player.Player, error) {
		p, err := NullPlayer()
		if err == nil {
			p.Close()
		}
		return p, err
	}
	m := New(common.NewContext(theme.New(true, false), nil, nil),
		Options{Player: closedPlayer, Source: &httpSource{base: u, tc: tc}, Cache: cache})
	m.SetSize(80, 3)
	h := newHarness(t, m)
	h.send(common.PlayRequest{Record: call("6.1", "a.wav")})
	h.until("the refused load", func() bool { return m.Phase() == Failed })
	if m.Err() == nil || !strings.Contains(m.Err().Error(), "closed") {
		t.Fatalf("error %v, want the player's refusal", m.Err())
	}
	h.until("the download to end", func() bool { return !m.downloading })
	if open := openIn(t, dir); len(open) > 0 {
		t.Fatalf("the refused recording is still open: %v", open)
	}
}
