// Package output sends audio to a sound device, or to nowhere at the pace of
// one when there is no device, so that players behave the same everywhere.
package output

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopxl/beep/v2"
)

// Output is a sink that pulls samples from one source at its own sample rate.
type Output interface {
	// Name says which backend this is: "pulse", "speaker" or "null".
	Name() string
	// SampleRate is the rate the output pulls samples at.
	SampleRate() beep.SampleRate
	// Start makes the output pull from src on its own goroutine until Close.
	// It returns at once. src must tolerate being called from that goroutine;
	// whatever src does not fill is played as silence.
	Start(src beep.Streamer) error
	// Close stops pulling and releases the device.
	Close() error
}

// Flusher is an Output that can drop the audio it has buffered but not yet
// played, so that what comes next is heard at once.
type Flusher interface {
	Flush()
}

// Names of the backends, as CALLSCOPE_AUDIO accepts them.
const (
	Null    = "null"
	Pulse   = "pulse"
	Speaker = "speaker"
)

// EnvVar forces a backend when set to one of Null, Pulse or Speaker.
const EnvVar = "CALLSCOPE_AUDIO"

// Config tunes Open. The zero value is what callscope uses.
type Config struct {
	// Backend forces a backend ("null", "pulse", "speaker"); empty reads
	// CALLSCOPE_AUDIO, and if that is empty too the best available is chosen.
	Backend string
	// SampleRate of the output; 0 means 48000 Hz.
	SampleRate beep.SampleRate
	// Latency is how much audio the device buffers; 0 means 80 ms.
	Latency time.Duration
	// StallTimeout is how long a device may go without consuming samples
	// (at a quarter of real time or more) before it is given up for the null
	// output; 0 means 1.5 s.
	StallTimeout time.Duration
	// StartGrace is how long after opening a device may be slow, as long as
	// it has taken some samples: a waking Bluetooth sink, or a null sink
	// that renders two seconds ahead, pauses once at the start. 0 means 3 s.
	StartGrace time.Duration
}

func (c Config) withDefaults() Config {
	if c.SampleRate <= 0 {
		c.SampleRate = 48000
	}
	if c.Latency <= 0 {
		c.Latency = 80 * time.Millisecond
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 1500 * time.Millisecond
	}
	if c.StartGrace <= 0 {
		c.StartGrace = 3 * time.Second
	}
	if c.Backend == "" {
		c.Backend = strings.ToLower(strings.TrimSpace(os.Getenv(EnvVar)))
	}
	return c
}

// backend is one way of making sound, registered by the files that build on
// this platform, tried in order of preference (lower first).
type backend struct {
	name       string
	preference int
	open       func(rate beep.SampleRate, latency time.Duration) (Output, error)
}

var backends []backend

func register(b backend) {
	backends = append(backends, b)
	for i := len(backends) - 1; i > 0 && backends[i].preference < backends[i-1].preference; i-- {
		backends[i], backends[i-1] = backends[i-1], backends[i]
	}
}

// Available lists the backends built into this binary, best first; "null"
// is always last.
func Available() []string {
	names := make([]string, 0, len(backends)+1)
	for _, b := range backends {
		names = append(names, b.name)
	}
	return append(names, Null)
}

// Device is the Output that Open returns: a real backend watched by a
// watchdog, which moves playback to the null output (so the clock keeps
// running) if the backend fails to start or stops consuming samples.
type Device struct {
	cfg  Config
	rate beep.SampleRate

	srcMu sync.Mutex // serialises pulls: during a fallback two taps may be live
	src   beep.Streamer

	mu      sync.Mutex
	current Output
	tap     *tap
	closed  bool
	notice  string
	notices chan string

	consumed atomic.Int64
	stop     chan struct{}
	done     chan struct{}
}

