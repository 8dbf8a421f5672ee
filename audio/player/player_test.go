package player

import (
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callscope/callscope/audio/output"
	"github.com/gopxl/beep/v2"
)

// memStream is a recording in memory; avail may be less than the full
// length while it is "downloading", and Len reports only what is there.
type memStream struct {
	mu     sync.Mutex
	s      [][2]float64
	avail  int
	pos    int
	err    error
	closed atomic.Bool
}

func newMem(s [][2]float64) *memStream { return &memStream{s: s, avail: len(s)} }

func (m *memStream) Stream(buf [][2]float64) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos >= m.avail {
		return 0, false
	}
	n := copy(buf, m.s[m.pos:m.avail])
	m.pos += n
	return n, true
}
func (m *memStream) Err() error { m.mu.Lock(); defer m.mu.Unlock(); return m.err }
func (m *memStream) Len() int   { m.mu.Lock(); defer m.mu.Unlock(); return m.avail }
func (m *memStream) Position() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos
}
func (m *memStream) Seek(p int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p < 0 || p > m.avail {
		return errors.New("seek out of range")
	}
	m.pos = p
	return nil
}
func (m *memStream) Close() error { m.closed.Store(true); return nil }
func (m *memStream) grow(n int) {
	m.mu.Lock()
	m.avail = min(len(m.s), m.avail+n)
	m.mu.Unlock()
}

func sine(rate beep.SampleRate, freq, amp float64, d time.Duration) [][2]float64 {
	out := make([][2]float64, rate.N(d))
	for i := range out {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		out[i] = [2]float64{v, v}
	}
	return out
}

var phone = beep.Format{SampleRate: 8000, NumChannels: 1, Precision: 2}

func nullPlayer(t testing.TB) *Player {
	t.Helper()
	p := New(output.Open(output.Config{Backend: output.Null}))
	t.Cleanup(func() { p.Close() })
	return p
}

// pulled is an output the test turns by hand, so it can see exactly what
// the player produced without waiting for real time.
type pulled struct {
	rate beep.SampleRate
	mu   sync.Mutex
	src  beep.Streamer
}

func (o *pulled) Name() string                { return "test" }
func (o *pulled) SampleRate() beep.SampleRate { return o.rate }
func (o *pulled) Start(s beep.Streamer) error { o.mu.Lock(); o.src = s; o.mu.Unlock(); return nil }
func (o *pulled) Close() error                { return nil }
func (o *pulled) pull(n int) [][2]float64 {
	buf := make([][2]float64, n)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.src.Stream(buf)
	return buf
}

