//go:build linux

package output

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callscope/callscope/audio/output/pulsetest"
	"github.com/gopxl/beep/v2"
	"github.com/jfreymuth/pulse"
)

// sine is a 440 Hz tone at half scale.
type sine struct {
	rate  float64
	phase float64
	mu    sync.Mutex
	n     int
}

func (s *sine) Stream(buf [][2]float64) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range buf {
		v := 0.5 * math.Sin(s.phase)
		s.phase += 2 * math.Pi * 440 / s.rate
		buf[i] = [2]float64{v, v}
	}
	s.n += len(buf)
	return len(buf), true
}
func (s *sine) Err() error { return nil }

// monitor records what reaches the test server's null sink.
type monitor struct {
	mu   sync.Mutex
	peak float32
	n    int
}

func recordMonitor(t *testing.T) *monitor {
	t.Helper()
	c, err := pulse.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sink, err := c.SinkByID(pulsetest.SinkName)
	if err != nil {
		t.Fatal(err)
	}
	m := &monitor{}
	r, err := c.NewRecord(pulse.Float32Writer(func(b []float32) (int, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, v := range b {
			m.peak = max(m.peak, float32(math.Abs(float64(v))))
		}
		m.n += len(b)
		return len(b), nil
	}), pulse.RecordMonitor(sink), pulse.RecordLatency(0.05))
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(r.Close)
	return m
}

func TestPulsePlaysIntoNullSink(t *testing.T) {
	pulsetest.Start(t)
	mon := recordMonitor(t)
	d := Open(Config{})
	defer d.Close()
	if d.Name() != Pulse {
		t.Fatalf("with a server running, Open chose %q (notice %q), want pulse", d.Name(), d.Notice())
	}
	src := &sine{rate: float64(d.SampleRate())}
	d.Start(src)
	waitForFlow(t, d)
	before := d.Consumed()
	time.Sleep(time.Second)
	pulled := d.Consumed() - before
	if want := int64(d.SampleRate()); pulled < want*7/10 || pulled > want*14/10 {
		t.Fatalf("pulse pulled %d samples in 1s, want about %d", pulled, want)
	}
	mon.mu.Lock()
	peak, n := mon.peak, mon.n
	mon.mu.Unlock()
	if n == 0 || peak < 0.3 {
		t.Fatalf("the sink's monitor heard %d samples with peak %.2f; the tone did not reach the server", n, peak)
	}
	if d.Notice() != "" {
		t.Fatalf("unexpected notice %q", d.Notice())
	}
}

// waitForFlow waits until the server pulls steadily: the test's null sink
// renders about two seconds ahead when it starts, so its first request for
// more data comes late.
func waitForFlow(t *testing.T, d *Device) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n := d.Consumed()
		time.Sleep(200 * time.Millisecond)
		if d.Consumed()-n > int64(d.SampleRate().N(100*time.Millisecond)) {
			return
		}
	}
	t.Fatalf("the pulse server did not start pulling samples within 5s (backend %s, notice %q)", d.Name(), d.Notice())
}

func TestPulseWithoutServerFailsAtOnce(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PULSE_SERVER", "")
	t.Setenv("PULSE_RUNTIME_PATH", empty)
	t.Setenv("XDG_RUNTIME_DIR", empty)
	start := time.Now()
	d := Open(Config{Backend: Pulse})
	defer d.Close()
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Fatalf("Open took %v with no server, want it to fail at once", took)
	}
	if d.Name() != Null {
		t.Fatalf("got %q, want null", d.Name())
	}
	if n := d.Notice(); !strings.HasPrefix(n, "no audio device: pulse: ") {
		t.Fatalf("notice %q", n)
	}
}

func TestWatchdogLeavesFrozenPulseServer(t *testing.T) {
	srv := pulsetest.Start(t)
	d := Open(Config{StallTimeout: 500 * time.Millisecond, StartGrace: 4 * time.Second})
	defer d.Close()
	if d.Name() != Pulse {
		t.Fatalf("got %q (%s), want pulse", d.Name(), d.Notice())
	}
	src := &sine{rate: float64(d.SampleRate())}
	d.Start(src)
	waitForFlow(t, d)
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	defer srv.Thaw()
	select {
	case msg := <-d.Notices():
		if !strings.Contains(msg, "pulse output stopped consuming samples") {
			t.Fatalf("notice %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog did not notice the frozen server")
	}
	before := d.Consumed()
	time.Sleep(200 * time.Millisecond)
	got := d.Consumed() - before
	if want := int64(beep.SampleRate(d.SampleRate()).N(200 * time.Millisecond)); got < want/2 {
		t.Fatalf("after fallback only %d samples in 200ms, want about %d", got, want)
	}
}
