// Package playline is the one-line terminal player behind `callscope play`.
//
// Its keys are the app's player keys (tui/playerbar.KeyMap, one keymap for both): space or p pauses, ←/→ seek
// 5 s, ⇧←/⇧→ (or H/L) 30 s, [/] jump to the previous/next stretch of speech, </> change the speed by 0.25×
// (pitch kept), -/+ the volume by 10 %, s stops; q, Esc or Ctrl-C quit; ? lists the keys.
package playline

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"golang.org/x/term"

	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
	"github.com/callscope/callscope/tui/playerbar"
)

// Option adds to what Run does.
type Option func(*options)

type options struct {
	speech func(context.Context) (*waveform.Analysis, error)
}

// WithSpeech gives Run a way to find the stretches of speech in the recording (a second decode of it), for the
// [/] keys; it runs in the background while the recording plays.
func WithSpeech(analyse func(context.Context) (*waveform.Analysis, error)) Option {
	return func(o *options) { o.speech = analyse }
}

// Keys are the player's keys (shared with the app) plus the two that only `play` has.
type Keys struct {
	playerbar.KeyMap
	Quit key.Binding
	Help key.Binding
}

// DefaultKeys is the shared player keymap, with quit and help.
func DefaultKeys() Keys {
	km := playerbar.DefaultKeyMap()
	km.Leave.SetEnabled(false) // the app's "back to the calls"; here q and esc quit
	return Keys{KeyMap: km,
		Quit: key.NewBinding(key.WithKeys("q", "esc", "ctrl+c"), key.WithHelp("q/esc", "quit")),
		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
	}
}

// HelpText is the keys, one "key description" per pair, as `?` prints them (and the app's help lists them).
func (k Keys) HelpText() string {
	var parts []string
	for _, g := range append(k.HelpGroups(), []key.Binding{k.Quit}) {
		for _, b := range g {
			if b.Enabled() {
				parts = append(parts, b.Help().Key+" "+b.Help().Desc)
			}
		}
	}
	return strings.Join(parts, " · ")
}

// Seek steps.
const (
	ShortSeek = 5 * time.Second
	LongSeek  = 30 * time.Second
)

// Run plays the loaded recording of p to its end or until the user quits.
// When in is a terminal it is put in raw mode (and restored on return) and
// out gets a progress line redrawn in place; otherwise Run plays to the end
// and writes only a final line. It returns the playback error, if any.
func Run(ctx context.Context, p *player.Player, title string, in *os.File, out io.Writer, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	interactive := in != nil && term.IsTerminal(int(in.Fd()))
	var keys <-chan keyName
	width := 80
	if interactive {
		fd := int(in.Fd())
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("cannot take over the terminal: %v", err)
		}
		defer func() {
			if err := term.Restore(fd, old); err != nil {
				fmt.Fprintf(out, "\r\ncallscope: cannot give the terminal back (%v): type reset and press Enter\r\n", err)
			}
		}()
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			width = w
		}
		fmt.Fprint(out, "\x1b[?25l")       // hide the cursor while the line redraws
		defer fmt.Fprint(out, "\x1b[?25h") // and give it back
		keys = readKeys(in)
	}

	p.Play()
	st := p.State()
	noticeShown := false
	// say prints a line above the progress line (a notice, the keys), then the progress line redraws.
	say := func(line string) {
		if interactive {
			fmt.Fprintf(out, "\r\x1b[K%s\r\n", line)
		}
	}
	draw := func(s player.State) {
		if !interactive {
			return
		}
		if s.Notice != "" && !noticeShown {
			noticeShown = true
			say(s.Notice)
		}
		fmt.Fprintf(out, "\r%s\x1b[K", Line(s, title, width-1))
	}
	finish := func(s player.State) error {
		if interactive {
			fmt.Fprintf(out, "\r%s\x1b[K\r\n", Line(s, title, width-1))
		} else {
			line := Line(s, title, 0)
			if s.Notice != "" {
				line += "  (" + s.Notice + ")"
			}
			fmt.Fprintln(out, line)
		}
		return s.Err
	}
	sp := startSpeech(ctx, o.speech)
	km := DefaultKeys()
	draw(st)
	for {
		select {
		case <-ctx.Done():
			p.Pause()
			return finish(p.State())
		case s, ok := <-p.Events():
			if !ok {
				return finish(st)
			}
			st = s
			if s.Ended || (!s.Playing && s.Err != nil) {
				return finish(s)
			}
			draw(s)
		case k, ok := <-keys:
			if !ok {
				keys = nil // input closed: keep playing without keys
				continue
			}
			quit, note := handle(p, km, k, sp)
			if quit {
				p.Pause()
				return finish(p.State())
			}
			for _, line := range wrapLine(note, width-1) {
				say(line)
			}
			draw(p.State())
		}
	}
}