func near(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

// clockOK says whether a position reached after elapsed wall time at speed
// is plausible for a real-time output: never ahead of the wall clock by
// more than the output's small read-ahead, and behind it only by the
// scheduling delays of a busy machine.
func clockOK(pos, elapsed time.Duration, speed float64) bool {
	want := time.Duration(float64(elapsed) * speed)
	return pos <= want+time.Duration(speed*float64(40*time.Millisecond)) &&
		pos >= want-time.Duration(speed*float64(150*time.Millisecond))
}

func TestPlayAdvancesInRealTimeAndEnds(t *testing.T) {
	p := nullPlayer(t)
	src := newMem(sine(8000, 440, 0.5, 700*time.Millisecond))
	if err := p.Load(src, phone, "call 1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Play()
	time.Sleep(300 * time.Millisecond)
	s := p.State()
	elapsed := time.Since(start)
	if !s.Playing || s.Paused || s.Title != "call 1" || s.Length != 700*time.Millisecond {
		t.Fatalf("state while playing: %+v", s)
	}
	if !clockOK(s.Position, elapsed, 1) {
		t.Fatalf("position %v after %v of play", s.Position, elapsed)
	}
	deadline := time.After(3 * time.Second)
	for {
		select {
		case s := <-p.Events():
			if s.Ended {
				if s.Playing || s.Position != s.Length || s.Err != nil {
					t.Fatalf("end state %+v", s)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no Ended event; state %+v", p.State())
		}
	}
}

func TestPauseStopsTheClock(t *testing.T) {
	p := nullPlayer(t)
	p.Load(newMem(sine(8000, 440, 0.5, 5*time.Second)), phone, "x")
	p.Play()
	time.Sleep(150 * time.Millisecond)
	p.Pause()
	at := p.State().Position
	time.Sleep(200 * time.Millisecond)
	s := p.State()
	if !s.Paused || s.Position != at {
		t.Fatalf("paused at %v, 200ms later %+v", at, s)
	}
	p.Toggle()
	time.Sleep(150 * time.Millisecond)
	if s := p.State(); s.Paused || s.Position <= at {
		t.Fatalf("after Toggle: %+v (was at %v)", s, at)
	}
}

func TestSeekClampsAndMoves(t *testing.T) {
	p := nullPlayer(t)
	p.Load(newMem(sine(8000, 440, 0.5, 10*time.Second)), phone, "x")
	p.SeekTo(4 * time.Second)
	if got := p.State().Position; got != 4*time.Second {
		t.Fatalf("SeekTo(4s) before play: %v", got)
	}
	p.Play()
	p.Pause()
	p.SeekBy(-5 * time.Second)
	if got := p.State().Position; got != 0 {
		t.Fatalf("SeekBy past the start: %v", got)
	}
	p.SeekBy(30 * time.Second)
	if got := p.State().Position; got != 10*time.Second {
		t.Fatalf("SeekBy past the end: %v", got)
	}
	p.SeekTo(2 * time.Second)
	start := time.Now()
	p.Play()
	time.Sleep(200 * time.Millisecond)
	got, elapsed := p.State().Position, time.Since(start)
	if !clockOK(got-2*time.Second, elapsed, 1) {
		t.Fatalf("%v after seeking to 2s: %v", elapsed, got)
	}
}

func TestSpeedAdvancesClockFaster(t *testing.T) {
	p := nullPlayer(t)
	p.Load(newMem(sine(8000, 440, 0.5, 10*time.Second)), phone, "x")
	p.SetSpeed(5) // clamped
	if p.Speed() != 2 {
		t.Fatalf("speed %v, want 2", p.Speed())
	}
	start := time.Now()
	p.Play()
	time.Sleep(400 * time.Millisecond)
	if got, elapsed := p.State().Position, time.Since(start); !clockOK(got, elapsed, 2) {
		t.Fatalf("%v at 2x: position %v", elapsed, got)
	}
}

func TestOutputKeepsPitchAtSpeedAndAppliesVolume(t *testing.T) {
	out := &pulled{rate: 48000}
	p := New(out)
	defer p.Close()
	p.Load(newMem(sine(8000, 300, 0.5, 4*time.Second)), phone, "x")
	p.SetSpeed(1.5)
	p.SetVolume(0.5)
	p.Play()
	buf := out.pull(48000)[4800:] // skip the first 100ms
	crossings := 0
	var peak float64
	for i := 1; i < len(buf); i++ {
		if buf[i-1][0] < 0 && buf[i][0] >= 0 {
			crossings++
		}
		peak = math.Max(peak, math.Abs(buf[i][0]))
	}
	freq := float64(crossings) / (float64(len(buf)) / 48000)
	if math.Abs(freq-300) > 6 {
		t.Fatalf("at 1.5x the 300 Hz tone came out at %.0f Hz", freq)
	}
	if math.Abs(peak-0.25) > 0.02 {
		t.Fatalf("at volume 0.5 the peak is %.3f, want 0.25", peak)
	}
	// 1 s of output at 1.5x covers 1.5 s of the recording.
	if got := p.State().Position; !near(got, 1500*time.Millisecond, 10*time.Millisecond) {
		t.Fatalf("position after 1s of output at 1.5x: %v", got)
	}
	p.SetVolume(0)
	if buf := out.pull(4800); buf[4000][0] != 0 {
		t.Fatal("volume 0 is not silent")
	}
	p.SetVolume(1.23456)
	if v := p.Volume(); v != 1.23 {
		t.Fatalf("volume %v, want 1.23", v)
	}
}

func TestGrowingRecordingKeepsPlaying(t *testing.T) {
	out := &pulled{rate: 8000}
	p := New(out)
	defer p.Close()
	src := newMem(sine(8000, 440, 0.5, 3*time.Second))
	src.avail = 4000 // half a second has arrived
	p.Load(src, phone, "downloading")
	if got := p.State().Length; got != 500*time.Millisecond {
		t.Fatalf("length %v, want 500ms", got)
	}
	p.Play()
	out.pull(4000)
	src.grow(8000) // another second arrives after we ran dry
	out.pull(1000)
	if s := p.State(); s.Ended {
		t.Fatalf("ended at %v although the recording grew to %v", s.Position, s.Length)
	}
	time.Sleep(150 * time.Millisecond) // past the retry interval
	out.pull(8000)
	s := p.State()
	if s.Length != 1500*time.Millisecond || s.Position < time.Second {
		t.Fatalf("after growth: %+v", s)
	}
}

func TestLoadReplacesAndClosesPrevious(t *testing.T) {
	p := nullPlayer(t)
	a := newMem(sine(8000, 440, 0.5, time.Second))
	b := newMem(sine(8000, 440, 0.5, 2*time.Second))
	p.Load(a, phone, "a")
	p.Play()
	p.Load(b, phone, "b")
	if !a.closed.Load() {
		t.Fatal("the previous recording was not closed")
	}
	if s := p.State(); s.Playing || s.Title != "b" || s.Length != 2*time.Second || s.Position != 0 {
		t.Fatalf("after Load: %+v", s)
	}
	if err := p.Load(nil, phone, "nil"); err == nil {
		t.Fatal("Load(nil) gave no error")
	}
	if err := p.Load(b, beep.Format{}, "bad"); err == nil {
		t.Fatal("Load with no sample rate gave no error")
	}
}

func TestStreamErrorEndsWithErr(t *testing.T) {
	p := nullPlayer(t)
	src := newMem(sine(8000, 440, 0.5, 100*time.Millisecond))
	src.err = errors.New("gsm frame 3 is cut off")
	p.Load(src, phone, "broken")
	p.Play()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case s := <-p.Events():
			if s.Ended {
				if s.Err == nil || !strings.Contains(s.Err.Error(), "gsm frame 3 is cut off") {
					t.Fatalf("end state %+v", s)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no end; state %+v", p.State())
		}
	}
}

func TestEventsNeverBlockAudio(t *testing.T) {
	p := nullPlayer(t)
	p.Load(newMem(sine(8000, 440, 0.5, 5*time.Second)), phone, "x")
	start := time.Now()
	p.Play()
	time.Sleep(500 * time.Millisecond) // nobody reads events meanwhile
	s := <-p.Events()
	if elapsed := time.Since(start); !clockOK(s.Position, elapsed, 1) {
		t.Fatalf("latest event after %v is stale: %v", elapsed, s.Position)
	}
}

func TestNoticeFromOutputReachesState(t *testing.T) {
	p := New(output.Open(output.Config{Backend: "bogus"}))
	defer p.Close()
	deadline := time.After(time.Second)
	for {
		select {
		case s := <-p.Events():
			if strings.HasPrefix(s.Notice, "no audio device: ") {
				if s.Output != output.Null {
					t.Fatalf("output %q", s.Output)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no notice; state %+v", p.State())
		}
	}
}

func TestConcurrentControl(t *testing.T) {
	p := nullPlayer(t)
	p.Load(newMem(sine(8000, 440, 0.5, 3*time.Second)), phone, "x")
	p.Play()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				switch i % 6 {
				case 0:
					p.Toggle()
				case 1:
					p.SeekBy(100 * time.Millisecond)
				case 2:
					p.SetSpeed(1 + float64(i%3)*0.25)
				case 3:
					p.SetVolume(float64(i%10) / 10)
				case 4:
					_ = p.State()
				case 5:
					p.Play()
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	go func() {
		for range p.Events() {
		}
	}()
	wg.Wait()
}

// refusing is an output whose Start fails, as a sound server that went away between opening and starting
// does.
type refusing struct{ closed atomic.Bool }

func (o *refusing) Name() string                { return "pulse" }
func (o *refusing) SampleRate() beep.SampleRate { return 8000 }
func (o *refusing) Start(beep.Streamer) error {
	return errors.New("connection to the sound server lost")
}
func (o *refusing) Close() error { o.closed.Store(true); return nil }

// An output that will not start must not leave a player that is silent with its clock stopped and no word why:
// the player says so once and plays on the null output, whose clock runs.
func TestOutputThatWillNotStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  func() output.Output
	}{
		{"start fails", func() output.Output { return &refusing{} }},
		{"started already", func() output.Output {
			o := output.NewNull(8000)
			if err := o.Start(beep.StreamerFunc(func(buf [][2]float64) (int, bool) { clear(buf); return len(buf), true })); err != nil {
				t.Fatal(err)
			}
			return o
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out()
			p := New(out)
			defer p.Close()
			s := p.State()
			if !strings.HasPrefix(s.Notice, "no audio device: ") || s.Output != output.Null {
				t.Fatalf("state after a failed start: output %q, notice %q", s.Output, s.Notice)
			}
			if r, ok := out.(*refusing); ok && !r.closed.Load() {
				t.Fatal("the output that failed to start was not closed")
			}
			if err := p.Load(newMem(sine(8000, 440, 0.5, 2*time.Second)), phone, "x"); err != nil {
				t.Fatal(err)
			}
			p.Play()
			deadline := time.Now().Add(5 * time.Second)
			for p.State().Position == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the clock does not run: %+v", p.State())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A Load after Close is refused, so the caller keeps the stream and closes it: a closed player would hold it
// for ever.
func TestLoadAfterCloseIsRefused(t *testing.T) {
	p := New(output.NewNull(8000))
	p.Close()
	s := newMem(sine(8000, 440, 0.5, time.Second))
	if err := p.Load(s, phone, "late"); err == nil {
		t.Fatal("Load after Close gave no error")
	}
	if s.closed.Load() {
		t.Fatal("a refused stream was closed by the player; it is the caller's")
	}
}
