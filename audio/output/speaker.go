//go:build darwin || windows || (linux && alsa)

package output

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/speaker"
)

// beep's speaker (oto) builds without cgo on macOS and Windows; on Linux it
// needs cgo and ALSA headers, so it is there only with -tags alsa.
func init() {
	register(backend{name: Speaker, preference: 20, open: openSpeaker})
}

// The speaker package is a process-wide singleton that can be initialised
// only once, so every speaker output shares that one initialisation.
var (
	speakerInit sync.Once
	speakerRate beep.SampleRate
	speakerErr  error
	speakerMu   sync.Mutex
	speakerUser *speakerOut
)

type speakerOut struct {
	rate   beep.SampleRate
	mu     sync.Mutex
	closed bool
}

func openSpeaker(rate beep.SampleRate, latency time.Duration) (Output, error) {
	speakerInit.Do(func() {
		speakerRate = rate
		speakerErr = speaker.Init(rate, rate.N(latency))
	})
	if speakerErr != nil {
		return nil, speakerErr
	}
	if speakerRate != rate {
		return nil, fmt.Errorf("speaker already runs at %d Hz, not %d Hz", speakerRate, rate)
	}
	speakerMu.Lock()
	defer speakerMu.Unlock()
	if speakerUser != nil {
		return nil, errors.New("speaker is already in use by another output")
	}
	o := &speakerOut{rate: rate}
	speakerUser = o
	return o, nil
}

func (o *speakerOut) Name() string                { return Speaker }
func (o *speakerOut) SampleRate() beep.SampleRate { return o.rate }

func (o *speakerOut) Start(src beep.Streamer) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errors.New("speaker output is closed")
	}
	speaker.Play(src)
	return nil
}

func (o *speakerOut) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	speaker.Clear()
	speakerMu.Lock()
	speakerUser = nil
	speakerMu.Unlock()
	return nil
}
