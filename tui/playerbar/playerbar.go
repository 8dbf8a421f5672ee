// Package playerbar is the player at the bottom of the screen: it fetches a call's recording through the disk
// cache, starts playing while the rest downloads, and shows title, format, elapsed/total, a progress bar and a
// waveform strip of the whole call with the speech marked, so the user can jump between stretches of speech.
// Position updates come from the player's event channel as messages, one Cmd waiting for the next.
package playerbar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/tui/common"
)

// Seek steps.
const (
	SmallSeek = 5 * time.Second
	BigSeek   = 30 * time.Second
)

// Options set up the player bar.
type Options struct {
	Player PlayerFactory   // nil: DefaultPlayer
	Source cdr.Source      // where recordings come from
	Cache  *reccache.Cache // nil: one in reccache.DefaultDir, opened on first play
}

// Phase is what the bar is doing.
type Phase int

const (
	Idle     Phase = iota // nothing asked for yet
	Fetching              // waiting for the PBX's first bytes and the decoder
	Loaded                // a recording is in the player
	Failed                // the last request failed; Err says why
)

// Model is the player bar.
type Model struct {
	ctx    *common.Context
	en     *engine
	Keys   KeyMap
	Global GlobalKeyMap

	width, height int
	focused       bool

	phase     Phase
	gen       int
	cancel    context.CancelFunc
	record    cdr.Record
	entry     *reccache.Entry
	info      decode.Info
	state     player.State
	listening bool // a Cmd is waiting on the player's events
	noticed   bool // the no-sound notice went to the status bar already
	err       error

	dlN, dlTotal int64
	downloading  bool

	wave    *waveform.Analysis
	waveErr error
}

// New returns an idle player bar. Nothing is opened until the first PlayRequest.
func New(ctx *common.Context, opts Options) *Model {
	return &Model{ctx: ctx, en: &engine{factory: opts.Player, src: opts.Source, cache: opts.Cache},
		Keys: DefaultKeyMap(), Global: DefaultGlobalKeyMap()}
}

// Messages, tagged with the play request they answer.
type (
	loadedMsg struct {
		gen    int
		err    error
		entry  *reccache.Entry
		info   decode.Info
		name   string
		cached bool
		events <-chan player.State
	}
	waveMsg struct {
		gen      int
		analysis *waveform.Analysis
		err      error
	}
	dlMsg struct {
		gen      int
		n, total int64
		done     bool
		next     <-chan dlMsg
	}
	stateMsg struct {
		state  player.State
		events <-chan player.State
	}
)

// Phase is what the bar is doing.
func (m *Model) Phase() Phase { return m.phase }

// Record is the call loaded or being fetched.
func (m *Model) Record() cdr.Record { return m.record }

// State is the player's latest reported state.
func (m *Model) State() player.State { return m.state }

// Err is the last error, shown in the bar.
func (m *Model) Err() error { return m.err }

// Active reports whether the bar has something to show (the root gives it rows only then).
func (m *Model) Active() bool { return m.phase != Idle }

// Focus gives the bar the keyboard.
func (m *Model) Focus() tea.Cmd { m.focused = true; return nil }

// Blur takes it away; playback goes on.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the bar has the keyboard.
func (m *Model) Focused() bool { return m.focused }

// Play starts fetching and playing rec, replacing whatever plays now.
func (m *Model) Play(rec cdr.Record) tea.Cmd {
	if m.cancel != nil {
		m.cancel() // stops the old download; the player replaces the old stream on Load
	}
	m.gen++
	m.record = rec
	m.entry, m.wave, m.waveErr, m.err = nil, nil, nil, nil
	m.info = decode.Info{}
	m.dlN, m.dlTotal, m.downloading = 0, rec.RecordingSize, false
	if !rec.HasRecording() {
		m.cancel = nil
		m.phase = Failed
		m.err = cdr.NoRecordingError(cdr.ByRecord(rec))
		if p := m.en.get(); p != nil {
			p.Stop()
		}
		return common.Error(m.err)
	}
	m.phase = Fetching
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	gen, en := m.gen, m.en
	dl := newDLProgress(gen)
	m.downloading = true
	return tea.Batch(
		func() tea.Msg { return en.load(ctx, gen, rec, dl) },
		waitDL(gen, dl.ch),
	)
}

func waitDL(gen int, ch <-chan dlMsg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return dlMsg{done: true, gen: gen}
		}
		msg.next = ch
		return msg
	}
}

func waitEvent(ch <-chan player.State) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		st, ok := <-ch
		if !ok {
			return nil // the player closed
		}
		return stateMsg{state: st, events: ch}
	}
}

