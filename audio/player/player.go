// Package player plays one recording at a time through an output.Output,
// with pause, seek, pitch-keeping speed and volume, and reports its state
// as events so a UI never has to poll.
package player

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/stretch"
	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/effects"
)

// Limits and steps for speed and volume.
const (
	MinSpeed   = stretch.MinSpeed
	MaxSpeed   = stretch.MaxSpeed
	SpeedStep  = 0.25
	MaxVolume  = 1.5 // 150 %
	VolumeStep = 0.1
)

// resampleQuality is beep's quality 3: good for voice, cheap enough to run
// live.
const resampleQuality = 3

// eventInterval is how often position events are sent while playing.
const eventInterval = 100 * time.Millisecond

// State is a snapshot of the player.
type State struct {
	Title    string
	Loaded   bool // a recording is loaded
	Playing  bool // playing or paused (not stopped, not ended)
	Paused   bool
	Ended    bool // played to the end
	Position time.Duration
	Length   time.Duration // grows while a recording is still arriving
	Speed    float64       // 0.5 … 2
	Volume   float64       // 0 … 1.5, 1 is as recorded
	Output   string        // backend in use: "pulse", "speaker", "null"
	Notice   string        // "no audio device: …" when there is no sound
	Err      error         // why playback stopped, if it failed
}

// Player plays one stream at a time. All methods are safe for concurrent
// use; the output pulls audio from its own goroutine.
type Player struct {
	out  output.Output
	rate beep.SampleRate

	mu      sync.Mutex
	src     beep.StreamSeekCloser
	format  beep.Format
	title   string
	ctrl    *beep.Ctrl
	volume  *effects.Volume
	playing bool
	ended   bool
	err     error
	speed   float64
	vol     float64
	pos     float64 // position in source samples
	notice  string
	retryAt time.Time // when to look again for more of a growing stream
	shut    bool      // Close has run: Load refuses new streams

	// firstSample is closed when the output takes the first sample after
	// Play; it measures time to first sound.
	firstSample chan struct{}

	events    chan State
	emitMu    sync.Mutex
	closed    bool // guarded by emitMu; events is closed
	stop      chan struct{}
	stopped   sync.WaitGroup
	closeOnce sync.Once
}

// New returns a player that plays through out, and owns it from now on:
// Close closes it. If out can say why there is no sound (as
// *output.Device does), that message appears once in State.Notice.
func New(out output.Output) *Player {
	p := &Player{
		out:    out,
		rate:   out.SampleRate(),
		speed:  1,
		vol:    1,
		events: make(chan State, 1),
		stop:   make(chan struct{}),
	}
	p.volume = &effects.Volume{Base: 2}
	if err := out.Start(beep.StreamerFunc(p.stream)); err != nil {
		p.startSilent(out, err)
	}
	p.stopped.Add(1)
	go p.tick()
	if n, ok := p.out.(interface{ Notices() <-chan string }); ok {
		p.stopped.Add(1)
		go p.watchNotices(n.Notices())
	}
	return p
}

// startSilent is New's way out when out will not start: an output that never pulls would leave the player
// silent with its clock stopped and no word why. The null output at the same rate keeps the clock running, and
// the notice says why there is no sound, as output.Open's fallback does.
func (p *Player) startSilent(out output.Output, err error) {
	p.notice = fmt.Sprintf("no audio device: %s: %v; playing silently", out.Name(), err)
	_ = out.Close() // it never started: there is nothing it could still report
	null := output.NewNull(p.rate)
	if nerr := null.Start(beep.StreamerFunc(p.stream)); nerr != nil {
		// A fresh null output always starts; should it not, the notice says that too.
		p.notice += fmt.Sprintf(" (the null output would not start either: %v)", nerr)
	}
	p.out = null
}

// Events delivers the player's state about ten times a second while playing
// and after every change. It holds only the latest state: a slow reader
// misses intermediate positions, never the last one, and the audio never
// waits for it. There is one channel per player, for one reader; Close
// closes it.
func (p *Player) Events() <-chan State { return p.events }

// Load replaces the current recording with s (stopping the old one and
// closing it), ready to play from the start.
func (p *Player) Load(s beep.StreamSeekCloser, format beep.Format, title string) error {
	if s == nil {
		return errors.New("player: nothing to load")
	}
	if format.SampleRate <= 0 {
		return fmt.Errorf("player: %s has no sample rate", title)
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		// Close has released everything; a stream taken now would never be closed. It stays the caller's.
		return fmt.Errorf("player: closed; %s was not loaded", title)
	}
	old := p.src
	p.src, p.format, p.title = s, format, title
	p.playing, p.ended, p.err = false, false, nil
	p.pos = 0
	p.ctrl = nil
	p.mu.Unlock()
	if old != nil && old != s {
		_ = old.Close() // only ever read from: nothing is lost if its Close fails
	}
	p.emit()
	return nil
}

