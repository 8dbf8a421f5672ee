package playline

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"

	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
	"github.com/callscope/callscope/tui/playerbar"
	"github.com/gopxl/beep/v2"
	"golang.org/x/sys/unix"
)

type mem struct {
	mu  sync.Mutex
	s   [][2]float64
	pos int
}

func (m *mem) Stream(b [][2]float64) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos >= len(m.s) {
		return 0, false
	}
	n := copy(b, m.s[m.pos:])
	m.pos += n
	return n, true
}
func (m *mem) Err() error    { return nil }
func (m *mem) Len() int      { return len(m.s) }
func (m *mem) Position() int { m.mu.Lock(); defer m.mu.Unlock(); return m.pos }
func (m *mem) Seek(p int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos = p
	return nil
}
func (m *mem) Close() error { return nil }

func loaded(t *testing.T, d time.Duration) *player.Player {
	t.Helper()
	rate := beep.SampleRate(8000)
	s := make([][2]float64, rate.N(d))
	for i := range s {
		v := 0.3 * math.Sin(2*math.Pi*440*float64(i)/8000)
		s[i] = [2]float64{v, v}
	}
	p := player.New(output.Open(output.Config{Backend: output.Null}))
	t.Cleanup(func() { p.Close() })
	if err := p.Load(&mem{s: s}, beep.Format{SampleRate: rate, NumChannels: 1, Precision: 2}, "call"); err != nil {
		t.Fatal(err)
	}
	return p
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestNotATerminalPlaysToEndWithOneLine(t *testing.T) {
	p := loaded(t, 1200*time.Millisecond)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var out bytes.Buffer
	start := time.Now()
	if err := Run(context.Background(), p, "call 42", r, &out); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("returned after %v, before the 1.2s recording could have played", took)
	}
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") || strings.Contains(got, "\x1b") {
		t.Fatalf("want exactly one plain line, got %q", got)
	}
	if !strings.Contains(got, "■ call 42  00:01 / 00:01  [====================]  1.0x  vol 100%") {
		t.Fatalf("final line %q", got)
	}
}

// openPTY returns a pseudo-terminal pair, so the test drives Run through a
// real terminal device.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close(); master.Close() })
	return master, slave
}