// Update handles play requests, loading results, player events and, when focused, keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.PlayRequest:
		return m.Play(msg.Record)
	case loadedMsg:
		if msg.gen != m.gen {
			return nil
		}
		if msg.err != nil {
			if errors.Is(msg.err, context.Canceled) {
				return nil
			}
			m.phase, m.err = Failed, msg.err
			return common.Error(fmt.Errorf("cannot play call %s: %w", m.record.Ref(), msg.err))
		}
		m.phase = Loaded
		m.entry, m.info = msg.entry, msg.info
		if m.en.get() != nil {
			m.state = m.en.get().State()
		}
		var cmds []tea.Cmd
		if !m.listening {
			m.listening = true
			cmds = append(cmds, waitEvent(msg.events))
		}
		ctx, gen, e, name := m.ctxFor(), m.gen, msg.entry, msg.name
		cmds = append(cmds, func() tea.Msg { return analyse(ctx, gen, e, name) })
		return tea.Batch(cmds...)
	case waveMsg:
		if msg.gen != m.gen {
			return nil
		}
		m.wave, m.waveErr = msg.analysis, msg.err
		return nil
	case dlMsg:
		if msg.done {
			if msg.gen == m.gen {
				m.downloading = false
			}
			return nil
		}
		if msg.gen != m.gen {
			return waitDL(msg.gen, msg.next) // drain an old download's channel until it closes
		}
		m.dlN, m.dlTotal = msg.n, msg.total
		return waitDL(msg.gen, msg.next)
	case stateMsg:
		m.state = msg.state
		var cmds []tea.Cmd
		if msg.state.Notice != "" && !m.noticed {
			m.noticed = true // said once; the bar keeps a short "no sound" mark
			cmds = append(cmds, common.Status(msg.state.Notice))
		}
		cmds = append(cmds, waitEvent(msg.events))
		return tea.Batch(cmds...)
	case tea.KeyPressMsg:
		if !m.focused {
			return nil
		}
		return m.handleKey(msg)
	}
	return nil
}

// ctxFor is a context for work that belongs to the current call: ended when another is played.
func (m *Model) ctxFor() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	prev := m.cancel
	m.cancel = func() {
		cancel()
		if prev != nil {
			prev()
		}
	}
	return ctx
}

// HandleGlobal is for the root: keys that control playback from anywhere (`p`). It reports whether the key
// was the player's.
func (m *Model) HandleGlobal(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if m.phase != Loaded || !key.Matches(msg, m.Global.Toggle) {
		return nil, false
	}
	m.do(func(p *player.Player) { p.Toggle() })
	return nil, true
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.Keys
	if key.Matches(msg, k.Leave) {
		m.focused = false
		return common.Cmd(common.FocusTable{})
	}
	if m.phase != Loaded {
		return nil
	}
	var err error
	switch {
	case key.Matches(msg, k.Toggle):
		m.do(func(p *player.Player) { p.Toggle() })
	case key.Matches(msg, k.Back):
		m.do(func(p *player.Player) { err = p.SeekBy(-SmallSeek) })
	case key.Matches(msg, k.Forward):
		m.do(func(p *player.Player) { err = p.SeekBy(SmallSeek) })
	case key.Matches(msg, k.BackBig):
		m.do(func(p *player.Player) { err = p.SeekBy(-BigSeek) })
	case key.Matches(msg, k.ForwardBig):
		m.do(func(p *player.Player) { err = p.SeekBy(BigSeek) })
	case key.Matches(msg, k.NextSpeech), key.Matches(msg, k.PrevSpeech):
		if m.wave == nil {
			return common.Status("still working out where people speak…")
		}
		pos := m.en.get().State().Position
		next := key.Matches(msg, k.NextSpeech)
		var to time.Duration
		var ok bool
		if next {
			to, ok = m.wave.NextSpeech(pos)
		} else {
			to, ok = m.wave.PrevSpeech(pos)
		}
		if !ok {
			if next {
				return common.Status("no more speech after this point")
			}
			return common.Status("no speech before this point")
		}
		m.do(func(p *player.Player) { err = p.SeekTo(to) })
	case key.Matches(msg, k.Slower):
		m.do(func(p *player.Player) { p.SetSpeed(p.Speed() - player.SpeedStep) })
	case key.Matches(msg, k.Faster):
		m.do(func(p *player.Player) { p.SetSpeed(p.Speed() + player.SpeedStep) })
	case key.Matches(msg, k.Quieter):
		m.do(func(p *player.Player) { p.SetVolume(p.Volume() - player.VolumeStep) })
	case key.Matches(msg, k.Louder):
		m.do(func(p *player.Player) { p.SetVolume(p.Volume() + player.VolumeStep) })
	case key.Matches(msg, k.Stop):
		m.do(func(p *player.Player) { p.Stop() })
	default:
		return nil
	}
	if err != nil {
		return common.Error(err)
	}
	return nil
}

// do runs a control on the player and takes its state at once, so the bar answers the key in the same frame
// (the event follows anyway).
func (m *Model) do(f func(p *player.Player)) {
	p := m.en.get()
	if p == nil {
		return
	}
	f(p)
	m.state = p.State()
}

// SetSize is the bar's area: three lines show everything, fewer drop the waveform, then the progress bar.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// ShortHelp is the bar's one-line help.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	return []key.Binding{k.Toggle, k.Back, k.BackBig, k.PrevSpeech, k.Slower, k.Quieter, k.Stop, k.Leave}
}

// FullHelp is the bar's help page: the shared player keys, then how to leave.
func (m *Model) FullHelp() [][]key.Binding {
	return append(m.Keys.HelpGroups(), []key.Binding{m.Keys.Leave})
}

// Close stops playback and releases the player (on quit).
func (m *Model) Close() error {
	if m.cancel != nil {
		m.cancel()
	}
	if p := m.en.get(); p != nil {
		return p.Close()
	}
	return nil
}

// The root drives it through the one component contract.
var _ common.Focusable = (*Model)(nil)