// Play starts or resumes playback. After the end it starts again from the
// beginning, unless the recording has grown since.
func (p *Player) Play() {
	p.mu.Lock()
	p.playLocked()
	p.mu.Unlock()
	p.flush()
	p.emit()
}

func (p *Player) playLocked() {
	if p.src == nil {
		return
	}
	if p.ctrl != nil && p.playing {
		p.ctrl.Paused = false
		return
	}
	if p.ended && int(p.pos) >= p.src.Len() {
		p.pos = 0
	}
	p.ended, p.err = false, nil
	if err := p.rebuildLocked(); err != nil {
		p.err = err
		return
	}
	p.playing = true
	p.firstSample = make(chan struct{})
}

// flush asks the output to drop buffered audio, so that what starts now is
// heard at once. It runs off the caller's goroutine: a wedged sound server
// must not freeze the UI.
func (p *Player) flush() {
	if f, ok := p.out.(output.Flusher); ok {
		go f.Flush()
	}
}

// Pause pauses playback; Play or Toggle resumes.
func (p *Player) Pause() {
	p.mu.Lock()
	if p.ctrl != nil && p.playing {
		p.ctrl.Paused = true
	}
	p.mu.Unlock()
	p.emit()
}

// Toggle pauses when playing and plays otherwise.
func (p *Player) Toggle() {
	p.mu.Lock()
	if p.ctrl != nil && p.playing {
		p.ctrl.Paused = !p.ctrl.Paused
	} else {
		p.playLocked()
	}
	resumed := p.ctrl != nil && !p.ctrl.Paused
	p.mu.Unlock()
	if resumed {
		p.flush()
	}
	p.emit()
}

// Stop stops playback and rewinds; the recording stays loaded.
func (p *Player) Stop() {
	p.mu.Lock()
	p.playing, p.ended = false, false
	p.ctrl = nil
	p.pos = 0
	p.mu.Unlock()
	p.emit()
}

// SeekTo moves to d, clamped to the recording.
func (p *Player) SeekTo(d time.Duration) error {
	p.mu.Lock()
	err := p.seekLocked(d)
	p.mu.Unlock()
	p.flush()
	p.emit()
	return err
}

// SeekBy moves by d (negative is back).
func (p *Player) SeekBy(d time.Duration) error {
	p.mu.Lock()
	if p.src == nil {
		p.mu.Unlock()
		return nil
	}
	err := p.seekLocked(p.format.SampleRate.D(int(math.Round(p.pos))) + d)
	p.mu.Unlock()
	p.flush()
	p.emit()
	return err
}

func (p *Player) seekLocked(d time.Duration) error {
	if p.src == nil {
		return nil
	}
	n := p.format.SampleRate.N(d)
	n = max(0, min(n, p.src.Len()))
	p.pos = float64(n)
	p.ended = false
	if p.ctrl == nil {
		return nil
	}
	if err := p.rebuildLocked(); err != nil {
		p.err = err
		p.playing = false
		return err
	}
	return nil
}

// SetSpeed sets the playback speed, clamped to 0.5…2; the pitch stays.
func (p *Player) SetSpeed(x float64) {
	if math.IsNaN(x) {
		return
	}
	x = math.Max(MinSpeed, math.Min(MaxSpeed, x))
	p.mu.Lock()
	if x != p.speed {
		p.speed = x
		if p.ctrl != nil {
			if err := p.rebuildLocked(); err != nil {
				p.err, p.playing = err, false
			}
		}
	}
	p.mu.Unlock()
	p.emit()
}

// Speed is the playback speed.
func (p *Player) Speed() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// SetVolume sets the volume, 0 (mute) to 1.5; 1 plays as recorded.
func (p *Player) SetVolume(v float64) {
	if math.IsNaN(v) {
		return
	}
	v = math.Max(0, math.Min(MaxVolume, v))
	// Steps of 0.1 added up in floating point drift; keep them on the grid.
	v = math.Round(v*100) / 100
	p.mu.Lock()
	p.vol = v
	p.applyVolumeLocked()
	p.mu.Unlock()
	p.emit()
}

// Volume is the volume, 0 to 1.5.
func (p *Player) Volume() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.vol
}

func (p *Player) applyVolumeLocked() {
	// Volume is a linear amplitude factor; beep's Volume takes its log.
	p.volume.Silent = p.vol <= 0
	if p.vol > 0 {
		p.volume.Volume = math.Log2(p.vol)
	}
}

// State is the player's state now.
func (p *Player) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stateLocked()
}

