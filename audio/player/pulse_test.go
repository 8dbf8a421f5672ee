//go:build linux

package player

import (
	"testing"
	"time"

	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/audio/output/pulsetest"
)

// TestTimeToFirstSamplePulse measures play-to-first-sample through a real
// PulseAudio server: the time until the first sample of the recording is
// handed to the server. The server's buffer (80 ms) comes on top before it
// is heard.
func TestTimeToFirstSamplePulse(t *testing.T) {
	pulsetest.Start(t)
	path := writeWAV(t, t.TempDir(), 10*time.Second)
	var worst time.Duration
	for range 3 {
		d, backend := timeToFirstSample(t, path, output.Config{})
		if backend != output.Pulse {
			t.Fatalf("played through %q, want pulse", backend)
		}
		worst = max(worst, d)
	}
	t.Logf("pulse output: worst of 3 play-to-first-sample (connect included): %v", worst)
	if worst > 150*time.Millisecond {
		t.Fatalf("play to first sample took %v through pulse, want under 150ms", worst)
	}
}