func TestTerminalKeysAndRestore(t *testing.T) {
	master, slave := openPTY(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	p := loaded(t, 2*time.Minute)
	out := &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), p, "call 7", slave, out) }()

	waitFor := func(what string, ok func(player.State) bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for !ok(p.State()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: state %+v", what, p.State())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("playing", func(s player.State) bool { return s.Playing && !s.Paused })
	raw, _ := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if raw.Lflag&unix.ICANON != 0 {
		t.Fatal("terminal not in raw mode while playing")
	}
	master.Write([]byte(" "))
	waitFor("space pauses", func(s player.State) bool { return s.Paused })
	at := p.State().Position
	master.Write([]byte("\x1b[C"))
	waitFor("→ seeks 5s", func(s player.State) bool { return s.Position == at+5*time.Second })
	master.Write([]byte("\x1b[1;2C"))
	waitFor("⇧→ seeks 30s", func(s player.State) bool { return s.Position == at+35*time.Second })
	master.Write([]byte("\x1b[D"))
	waitFor("← seeks back 5s", func(s player.State) bool { return s.Position == at+30*time.Second })
	master.Write([]byte("H"))
	waitFor("H seeks back 30s", func(s player.State) bool { return s.Position == at })
	master.Write([]byte(">"))
	waitFor("> speeds up", func(s player.State) bool { return s.Speed == 1.25 })
	master.Write([]byte("-"))
	waitFor("- lowers the volume", func(s player.State) bool { return math.Abs(s.Volume-0.9) < 1e-9 })
	master.Write([]byte("+"))
	waitFor("+ raises the volume (as in the app), not the speed", func(s player.State) bool {
		return math.Abs(s.Volume-1) < 1e-9 && s.Speed == 1.25
	})
	master.Write([]byte("-"))
	waitFor("- lowers the volume", func(s player.State) bool { return math.Abs(s.Volume-0.9) < 1e-9 })
	master.Write([]byte("?"))
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "-/+ quieter/louder") {
		if time.Now().After(deadline) {
			t.Fatalf("? did not list the keys: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	master.Write([]byte(" "))
	waitFor("space resumes", func(s player.State) bool { return !s.Paused })
	time.Sleep(250 * time.Millisecond) // a few redraws
	master.Write([]byte("q"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("q did not quit")
	}
	after, _ := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if *after != *before {
		t.Fatal("terminal settings were not restored")
	}
	screen := out.String()
	if !strings.Contains(screen, "\r▶ call 7  00:0") || !strings.Contains(screen, "1.25x  vol 90%") {
		t.Fatalf("progress line not drawn as expected: %q", screen[max(0, len(screen)-300):])
	}
	if !strings.HasSuffix(screen, "\r\n\x1b[?25h") {
		t.Fatalf("did not end with a final line and the cursor shown: %q", screen[max(0, len(screen)-100):])
	}
}

func TestLine(t *testing.T) {
	s := player.State{Playing: true, Position: 12 * time.Second, Length: 65 * time.Second, Speed: 1, Volume: 1}
	if got, want := Line(s, "Reception → 201", 0), "▶ Reception → 201  00:12 / 01:05  [===                 ]  1.0x  vol 100%"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	s.Paused, s.Speed, s.Volume = true, 1.5, 1.5
	if got := Line(s, "a very long title that will not fit", 66); !strings.HasPrefix(got, "⏸ a very") || !strings.Contains(got, "…  00:12") ||
		len([]rune(got)) > 66 || !strings.HasSuffix(got, "1.5x  vol 150%") {
		t.Errorf("narrow paused line %q (%d cells)", got, len([]rune(got)))
	}
	s.Length, s.Position = 2*time.Hour, 3723*time.Second
	if got := Line(s, "x", 0); !strings.Contains(got, "1:02:03 / 2:00:00") {
		t.Errorf("hour clock %q", got)
	}
}

func TestParseKeys(t *testing.T) {
	got := parseKeys([]byte("q \x1b[A\x1bOB\x1b[C\x1b[D\x1b[1;2C\x1b[1;2D\x1b[1;5C+-<>[]?\x03x"))
	want := []keyName{"q", "space", "up", "down", "right", "left", "shift+right", "shift+left", "+", "-", "<", ">",
		"[", "]", "?", "ctrl+c", "x"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := parseKeys([]byte("\x1b")); fmt.Sprint(got) != "[esc]" {
		t.Fatalf("a lone Esc: %v", got)
	}
}

// `play` uses the app's player keymap: every one of its bindings means the same here.
func TestKeysAreThePlayerBars(t *testing.T) {
	km, app := DefaultKeys(), playerbar.DefaultKeyMap()
	pairs := [][2]key.Binding{{km.Toggle, app.Toggle}, {km.Back, app.Back}, {km.Forward, app.Forward},
		{km.BackBig, app.BackBig}, {km.ForwardBig, app.ForwardBig}, {km.PrevSpeech, app.PrevSpeech},
		{km.NextSpeech, app.NextSpeech}, {km.Slower, app.Slower}, {km.Faster, app.Faster},
		{km.Quieter, app.Quieter}, {km.Louder, app.Louder}, {km.Stop, app.Stop}}
	for _, p := range pairs {
		if fmt.Sprint(p[0].Keys()) != fmt.Sprint(p[1].Keys()) || p[0].Help() != p[1].Help() {
			t.Errorf("play binds %v (%v), the app %v (%v)", p[0].Keys(), p[0].Help(), p[1].Keys(), p[1].Help())
		}
	}
	seen := map[string]bool{}
	for _, b := range append(km.Controls(), km.Quit, km.Help) {
		for _, k := range b.Keys() {
			if seen[k] {
				t.Errorf("%q is bound twice", k)
			}
			seen[k] = true
		}
	}
}

// ] jumps to the next stretch of speech once the background analysis is done.
func TestSpeechJumps(t *testing.T) {
	p := loaded(t, 40*time.Second)
	p.Pause()
	a := &waveform.Analysis{Segments: []waveform.Segment{
		{Start: 0, End: 12 * time.Second, Kind: waveform.Silence},
		{Start: 12 * time.Second, End: 20 * time.Second, Kind: waveform.Speech},
		{Start: 20 * time.Second, End: 40 * time.Second, Kind: waveform.Silence},
	}}
	sp := startSpeech(context.Background(), func(context.Context) (*waveform.Analysis, error) { return a, nil })
	for {
		if _, done, _ := sp.get(); done {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if quit, note := handle(p, DefaultKeys(), "]", sp); quit || note != "" {
		t.Fatalf("] quit=%v note=%q", quit, note)
	}
	if pos := p.State().Position; pos < 11*time.Second || pos > 13*time.Second {
		t.Fatalf("] went to %v, want the speech at 12 s", pos)
	}
	if _, note := handle(p, DefaultKeys(), "]", startSpeech(context.Background(), nil)); !strings.Contains(note, "no speech detection") {
		t.Fatalf("without analysis ] says %q", note)
	}
}

func TestWrapLine(t *testing.T) {
	got := wrapLine("space/p pause/play · s stop · ←/→ seek ±5 s", 20)
	want := []string{"space/p pause/play", "s stop · ←/→ seek", "±5 s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, l := range wrapLine(DefaultKeys().HelpText(), 40) {
		if n := utf8.RuneCountInString(l); n > 40 {
			t.Errorf("line %q is %d cells", l, n)
		}
	}
}