// Open returns a working output: the forced or best available backend, or
// the null output when none works. It never fails; when there is no usable
// device, Notice (and one message on Notices) says so plainly.
func Open(cfg Config) *Device {
	cfg = cfg.withDefaults()
	d := &Device{
		cfg:     cfg,
		rate:    cfg.SampleRate,
		notices: make(chan string, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	out, problem := d.pick()
	d.current = out
	d.tap = &tap{d: d}
	if err := out.Start(d.tap); err != nil {
		problem = fmt.Sprintf("%s: %v", out.Name(), err)
		d.current = newNull(d.rate)
		_ = d.current.Start(d.tap)
	}
	if problem != "" {
		d.say(problem)
	}
	if d.current.Name() == Null {
		close(d.done)
	} else {
		go d.watch(d.current, d.tap)
	}
	return d
}

// pick opens the backend that Config asks for, or the best that works.
func (d *Device) pick() (Output, string) {
	want := d.cfg.Backend
	switch want {
	case "", "auto":
		var problems []string
		for _, b := range backends {
			out, err := b.open(d.rate, d.cfg.Latency)
			if err == nil {
				return out, ""
			}
			problems = append(problems, fmt.Sprintf("%s: %v", b.name, err))
		}
		if len(problems) == 0 {
			return newNull(d.rate), "this build has no audio backend for this system"
		}
		return newNull(d.rate), strings.Join(problems, "; ")
	case Null:
		return newNull(d.rate), ""
	}
	for _, b := range backends {
		if b.name == want {
			out, err := b.open(d.rate, d.cfg.Latency)
			if err != nil {
				return newNull(d.rate), fmt.Sprintf("%s: %v", want, err)
			}
			return out, ""
		}
	}
	return newNull(d.rate), fmt.Sprintf("%s=%q is not available in this build (have %s)",
		EnvVar, want, strings.Join(Available(), ", "))
}

// say records why there is no sound. Only the first reason is kept and
// sent: the user needs to hear it once.
func (d *Device) say(problem string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.notice != "" {
		return
	}
	d.notice = "no audio device: " + problem + "; playing silently"
	d.notices <- d.notice
}

// Name is the backend in use now; it becomes "null" after a fallback.
func (d *Device) Name() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current.Name()
}

// SampleRate is fixed for the life of the Device, across fallbacks.
func (d *Device) SampleRate() beep.SampleRate { return d.rate }

// Start sets what the device plays; it may be called again to replace src.
// Until it is called the device plays silence.
func (d *Device) Start(src beep.Streamer) error {
	d.srcMu.Lock()
	d.src = src
	d.srcMu.Unlock()
	return nil
}

// Flush drops audio the backend has buffered but not played, if it can.
// Players call it when playback starts or jumps, so the new audio does not
// wait behind the buffered silence or old audio. It may block briefly on a
// round trip to a sound server.
func (d *Device) Flush() {
	d.mu.Lock()
	cur := d.current
	d.mu.Unlock()
	if f, ok := cur.(Flusher); ok {
		f.Flush()
	}
}

// Notice is the "no audio device: …" message, or "" while sound works.
func (d *Device) Notice() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.notice
}

// Notices delivers the notice once, when it happens.
func (d *Device) Notices() <-chan string { return d.notices }

// Consumed counts the samples the output has pulled so far.
func (d *Device) Consumed() int64 { return d.consumed.Load() }

// Close stops the output. A backend that hangs on close is left behind
// rather than hanging the caller.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	cur, t := d.current, d.tap
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	t.dead.Store(true)
	errc := make(chan error, 1)
	go func() { errc <- cur.Close() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second):
		return nil
	}
}

// watch gives up on out when it does not consume samples at roughly its
// sample rate: some devices accept the setup and then never play (the
// speaker's Init returns nil on a machine without a sound card).
func (d *Device) watch(out Output, t *tap) {
	defer close(d.done)
	const tick = 100 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	window := d.cfg.StallTimeout
	type mark struct {
		at time.Time
		n  int64
	}
	start := time.Now()
	history := []mark{{start, 0}}
	for {
		select {
		case <-d.stop:
			return
		case now := <-ticker.C:
			n := t.n.Load()
			history = append(history, mark{now, n})
			for len(history) > 1 && now.Sub(history[1].at) >= window {
				history = history[1:]
			}
			oldest := history[0]
			span := now.Sub(oldest.at)
			if span < window {
				continue
			}
			if n > 0 && now.Sub(start) < d.cfg.StartGrace {
				continue
			}
			// A quarter of real time leaves room for bursty devices that
			// pull a whole buffer at once, and still catches a dead one.
			want := int64(d.rate.N(span)) / 4
			if n-oldest.n >= want {
				continue
			}
			why := "stopped consuming samples"
			if n == 0 {
				why = "did not start playing"
			}
			d.fallBack(out, t, fmt.Sprintf("%s output %s within %v", out.Name(), why, window.Round(100*time.Millisecond)))
			return
		}
	}
}

func (d *Device) fallBack(out Output, t *tap, problem string) {
	t.dead.Store(true)
	go func() { _ = out.Close() }() // a stuck device may never return from Close; it is being replaced anyway
	null := newNull(d.rate)
	nt := &tap{d: d}
	_ = null.Start(nt)
	d.mu.Lock()
	d.current, d.tap = null, nt
	d.mu.Unlock()
	d.say(problem)
}

// tap is what a backend pulls from. Once dead it no longer touches the
// source, so a backend that wakes up after being replaced does no harm.
type tap struct {
	d    *Device
	dead atomic.Bool
	n    atomic.Int64
}

func (t *tap) Stream(buf [][2]float64) (int, bool) {
	if t.dead.Load() {
		clear(buf)
		return len(buf), true
	}
	d := t.d
	d.srcMu.Lock()
	n := 0
	if d.src != nil {
		n, _ = d.src.Stream(buf)
		n = max(n, 0)
	}
	d.srcMu.Unlock()
	clear(buf[n:])
	t.n.Add(int64(len(buf)))
	d.consumed.Add(int64(len(buf)))
	return len(buf), true
}

func (t *tap) Err() error { return nil }