// wrapLine splits a note into lines of at most width cells, at the " · " between keys or at spaces.
func wrapLine(s string, width int) []string {
	if s == "" {
		return nil
	}
	var lines []string
	line := ""
	for _, part := range strings.SplitAfter(s, " ") {
		if line != "" && utf8.RuneCountInString(line+strings.TrimRight(part, " ")) > width {
			lines = append(lines, strings.TrimRight(line, " ·"))
			line = ""
		}
		line += part
	}
	return append(lines, strings.TrimRight(line, " ·"))
}

// speech is the background analysis of where people speak, for the [/] keys.
type speech struct {
	mu       sync.Mutex
	done     bool
	analysis *waveform.Analysis
	err      error
}

func startSpeech(ctx context.Context, analyse func(context.Context) (*waveform.Analysis, error)) *speech {
	sp := &speech{}
	if analyse == nil {
		sp.done, sp.err = true, fmt.Errorf("no speech detection for this recording")
		return sp
	}
	go func() {
		a, err := analyse(ctx)
		sp.mu.Lock()
		sp.done, sp.analysis, sp.err = true, a, err
		sp.mu.Unlock()
	}()
	return sp
}

func (sp *speech) get() (a *waveform.Analysis, done bool, err error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.analysis, sp.done, sp.err
}

// handle acts on one key; note is a line to show above the progress line ("" for none). A seek that fails
// stops the player with the error in its state, as any control does, and Run ends on it: its error is not
// needed here.
func handle(p *player.Player, km Keys, k keyName, sp *speech) (quit bool, note string) {
	switch {
	case key.Matches(k, km.Quit), key.Matches(k, km.Stop):
		return true, ""
	case key.Matches(k, km.Help):
		return false, km.HelpText()
	case key.Matches(k, km.Toggle):
		p.Toggle()
	case key.Matches(k, km.Forward):
		_ = p.SeekBy(ShortSeek)
	case key.Matches(k, km.Back):
		_ = p.SeekBy(-ShortSeek)
	case key.Matches(k, km.ForwardBig):
		_ = p.SeekBy(LongSeek)
	case key.Matches(k, km.BackBig):
		_ = p.SeekBy(-LongSeek)
	case key.Matches(k, km.Faster):
		p.SetSpeed(p.Speed() + player.SpeedStep)
	case key.Matches(k, km.Slower):
		p.SetSpeed(p.Speed() - player.SpeedStep)
	case key.Matches(k, km.Louder):
		p.SetVolume(p.Volume() + player.VolumeStep)
	case key.Matches(k, km.Quieter):
		p.SetVolume(p.Volume() - player.VolumeStep)
	case key.Matches(k, km.NextSpeech), key.Matches(k, km.PrevSpeech):
		a, done, err := sp.get()
		switch {
		case !done:
			return false, "still working out where people speak…"
		case err != nil || a == nil:
			return false, fmt.Sprintf("cannot jump to speech: %v", err)
		}
		pos := p.State().Position
		next := key.Matches(k, km.NextSpeech)
		to, ok := a.PrevSpeech(pos)
		if next {
			to, ok = a.NextSpeech(pos)
		}
		switch {
		case !ok && next:
			return false, "no more speech after this point"
		case !ok:
			return false, "no speech before this point"
		}
		_ = p.SeekTo(to)
	}
	return false, ""
}

