package playerbar

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/player"
	"github.com/callscope/callscope/audio/waveform"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
)

// PlayerFactory opens the player the first time a call is played, so start-up never waits for a sound
// server. app.Options.Player holds one; the player it returns says "no audio device" itself (State.Notice)
// and keeps its clock running on the null output.
type PlayerFactory func() (*player.Player, error)

// DefaultPlayer plays through the best audio output there is, falling back to none (the clock still runs).
func DefaultPlayer() (*player.Player, error) {
	return player.New(output.Open(output.Config{})), nil
}

// NullPlayer plays to no device at 8 kHz: tests, CI and `--no-audio`.
func NullPlayer() (*player.Player, error) {
	return player.New(output.NewNull(8000)), nil
}

// fileStream is a decoded recording that closes its file when the player is done with it.
type fileStream struct {
	s *decode.Stream
	f *os.File
}

func (s *fileStream) Stream(buf [][2]float64) (int, bool) { return s.s.Stream(buf) }
func (s *fileStream) Err() error                          { return s.s.Err() }
func (s *fileStream) Len() int                            { return s.s.Len() }
func (s *fileStream) Position() int                       { return s.s.Position() }
func (s *fileStream) Seek(p int) error                    { return s.s.Seek(p) }

func (s *fileStream) Close() error {
	err := s.s.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// engine is what the Cmds share: the player (opened once), the cache and the lock that keeps a late Cmd from
// loading an old call over a new one.
type engine struct {
	factory PlayerFactory
	src     cdr.Source
	cache   *reccache.Cache

	mu     sync.Mutex                    // serialises loads
	player atomic.Pointer[player.Player] // set once; read by Update without the lock
	perr   error
}

// get is the player, or nil before the first play opened it.
func (en *engine) get() *player.Player { return en.player.Load() }

// ensure opens the player and the cache on first use.
func (en *engine) ensure() (*player.Player, *reccache.Cache, error) {
	if en.get() == nil && en.perr == nil {
		f := en.factory
		if f == nil {
			f = DefaultPlayer
		}
		p, err := f()
		if err != nil {
			en.perr = fmt.Errorf("cannot start the player: %v", err)
		} else {
			en.player.Store(p)
		}
	}
	if en.perr != nil {
		return nil, nil, en.perr
	}
	if en.cache == nil {
		c, err := reccache.Open(reccache.DefaultDir())
		if err != nil {
			return nil, nil, err
		}
		en.cache = c
	}
	return en.get(), en.cache, nil
}

// load fetches rec's recording (returning once the first bytes are in), opens it with the decoder while it
// downloads, and starts playing. ctx ends the download when another call is played.
func (en *engine) load(ctx context.Context, gen int, rec cdr.Record, dl *dlProgress) loadedMsg {
	en.mu.Lock()
	p, cache, err := en.ensure()
	en.mu.Unlock()
	if err != nil {
		return loadedMsg{gen: gen, err: err}
	}
	e, err := cache.Fetch(ctx, en.src, rec, dl.set)
	if err != nil {
		dl.finish()
		return loadedMsg{gen: gen, err: err}
	}
	go func() { <-e.Done(); dl.finish() }()
	name := e.Name
	if name == "" {
		name = rec.Recording
	}
	if e.Format == "gsm" && name == "" {
		name = "recording.gsm"
	}
	st, err := decode.Open(decode.FollowDownload(e.File, e.Done(), e.Err), name)
	if err != nil {
		_ = e.File.Close()
		return loadedMsg{gen: gen, err: err}
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	if ctx.Err() != nil { // another call was asked for while this one opened
		_ = st.Close()
		_ = e.File.Close()
		return loadedMsg{gen: gen, err: ctx.Err()}
	}
	fs := &fileStream{s: st, f: e.File}
	if err := p.Load(fs, st.Format(), rec.Ref()); err != nil {
		_ = fs.Close() // refused: the stream is still ours, and a read-only file has nothing to flush
		return loadedMsg{gen: gen, err: err}
	}
	p.Play()
	return loadedMsg{gen: gen, entry: e, info: st.Info(), name: name, cached: e.Cached, events: p.Events()}
}

// analyse decodes a second copy of the recording and computes its waveform and speech segments. On a
// download still running it waits for the end (the decoder waits for bytes), so the strip covers the whole
// call.
func analyse(ctx context.Context, gen int, e *reccache.Entry, name string) waveMsg {
	f, err := e.Reopen()
	if err != nil {
		return waveMsg{gen: gen, err: err}
	}
	defer func() { _ = f.Close() }()
	st, err := decode.Open(decode.FollowDownload(f, e.Done(), e.Err), name)
	if err != nil {
		return waveMsg{gen: gen, err: err}
	}
	defer func() { _ = st.Close() }()
	a, err := waveform.Analyze(ctx, st, st.Format().SampleRate)
	if err != nil {
		return waveMsg{gen: gen, err: err}
	}
	return waveMsg{gen: gen, analysis: a}
}

// dlProgress passes download progress from the cache's goroutine to the UI, latest value only.
type dlProgress struct {
	gen  int
	ch   chan dlMsg
	once sync.Once
}

func newDLProgress(gen int) *dlProgress { return &dlProgress{gen: gen, ch: make(chan dlMsg, 1)} }

func (d *dlProgress) set(n, total int64) {
	msg := dlMsg{gen: d.gen, n: n, total: total}
	select {
	case d.ch <- msg:
	default:
		select {
		case <-d.ch:
		default:
		}
		select {
		case d.ch <- msg:
		default:
		}
	}
}

func (d *dlProgress) finish() {
	d.once.Do(func() {
		// The last value stays buffered: a closed channel still delivers it before reporting closed.
		close(d.ch)
	})
}