func (p *Player) stateLocked() State {
	s := State{
		Title:  p.title,
		Loaded: p.src != nil,
		Speed:  p.speed,
		Volume: p.vol,
		Output: p.out.Name(),
		Notice: p.notice,
		Err:    p.err,
		Ended:  p.ended,
	}
	if p.src != nil {
		sr := p.format.SampleRate
		length := p.src.Len()
		s.Length = sr.D(length)
		s.Position = sr.D(min(int(math.Round(p.pos)), length))
		s.Playing = p.playing && p.ctrl != nil
		s.Paused = s.Playing && p.ctrl.Paused
	}
	return s
}

// rebuildLocked seeks the source to the current position and builds a
// fresh chain: stretch at the source rate (cheaper than at the output
// rate), resample to the output, volume, pause control.
func (p *Player) rebuildLocked() error {
	n := int(math.Round(p.pos))
	if err := p.src.Seek(n); err != nil {
		return fmt.Errorf("cannot seek %s to %v: %v", p.title, p.format.SampleRate.D(n).Round(time.Millisecond), err)
	}
	p.pos = float64(n)
	var s beep.Streamer = p.src
	if p.speed != 1 {
		s = stretch.New(s, p.format.SampleRate, p.speed)
	}
	if p.format.SampleRate != p.rate {
		s = beep.Resample(resampleQuality, p.format.SampleRate, p.rate, s)
	}
	p.volume.Streamer = s
	p.applyVolumeLocked()
	paused := p.ctrl != nil && p.ctrl.Paused
	p.ctrl = &beep.Ctrl{Streamer: p.volume, Paused: paused}
	return nil
}

// stream is what the output pulls. It always fills buf (silence when
// nothing plays) so the output keeps its clock.
func (p *Player) stream(buf [][2]float64) (int, bool) {
	p.mu.Lock()
	ended := false
	n := 0
	if p.playing && p.ctrl != nil {
		paused := p.ctrl.Paused
		var ok bool
		n, ok = p.ctrl.Stream(buf)
		n = max(n, 0)
		if !paused && n > 0 {
			p.pos += float64(n) * p.speed * float64(p.format.SampleRate) / float64(p.rate)
			if p.firstSample != nil {
				close(p.firstSample)
				p.firstSample = nil
			}
		}
		if !ok || n < len(buf) {
			ended = p.endOfStreamLocked()
		}
	}
	p.mu.Unlock()
	clear(buf[n:])
	if ended {
		p.emit()
	}
	return len(buf), true
}

// endOfStreamLocked handles the chain running dry. A recording still
// arriving runs dry before its end: then wait and try again from the same
// place. Reports whether playback ended.
func (p *Player) endOfStreamLocked() bool {
	if err := p.src.Err(); err != nil {
		p.err = fmt.Errorf("playing %s: %v", p.title, err)
		p.playing, p.ended, p.ctrl = false, true, nil
		return true
	}
	if length := p.src.Len(); int(p.pos) < length-p.format.SampleRate.N(10*time.Millisecond) {
		now := time.Now()
		if now.After(p.retryAt) {
			p.retryAt = now.Add(100 * time.Millisecond)
			if err := p.rebuildLocked(); err != nil {
				p.err = err
				p.playing, p.ended, p.ctrl = false, true, nil
				return true
			}
		}
		return false
	}
	p.pos = float64(p.src.Len())
	p.playing, p.ended, p.ctrl = false, true, nil
	return true
}

// emit sends the current state, replacing an unread older one.
func (p *Player) emit() {
	s := p.State()
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	if p.closed {
		return
	}
	select {
	case <-p.events:
	default:
	}
	select {
	case p.events <- s:
	default:
	}
}

func (p *Player) tick() {
	defer p.stopped.Done()
	t := time.NewTicker(eventInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			active := p.playing && p.ctrl != nil && !p.ctrl.Paused
			p.mu.Unlock()
			if active {
				p.emit()
			}
		}
	}
}

func (p *Player) watchNotices(c <-chan string) {
	defer p.stopped.Done()
	select {
	case <-p.stop:
	case msg := <-c:
		p.mu.Lock()
		p.notice = msg
		p.mu.Unlock()
		p.emit()
	}
}

// FirstSample returns a channel closed when the output has taken the first
// sample since the last Play (nil when not playing). It lets callers
// measure the time from Play to sound.
func (p *Player) FirstSample() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstSample == nil {
		if p.playing {
			c := make(chan struct{})
			close(c)
			return c
		}
		return nil
	}
	return p.firstSample
}

// Close stops playback and releases the recording and the output.
func (p *Player) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		p.stopped.Wait()
		err = p.out.Close()
		p.mu.Lock()
		src := p.src
		p.src, p.ctrl, p.playing = nil, nil, false
		p.shut = true
		p.mu.Unlock()
		if src != nil {
			if cerr := src.Close(); err == nil {
				err = cerr
			}
		}
		p.emitMu.Lock()
		p.closed = true
		close(p.events)
		p.emitMu.Unlock()
	})
	return err
}