// barWidth is the width of the progress bar between its brackets.
const barWidth = 20

// Line renders the progress line:
//
//	▶ title  00:12 / 01:05  [===                 ]  1.0x  vol 100%
//
// cut to width cells (0 means no limit) by shortening the title.
func Line(s player.State, title string, width int) string {
	icon := "▶"
	switch {
	case s.Err != nil:
		icon = "✗"
	case s.Ended || !s.Playing:
		icon = "■"
	case s.Paused:
		icon = "⏸"
	}
	filled := 0
	if s.Length > 0 {
		filled = int(int64(barWidth) * int64(s.Position) / int64(s.Length))
		filled = max(0, min(filled, barWidth))
	}
	speed := strings.TrimSuffix(fmt.Sprintf("%.2f", s.Speed), "0") // 1.0, 1.25, 1.5
	tail := fmt.Sprintf("  %s / %s  [%s%s]  %sx  vol %d%%",
		clock(s.Position), clock(s.Length),
		strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled),
		speed, int(s.Volume*100+0.5))
	if s.Err != nil {
		tail += "  " + s.Err.Error()
	}
	if width > 0 {
		room := width - 2 - utf8.RuneCountInString(tail)
		if room < 4 {
			title = ""
		} else if utf8.RuneCountInString(title) > room {
			r := []rune(title)
			title = string(r[:room-1]) + "…"
		}
	}
	return icon + " " + title + tail
}

func clock(d time.Duration) string {
	sec := int(d / time.Second)
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%02d:%02d", sec/60, sec%60)
}

// keyName is a key as bubbletea names it ("space", "left", "shift+right", "q", "ctrl+c"), so the shared
// key.Bindings match it.
type keyName string

func (k keyName) String() string { return string(k) }

// readKeys turns raw terminal input into keys. The goroutine ends when in
// is closed or fails.
func readKeys(in io.Reader) <-chan keyName {
	c := make(chan keyName, 16)
	go func() {
		defer close(c)
		buf := make([]byte, 64)
		for {
			n, err := in.Read(buf)
			for _, k := range parseKeys(buf[:n]) {
				c <- k
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// arrows names the final byte of an arrow key's escape sequence.
var arrows = map[byte]string{'A': "up", 'B': "down", 'C': "right", 'D': "left"}

// parseKeys decodes one read of raw input: printable ASCII, space, Ctrl-C, and the arrow keys' escape sequences
// (CSI and SS3, with the xterm modifier form ESC [ 1 ; 2 C for shifted arrows). Anything else is ignored.
func parseKeys(b []byte) []keyName {
	var keys []keyName
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0x1b {
			if i+2 < len(b) && (b[i+1] == '[' || b[i+1] == 'O') {
				j := i + 2
				mod := byte(0)
				if j+3 < len(b) && b[j] == '1' && b[j+1] == ';' && b[j+2] >= '2' && b[j+2] <= '8' {
					mod, j = b[j+2], j+3
				}
				if name, ok := arrows[b[j]]; ok {
					switch mod {
					case 0:
						keys = append(keys, keyName(name))
					case '2':
						keys = append(keys, keyName("shift+"+name))
					}
				}
				i = j
				continue
			}
			if i+1 == len(b) {
				keys = append(keys, "esc") // a lone Esc
			}
			continue
		}
		switch {
		case c == 0x03:
			keys = append(keys, "ctrl+c")
		case c == ' ':
			keys = append(keys, "space")
		case c == '\r':
			keys = append(keys, "enter")
		case c == '\t':
			keys = append(keys, "tab")
		case c > ' ' && c < 0x7f:
			keys = append(keys, keyName(string(rune(c))))
		}
	}
	return keys
}
