package output

import (
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopxl/beep/v2"
)

// counter is a source that counts the samples it was asked for and fills
// them with a constant, so a test can see both pace and content.
type counter struct{ n atomic.Int64 }

func (c *counter) Stream(buf [][2]float64) (int, bool) {
	for i := range buf {
		buf[i] = [2]float64{0.25, 0.25}
	}
	c.n.Add(int64(len(buf)))
	return len(buf), true
}
func (c *counter) Err() error { return nil }

func TestNullOutputConsumesInRealTime(t *testing.T) {
	d := Open(Config{Backend: Null, SampleRate: 8000})
	defer d.Close()
	if d.Name() != Null || d.Notice() != "" {
		t.Fatalf("forced null: got %q notice %q", d.Name(), d.Notice())
	}
	var src counter
	d.Start(&src)
	start := time.Now()
	time.Sleep(600 * time.Millisecond)
	got := float64(src.n.Load())
	want := float64(beep.SampleRate(8000).N(time.Since(start)))
	if math.Abs(got-want)/want > 0.15 {
		t.Fatalf("null output pulled %.0f samples in %v, want about %.0f (real time)", got, time.Since(start), want)
	}
}

func TestNullOutputPlaysSilenceBeforeStart(t *testing.T) {
	d := Open(Config{Backend: Null})
	time.Sleep(50 * time.Millisecond)
	if d.Consumed() == 0 {
		t.Fatal("null output did not advance its clock before a source was set")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	n := d.Consumed()
	time.Sleep(50 * time.Millisecond)
	if d.Consumed() != n {
		t.Fatal("null output kept pulling after Close")
	}
}

func TestOpenUnknownBackendFallsBackToNull(t *testing.T) {
	d := Open(Config{Backend: "bogus"})
	defer d.Close()
	if d.Name() != Null {
		t.Fatalf("got backend %q, want null", d.Name())
	}
	msg := <-d.Notices()
	if !strings.HasPrefix(msg, "no audio device: ") || !strings.Contains(msg, `"bogus" is not available`) {
		t.Fatalf("notice %q does not say what went wrong", msg)
	}
}

func TestEnvSelectsBackend(t *testing.T) {
	t.Setenv(EnvVar, "NULL")
	d := Open(Config{})
	defer d.Close()
	if d.Name() != Null || d.Notice() != "" {
		t.Fatalf("CALLSCOPE_AUDIO=NULL gave %q notice %q", d.Name(), d.Notice())
	}
}

// stuckOut stands for a device whose setup succeeds but which never asks
// for samples, as the speaker does on a machine without a sound card.
type stuckOut struct{ closed atomic.Bool }

func (s *stuckOut) Name() string                { return "stuck" }
func (s *stuckOut) SampleRate() beep.SampleRate { return 48000 }
func (s *stuckOut) Start(beep.Streamer) error   { return nil }
func (s *stuckOut) Close() error                { s.closed.Store(true); return nil }

func TestWatchdogReplacesDeviceThatNeverPlays(t *testing.T) {
	stuck := &stuckOut{}
	saved := backends
	backends = []backend{{name: "stuck", open: func(beep.SampleRate, time.Duration) (Output, error) { return stuck, nil }}}
	defer func() { backends = saved }()

	d := Open(Config{Backend: "stuck", StallTimeout: 300 * time.Millisecond})
	defer d.Close()
	if d.Name() != "stuck" {
		t.Fatalf("got %q, want the stuck backend first", d.Name())
	}
	var src counter
	d.Start(&src)
	select {
	case msg := <-d.Notices():
		if !strings.Contains(msg, "no audio device: stuck output did not start playing") {
			t.Fatalf("notice %q", msg)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("watchdog did not give up on a device that never consumed a sample")
	}
	if d.Name() != Null {
		t.Fatalf("after fallback got %q, want null", d.Name())
	}
	n := src.n.Load()
	time.Sleep(100 * time.Millisecond)
	if src.n.Load() <= n {
		t.Fatal("playback did not continue on the null output after the fallback")
	}
	if !stuck.closed.Load() {
		time.Sleep(100 * time.Millisecond)
		if !stuck.closed.Load() {
			t.Fatal("the dead device was not closed")
		}
	}
}

func TestAvailableEndsWithNull(t *testing.T) {
	a := Available()
	if a[len(a)-1] != Null {
		t.Fatalf("Available() = %v, want null last", a)
	}
}
